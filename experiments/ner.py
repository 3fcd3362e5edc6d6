"""CoNLL-2003 NER: ``python -m experiments.ner --flagfile=experiments/flags/ner_baseline.cfg``."""

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

from experiments.train_tagger import launch

if __name__ == "__main__":
    launch("ner")
