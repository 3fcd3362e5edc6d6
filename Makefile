# TagLM-TF: `make demo` (set up, then a few-minute NER run and tagging) and `make test`.
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
	@if [ -f "$(TAGLM_DATA_DIR)/conll2003/eng.train" ]; then \
	  echo "== NER demo on CoNLL-2003 from $(TAGLM_DATA_DIR)"; flags=experiments/flags/ner_demo.cfg; \
	else \
	  echo "== no CoNLL-2003 under $(TAGLM_DATA_DIR): NER demo on the shipped synthetic sample"; \
	  flags=experiments/flags/ner_demo_sample.cfg; \
	fi; \
	rm -rf $(DEMO_DIR) && $(BIN)/python -m experiments.ner --flagfile=$$flags --model_dir=$(DEMO_DIR)
	@echo "== tagging: $(DEMO_SENTENCE)"
	echo "$(DEMO_SENTENCE)" | $(BIN)/python -m taglm_tf.tag --model_dir=$(DEMO_DIR)
	echo "$(DEMO_SENTENCE)" | $(BIN)/python -m taglm_tf.tag --model_dir=$(DEMO_DIR) --format=json

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs/demo *.egg-info
