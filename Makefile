# TagLM-TF: `make demo` (set up, then a few-minute TagLM pipeline: LMs, tagger, tagging; see
# tools/demo.sh) and `make test`.
#
# Two stacks, each in its own venv:
#   card     TF 2.15.1 + tensorflow-addons, Python 3.11   (.venv)          the paper card's stack
#   current  TF 2.21 + tf_keras, Python 3.11-3.13          (.venv-current)
# Default: card when python3.11 runs, else current on the newest python3.1x that runs.
# Override with STACK=card|current and/or PYTHON=/path/to/python; `make print-stack` shows the choice.

# A candidate counts only if it runs and can make a venv with pip (pyenv shims exist for versions
# that are not activated; Debian's python3.1x lacks ensurepip without its python3.1x-venv package).
runs = $(shell $(1) -c 'import venv, ensurepip' >/dev/null 2>&1 && echo $(1))
NEWEST_PYTHON := $(firstword $(foreach p,python3.13 python3.12 python3.11,$(call runs,$(p))))
version_of = $(if $(strip $(1)),$(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))
PYTHON_ORIGIN := $(origin PYTHON)
comma := ,
ifdef PYTHON
  PY_MINOR := $(call version_of,$(PYTHON))
  STACK ?= $(if $(filter 3.11,$(PY_MINOR)),card,current)
else
  ifndef STACK
    STACK := $(if $(call runs,python3.11),card,current)
  endif
  PYTHON := $(if $(filter card,$(STACK)),$(call runs,python3.11),$(NEWEST_PYTHON))
  PY_MINOR := $(call version_of,$(PYTHON))
endif

ifeq ($(STACK),card)
  VENV ?= .venv
  EXTRAS ?= cpu,test
  STACK_DESC := card's stack (TF 2.15.1 + tensorflow-addons)
  NEEDS := python3.11
  STACK_PYTHONS := 3.11
else ifeq ($(STACK),current)
  VENV ?= .venv-current
  EXTRAS ?= current,test
  STACK_DESC := current stack (TF 2.21 + tf_keras)
  NEEDS := python3.11, python3.12 or python3.13
  STACK_PYTHONS := 3.11 3.12 3.13
  # tf_keras depends on `tensorflow`, which would pull the 1.9 GB CUDA wheel next to tensorflow-cpu.
  POST_INSTALL := $(VENV)/bin/pip install --quiet --no-compile --no-deps 'tf_keras==2.21.*'
else
  $(error STACK must be card or current, not '$(STACK)')
endif

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What is wrong with an existing venv, if anything: no working Python or pip (what `python -m venv`
# leaves where ensurepip is missing), a Python the stack does not support, or another Python than
# a PYTHON= given by the user. A venv this Makefile made (it marks it) is then made anew; any other
# is refused, never deleted. A venv of another supported Python is kept when PYTHON is not given,
# so shells with different pyenv selections do not reinstall it in turn.
VENV_MINOR := $(if $(wildcard $(BIN)/python),$(call version_of,$(BIN)/python))
MADE_MARK := $(VENV)/.made-by-make
VENV_PROBLEM := $(if $(wildcard $(VENV)),$(strip \
  $(if $(and $(VENV_MINOR),$(wildcard $(BIN)/pip)),\
    $(if $(filter $(VENV_MINOR),$(STACK_PYTHONS)),\
      $(if $(and $(filter command line environment,$(PYTHON_ORIGIN)),$(filter-out $(PY_MINOR),$(VENV_MINOR))),\
        runs Python $(VENV_MINOR)$(comma) not $(PY_MINOR) of PYTHON=$(PYTHON)),\
      runs Python $(VENV_MINOR)$(comma) which the $(STACK) stack does not support),\
    has no working Python or no pip)))
# Data: $TAGLM_DATA_DIR, else ../shared/data when it exists (this workspace and CI), else ./data.
TAGLM_DATA_DIR ?= $(if $(wildcard ../shared/data/conll2003),$(abspath ../shared/data),data)
export TAGLM_DATA_DIR
export TF_CPP_MIN_LOG_LEVEL ?= 2
DEMO_DIR ?= runs/demo
DEMO_SENTENCE ?= Anna Novak of Kestrel Bank met EU officials in Paris on Monday .

.PHONY: demo test venv clean print-stack check-python gpu-check _gpu-check cpu-lms report-runs report scienceie-limits flair-venv vs-flair FORCE

print-stack:
	@echo "stack=$(STACK) python=$(PYTHON) venv=$(VENV) extras=$(EXTRAS)"

check-python:
	@if [ -z "$(PY_MINOR)" ]; then echo "No usable Python for the $(STACK_DESC): install $(NEEDS) (with venv), or pass PYTHON=/path/to/python3.1x."; exit 1; fi
	@if [ -z "$(filter $(PY_MINOR),$(STACK_PYTHONS))" ]; then echo "PYTHON=$(PYTHON) is Python $(PY_MINOR); the $(STACK_DESC) needs $(NEEDS)."; exit 1; fi
	@echo "TagLM-TF: $(STACK_DESC) on $(PYTHON), venv $(VENV) (STACK=card|current, PYTHON= to change)"

venv: check-python $(STAMP)

# pip byte-compiles what it installs on one core; compileall -j 0 writes the same .pyc files on all
# of them (about 10 s sooner on 2 cores). Like pip, it leaves a file that does not compile to fail
# when imported.
$(STAMP): setup.py $(if $(VENV_PROBLEM),FORCE) | check-python
ifneq ($(VENV_PROBLEM),)
ifneq ($(wildcard $(MADE_MARK)),)
	@echo "$(VENV) $(VENV_PROBLEM): making it anew with $(PYTHON) ($(PY_MINOR))"
	rm -rf $(VENV)
else
	@echo "$(VENV) $(VENV_PROBLEM), and this Makefile did not make it: remove it, or pass VENV=another/dir"; exit 1
endif
endif
	test -x $(BIN)/python || { mkdir -p $(VENV) && touch $(MADE_MARK) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e '.[$(EXTRAS)]'
	$(POST_INSTALL)
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null || true
	touch $@

demo: check-python $(STAMP)
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) DEMO_SENTENCE="$(DEMO_SENTENCE)" sh tools/demo.sh

test: check-python $(STAMP)
	PYTHONPATH=. $(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n auto --dist loadfile

# The CPU-trained LMs behind results/REPORT.md, rebuilt into runs/lms (experiments/cpu_lms.py).
# Hours of CPU; rerun to resume. Run it from a worktree pinned to one commit (README).
cpu-lms: check-python $(STAMP)
	PYTHONPATH=. $(BIN)/python -m experiments.cpu_lms

# Every run behind results/REPORT.md, then the report (experiments/report_runs.py): the sweeps,
# most telling first, each stage after the LMs above that it reads. Days of CPU; rerun to
# resume; STAGES=a,b picks stages, SWEEPS=x,y some of their sweeps (flagfile names).
report-runs: check-python $(STAMP)
	PYTHONPATH=. $(BIN)/python -m experiments.report_runs $(if $(STAGES),--stages=$(STAGES)) $(if $(SWEEPS),--sweeps=$(SWEEPS))

# results/REPORT.md from the committed run records alone (results/runs): no run directories, no
# LMs and no training, so any checkout rebuilds the report of every seed recorded so far.
report: check-python $(STAMP)
	PYTHONPATH=. $(BIN)/python -m experiments.report_runs --stages=report --sweeps_dir=results/runs

# What limits TagLM on ScienceIE (results/scienceie_limits/): the report's LMs' perplexity on
# ScienceIE test and dev and on eng.testb, and test F1 on keyphrases seen / unseen in training and
# inside / outside the LM vocabulary with the shares of new tokens (experiments.seen_entities),
# from the ScienceIE sweeps' predictions (SWEEPS_DIR: sweeps trained here, not restored records).
# The LMs are built first (experiments.cpu_lms: hours the first time, a fingerprint check after).
LIMITS_DIR ?= results/scienceie_limits
SWEEPS_DIR ?= runs/sweeps
scienceie-limits: check-python $(STAMP)
	PYTHONPATH=. $(BIN)/python -m experiments.cpu_lms --only=cnn_lstm_s_forward,backward_512_256_cpu
	mkdir -p $(LIMITS_DIR)
	for split in scienceie:test scienceie:dev ner:test; do \
	  name=$$(echo $$split | tr : _); \
	  PYTHONPATH=. $(BIN)/python -m experiments.eval_lm --model_dir=runs/lm_train/cnn_lstm_s_forward \
	    --task_split=$$split --output=$(LIMITS_DIR)/ppl_cnn_lstm_s_forward_$$name.json || exit 1; \
	  PYTHONPATH=. $(BIN)/python -m experiments.eval_lm --model_dir=runs/lms/backward_512_256_cpu \
	    --task_split=$$split --output=$(LIMITS_DIR)/ppl_backward_512_256_cpu_$$name.json || exit 1; \
	done
	PYTHONPATH=. $(BIN)/python -m experiments.seen_entities --task=scienceie \
	  --base=$(SWEEPS_DIR)/scienceie_baseline_cpu --variant=$(SWEEPS_DIR)/scienceie_taglm_cpu \
	  --lm_vocab=runs/lms/backward_512_256_cpu/vocab.txt --output=$(LIMITS_DIR)/seen_entities_test.json \
	  | tee $(LIMITS_DIR)/seen_entities_test.md

# One command for a GPU machine (benchmarks/gpu_check.py): GPUs, the 2-GPU MirroredStrategy test,
# LM / lm_1b / tagger throughput at the paper's sizes -> gpu_check.json. The GPU build of the stack
# goes into its own venv; without nvidia-smi the tiny CPU version runs in the usual venv.
HAS_GPU := $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes)
GPU_EXTRAS ?= $(if $(filter card,$(STACK)),gpu,current-gpu),test

gpu-check: check-python
ifeq ($(HAS_GPU),yes)
	$(MAKE) --no-print-directory _gpu-check VENV=$(VENV)-gpu EXTRAS=$(GPU_EXTRAS)
else
	@echo "gpu-check: no GPU here (nvidia-smi): running the tiny CPU version."
	$(MAKE) --no-print-directory _gpu-check
endif

_gpu-check: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m benchmarks.gpu_check --output=gpu_check.json

# flair configured like our NER model, for the side-by-side speed run (benchmarks/vs_flair.py), in
# its own venv (flair and TensorFlow never share one). torch is pinned in both installs: here a
# CPU build of 2.13.0 lies on disk for Python 3.11, and a torch that pip chose itself would be a
# CUDA build of several GB. The driver runs in the stack's venv; on a quiet machine (README).
FLAIR_VENV ?= .venv-flair
FLAIR_PYTHON ?= $(call runs,python3.11)
FLAIR_PINS := torch==2.13.0 flair==0.15.1

flair-venv: $(FLAIR_VENV)/.installed

$(FLAIR_VENV)/.installed:
	@if [ -z "$(FLAIR_PYTHON)" ]; then echo "flair-venv needs python3.11 (with venv), or FLAIR_PYTHON=/path/to/python3.11"; exit 1; fi
	test -x $(FLAIR_VENV)/bin/python || { mkdir -p $(FLAIR_VENV) && touch $(FLAIR_VENV)/.made-by-make && $(FLAIR_PYTHON) -m venv $(FLAIR_VENV); }
	$(FLAIR_VENV)/bin/pip install --quiet --upgrade pip
	$(FLAIR_VENV)/bin/pip install --quiet $(filter torch==%,$(FLAIR_PINS))
	$(FLAIR_VENV)/bin/pip install --quiet $(FLAIR_PINS)
	touch $@

vs-flair: check-python $(STAMP) flair-venv
	PYTHONPATH=. $(BIN)/python -m benchmarks.vs_flair --flair_python=$(FLAIR_VENV)/bin/python $(if $(ROUNDS),--rounds=$(ROUNDS))

FORCE:

# Removes only the venvs this Makefile made (they hold its marker); another venv is named, kept.
clean:
	@for v in .venv .venv-current .venv-gpu .venv-current-gpu .venv-flair; do \
	  if [ -f $$v/.made-by-make ]; then echo "rm -rf $$v"; rm -rf $$v; \
	  elif [ -d $$v ]; then echo "$$v: no .made-by-make marker (not made by this Makefile), kept"; fi; done
	rm -rf runs/demo *.egg-info
