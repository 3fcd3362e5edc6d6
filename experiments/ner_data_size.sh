#!/bin/sh
# §3.2 'Dataset size', paired: NER baseline and TagLM (the `make cpu-lms` LMs) on 1% of eng.train
# with seeds 1-8, then on 10% with seeds 1-4, into runs/sweeps/ner_{1,10}pct_{baseline,taglm}.
# Seed k of both arms trains on the same sentences (--train_fraction draws them from the seed), and
# the arms alternate seed by seed, so whatever has finished pairs. Rerun to resume: finished seeds
# are skipped, interrupted ones continue from their checkpoints. Run from a worktree pinned to one
# commit, after `make cpu-lms` (README, "Rebuilding the report").
#   PYTHON=.venv/bin/python sh experiments/ner_data_size.sh
set -u
PYTHON=${PYTHON:-.venv/bin/python}
SWEEPS=${SWEEPS:-runs/sweeps}
status=0

arm() {  # arm PERCENT ARM FLAGFILE SEED
    PYTHONPATH=. "$PYTHON" -m experiments.run_seeds --task=ner --flagfile="experiments/flags/$3.cfg" \
        --label="ner_$1pct_$2" --sweep_dir="$SWEEPS/ner_$1pct_$2" --first_seed="$4" --seeds=1 || status=1
}

for seed in 1 2 3 4 5 6 7 8; do
    arm 1 baseline ner_1pct_baseline "$seed"
    arm 1 taglm ner_1pct_taglm_cnn_word_cpu "$seed"
done
for seed in 1 2 3 4; do
    arm 10 baseline ner_10pct_baseline "$seed"
    arm 10 taglm ner_10pct_taglm_cnn_word_cpu "$seed"
done
exit $status
