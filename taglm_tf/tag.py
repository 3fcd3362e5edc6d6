"""Tag tokenized text with a trained model.

    python -m taglm_tf.tag --model_dir=DIR [--input=FILE] [--input_format=text|conll]
                           [--format=conll|json] [--batch_size=N] [--forward_lm=SPEC --backward_lm=SPEC]

Input (UTF-8, from ``--input`` or stdin; ``.gz``/``.bz2``/``.xz`` by suffix): one sentence
per line, tokens separated by ASCII spaces or tabs (``text``), or CoNLL columns (``conll``:
the first column is the word, the others are echoed; blank lines separate sentences,
``-DOCSTART-`` lines are skipped). Lines end at LF, CRLF or
CR; a leading BOM is dropped; other Unicode spaces belong to tokens (see
:mod:`taglm_tf.textio`). Output, in input order:
``token [columns...] TAG`` lines with a blank line after each sentence (``conll``), or one JSON
object per sentence (``json``). Tags are in the task's gold scheme (IOB1 for NER, IOB2 for
chunking).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Iterator, List, Optional, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # keep TF's start-up notices off stderr

from absl import app, flags  # noqa: E402

from taglm_tf.cli import run  # noqa: E402
from taglm_tf import textio  # noqa: E402
from taglm_tf.data import conll, tag_schemes  # noqa: E402
from taglm_tf.data.pipeline import TaggingData  # noqa: E402
from taglm_tf.errors import InputError  # noqa: E402
from taglm_tf.evaluation import Predictor  # noqa: E402
from taglm_tf.lm.features import OnTheFlyFeatures  # noqa: E402
from taglm_tf.lm.loading import define_lm_override_flags, lm_overrides, load_lms  # noqa: E402
from taglm_tf.models.saving import LoadedTagger, load_tagger  # noqa: E402
from taglm_tf.tasks import task_named  # noqa: E402

FLAGS = flags.FLAGS
READERS = {"text": conll.read_tokenized_text, "conll": conll.read_unlabeled_conll}


def define_flags() -> None:
    flags.DEFINE_string("model_dir", None, "Directory of a finished training run (model.keras, ...).")
    flags.DEFINE_string("input", "-", "Input file; '-': stdin.")
    flags.DEFINE_enum("input_format", "text", ["text", "conll"],
                      "'text': one tokenized sentence per line; 'conll': word in the first column.")
    flags.DEFINE_enum("format", "conll", ["conll", "json"], "Output: CoNLL columns or JSON lines.")
    flags.DEFINE_integer("batch_size", 128, "Sentences per inference batch.", lower_bound=1)
    define_lm_override_flags()
    flags.mark_flag_as_required("model_dir")


def read_input(path: str, input_format: str) -> List[conll.Sentence]:
    """Sentences of ``path`` (``-``: stdin) in ``input_format``; errors name the file and line."""
    if path == "-":
        return READERS[input_format](sys.stdin.buffer, "<stdin>")
    with textio.open_binary(path) as f:
        return READERS[input_format](f, path)


def tag_sentences(tagger: LoadedTagger, sentences: Sequence[conll.Sentence], scheme: str,
                  batch_size: int = 128, lms: Optional[dict] = None) -> List[List[str]]:
    """Predicted tags in ``scheme`` for each sentence, in input order (``lms``: LM overrides,
    see :func:`~taglm_tf.lm.loading.locate_lms`)."""
    lms = load_lms(tagger.config, tagger.model_dir, lms)
    features = OnTheFlyFeatures(lms, [s.tokens for s in sentences], batch_size) if lms else None
    data = TaggingData(sentences, tagger.resources.featurizer(), features=features)
    return Predictor(tagger.model, tagger.resources.tags, batch_size).predict(data, scheme)


def json_lines(sentences, tags, entity_word: str) -> Iterator[str]:
    """One JSON object per sentence: tokens, tags and chunks (token offsets, end exclusive)."""
    for sentence, sentence_tags in zip(sentences, tags):
        chunks = [{"type": c.type, "start": c.start, "end": c.end,
                   "text": " ".join(sentence.tokens[c.start:c.end])}
                  for c in tag_schemes.tags_to_chunks(sentence_tags)]
        yield json.dumps({"tokens": list(sentence.tokens), "tags": list(sentence_tags),
                          entity_word: chunks}, ensure_ascii=False)


def tag_input(model_dir: str, path: str = "-", input_format: str = "text",
              output_format: str = "conll", batch_size: int = 128, lms: Optional[dict] = None) -> str:
    """The whole output for the input at ``path`` (``-``: stdin)."""
    tagger = load_tagger(model_dir)
    task = task_named(tagger.config.get("task"), model_dir)
    sentences = read_input(path, input_format)
    tags = tag_sentences(tagger, sentences, task.fmt.tag_scheme, batch_size, lms)
    if output_format == "json":
        lines = json_lines(sentences, tags, task.entity_word)
    else:
        lines = conll.conll_lines(sentences, tags)
    return "".join(line + "\n" for line in lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    text = tag_input(FLAGS.model_dir, FLAGS.input, FLAGS.input_format, FLAGS.format, FLAGS.batch_size,
                     lm_overrides())
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


if __name__ == "__main__":
    define_flags()
    run(main)
