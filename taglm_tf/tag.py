"""Tag text with a trained model, streaming: read, tag and write batch by batch.

    python -m taglm_tf.tag --model_dir=DIR [--input=FILE] [--input_format=raw|text|conll]
                           [--format=conll|json] [--output=FILE]
                           [--output_scheme=task|iob1|iob2|iobes]
                           [--format=brat --input=TXT_FOLDER --output_dir=DIR]
                           [--batch_size=N] [--[no]progress]
                           [--forward_lm=SPEC --backward_lm=SPEC] [--info]

Input (UTF-8, from ``--input`` or stdin; ``.gz``/``.bz2``/``.xz`` by suffix): plain text by
default (``raw``: split into sentences and CoNLL-2003-style tokens by
:mod:`taglm_tf.data.tokenize`, so ``Paris.`` is two tokens; JSON records then carry each token's
and span's character offsets into the whole input), or one pre-tokenized sentence per line,
tokens separated by ASCII spaces or tabs (``text``), or CoNLL columns (``conll``: the first
column is the word, the others are echoed; blank lines separate sentences, ``-DOCSTART-`` lines
are skipped). Lines end at LF, CRLF or CR; a leading BOM is dropped; in ``text`` and ``conll``
input, Unicode spaces other than ASCII space and tab belong to tokens (see
:mod:`taglm_tf.utils.textio`), while ``raw`` text is split at every Unicode space. Output, in input order:
``token [columns...] TAG`` lines with a blank line after each sentence (``conll``), or one JSON
object per sentence (``json``), on stdout, or in ``--output``, written whole or not at all: a
failure leaves no file there (stdout that is the input file itself is refused). With
``--format=brat``, ``--input`` is a folder of raw ``.txt`` files and each one's spans go to
``--output_dir/NAME.ann`` as BRAT text-bound annotations
(:meth:`taglm_tf.serving.api.Tagger.write_brat`). Tags are in the task's gold scheme (IOB1 for NER, IOB2 for
chunking) unless ``--output_scheme`` names another (``iob1``, ``iob2``/``bio``, ``iobes``/``bioes``);
the gold tags of CoNLL input that carries them (NER, chunking) are then converted too, so both columns score alike.

Streaming (:func:`tag_stream`): the input is read lazily and tagged in chunks of ``16 *
--batch_size`` sentences; each chunk's output is written and flushed before the next chunk is
read, so memory does not grow with the input (raw text is read in blocks cut at paragraph
breaks, :func:`taglm_tf.data.tokenize.paragraph_blocks`, with the same sentences and offsets
as the whole text). The CLI fixes glibc's mmap threshold first (:mod:`taglm_tf.utils.memory`), so
peak RSS stays flat however long the input. Progress (sentences, tokens, tokens/s) goes to
stderr when it is a terminal, or with ``--progress``.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    # before anything imports TensorFlow
    cli.configure_process(fix_mmap_threshold=True, birnn_threads=True)

import collections
import contextlib
import io
import itertools
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, TextIO

from absl import app, flags

from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.tokenize import paragraph_blocks
from taglm_tf.lm.frozen.overrides import define_lm_override_flags, lm_overrides
from taglm_tf.reports.model_card import read_card, render_markdown
from taglm_tf.run_dir import check_tagger_dir
from taglm_tf.utils import signals, textio
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError, Interrupted
from taglm_tf.utils.fileio import atomic_path, check_output_path

if TYPE_CHECKING:
    from taglm_tf.serving.api import TaggedSentence, Tagger

FLAGS = flags.FLAGS

# Item of a reader: a sentence (text, conll) or ``(char offset, block)`` of raw text.
InputItem = conll.Sentence | tuple[int, str]


def read_raw_text(stream: BinaryIO, source: str = "<stdin>") -> Iterator[tuple[int, str]]:
    """Raw text for tagging, read lazily: ``(char offset, block)`` pieces of the input cut at
    paragraph breaks (:func:`taglm_tf.data.tokenize.paragraph_blocks`), decoded by
    :func:`taglm_tf.utils.textio.iter_text` (offsets count characters after a leading BOM)."""
    return paragraph_blocks(textio.iter_text(stream, source))


READERS = {"text": conll.read_tokenized_text, "conll": conll.read_unlabeled_conll, "raw": read_raw_text}


def define_flags() -> None:
    flags.DEFINE_string("model_dir", None, "Directory of a finished training run (model.keras, ...).")
    flags.DEFINE_string("input", "-", "Input file; '-': stdin.")
    flags.DEFINE_enum(
        "input_format",
        "raw",
        ["raw", "text", "conll"],
        "'raw': plain text, split into sentences and CoNLL-style tokens (JSON adds char "
        "offsets); 'text': one tokenized sentence per line, tokens split at spaces; "
        "'conll': word in the first column. Any case.",
        case_sensitive=False,
    )
    flags.DEFINE_enum(
        "format",
        "conll",
        ["conll", "json", "brat"],
        "Output, any case: CoNLL columns or JSON lines on "
        "stdout (or --output), or BRAT .ann files (with copies of the .txt files) in --output_dir "
        "for the folder of .txt files given as --input.",
        case_sensitive=False,
    )
    define_output_flag(
        "output",
        None,
        "Write the CoNLL or JSON output to this file (not --input; through a link, the file it "
        "names), whole or not at all: it appears when tagging ends (default or '-': stdout, "
        "written chunk by chunk).",
        inputs=("input", "model_dir"),
    )
    define_output_flag(
        "output_dir",
        None,
        "With --format=brat: where the .ann and .txt files go (not --input).",
        inputs=("input", "model_dir"),
        folder=True,
    )
    flags.DEFINE_enum(
        "output_scheme",
        "task",
        ["task", *tag_schemes.SCHEMES, *tag_schemes.ALIASES],
        "Tag scheme of the output, any case: the task's gold scheme (IOB1 for NER, IOB2 "
        "for chunking), iob1, iob2 (= bio) or iobes (= bioes); gold tags in CoNLL input follow.",
        case_sensitive=False,
    )
    flags.DEFINE_integer(
        "batch_size",
        128,
        "Sentences per inference batch (output is written every 16 batches).",
        lower_bound=1,
    )
    flags.DEFINE_boolean(
        "progress",
        None,
        "Show sentences, tokens and tokens/s tagged on stderr "
        "(default: when stderr is a terminal; --noprogress: never).",
    )
    define_lm_override_flags()
    flags.DEFINE_boolean(
        "info", False, "Print the model card of --model_dir (task, data, scores, LMs) and exit."
    )
    flags.mark_flag_as_required("model_dir")


def input_name(path: str) -> str:
    """The name errors give the input at ``path``: ``<stdin>`` for ``-``."""
    return "<stdin>" if path == "-" else path


def read_input(path: str, input_format: str, fmt: conll.CorpusFormat | None = None) -> Iterator[InputItem]:
    """The items of the input at ``path`` (``-``: stdin) in ``input_format``, read lazily: the
    file is opened at the first item and closed when the iterator is exhausted or closed.
    ``fmt``, the model's corpus format, checks CoNLL input as training reads it
    (:func:`conll.read_unlabeled_conll`).

    Raises:
        InputError: a missing file, invalid UTF-8, a damaged compressed stream, a CoNLL line
            that does not fit the file or ``fmt``, naming the file (and the line, when that line
            is reached).
    """
    options = {"fmt": fmt} if input_format == "conll" else {}
    if path == "-":
        yield from READERS[input_format](sys.stdin.buffer, input_name(path), **options)
        return
    with textio.open_binary(path) as f:
        yield from READERS[input_format](f, path, **options)


def tagged_sentences(
    tagger: Tagger,
    items: Iterable[InputItem],
    input_format: str,
    batch_size: int = 128,
    chunk_size: int | None = None,
) -> Iterator[TaggedSentence]:
    """:meth:`Tagger.predict_iter` over reader items, in input order; raw blocks' sentences get
    offsets into the whole input (:meth:`TaggedSentence.shifted`) and ``source`` 0."""
    if input_format != "raw":
        return tagger.predict_iter(items, batch_size, chunk_size)
    return _tag_raw_blocks(tagger, items, batch_size, chunk_size)


def _tag_raw_blocks(tagger, blocks, batch_size, chunk_size):
    starts: collections.deque[tuple[int, int]] = (
        collections.deque()
    )  # (block index, offset), blocks in flight

    def texts():
        for index, (offset, block) in enumerate(blocks):
            starts.append((index, offset))
            yield block

    for sentence in tagger.predict_iter(texts(), batch_size, chunk_size):
        while starts[0][0] < sentence.source:  # sentences come in block order
            starts.popleft()
        yield sentence.shifted(starts[0][1])


def output_text(chunk: Sequence[TaggedSentence], output_format: str, entity_word: str) -> str:
    """The output of tagged sentences: CoNLL lines with a blank line after each sentence, or
    one JSON object per line (:meth:`TaggedSentence.to_dict`)."""
    if output_format == "json":
        lines = json_lines(chunk, entity_word)
    else:
        lines = conll.conll_lines(
            [conll.Sentence(t.tokens, t.tags, t.columns) for t in chunk], [t.tags for t in chunk]
        )
    return "".join(line + "\n" for line in lines)


def json_lines(tagged: Iterable[TaggedSentence], entity_word: str) -> Iterator[str]:
    """One JSON object per sentence (:meth:`TaggedSentence.to_dict`), without line ends. Text
    stays UTF-8, but the characters that ``str.splitlines`` and other line readers end a line
    at (U+0085, U+2028, U+2029; JSON escapes the control characters itself) are escaped, so
    that every reader sees one record per line."""
    for sentence in tagged:
        yield json.dumps(sentence.to_dict(entity_word), ensure_ascii=False).translate(_LINE_BREAKS)


_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\u0085\u2028\u2029"}


class Progress:
    """Sentences and tokens tagged so far, and tokens/s, on Keras' progress bar (the one training
    shows, ``tf.keras.utils.Progbar``) written to ``stream`` (stderr): one line rewritten in place,
    ended by the last update, e.g. ``600/Unknown - 3s 5ms/sentence - tokens: 1800.0000 -
    tokens/s: 600.1234``. The clock starts at creation."""

    def __init__(self, stream: TextIO):
        import tensorflow as tf  # not at the top: the CLI imports this module before parsing its flags

        self.stream = stream
        self.start = time.perf_counter()
        with contextlib.redirect_stdout(stream):  # Progbar writes to sys.stdout, here the tags' stream
            self.bar = tf.keras.utils.Progbar(
                None, unit_name="sentence", stateful_metrics=["tokens", "tokens/s"]
            )

    def update(self, sentences: int, tokens: int, done: bool = False) -> None:
        """Show ``sentences`` and ``tokens`` tagged so far (Keras skips updates 0.05 s apart);
        ``done`` ends the line."""
        rate = tokens / max(time.perf_counter() - self.start, 1e-9)
        with contextlib.redirect_stdout(self.stream):
            self.bar.update(sentences, [("tokens", tokens), ("tokens/s", rate)], finalize=done)


def tag_stream(
    tagger: Tagger,
    items: Iterable[InputItem],
    input_format: str,
    output_format: str,
    out: BinaryIO,
    batch_size: int = 128,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Tag reader ``items`` (:func:`read_input`) and write the output (UTF-8) to ``out`` chunk by
    chunk, in input order: at most ``chunk_size`` sentences (default ``16 * batch_size``) are
    held at once, and ``out`` is flushed after each chunk. The one tagging path of the CLI.

    Returns:
        ``(sentences, tokens)`` tagged; ``(0, 0)`` and no output for an input without tokens, as
        :meth:`Tagger.predict` returns ``[]``.

    Raises:
        InputError: a reader error (file and line). An error in the middle of the input comes
            after the output of the chunks before it has been written.
    """
    chunk_size = chunk_size or 16 * batch_size
    tagged = tagged_sentences(tagger, items, input_format, batch_size, chunk_size)
    sentences = tokens = 0
    while chunk := list(itertools.islice(tagged, chunk_size)):
        out.write(output_text(chunk, output_format, tagger.task.entity_word).encode("utf-8"))
        out.flush()
        sentences += sum(1 for t in chunk if t.tokens)  # an empty record (a blank text line) tags nothing
        tokens += sum(len(t.tokens) for t in chunk)
        if progress is not None:
            progress.update(sentences, tokens)
    if progress is not None:
        progress.update(sentences, tokens, done=True)
    return sentences, tokens


def tag_input(
    model_dir: str,
    path: str = "-",
    input_format: str = "text",
    output_format: str = "conll",
    batch_size: int = 128,
    lms: dict | None = None,
) -> str:
    """The whole output for the input at ``path`` (``-``: stdin), through :func:`tag_stream`."""
    from taglm_tf.serving.api import Tagger  # imports TensorFlow: only when tagging

    tagger = Tagger.load(model_dir, lms)
    out = io.BytesIO()
    tag_stream(
        tagger, read_input(path, input_format, tagger.task.fmt), input_format, output_format, out, batch_size
    )
    return out.getvalue().decode("utf-8")


def show_progress(requested: bool | None, stream: TextIO) -> bool:
    """``--progress``/``--noprogress`` if given, else whether ``stream`` is a terminal."""
    return stream.isatty() if requested is None else requested


def check_input_file(path: str, to_stdout: bool) -> None:
    """Refuse an ``--input`` that no reader can open, before the model loads: a missing file, a
    folder, or (when the output goes to stdout) the very file stdout writes to, which a shell's
    ``>`` has already emptied and ``>>`` would grow while it is read.

    Raises:
        InputError: naming ``path``.
    """
    if path == "-":
        if sys.stdin is None:
            raise InputError("standard input is closed: give --input")
        here = os.fstat(sys.stdin.fileno())
    elif os.path.isdir(path):
        raise InputError("a folder: --input names one file (--format=brat tags a folder of .txt files)", path)
    elif not os.path.exists(path):
        raise InputError("no such file", path)
    else:
        here = os.stat(path)
    out = os.fstat(sys.stdout.fileno()) if to_stdout else None
    if out and stat.S_ISREG(out.st_mode) and stat.S_ISREG(here.st_mode) and os.path.samestat(out, here):
        raise InputError(
            "standard output is this input file (a shell's '>' empties it before the tagger starts, "
            "'>>' would read the tagger's own output): write to another file, or give --output",
            "<stdin>" if path == "-" else path,
        )


@contextlib.contextmanager
def stop_quietly_if_the_reader_goes_away() -> Iterator[None]:
    """End the process as SIGPIPE would (status 141, nothing printed) when stdout's reader has
    gone away (e.g. ``| head``), as ``cat`` does in a shell."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(128 + signal.SIGPIPE)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    to_stdout = FLAGS.output in (None, "-") and FLAGS.format != "brat"
    if (FLAGS.info or to_stdout) and sys.stdout is None:
        raise InputError("standard output is closed: give --output")
    if FLAGS.info:
        with stop_quietly_if_the_reader_goes_away():
            print(render_markdown(read_card(FLAGS.model_dir)), end="")
        return
    if FLAGS.format == "brat" and not (FLAGS.output_dir and os.path.isdir(FLAGS.input)):
        raise InputError("--format=brat tags a folder of .txt files: give it as --input, and --output_dir")
    if FLAGS.output_dir and FLAGS.format != "brat":
        raise InputError("--output_dir is for --format=brat; --output or stdout for the others")
    if FLAGS.output and FLAGS.format == "brat":
        raise InputError("--output is for --format=conll or json; BRAT files go to --output_dir")
    check_tagger_dir(FLAGS.model_dir)
    if FLAGS.format != "brat":
        check_input_file(FLAGS.input, to_stdout)
    # TensorFlow only now, so that --help, --info and bad flags and paths exit before it loads
    from taglm_tf.serving.api import Tagger

    check_outputs_against_lms()
    tagger = Tagger.load(FLAGS.model_dir, lm_overrides(), FLAGS.output_scheme)
    tag_to_output(tagger, to_stdout)


def check_outputs_against_lms() -> None:
    """Refuse an ``--output`` or ``--output_dir`` that would overwrite a file of the model's LMs,
    which ``check_output_flags`` cannot know before the model's config names them."""
    from taglm_tf.lm.frozen.kinds import LMSpec
    from taglm_tf.lm.frozen.loading import locate_lms
    from taglm_tf.run_dir import read_config

    specs = locate_lms(read_config(FLAGS.model_dir), FLAGS.model_dir, lm_overrides())
    paths = [path for spec in specs.values() for path in LMSpec.parse(spec).paths]
    for flag in ("output", "output_dir"):
        if FLAGS[flag].value not in (None, "-"):
            check_output_path(FLAGS[flag].value, paths, f"--{flag}", folder=flag == "output_dir")


def _terminated(signum, frame):
    # As Ctrl-C: the output being written is dropped whole (atomic_path), and one line is printed.
    raise Interrupted("terminated: no output written" if FLAGS.output not in (None, "-") else "terminated")


def tag_to_output(tagger: Tagger, to_stdout: bool) -> None:
    """Tag ``--input`` into ``--output``, stdout or (BRAT) ``--output_dir``."""
    if FLAGS.format == "brat":
        documents, annotations = tagger.write_brat(FLAGS.input, FLAGS.output_dir, FLAGS.batch_size)
        return print(
            f"{documents} document(s), {annotations} annotation(s) -> {FLAGS.output_dir}", file=sys.stderr
        )
    progress = Progress(sys.stderr) if show_progress(FLAGS.progress, sys.stderr) else None
    items = read_input(FLAGS.input, FLAGS.input_format, tagger.task.fmt)
    args = (tagger, items, FLAGS.input_format, FLAGS.format)
    if not to_stdout:
        with atomic_path(FLAGS.output) as tmp, open(tmp, "wb") as out:
            with signals.handling(_terminated, (signal.SIGTERM,)):  # not past the rename
                tag_stream(*args, out, FLAGS.batch_size, progress=progress)
        return
    with stop_quietly_if_the_reader_goes_away(), signals.handling(_terminated, (signal.SIGTERM,)):
        tag_stream(*args, sys.stdout.buffer, FLAGS.batch_size, progress=progress)


if __name__ == "__main__":
    define_flags()
    run(main)
