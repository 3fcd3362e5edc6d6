#!/bin/sh
# Baseline against TagLM on the CPU budget (experiments/flags/*_cpu.cfg), one task, seeds
# FIRST..LAST, alternating baseline and TagLM seed by seed so that a stop at any point leaves
# comparable seed counts. Resumable: rerun the same command (experiments.run_seeds skips
# finished seeds and resumes interrupted ones). Sweeps go to runs/sweeps/<prefix>_<kind>_cpu.
#
#   tools/run_cpu_comparison.sh ner 1 3
#   tools/run_cpu_comparison.sh chunking 1 3
set -eu
task=$1 first=$2 last=$3
: "${PYTHON:=.venv/bin/python}"
case "$task" in ner) prefix=ner ;; chunking) prefix=chunk ;; *) echo "task: ner or chunking" >&2; exit 2 ;; esac
seed=$first
while [ "$seed" -le "$last" ]; do
  for kind in baseline taglm; do
    "$PYTHON" -m experiments.run_seeds --task="$task" --flagfile="experiments/flags/${prefix}_${kind}_cpu.cfg" \
        --seeds=1 --first_seed="$seed" --sweep_dir="runs/sweeps/${prefix}_${kind}_cpu" --label="${prefix}_${kind}"
  done
  seed=$((seed + 1))
done
