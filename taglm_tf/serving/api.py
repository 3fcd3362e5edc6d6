"""The Python API: load a trained tagger and tag raw text, token lists or CoNLL sentences.

    from taglm_tf import Tagger
    tagger = Tagger.load("runs/demo/tagger")
    for sentence in tagger.predict("Anna Novak met EU officials in Paris. She left on Monday."):
        print(sentence.tokens, sentence.tags)
        for span in sentence.spans:
            print(span.type, span.text, span.char_start, span.char_end)

``python -m taglm_tf.tag`` tags through this module, so both give the same tags.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence

from taglm_tf.data import brat, conll, tag_schemes
from taglm_tf.data.tokenize import tokenize_many
from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.frozen.loading import load_lms
from taglm_tf.models.saving import LoadedTagger, load_tagger
from taglm_tf.serving.module import TaggerModule, check_positive
from taglm_tf.tasks import Task, task_named
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

# One input: raw text (str), a token list, or a CoNLL sentence (its tokens; other columns kept).
Input = str | Sequence[str] | conll.Sentence


@dataclasses.dataclass(frozen=True)
class Span:
    """A tagged chunk (an entity for NER): tokens ``start:end`` (end exclusive).

    ``char_start``/``char_end`` index the raw text the sentence came from (``text ==
    raw[char_start:char_end]``); both are ``None`` for token-list and CoNLL input, where ``text``
    is the tokens joined by single spaces.
    """

    type: str
    start: int
    end: int
    text: str
    char_start: int | None = None
    char_end: int | None = None

    def to_dict(self) -> dict:
        """The fields as a JSON-able dict; ``char_start`` and ``char_end`` only when known."""
        out = {"type": self.type, "start": self.start, "end": self.end, "text": self.text}
        if self.char_start is not None:
            out.update(char_start=self.char_start, char_end=self.char_end)
        return out


@dataclasses.dataclass(frozen=True)
class TaggedSentence:
    """One tagged sentence.

    Attributes:
        tokens: the tokens.
        tags: one tag per token, in the tagger's :attr:`Tagger.scheme` (by default the task's
            gold scheme: IOB1 for NER, IOB2 for chunking), or the task's token labels (POS).
        spans: the chunks of ``tags``, in order (none for token labels).
        source: index of the input this sentence came from (a raw text may hold several).
        offsets: ``(char start, char end)`` per token into that raw text; ``None`` otherwise.
        columns: the other CoNLL columns per token for CoNLL input, else ``()``. When they are a
            whole row of the task's format (gold tags included) and the tagger's scheme is not
            the gold one, the gold tags are converted to the tagger's scheme, so that gold and
            predicted tags read alike (conlleval and the chunk rules would misread a mix).
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    spans: tuple[Span, ...]
    source: int = 0
    offsets: tuple[tuple[int, int], ...] | None = None
    columns: tuple[tuple[str, ...], ...] = ()

    def to_dict(self, entity_word: str | None = "entities") -> dict:
        """The JSON record ``taglm_tf.tag --format=json`` writes: tokens, tags, the spans under
        ``entity_word`` (``entities``, ``chunks`` or ``keyphrases``; no spans for ``None``, a task of token
        labels) and, for raw text, the token ``offsets``."""
        out = {"tokens": list(self.tokens), "tags": list(self.tags)}
        if entity_word is not None:
            out[entity_word] = [s.to_dict() for s in self.spans]
        if self.offsets is not None:
            out["offsets"] = [list(o) for o in self.offsets]
        return out

    def shifted(self, chars: int, source: int = 0) -> TaggedSentence:
        """This sentence of a block of raw text as a sentence of the larger text the block
        starts ``chars`` characters into (token and span offsets moved by ``chars``), from input
        ``source``; see :func:`taglm_tf.data.tokenize.paragraph_blocks`."""
        if self.offsets is None:
            return dataclasses.replace(self, source=source)
        spans = tuple(
            dataclasses.replace(s, char_start=s.char_start + chars, char_end=s.char_end + chars)
            for s in self.spans
        )
        offsets = tuple((a + chars, b + chars) for a, b in self.offsets)
        return dataclasses.replace(self, spans=spans, offsets=offsets, source=source)


@dataclasses.dataclass(frozen=True)
class _Pending:
    """A sentence waiting to be tagged (internal)."""

    tokens: tuple[str, ...]
    source: int
    offsets: tuple[tuple[int, int], ...] | None = None
    text: str | None = None  # the raw text the offsets index
    columns: tuple[tuple[str, ...], ...] = ()


def _spans(pending: _Pending, chunks: Sequence[tag_schemes.Chunk]) -> tuple[Span, ...]:
    spans = []
    for chunk in chunks:
        if pending.offsets is None:
            spans.append(
                Span(chunk.type, chunk.start, chunk.end, " ".join(pending.tokens[chunk.start : chunk.end]))
            )
        else:
            first, last = pending.offsets[chunk.start][0], pending.offsets[chunk.end - 1][1]
            spans.append(Span(chunk.type, chunk.start, chunk.end, pending.text[first:last], first, last))
    return tuple(spans)


def _gold_in_scheme(
    columns: tuple[tuple[str, ...], ...], fmt: conll.CorpusFormat | None, scheme: str | None
) -> tuple[tuple[str, ...], ...]:
    """CoNLL ``columns`` (all but the word, per token) with the gold tag column converted to
    ``scheme`` when every row is a whole row of ``fmt`` and its tag column holds ``fmt``'s tags;
    else as they are (fewer columns: no gold; token labels or BRAT tasks: no scheme or format)."""
    if not columns or fmt is None or fmt.tag_scheme in (None, scheme):
        return columns
    if any(len(row) != fmt.num_columns - 1 for row in columns):
        return columns
    k = fmt.tag_column % fmt.num_columns - 1  # the word is not among the columns
    gold = [row[k] for row in columns]
    if not all(tag_schemes.is_valid_tag(tag, fmt.tag_scheme) for tag in gold):
        return columns
    converted = tag_schemes.convert(gold, scheme)
    return tuple((*row[:k], tag, *row[k + 1 :]) for row, tag in zip(columns, converted))


def _check_tokens(tokens: Sequence[str], source: int) -> tuple[str, ...]:
    tokens = tuple(tokens)
    for token in tokens:
        # The field separators of every reader (taglm_tf.utils.textio): other Unicode spaces belong to tokens.
        if (
            not isinstance(token, str)
            or textio.split_fields(token) != [token]
            or "\n" in token
            or "\r" in token
        ):
            raise InputError(
                f"input {source}: token {token!r} is not a non-empty string without "
                "spaces, tabs or line breaks"
            )
    return tokens


class Tagger:
    """A trained tagger (baseline or TagLM) ready to tag.

    Build it with :meth:`load`. Its LMs (TagLM models) are loaded once, with the fingerprint
    check of :func:`taglm_tf.lm.frozen.loading.load_lms`, and the model's decoding is traced once and
    reused across :meth:`predict` calls.

    Args:
        loaded: the model, vocabularies and config of a run (:func:`load_tagger`).
        task: the run's task (its labels: gold tag scheme and chunks, or token labels).
        lms: the frozen LMs the model was trained with, forward first; ``()`` for a baseline.
        output_scheme: the scheme of the tags returned, any case: ``iob1``, ``iob2`` (also
            ``bio``) or ``iobes`` (also ``bioes``); ``None`` or ``task``: the task's gold scheme.
            Spans are the same in every scheme. A ValueError for another name; an
            :class:`InputError` for a scheme with a task of token labels.
    """

    def __init__(
        self,
        loaded: LoadedTagger,
        task: Task,
        lms: Sequence[SentenceEmbedder] = (),
        output_scheme: str | None = None,
    ):
        self.loaded, self.task, self.lms = loaded, task, list(lms)
        use_task = output_scheme is None or output_scheme.lower() == "task"
        self.output_scheme = None if use_task else tag_schemes.scheme_named(output_scheme)
        task.labels.check_output_scheme(self.output_scheme)
        self.module = TaggerModule(loaded, self.scheme, self.lms)

    @classmethod
    def load(
        cls, model_dir: str, lms: Mapping[str, str | None] | None = None, output_scheme: str | None = None
    ) -> Tagger:
        """The tagger of a finished training run in ``model_dir`` (``model.keras``,
        ``vocab.json``, ``config.json``), with the LMs its config names, found from any working
        directory and after the run moved with its LMs (:func:`taglm_tf.lm.frozen.loading.locate_lms`).

        Args:
            model_dir: the run directory.
            lms: optional ``{"forward_lm": spec, "backward_lm": spec}`` overriding where the
                LMs are (they must still be the LMs the model was trained with).
            output_scheme: the scheme of the returned tags (see the class); ``None``: the task's.

        Raises:
            InputError: a file is missing, the task is unknown, or an LM cannot be found (the
                message lists the places tried), loaded, or is not the one the model was
                trained with.
            ValueError: an unknown ``output_scheme``.
        """
        loaded = load_tagger(model_dir)
        return cls(
            loaded,
            task_named(loaded.config.get("task"), model_dir),
            load_lms(loaded.config, model_dir, lms),
            output_scheme,
        )

    @property
    def scheme(self) -> str | None:
        """The scheme of the returned tags: ``output_scheme`` if given, else the task's gold
        scheme (``iob1`` NER, ``iob2`` chunking); ``None`` for token labels (POS)."""
        return self.output_scheme or self.task.labels.scheme

    def tag_tokens(self, token_lists: Sequence[Sequence[str]], batch_size: int = 128) -> list[list[str]]:
        """Tags in :attr:`scheme` for each non-empty token list, in order, computed by the
        model's :class:`~taglm_tf.serving.module.TaggerModule` (the computation the SavedModel
        exports) in length-sorted batches of ``batch_size`` sentences.

        The model sees each token in Unicode normal form NFC (the form of CoNLL text and of
        embedding vocabularies), so ``Zu\u0308rich`` is looked up as ``Zürich``; the outputs keep
        the tokens as given."""
        return self.module.tag(token_lists, batch_size)

    def predict(self, inputs: Input | Iterable[Input], batch_size: int = 128) -> list[TaggedSentence]:
        """Tag ``inputs``; returns one :class:`TaggedSentence` per sentence, in input order.

        Args:
            inputs: one raw text (``str``), one :class:`conll.Sentence`, or an iterable of
                inputs, each a raw text, a token list (``list``/``tuple`` of ``str``) or a
                :class:`conll.Sentence`. A raw text is split into sentences and tokens
                (:mod:`taglm_tf.data.tokenize`) and may give zero or more sentences (their
                ``source`` is the input's index); each token list or CoNLL sentence gives one.
                Note that a list of strings is a list of raw texts: wrap a single token list
                in a list (``[["New", "York"]]``).
            batch_size: sentences per inference batch.

        Raises:
            InputError: a token that is empty or contains a space, tab or line break.
            TypeError: an input of another type.
            ValueError: ``batch_size`` is not a positive integer.
        """
        return list(self.predict_iter(inputs, batch_size))

    def predict_iter(
        self, inputs: Input | Iterable[Input], batch_size: int = 128, chunk_size: int | None = None
    ) -> Iterator[TaggedSentence]:
        """:meth:`predict` as a generator: reads ``inputs`` lazily, ``chunk_size`` sentences
        (default ``16 * batch_size``) at a time, so memory does not grow with the input. Under
        glibc, a process that tags millions of tokens should also call
        :func:`taglm_tf.utils.memory.fix_mmap_threshold` once (as ``python -m taglm_tf.tag``
        does), or its peak RSS creeps up through heap fragmentation.

        Raises:
            ValueError: ``batch_size`` or ``chunk_size`` is not a positive integer.
        """
        check_positive(batch_size, "batch_size")
        if chunk_size is not None:
            check_positive(chunk_size, "chunk_size")
        chunk_size = chunk_size or 16 * batch_size
        pending = _pending_sentences(inputs)
        while True:
            chunk = list(itertools.islice(pending, chunk_size))
            if not chunk:
                return
            non_empty = [p.tokens for p in chunk if p.tokens]
            tags = iter(self.tag_tokens(non_empty, batch_size))
            for p in chunk:
                sentence_tags = tuple(next(tags)) if p.tokens else ()
                yield TaggedSentence(
                    p.tokens,
                    sentence_tags,
                    _spans(p, self.task.labels.spans(sentence_tags)),
                    p.source,
                    p.offsets,
                    _gold_in_scheme(p.columns, self.task.fmt, self.scheme),
                )

    def write_brat(self, input_dir: str, output_dir: str, batch_size: int = 128) -> tuple[int, int]:
        """Tag every ``.txt`` file of ``input_dir`` (raw text) and write BRAT standoff files into
        ``output_dir``: ``NAME.ann`` with one text-bound annotation per span (character offsets
        into the text as stored, :mod:`taglm_tf.data.brat`) and a copy of ``NAME.txt``, so that
        the folder opens in BRAT and scores with ``experiments.brat_eval``. Each file is
        written whole or not at all.

        Returns:
            ``(documents, annotations)`` written.

        Raises:
            InputError: the task labels tokens (no spans); ``input_dir`` holds no ``.txt`` file;
                ``output_dir`` is ``input_dir``,
                holds ``.ann`` files this method did not write (gold annotations, say: it marks
                its folders with :data:`BRAT_OUTPUT_MARK`), or a ``NAME.txt`` other than the input's.
        """
        if self.task.entity_word is None:
            raise InputError(
                f"the {self.task.name} task labels tokens; it has no spans to write as BRAT annotations"
            )
        documents = brat.read_folder(input_dir, annotated=False)
        if os.path.realpath(output_dir) == os.path.realpath(input_dir):
            raise InputError(
                "is the input folder: the output would overwrite its files; give another output folder",
                output_dir,
            )
        mark = os.path.join(output_dir, BRAT_OUTPUT_MARK)
        if (
            os.path.isdir(output_dir)
            and not os.path.exists(mark)
            and any(n.endswith(".ann") for n in os.listdir(output_dir))
        ):
            raise InputError(
                "holds .ann files that taglm_tf did not write (gold annotations?); give an "
                "empty or new output folder",
                output_dir,
            )
        for d in documents:
            existing = os.path.join(output_dir, d.name + ".txt")
            if os.path.exists(existing) and brat.read_text(existing) != d.text:
                raise InputError(
                    f"holds another {d.name}.txt than {input_dir}: not an output folder of "
                    "this input; give another output folder",
                    output_dir,
                )
        os.makedirs(output_dir, exist_ok=True)
        with open(mark, "w", encoding="utf-8") as f:
            f.write("BRAT predictions written by taglm_tf (Tagger.write_brat)\n")
        spans: list[list[Span]] = [[] for _ in documents]
        for sentence in self.predict_iter([d.text for d in documents], batch_size):
            spans[sentence.source] += sentence.spans
        for d, found in zip(documents, spans):  # the text first: an .ann never lacks its .txt
            with atomic_path(os.path.join(output_dir, d.name + ".txt")) as tmp:
                shutil.copyfile(os.path.join(input_dir, d.name + ".txt"), tmp)
            annotations = [
                brat.TextBound(f"T{i}", s.type, ((s.char_start, s.char_end),)) for i, s in enumerate(found, 1)
            ]
            brat.write_ann(os.path.join(output_dir, d.name + ".ann"), annotations, d.text)
        return len(documents), sum(len(found) for found in spans)


RAW_RUN_TEXTS, RAW_RUN_CHARS = 64, 1 << 16
BRAT_OUTPUT_MARK = ".taglm-brat-output"  # in folders Tagger.write_brat writes: its .ann may be replaced


def _pending_sentences(inputs) -> Iterator[_Pending]:
    if isinstance(inputs, (bytes, bytearray)):  # else read as a sequence of ints
        raise TypeError(
            f"inputs: expected text, got {type(inputs).__name__}: decode it first, e.g. data.decode('utf-8')"
        )
    if isinstance(inputs, (str, conll.Sentence)):
        inputs = [inputs]
    # Raw texts are tokenized together, in runs of up to RAW_RUN_TEXTS texts or RAW_RUN_CHARS
    # characters (many short strings share spaCy's batching; a long one goes alone).
    texts: list[tuple[int, str]] = []
    chars = 0

    def flush():
        nonlocal chars
        for (source, text), sentences in zip(texts, tokenize_many([t for _, t in texts])):
            for s in sentences:
                yield _Pending(s.tokens, source, s.offsets, text)
        texts.clear()
        chars = 0

    for source, item in enumerate(inputs):
        if isinstance(item, str):
            texts.append((source, item))
            chars += len(item)
            if len(texts) >= RAW_RUN_TEXTS or chars >= RAW_RUN_CHARS:
                yield from flush()
            continue
        yield from flush()
        if isinstance(item, conll.Sentence):
            yield _Pending(_check_tokens(item.tokens, source), source, columns=item.columns)
        elif isinstance(item, (list, tuple)):
            yield _Pending(_check_tokens(item, source), source)
        else:
            hint = (
                ": decode it first, e.g. data.decode('utf-8')" if isinstance(item, (bytes, bytearray)) else ""
            )
            raise TypeError(
                f"input {source}: expected a str, a list of str or a conll.Sentence, "
                f"got {type(item).__name__}{hint}"
            )
    yield from flush()
