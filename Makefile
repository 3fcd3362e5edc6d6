# TagLM-TF: `make demo` (set up, then a few-minute TagLM pipeline: LMs, tagger, tagging; see
# tools/demo.sh) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= cpu,test
# Data: $TAGLM_DATA_DIR, else ../shared/data when it exists (this workspace and CI), else ./data.
TAGLM_DATA_DIR ?= $(if $(wildcard ../shared/data/conll2003),$(abspath ../shared/data),data)
export TAGLM_DATA_DIR
export TF_CPP_MIN_LOG_LEVEL ?= 2
DEMO_DIR ?= runs/demo
DEMO_SENTENCE ?= Anna Novak of Kestrel Bank met EU officials in Paris on Monday .

.PHONY: demo test venv clean

venv: $(STAMP)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

demo: $(STAMP)
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) DEMO_SENTENCE="$(DEMO_SENTENCE)" sh tools/demo.sh

test: $(STAMP)
	PYTHONPATH=. $(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs/demo *.egg-info
