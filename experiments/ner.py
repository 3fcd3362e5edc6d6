"""CoNLL-2003 NER: ``python -m experiments.ner --flagfile=experiments/flags/ner_baseline.cfg``."""
from experiments.train_tagger import launch

if __name__ == "__main__":
    launch("ner")
