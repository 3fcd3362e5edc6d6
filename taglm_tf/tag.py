"""Tag tokenized text with a trained model.

    python -m taglm_tf.tag --model_dir=DIR [--input=FILE] [--input_format=text|conll|raw]
                           [--format=conll|json] [--batch_size=N] [--forward_lm=SPEC --backward_lm=SPEC]
                           [--info]

Input (UTF-8, from ``--input`` or stdin; ``.gz``/``.bz2``/``.xz`` by suffix): one sentence
per line, tokens separated by ASCII spaces or tabs (``text``), or CoNLL columns (``conll``:
the first column is the word, the others are echoed; blank lines separate sentences,
``-DOCSTART-`` lines are skipped), or plain text (``raw``: split into sentences and
CoNLL-2003-style tokens by :mod:`taglm_tf.data.tokenize`; JSON records then carry each token's
and span's character offsets into the input). Lines end at LF, CRLF or CR; a leading BOM is
dropped; other Unicode spaces belong to tokens (see :mod:`taglm_tf.textio`). Output, in input order:
``token [columns...] TAG`` lines with a blank line after each sentence (``conll``), or one JSON
object per sentence (``json``). Tags are in the task's gold scheme (IOB1 for NER, IOB2 for
chunking).
"""
from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO, Iterable, Iterator, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # keep TF's start-up notices off stderr

from absl import app, flags  # noqa: E402

from taglm_tf.api import TaggedSentence, Tagger  # noqa: E402
from taglm_tf import textio  # noqa: E402
from taglm_tf.cli import run  # noqa: E402
from taglm_tf.data import conll  # noqa: E402
from taglm_tf.errors import InputError  # noqa: E402
from taglm_tf.lm.loading import define_lm_override_flags, lm_overrides  # noqa: E402
from taglm_tf.model_card import read_card, render_markdown  # noqa: E402

FLAGS = flags.FLAGS


def read_raw_text(stream: BinaryIO, source: str = "<stdin>") -> List[str]:
    """Raw text for tagging: the whole input as one text (:func:`taglm_tf.textio.decode_text`;
    split into sentences and tokens by :class:`Tagger`)."""
    return [textio.decode_text(stream.read(), source)]


READERS = {"text": conll.read_tokenized_text, "conll": conll.read_unlabeled_conll, "raw": read_raw_text}


def define_flags() -> None:
    flags.DEFINE_string("model_dir", None, "Directory of a finished training run (model.keras, ...).")
    flags.DEFINE_string("input", "-", "Input file; '-': stdin.")
    flags.DEFINE_enum("input_format", "text", ["text", "conll", "raw"],
                      "'text': one tokenized sentence per line; 'conll': word in the first column; "
                      "'raw': plain text, split into sentences and tokens (JSON adds char offsets).")
    flags.DEFINE_enum("format", "conll", ["conll", "json"], "Output: CoNLL columns or JSON lines.")
    flags.DEFINE_integer("batch_size", 128, "Sentences per inference batch.", lower_bound=1)
    define_lm_override_flags()
    flags.DEFINE_boolean("info", False, "Print the model card of --model_dir (task, data, scores, LMs) and exit.")
    flags.mark_flag_as_required("model_dir")


def read_input(path: str, input_format: str) -> List[conll.Sentence]:
    """Sentences of ``path`` (``-``: stdin) in ``input_format``; errors name the file and line."""
    if path == "-":
        return READERS[input_format](sys.stdin.buffer, "<stdin>")
    with textio.open_binary(path) as f:
        return READERS[input_format](f, path)


def json_lines(tagged: Iterable[TaggedSentence], entity_word: str) -> Iterator[str]:
    """One JSON object per sentence (:meth:`TaggedSentence.to_dict`)."""
    for sentence in tagged:
        yield json.dumps(sentence.to_dict(entity_word), ensure_ascii=False)


def tag_input(model_dir: str, path: str = "-", input_format: str = "text",
              output_format: str = "conll", batch_size: int = 128, lms: Optional[dict] = None) -> str:
    """The whole output for the input at ``path`` (``-``: stdin)."""
    tagger = Tagger.load(model_dir, lms)
    tagged = tagger.predict(read_input(path, input_format), batch_size)
    if not tagged:
        raise InputError("no tokens found in input", "<stdin>" if path == "-" else path)
    if output_format == "json":
        lines = json_lines(tagged, tagger.task.entity_word)
    else:
        lines = conll.conll_lines([conll.Sentence(t.tokens, t.tags, t.columns) for t in tagged],
                                  [t.tags for t in tagged])
    return "".join(line + "\n" for line in lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.info:
        return print(render_markdown(read_card(FLAGS.model_dir)), end="")
    text = tag_input(FLAGS.model_dir, FLAGS.input, FLAGS.input_format, FLAGS.format, FLAGS.batch_size,
                     lm_overrides())
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


if __name__ == "__main__":
    define_flags()
    run(main)
