"""1B-Word-style LM training data: sharded text -> packed, fixed-size windows for truncated BPTT.

**Files.** A comma-separated list of globs; each file holds one tokenized sentence per line
(tokens separated by ASCII spaces or tabs; blank lines are skipped), plain, ``.gz``, ``.bz2`` or
``.xz``, UTF-8; lines, tokens and a leading BOM are handled by :mod:`taglm_tf.utils.textio`.

**Sentences.** Each sentence becomes ids by :func:`~taglm_tf.lm.vocab.encode_sentence`:
forward ``<S> w1 .. wn </S>``, backward ``<S> wn .. w1 </S>`` (words reversed, same markers).

**Order.** Without shuffling: files in sorted path order, lines in file order, one pass per
epoch. With shuffling (training): each epoch visits the files in an order drawn from
``(seed, epoch)``, and shuffles each chunk of ``shuffle_chunk`` consecutive lines with a
generator seeded by ``(seed, epoch, file, chunk)``. With interleaving (``interleave=True``), the
files are read side by side instead: blocks of 100 sentences are drawn from the files in
proportion to the sentences each has left (seeded by ``(seed, epoch)``), and each run of
``shuffle_chunk`` sentences so gathered is shuffled, so every part of an epoch mixes all sources
(a corpus made of one file per source no longer drifts from source to source). The stream is a
deterministic function of the files, the seed and the global batch size; it does not depend on
the number of replicas.

**Windows** (lm_1b's ``get_batch``, docs/lm_1b.md §9): ``batch_size`` rows, each an
independent stream of sentences packed back to back. A window holds ``num_steps`` (input,
target) pairs per row: for a sentence ``s``, inputs come from ``s[:-1]`` and targets from
``s[1:]``, so ``<S>`` is only an input and ``</S>`` only a target, and a sentence of n words
gives n + 1 pairs. Row r of window t + 1 continues exactly where row r of window t stopped, so
an LSTM state carried per row is the state after everything the row has read. When a row needs
a new sentence it takes the next one of the shared stream (rows are served in order 0..B-1).
Slots after the data ends have input 0, target 0 and weight 0; the last window is the one after
which every row is empty.

**Chars** (char-aware LMs: the corpus has ``chars``, their encoding). Each window also carries
``input_chars`` ``[B, T, max_word_length]``: the lm_1b byte-level char ids
(:meth:`~taglm_tf.lm.lm1b.vocab.LM1BCharEncoder.encode_word`) of the real spelling of each input
token, so a word outside the word vocabulary (``<UNK>`` in ``inputs``) keeps its chars. ``<S>`` is
encoded from its spelling, as lm_1b_eval's ``dump_lstm_emb`` feeds it and as the lm_1b loader
reads a sentence (:func:`~taglm_tf.lm.lm1b.model.token_char_ids`); ``</S>`` is never an input.
Padding slots hold zeros. Each distinct word is encoded once per corpus (a cache).

**Position.** Every window carries ``position = (epoch, file, line)``: the epoch, the file's
index in that epoch's order and the first line of the chunk the newest sentence came from
(interleaved: ``(epoch, chunk, 0)``), and ``resume`` ``[B + 1, 5]``: the packer's state after
the window. Row r of ``resume`` is ``(epoch, file, line, k, offset)`` of the sentence row r is
reading: the k-th sentence the stream yields from chunk ``(epoch, file, line)``, of which
``offset`` ids have been consumed (all -1: no sentence); row B is ``(epoch, file, line, k, 0)``
of the last sentence taken from the stream. :func:`pack_windows` started from a ``resume``
array (the stream restarted at :func:`resume_anchor`, the oldest chunk it names) rebuilds every
row and skips what was taken, so its windows equal the uninterrupted stream's exactly.

**Replicas.** The stream is packed at the global batch size ``per_replica_batch x replicas``;
replica ``r`` (in ``num_replicas_in_sync`` order) always gets global rows
``[r * b, (r + 1) * b)``, so a row always meets the same replica and its carried state.
"""

from __future__ import annotations

import dataclasses
import glob
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from taglm_tf.data.featurizer import normalize_word_list
from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder
from taglm_tf.lm.vocab import BOS, DIRECTIONS, LMVocabulary, encode_sentence
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

# Sentences taken from one file at a time when files are interleaved.
INTERLEAVE_BLOCK = 100


class Position(NamedTuple):
    """Where a stream is: epoch, index into that epoch's file order, first line of a chunk
    (interleaved: epoch, chunk index, 0)."""

    epoch: int = 0
    file: int = 0
    line: int = 0


def expand_files(patterns: str) -> list[str]:
    """Sorted files matching comma-separated globs; an error names a glob that matches nothing."""
    files = set()
    for pattern in (p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        matches = [f for f in glob.glob(os.path.expanduser(pattern)) if os.path.isfile(f)]
        if not matches:
            raise InputError("no such file" if not glob.has_magic(pattern) else "matches no file", pattern)
        files.update(matches)
    if not files:
        raise InputError(f"no files given ({patterns!r})")
    return sorted(files)


def read_sentences(path: str, start_line: int = 0) -> Iterator[tuple[int, list[str]]]:
    """``(line_index, tokens)`` of the non-blank lines of ``path`` from ``start_line`` (0-based);
    lines and tokens as :mod:`taglm_tf.utils.textio` splits them."""
    for number, line in textio.read_lines(path):
        if number > start_line:
            tokens = textio.split_fields(line)
            if tokens:
                yield number - 1, tokens


@dataclasses.dataclass
class LMCorpus:
    """A set of sentence files read as an (optionally shuffled, repeated) stream of id arrays.

    Args:
        files: the files (see :func:`expand_files`).
        vocab: the LM vocabulary.
        direction: ``forward`` or ``backward``.
        shuffle: shuffle file order and sentences within chunks, per epoch.
        seed: the shuffling seed.
        num_epochs: passes over the data; ``None`` repeats forever.
        shuffle_chunk: lines per shuffled chunk.
        max_sentences: stop the stream after this many sentences (``None``: no limit).
        chars: for a char-aware LM: sentences also carry the char ids of their input
            tokens (module docstring, "Chars").
        interleave: mix the sentences of all files within each epoch (module docstring, "Order").
        normalize: read each word lowercased, digits as 0 (:func:`word_normalizer`), for an LM
            trained with ``normalize_words``.
    """

    files: Sequence[str]
    vocab: LMVocabulary
    direction: str = "forward"
    shuffle: bool = False
    seed: int = 0
    num_epochs: int | None = 1
    shuffle_chunk: int = 10000
    max_sentences: int | None = None
    chars: LM1BCharEncoder | None = None
    interleave: bool = False
    normalize: bool = False
    _counts: list[int] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)
    _char_cache: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    _normalized: Callable[[Sequence[str]], list[str]] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def max_word_length(self) -> int:
        """Chars per word row of ``input_chars``; 0 for a word-level corpus (no chars)."""
        return 0 if self.chars is None else self.chars.max_word_length

    def input_chars(self, tokens: Sequence[str]) -> np.ndarray:
        """``[len(tokens) + 1, max_word_length]`` int32 char ids of what the LM reads before each
        target of the sentence: ``<S>``, then ``tokens`` in this corpus's direction."""
        cache, encode = self._char_cache, self.chars.encode_word
        words = [BOS] + list(tokens[::-1] if self.direction == "backward" else tokens)
        rows = []
        for word in words:
            row = cache.get(word)
            if row is None:
                row = cache[word] = encode(word)
            rows.append(row)
        return np.stack(rows)

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, not {self.direction!r}")
        if self.normalize:
            self._normalized = word_normalizer()
        if not self.files:
            raise InputError("no data files")

    def file_order(self, epoch: int) -> list[int]:
        """Indices into ``files`` in the order epoch ``epoch`` reads them when not interleaving:
        as listed, or with ``shuffle`` a permutation seeded by ``(seed, epoch)``."""
        if not self.shuffle:
            return list(range(len(self.files)))
        return [int(i) for i in np.random.default_rng([self.seed, epoch]).permutation(len(self.files))]

    def sentences(self, start: Position = Position()) -> Iterator[tuple]:
        """``(ids, position)`` of every sentence from ``start`` on, in stream order; with a
        ``chars``, ``(ids, position, input_chars)`` (:meth:`input_chars`)."""
        stream = self._sentences(start)
        return stream if self.max_sentences is None else itertools.islice(stream, self.max_sentences)

    def _sentences(self, start: Position) -> Iterator[tuple]:
        epoch = start.epoch
        while self.num_epochs is None or epoch < self.num_epochs:
            found = False
            for position, tokens in self._epoch_sentences(
                epoch, start if epoch == start.epoch else Position(epoch)
            ):
                found = True
                tokens = self._normalized(tokens) if self._normalized else tokens
                ids = encode_sentence(self.vocab, tokens, self.direction)
                yield (ids, position) if self.chars is None else (ids, position, self.input_chars(tokens))
            if not found and (epoch > start.epoch or start[1:] == (0, 0)):
                raise InputError("the data files hold no sentence", self.files[0])
            epoch += 1

    def _epoch_sentences(self, epoch: int, start: Position) -> Iterator[tuple[Position, list[str]]]:
        """``(position, tokens)`` of one epoch from ``start`` on."""
        if self.interleave:
            yield from self._interleaved(epoch, start.file)
            return
        for f, file_index in enumerate(self.file_order(epoch)):
            if f >= start.file:
                yield from self._file_sentences(epoch, f, file_index, start.line if f == start.file else 0)

    def sentence_counts(self) -> list[int]:
        """Sentences (non-blank lines) per file; counted once, on first use."""
        if self._counts is None:
            self._counts = [sum(1 for _ in read_sentences(path)) for path in self.files]
        return self._counts

    def _interleaved(self, epoch: int, first_chunk: int) -> Iterator[tuple[Position, list[str]]]:
        """All files mixed (module docstring, "Order"): blocks of ``INTERLEAVE_BLOCK`` sentences
        are drawn from the files in proportion to what each has left, with a generator seeded by
        ``(seed, epoch)``; every ``shuffle_chunk`` sentences so gathered are shuffled
        (:meth:`_emit`) as chunk ``Position(epoch, k, 0)``. Chunks before ``first_chunk`` are
        read and dropped, so a resumed stream continues exactly."""
        remaining = np.array(self.sentence_counts(), np.float64)
        readers = [read_sentences(path) for path in self.files]
        rng = np.random.default_rng([self.seed, epoch, 1])
        chunk: list[list[str]] = []
        index = 0
        while remaining.sum() > 0:
            f = int(rng.choice(len(readers), p=remaining / remaining.sum()))
            take = int(min(INTERLEAVE_BLOCK, remaining[f]))
            remaining[f] -= take
            chunk.extend(tokens for _, tokens in itertools.islice(readers[f], take))
            if len(chunk) >= self.shuffle_chunk or remaining.sum() == 0:
                if index >= first_chunk:
                    yield from self._emit(chunk, Position(epoch, index, 0))
                chunk, index = [], index + 1

    def _file_sentences(self, epoch, f, file_index, first_line):
        """Chunks start at multiples of ``shuffle_chunk`` lines (``first_line`` is one)."""
        chunk: list[list[str]] = []
        chunk_start = first_line
        for index, tokens in read_sentences(self.files[file_index], first_line):
            start = index - index % self.shuffle_chunk
            if start != chunk_start and chunk:
                yield from self._emit(chunk, Position(epoch, f, chunk_start))
                chunk = []
            chunk_start = start
            chunk.append(tokens)
        yield from self._emit(chunk, Position(epoch, f, chunk_start))

    def _emit(self, chunk, position):
        order = range(len(chunk))
        if self.shuffle:
            order = np.random.default_rng([self.seed, *position]).permutation(len(chunk))
        for i in order:
            yield position, chunk[i]


RESUME_FIELDS = 5  # (epoch, file, line, k, offset): module docstring, "Position"


def resume_anchor(resume: np.ndarray) -> Position:
    """The oldest chunk a ``resume`` array (module docstring, "Position") names: where the
    stream must restart for :func:`pack_windows` to rebuild it."""
    named = [tuple(int(v) for v in row[:3]) for row in np.asarray(resume) if row[0] >= 0]
    if not named:
        raise InputError("a data resume state names no sentence")
    return Position(*min(named))


def _restore_rows(sentences: Iterator[tuple], resume: np.ndarray, streams: list) -> Position:
    """Read ``sentences`` (from :func:`resume_anchor`) up to the last one taken, putting each
    row's sentence back at its offset; returns the last one's position."""
    resume = np.asarray(resume)
    wanted = {}
    for row, (e, f, line, k, offset) in enumerate(resume[:-1].tolist()):
        if e >= 0:
            wanted.setdefault((e, f, line, k), []).append((row, offset))
    last = tuple(resume[-1, :4].tolist())
    current, k = None, -1
    for sentence in sentences:
        position = tuple(int(v) for v in sentence[1])
        k = k + 1 if position == current else 0
        current = position
        for row, offset in wanted.pop((*position, k), ()):
            streams[row] = [sentence[0], offset, sentence[2] if len(sentence) > 2 else None, position, k]
        if (*position, k) == last:
            if wanted:
                break
            return Position(*position)
    raise InputError(
        f"the training data no longer holds the sentences a checkpoint's data position "
        f"names (chunk {last[:3]}, sentence {last[3]}): the files or the shuffling changed"
    )


def pack_windows(
    sentences: Iterator[tuple],
    batch_size: int,
    num_steps: int,
    max_word_length: int = 0,
    resume: np.ndarray | None = None,
) -> Iterator[dict]:
    """Pack sentence ids into windows as lm_1b's ``get_batch`` (module docstring).

    Args:
        sentences: ``(ids, position)`` tuples (with ``max_word_length``: ``(ids, position,
            input_chars)``) in stream order, from :meth:`LMCorpus.sentences`; when resuming, from
            ``resume_anchor(resume)``.
        batch_size: rows B.
        num_steps: pairs per row and window T.
        max_word_length: chars per word of ``input_chars`` (0: a word-level corpus).
        resume: ``[B + 1, 5]`` int, a window's ``resume`` array: continue exactly after that window.

    Yields dicts of numpy arrays: ``inputs``, ``targets`` [B, T] int32, ``weights`` [B, T]
    float32 (1 at real pairs), ``position`` [3] and ``resume`` [B + 1, 5] int64; with
    ``max_word_length`` also ``input_chars`` [B, T, max_word_length] int32.

    Raises:
        InputError: ``resume`` has the wrong shape or names sentences the stream does not hold.
    """
    streams: list[list | None] = [None] * batch_size  # per row: [ids, offset, chars, position, k]
    position, k, exhausted = Position(), -1, False
    if resume is not None:
        if np.shape(resume) != (batch_size + 1, RESUME_FIELDS):
            raise InputError(
                f"a data resume state of shape {np.shape(resume)} does not fit "
                f"{batch_size} rows (expected {(batch_size + 1, RESUME_FIELDS)})"
            )
        position, k = _restore_rows(sentences, resume, streams), int(resume[-1, 3])
    while True:
        inputs = np.zeros((batch_size, num_steps), np.int32)
        targets = np.zeros((batch_size, num_steps), np.int32)
        weights = np.zeros((batch_size, num_steps), np.float32)
        chars = np.zeros((batch_size, num_steps, max_word_length), np.int32) if max_word_length else None
        state = np.full((batch_size + 1, RESUME_FIELDS), -1, np.int64)
        for row in range(batch_size):
            col = 0
            while col < num_steps:
                stream = streams[row]
                if stream is None or len(stream[0]) - stream[1] <= 1:
                    nxt = None if exhausted else next(sentences, None)
                    if nxt is None:
                        exhausted, streams[row] = True, None
                        break
                    k = k + 1 if Position(*nxt[1]) == position else 0
                    position = Position(*nxt[1])
                    stream = streams[row] = [nxt[0], 0, nxt[2] if chars is not None else None, position, k]
                ids, offset, sentence_chars = stream[:3]
                n = min(len(ids) - offset - 1, num_steps - col)
                inputs[row, col : col + n] = ids[offset : offset + n]
                if chars is not None:
                    chars[row, col : col + n] = sentence_chars[offset : offset + n]
                targets[row, col : col + n] = ids[offset + 1 : offset + n + 1]
                weights[row, col : col + n] = 1.0
                col, stream[1] = col + n, offset + n
        if exhausted and not weights.any():
            return
        for row, stream in enumerate(streams):
            if stream is not None:
                state[row] = (*stream[3], stream[4], stream[1])
        state[batch_size] = (*position, k, 0)
        window = {
            "inputs": inputs,
            "targets": targets,
            "weights": weights,
            "position": np.array(position, np.int64),
            "resume": state,
        }
        if chars is not None:
            window["input_chars"] = chars
        yield window


def window_spec(batch_size: int, num_steps: int, max_word_length: int = 0) -> dict:
    """The ``tf.TensorSpec`` of each window array (:func:`pack_windows`)."""
    shape = [batch_size, num_steps]
    spec = {
        "inputs": tf.TensorSpec(shape, tf.int32),
        "targets": tf.TensorSpec(shape, tf.int32),
        "weights": tf.TensorSpec(shape, tf.float32),
        "position": tf.TensorSpec([3], tf.int64),
        "resume": tf.TensorSpec([batch_size + 1, RESUME_FIELDS], tf.int64),
    }
    if max_word_length:
        spec["input_chars"] = tf.TensorSpec(shape + [max_word_length], tf.int32)
    return spec


def window_dataset(
    corpus: LMCorpus, batch_size: int, num_steps: int, start: Position | np.ndarray = Position()
) -> tf.data.Dataset:
    """The packed windows of ``corpus`` at ``batch_size`` rows, streamed through ``tf.data``.

    ``start``: a :class:`Position` (a chunk to start at), or a window's ``resume`` array to
    continue exactly after that window (module docstring, "Position")."""
    resume = None if isinstance(start, Position) or np.shape(start) == (3,) else np.asarray(start)
    first = resume_anchor(resume) if resume is not None else Position(*start)
    return tf.data.Dataset.from_generator(
        lambda: pack_windows(corpus.sentences(first), batch_size, num_steps, corpus.max_word_length, resume),
        output_signature=window_spec(batch_size, num_steps, corpus.max_word_length),
    )


def replica_dataset(
    corpus: LMCorpus,
    per_replica_batch: int,
    num_steps: int,
    context: tf.distribute.InputContext,
    start: Position | np.ndarray = Position(),
) -> tf.data.Dataset:
    """This input pipeline's per-replica windows: global windows sliced into its replicas' rows.

    An input pipeline (one per worker) feeds ``k = replicas / pipelines`` local replicas, which
    take its elements in turn; so the dataset yields, per global window, ``k`` elements holding
    global rows ``[(p * k + j) * b, (p * k + j + 1) * b)`` for ``j = 0 .. k-1``.
    """
    local = context.num_replicas_in_sync // context.num_input_pipelines
    first = context.input_pipeline_id * local * per_replica_batch
    global_batch = per_replica_batch * context.num_replicas_in_sync

    def split(window):
        rows = {
            k: tf.reshape(
                window[k][first : first + local * per_replica_batch],
                [local, per_replica_batch] + window[k].shape[1:].as_list(),
            )
            for k in ("inputs", "targets", "weights", "input_chars")
            if k in window
        }
        for k in ("position", "resume"):  # the same global values for every replica
            rows[k] = tf.tile(window[k][None], [local] + [1] * window[k].shape.rank)
        return rows

    dataset = window_dataset(corpus, global_batch, num_steps, start)
    return dataset.map(split).unbatch().prefetch(2 * local)


def distributed_dataset(
    strategy: tf.distribute.Strategy,
    corpus: LMCorpus,
    per_replica_batch: int,
    num_steps: int,
    start: Position | np.ndarray = Position(),
):
    """Windows for ``strategy.run``, through ``distribute_datasets_from_function``; ``start`` as
    for :func:`window_dataset`."""

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        return replica_dataset(corpus, per_replica_batch, num_steps, context, start)

    return strategy.distribute_datasets_from_function(dataset_fn)


def iter_tokens(files: Sequence[str], normalize: bool = False) -> Iterator[list[str]]:
    """Token lists of every sentence of ``files`` in order (for building a vocabulary); with
    ``normalize``, as :func:`word_normalizer` gives them."""
    normalized = word_normalizer() if normalize else None
    for path in files:
        for _, tokens in read_sentences(path):
            yield normalized(tokens) if normalized else tokens


def word_normalizer() -> Callable[[Sequence[str]], list[str]]:
    """A function: a sentence's tokens -> them lowercased, each digit 0-9 written 0, by the
    TensorFlow ops that the tagger's featurizer and the frozen LM embedder run in-graph, so that
    training and reading agree on every character (Python's ``str.lower`` maps some letters
    otherwise). Each distinct word is normalized once per function: a TensorFlow call per
    sentence would cost more than the rest of reading it."""
    cache: dict[str, str] = {}

    def normalized(tokens: Sequence[str]) -> list[str]:
        new = [w for w in dict.fromkeys(tokens) if w not in cache]
        if new:
            cache.update(zip(new, normalize_word_list(new)))
        return [cache[w] for w in tokens]

    return normalized
