"""CoNLL-2000 chunking: ``python -m experiments.chunking --flagfile=experiments/flags/chunk_baseline.cfg``."""
from experiments.train_tagger import launch

if __name__ == "__main__":
    launch("chunking")
