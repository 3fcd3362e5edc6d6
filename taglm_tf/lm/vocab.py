"""The word vocabulary of every LM: lm_1b's release and the LMs trained here.

Ids are line order. ``<S>``, ``</S>`` and ``<UNK>`` (:data:`SPECIALS`) are found by their
spelling; an LM built here puts them first (``<S>`` = 0, ``</S>`` = 1, ``<UNK>`` = 2, as lm_1b
and bilm-tf), then the corpus words by descending count, ties broken by the word's code points
(ascending). That order is what TF's log-uniform candidate sampler assumes: id ``k`` is sampled
with probability ``log((k + 2) / (k + 1)) / log(V + 1)``, so frequent words must have small ids.

Two files give a vocabulary. This project's (:meth:`LMVocabulary.save`, :meth:`LMVocabulary.load`):
one word per line in id order, UTF-8 (read by :mod:`taglm_tf.utils.textio`: LF, CRLF or CR line ends,
a leading BOM dropped); an optional sibling ``<file>.counts`` holds one integer per line (the
corpus count of each word; ``<S>`` and ``</S>`` count the sentences, ``<UNK>`` the tokens of the
words cut off); lm_1b's ``!!!MAXTERMID`` line is skipped. lm_1b's release file is read by its own
byte-level rules (:func:`taglm_tf.lm.lm1b.vocab.read_vocab`).

Sentence encoding and the direction convention are defined here (:func:`encode_sentence`).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

BOS, EOS, UNK = "<S>", "</S>", "<UNK>"
SPECIALS = (BOS, EOS, UNK)
MAX_TERM_ID = "!!!MAXTERMID"  # the last line of lm_1b's vocabulary file; not a word
# chars per word in lm_1b's char encoding (lm1b.vocab), bow and eow included; defined here, in a
# module without TensorFlow, because the LM configs take it as a default
MAX_WORD_LENGTH = 50
DIRECTIONS = ("forward", "backward")
COUNTS_SUFFIX = ".counts"
Word = str | bytes


def to_bytes(word: Word) -> bytes:
    """``word`` as lm_1b chars, i.e. bytes (docs/lm_1b.md §3): bytes pass through; str is UTF-8
    encoded, with U+DC80..U+DCFF turned back into the raw bytes 0x80..0xFF they stand for
    (``surrogateescape``, the inverse of :func:`to_text`).

    Raises:
        UnicodeEncodeError: a str with any other lone surrogate.
    """
    # surrogateescape round-trips vocab lines that are not valid UTF-8.
    return word if isinstance(word, bytes) else word.encode("utf-8", "surrogateescape")


def to_text(word: Word) -> str:
    """``word`` as str: str passes through; bytes are decoded as UTF-8, each undecodable byte
    (0x80..0xFF) becoming U+DC00 + its value (``surrogateescape``), so :func:`to_bytes` gives
    the same bytes back."""
    return word if isinstance(word, str) else word.decode("utf-8", "surrogateescape")


class LMVocabulary:
    """Word <-> id mapping of an LM; unknown words map to ``<UNK>``.

    Args:
        words: every entry in id order; must contain ``<S>``, ``</S>`` and ``<UNK>``. A word
            given twice maps to its last id, as in lm_1b's data_utils (:meth:`load` refuses
            files that repeat a word).
        counts: optional corpus count per entry (same order).
        path: the file it was loaded from, for error messages.

    Raises:
        InputError: a special is missing, or ``counts`` does not fit ``words``.
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | None = None, path: str | None = None):
        self.words: list[str] = list(words)
        self.path = path
        self._index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        missing = [w for w in SPECIALS if w not in self._index]
        if missing:
            raise InputError(f"the vocabulary has no line {' or '.join(missing)}", path)
        if counts is not None and len(counts) != len(self.words):
            raise InputError(f"{len(counts)} counts for {len(self.words)} words", path)
        self.counts = None if counts is None else [int(c) for c in counts]
        self.bos, self.eos, self.unk = (self._index[w] for w in SPECIALS)

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], num_sentences: int, vocab_size: int | None = None, min_count: int = 1
    ) -> LMVocabulary:
        """Keep words seen ``min_count`` times or more, the most frequent first, at most
        ``vocab_size`` entries in all (the three specials included)."""
        if vocab_size is not None and vocab_size <= len(SPECIALS):
            raise InputError(f"vocab_size must exceed {len(SPECIALS)} (the specials), got {vocab_size}")
        ranked = sorted(
            ((w, c) for w, c in counts.items() if c >= min_count and w not in SPECIALS),
            key=lambda wc: (-wc[1], wc[0]),
        )
        if vocab_size is not None:
            ranked = ranked[: vocab_size - len(SPECIALS)]
        kept = {w for w, _ in ranked} | {BOS, EOS}
        unk = sum(c for w, c in counts.items() if w not in kept)
        words = list(SPECIALS) + [w for w, _ in ranked]
        return cls(words, [num_sentences, num_sentences, unk] + [c for _, c in ranked])

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], vocab_size: int | None = None, min_count: int = 1
    ) -> LMVocabulary:
        """Count the tokens of ``sentences`` (token lists) and apply :meth:`from_counts`."""
        counts: collections.Counter = collections.Counter()
        num_sentences = 0
        for tokens in sentences:
            counts.update(tokens)
            num_sentences += 1
        return cls.from_counts(counts, num_sentences, vocab_size, min_count)

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write ``path`` (one word per line) and, with counts, ``path.counts``."""
        write_text_atomic(path, "".join(w + "\n" for w in self.words))
        if self.counts is not None:
            write_text_atomic(path + COUNTS_SUFFIX, "".join(f"{c}\n" for c in self.counts))

    @classmethod
    def load(cls, path: str) -> LMVocabulary:
        """Read a file written by :meth:`save` (or lm_1b's vocabulary file, as text).

        Raises:
            InputError: the file or its counts cannot be read, a special is missing, or a word
                repeats.
        """
        words = [w for w in _read_lines(path) if w != MAX_TERM_ID]
        if len(set(words)) != len(words):
            dup = next(w for w, c in collections.Counter(words).items() if c > 1)
            raise InputError(f"the vocabulary repeats the word {dup!r}", path)
        counts = None
        if os.path.exists(path + COUNTS_SUFFIX):
            try:
                counts = [int(c) for c in _read_lines(path + COUNTS_SUFFIX)]
            except ValueError as e:
                raise InputError(f"bad count ({e})", path + COUNTS_SUFFIX) from None
        return cls(words, counts, path)

    # -- lookup ------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """V, the number of entries (the three specials included)."""
        return len(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def word_to_id(self, word: Word) -> int:
        """The id of ``word`` (exact match; bytes via :func:`to_text`); the ``<UNK>`` id if absent."""
        return self._index.get(to_text(word), self.unk)

    def id_to_word(self, word_id: int) -> str:
        """The entry with id ``word_id``.

        Raises:
            IndexError: ``word_id`` outside ``[0, size)`` (negative ids do not count from the
                end; lm_1b's data_utils returns ``ERROR`` there, which would hide the bug).
        """
        if not 0 <= word_id < len(self.words):
            raise IndexError(f"word id {word_id} outside the vocabulary's [0, {len(self.words)})")
        return self.words[word_id]

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """int32 ids of ``tokens`` (no sentence markers); unknown words get the ``<UNK>`` id."""
        get, unk = self._index.get, self.unk
        return np.array([get(t, unk) for t in tokens], np.int32)


def encode_sentence(vocab: LMVocabulary, tokens: Sequence[str], direction: str = "forward") -> np.ndarray:
    """The ids an LM reads for one sentence ``w1 .. wn``: the convention of this package.

    * forward: ``<S> w1 .. wn </S>``
    * backward: ``<S> wn .. w1 </S>``: the words are reversed, then the same markers are added.

    So both directions start from ``<S>`` and end by predicting ``</S>``. (bilm-tf's backward
    encoding instead reverses the whole marked sequence, giving ``</S> wn .. w1 <S>``.)
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    ids = vocab.encode(tokens)
    if direction == "backward":
        ids = ids[::-1]
    return np.concatenate([[vocab.bos], ids, [vocab.eos]]).astype(np.int32)


def _read_lines(path: str) -> list[str]:
    """Every line of ``path`` without its terminator and outer spaces/tabs (see
    :mod:`taglm_tf.utils.textio`)."""
    return [textio.strip_field_separators(line) for _, line in textio.read_lines(path)]
