"""The lm_1b word and byte-level character vocabularies (data_utils.Vocabulary/CharsVocabulary).

The release code is Python 2, so a "character" is a byte: words are handled as UTF-8 bytes and
the vocabulary file is read as bytes (docs/lm_1b.md §3, §9).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from taglm_tf import textio
from taglm_tf.errors import InputError
from taglm_tf.lm.vocab import MAX_TERM_ID

Word = Union[str, bytes]
BOS_WORD, EOS_WORD, UNK_WORD = "<S>", "</S>", "<UNK>"
MAX_WORD_LENGTH = 50
NUM_SPECIAL_CHARS = 5


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


def read_vocab_lines(path: str) -> List[bytes]:
    """The lines of ``path`` as bytes, split on b"\\n" and stripped of ASCII whitespace (as Python 2);
    a leading UTF-8 byte-order mark is dropped, as every text input of the project drops it."""
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = textio.strip_bom(f.read())
    except tf.errors.OpError as e:
        raise InputError(f"cannot read the vocabulary ({e.message.strip()})", path=path)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.strip() for line in lines]


class LM1BVocabulary:
    """Word vocabulary of lm_1b: one word per line, ids in line order.

    ``!!!MAXTERMID`` lines are skipped without using an id; ``<S>``, ``</S>`` and ``<UNK>`` are
    ordinary lines, found by their spelling. Unknown words map to the ``<UNK>`` id.

    Args:
        path: the vocabulary file (``vocab-2016-09-10.txt``).
        lines: the file's lines as :func:`read_vocab_lines` gives them, if already in memory
            (``path`` then only names the vocabulary in errors).

    Raises:
        InputError: the file is unreadable or lacks ``<S>``, ``</S>`` or ``<UNK>``.
    """

    def __init__(self, path: Union[str, os.PathLike], lines: Optional[Sequence[bytes]] = None):
        self.path = os.fspath(path)
        if lines is None:
            lines = read_vocab_lines(self.path)
        lines = [line for line in lines if line != MAX_TERM_ID.encode()]
        self._used_bytes = np.zeros(256, bool)
        self._used_bytes[np.frombuffer(b"".join(lines), np.uint8)] = True
        self._id_to_word: List[str] = [to_text(line) for line in lines]
        # A repeated word keeps its last id, as in data_utils.
        self._word_to_id: Dict[str, int] = {w: i for i, w in enumerate(self._id_to_word)}
        missing = [w for w in (BOS_WORD, EOS_WORD, UNK_WORD) if w not in self._word_to_id]
        if missing:
            raise InputError(f"the vocabulary has no line {' or '.join(missing)}", path=self.path)
        self.bos, self.eos, self.unk = (self._word_to_id[w] for w in (BOS_WORD, EOS_WORD, UNK_WORD))

    @property
    def size(self) -> int:
        """Number of word ids (lines other than ``!!!MAXTERMID``; 793,471 in the release)."""
        return len(self._id_to_word)

    def word_to_id(self, word: Word) -> int:
        """The id of ``word`` (str, or bytes via :func:`to_text`); the ``<UNK>`` id if absent."""
        return self._word_to_id.get(to_text(word), self.unk)

    def id_to_word(self, word_id: int) -> str:
        """The word of ``word_id``; ``ERROR`` past the end, as data_utils does."""
        return self._id_to_word[word_id] if 0 <= word_id < self.size else "ERROR"

    def encode(self, words: Sequence[Word]) -> np.ndarray:
        """``[bos] + ids + [eos]`` as int32 (data_utils.Vocabulary.encode on a split sentence)."""
        return np.array([self.bos] + [self.word_to_id(w) for w in words] + [self.eos], np.int32)


class LM1BCharVocabulary(LM1BVocabulary):
    """Word vocabulary plus lm_1b's byte encoding of words into fixed-length char-id rows.

    The five special chars are the smallest byte values that occur in no vocabulary word, in
    ascending order: begin-sentence, end-sentence, begin-word, end-word, padding. A word is
    encoded as ``[bow, its first max_word_length - 2 UTF-8 bytes, eow, pad, ...]``.

    Args:
        path: the vocabulary file.
        max_word_length: length of each encoded row (50 in the release).
        lines: the file's lines, if already in memory (see :class:`LM1BVocabulary`).

    Raises:
        InputError: fewer than five byte values are free.
    """

    def __init__(self, path: Union[str, os.PathLike], max_word_length: int = MAX_WORD_LENGTH,
                 lines: Optional[Sequence[bytes]] = None):
        super().__init__(path, lines)
        if max_word_length < 2:
            raise ValueError(f"max_word_length must be at least 2, got {max_word_length}")
        self.max_word_length = max_word_length
        free = np.flatnonzero(~self._used_bytes)
        if len(free) < NUM_SPECIAL_CHARS:
            raise InputError(f"only {len(free)} byte values occur in no vocabulary word; lm_1b "
                             f"needs {NUM_SPECIAL_CHARS} for its special chars", path=self.path)
        self.bos_char, self.eos_char, self.bow_char, self.eow_char, self.pad_char = (
            int(b) for b in free[:NUM_SPECIAL_CHARS])
        self.bos_chars = self._encode_bytes(bytes([self.bos_char]))
        self.eos_chars = self._encode_bytes(bytes([self.eos_char]))

    @classmethod
    def from_words(cls, words: Sequence[Word], max_word_length: int = MAX_WORD_LENGTH,
                   name: str = "<in memory>") -> "LM1BCharVocabulary":
        """The char vocabulary a file of ``words`` (one per line, in id order) would give."""
        return cls(name, max_word_length, [to_bytes(w).strip() for w in words])

    def _encode_bytes(self, word: bytes) -> np.ndarray:
        ids = np.full(self.max_word_length, self.pad_char, np.int32)
        body = np.frombuffer(word[:self.max_word_length - 2], np.uint8)
        ids[0], ids[1:len(body) + 1], ids[len(body) + 1] = self.bow_char, body, self.eow_char
        return ids

    def encode_word(self, word: Word) -> np.ndarray:
        """``[max_word_length]`` int32 char ids of one word (known or not: the spelling is used)."""
        return self._encode_bytes(to_bytes(word))

    def encode_words_in_graph(self, words: tf.Tensor) -> tf.Tensor:
        """:meth:`encode_word` as TF ops: ``words`` (``tf.string``, any shape) ->
        ``[..., max_word_length]`` int32 (used for embedding and inside exported models)."""
        width = self.max_word_length - 2
        body = tf.strings.substr(words + b"\0" * width, 0, width, unit="BYTE")  # every row `width` bytes
        raw = tf.cast(tf.io.decode_raw(body, tf.uint8), tf.int32)
        edge = tf.zeros_like(raw[..., :1])
        shifted = tf.concat([edge, raw, edge], axis=-1)  # position p holds byte p - 1
        n = tf.minimum(tf.strings.length(words, unit="BYTE"), width)[..., None]
        position = tf.range(self.max_word_length)
        return tf.where(position == 0, self.bow_char,
                        tf.where(position <= n, shifted,
                                 tf.where(position == n + 1, self.eow_char, self.pad_char)))

    def encode_words(self, words: Sequence[Word]) -> np.ndarray:
        """``[len(words), max_word_length]`` int32 char ids."""
        out = np.empty((len(words), self.max_word_length), np.int32)
        for i, word in enumerate(words):
            out[i] = self.encode_word(word)
        return out

    def encode_chars(self, words: Sequence[Word]) -> np.ndarray:
        """Eval-mode encoding (data_utils.encode_chars): ``[bos_chars] + words + [eos_chars]``."""
        return np.concatenate([self.bos_chars[None], self.encode_words(words), self.eos_chars[None]])
