"""How closely raw-text tokenization (taglm_tf/data/tokenize.py) follows CoNLL-2003's tokens.

    python -m benchmarks.tokenizer_conll [--file=conll2003/eng.testa] [--output=FILE.json]

Each gold sentence is joined with single spaces and tokenized again; a perfect CoNLL-2003
tokenizer gives the gold tokens back. Counts the gold tokens that get split (each token
tokenized alone) and the sentences whose tokens change, for our tokenizer and for spaCy's stock
English rules, plus our tokenizer's speed on the whole file as one text (blank lines between
sentences) and the spaCy import time.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import collections
import time

from absl import flags

from benchmarks.common import report
from taglm_tf.data import conll, tokenize
from taglm_tf.data.paths import default_data_dir, resolve_data_path
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
flags.DEFINE_string("file", "conll2003/eng.testa", "CoNLL-2003 file (relative: under $TAGLM_DATA_DIR).")
define_output_flag("output", None, "JSON file for the results.", inputs=("file",))


def agreement(tokenize_one, sentences) -> dict:
    """Split gold tokens and changed sentences when ``tokenize_one(text) -> tokens``."""
    split, changed = collections.Counter(), 0
    for s in sentences:
        if tokenize_one(" ".join(s.tokens)) != list(s.tokens):
            changed += 1
            split.update(t for t in s.tokens if tokenize_one(t) != [t])
    return {
        "tokens_split": sum(split.values()),
        "sentences_changed": changed,
        "most_split": split.most_common(10),
    }


def main(argv):
    cli.no_arguments(argv)
    start = time.perf_counter()
    nlp = tokenize._pipeline()  # imports spaCy
    import_seconds = time.perf_counter() - start
    import spacy  # here, so that the timing above includes its import; its stock rules for comparison

    stock = spacy.blank("en")
    sentences = conll.read_conll(resolve_data_path(FLAGS.file, default_data_dir()), conll.CONLL2003)
    ours = agreement(lambda text: [t.text for t in nlp.tokenizer(text)], sentences)
    theirs = agreement(lambda text: [t.text for t in stock.tokenizer(text)], sentences)
    text = "\n\n".join(" ".join(s.tokens) for s in sentences)
    start = time.perf_counter()
    tokenized = tokenize.tokenize(text)
    seconds = time.perf_counter() - start
    n = sum(len(s.tokens) for s in tokenized)
    report(
        {
            "file": FLAGS.file,
            "gold_sentences": len(sentences),
            "gold_tokens": sum(len(s) for s in sentences),
            "ours": ours,
            "spacy_stock": theirs,
            "tokens_per_sec": n / seconds,
            "sentences_found": len(tokenized),
            "spacy_import_and_pipeline_seconds": import_seconds,
        },
        FLAGS.output,
    )


if __name__ == "__main__":
    run(main)
