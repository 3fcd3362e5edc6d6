r"""lm_1b_eval's ``dump_lstm_emb`` mode, batched:

    python -m lm_1b_export.dump_lstm_emb --ckpt='DIR/ckpt-*' --vocab_file=DIR/vocab-2016-09-10.txt \
        --input_file=SENTENCES --output_file=OUT.hdf5 [--batch_size=N]

SENTENCES is UTF-8 text, one sentence per line; lines end at LF, CRLF or CR, a leading BOM is
dropped, and only ASCII spaces and tabs separate words, so ``a<U+00A0>b`` is one word, as in the
original's Python 2 byte-string ``split()`` (:mod:`taglm_tf.utils.textio`).

For line ``i`` (1-based line ``i + 1``) with n_i words, OUT.hdf5 gets a float32 dataset
``str(i)`` of shape ``[3, n_i, P]``: row ``k`` of each layer belongs to word ``k`` of the line;
the layers are the char-CNN word embedding (``all_embs_out``),
``lstm/lstm_0/control_dependency`` and ``lstm/lstm_1/control_dependency``. As in the original,
each sentence starts from a zero state and the literal word ``<S>`` is fed first unless the
line already starts with ``<S>`` (lm_1b_eval: ``sentence.find('<S>') != 0``); an added ``<S>``
has no row, a line's own ``<S>`` keeps its row 0. (The original writes one file per fed step,
the added ``<S>`` included.) Leading spaces are ignored for that test, where lm_1b_eval would add
a second ``<S>`` to `` <S> a``. Sentences are sorted by length and batched internally; the
output does not depend on the batching. The file appears only when complete. An lm_1b-shaped LM
with another number of LSTM layers gives ``[1 + layers, n_i, P]``; a backward one (written by
``lm_1b_export.from_pretrained``, with ``direction.json``) reads ``<S> wn .. w1`` and its outputs
are re-aligned so that row k belongs to token k.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

from typing import TYPE_CHECKING

import h5py
import numpy as np
from absl import app, flags

from taglm_tf.utils import textio
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

if TYPE_CHECKING:
    from taglm_tf.lm.lm1b.model import LM1BModel

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("ckpt", None, "Checkpoint files: a glob such as 'DIR/ckpt-*', or one file.")
    flags.DEFINE_string("vocab_file", None, "The lm_1b vocabulary (vocab-2016-09-10.txt).")
    flags.DEFINE_string("input_file", None, "Sentences, one per line, words separated by spaces or tabs.")
    define_output_flag(
        "output_file", None, "HDF5 file to write.", inputs=("input_file", "vocab_file", "ckpt")
    )
    flags.DEFINE_integer("batch_size", 32, "Sentences per forward pass.")
    flags.DEFINE_integer("chunk", 2048, "Sentences held in memory between writes.")


def read_sentences(path: str) -> list[list[str]]:
    """Token lists, one per line; an empty line or bad UTF-8 is an error naming the line."""
    sentences = []
    for number, line in textio.read_lines(path):
        tokens = textio.split_fields(line)
        if not tokens:
            raise InputError(
                "empty line: every line must hold a sentence (its line number is its dataset name)",
                path,
                number,
            )
        sentences.append(tokens)
    if not sentences:
        raise InputError("no sentences in input", path)
    return sentences


def dump(
    embedder: LM1BModel,
    sentences: list[list[str]],
    output_file: str,
    batch_size: int,
    chunk: int,
    verbose: bool = True,
) -> None:
    """Write one ``[layers, n_i, P]`` dataset per sentence, processing longest sentences first."""
    import tensorflow as tf  # not at the top: the module is imported by the CLI before its flags parse

    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    progress = tf.keras.utils.Progbar(len(sentences), verbose=1 if verbose else 0, unit_name="sentence")
    with atomic_path(output_file) as tmp:
        with h5py.File(tmp, "w") as f:
            for start in range(0, len(order), chunk):
                part = order[start : start + chunk]
                outputs = embedder.embed_sentences([sentences[i] for i in part], batch_size)
                for i, array in zip(part, outputs):
                    f.create_dataset(str(i), data=np.asarray(array, np.float32))
                progress.add(len(part))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    sentences = read_sentences(FLAGS.input_file)
    # TensorFlow only now, so that --help and bad flags exit before it loads
    from taglm_tf.lm.lm1b.model import LM1BModel

    embedder = LM1BModel.from_checkpoint(FLAGS.ckpt, FLAGS.vocab_file)
    dump(embedder, sentences, FLAGS.output_file, FLAGS.batch_size, FLAGS.chunk)


if __name__ == "__main__":
    define_flags()
    flags.mark_flags_as_required(["ckpt", "vocab_file", "input_file", "output_file"])
    run(main)
