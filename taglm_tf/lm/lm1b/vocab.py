"""lm_1b's vocabulary file and its byte-level char encoding (data_utils.Vocabulary/CharsVocabulary).

The release code is Python 2, so a "character" is a byte: words are handled as UTF-8 bytes and
the vocabulary file is read as bytes (docs/lm_1b.md §3, §9). Its words become an
:class:`~taglm_tf.lm.vocab.LMVocabulary`; :class:`LM1BCharEncoder` turns words into the char ids
the model reads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.lm.vocab import MAX_TERM_ID, MAX_WORD_LENGTH, LMVocabulary, Word, to_bytes, to_text
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

NUM_SPECIAL_CHARS = 5


def read_vocab_lines(path: str) -> list[bytes]:
    """The lines of ``path`` as bytes, split and stripped as every text input of the project
    (:mod:`taglm_tf.utils.textio`): a leading UTF-8 byte-order mark dropped, lines ending at LF, CRLF or
    CR, outer ASCII spaces and tabs removed (a form feed or vertical tab is part of the word).
    The bytes are not decoded, as the Python 2 release code keeps them."""
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = f.read()
    except tf.errors.OpError as e:
        raise InputError(f"cannot read the vocabulary ({e.message.strip()})", path=path) from None
    return [textio.strip_field_separators(line) for line in textio.raw_lines(io.BytesIO(data))]


def read_vocab(path: str | os.PathLike) -> LMVocabulary:
    """lm_1b's vocabulary file (``vocab-2016-09-10.txt``, or one written in the release layout)
    as data_utils reads it: one word per line, ids in line order, ``!!!MAXTERMID`` lines skipped
    without using an id; ``<S>``, ``</S>`` and ``<UNK>`` are ordinary lines, found by their
    spelling; a repeated word keeps its last id. Bytes that are not UTF-8 are kept
    (:func:`~taglm_tf.lm.vocab.to_text`), so the char encoding sees the file's bytes.

    Raises:
        InputError: the file is unreadable or lacks ``<S>``, ``</S>`` or ``<UNK>``.
    """
    path = os.fspath(path)
    words = [to_text(line) for line in read_vocab_lines(path) if line != MAX_TERM_ID.encode()]
    return LMVocabulary(words, path=path)


class LM1BCharEncoder:
    """lm_1b's byte encoding of words into fixed-length char-id rows, derived from a vocabulary.

    The five special chars are the smallest byte values that occur in no vocabulary word, in
    ascending order: begin-sentence, end-sentence, begin-word, end-word, padding. A word is
    encoded as ``[bow, its first max_word_length - 2 UTF-8 bytes, eow, pad, ...]``; any word can
    be encoded, in the vocabulary or not.

    Args:
        words: the vocabulary's words (str or bytes), as :func:`read_vocab` gives them or as a
            vocabulary file would hold them (each is stripped of outer ASCII spaces and tabs
            and ``!!!MAXTERMID`` is left out, as reading the file would).
        max_word_length: length of each encoded row (50 in the release).
        path: the vocabulary file, for error messages.

    Raises:
        InputError: fewer than five byte values are free.
        ValueError: ``max_word_length`` below 2.
    """

    def __init__(
        self,
        words: Sequence[Word],
        max_word_length: int = MAX_WORD_LENGTH,
        path: str | os.PathLike | None = None,
    ):
        self.path = os.fspath(path) if path is not None else "<in memory>"
        if max_word_length < 2:
            raise ValueError(f"max_word_length must be at least 2, got {max_word_length}")
        self.max_word_length = max_word_length
        lines = [
            line
            for line in (textio.strip_field_separators(to_bytes(w)) for w in words)
            if line != MAX_TERM_ID.encode()
        ]
        used = np.zeros(256, bool)
        used[np.frombuffer(b"".join(lines), np.uint8)] = True
        free = np.flatnonzero(~used)
        if len(free) < NUM_SPECIAL_CHARS:
            raise InputError(
                f"only {len(free)} byte values occur in no vocabulary word; lm_1b "
                f"needs {NUM_SPECIAL_CHARS} for its special chars",
                path=self.path,
            )
        self.bos_char, self.eos_char, self.bow_char, self.eow_char, self.pad_char = (
            int(b) for b in free[:NUM_SPECIAL_CHARS]
        )
        self.bos_chars = self._encode_bytes(bytes([self.bos_char]))
        self.eos_chars = self._encode_bytes(bytes([self.eos_char]))

    def _encode_bytes(self, word: bytes) -> np.ndarray:
        ids = np.full(self.max_word_length, self.pad_char, np.int32)
        body = np.frombuffer(word[: self.max_word_length - 2], np.uint8)
        ids[0], ids[1 : len(body) + 1], ids[len(body) + 1] = self.bow_char, body, self.eow_char
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
        return tf.where(
            position == 0,
            self.bow_char,
            tf.where(position <= n, shifted, tf.where(position == n + 1, self.eow_char, self.pad_char)),
        )

    def encode_words(self, words: Sequence[Word]) -> np.ndarray:
        """``[len(words), max_word_length]`` int32 char ids."""
        out = np.empty((len(words), self.max_word_length), np.int32)
        for i, word in enumerate(words):
            out[i] = self.encode_word(word)
        return out

    def encode_chars(self, words: Sequence[Word]) -> np.ndarray:
        """Eval-mode encoding (data_utils.encode_chars): ``[bos_chars] + words + [eos_chars]``."""
        return np.concatenate([self.bos_chars[None], self.encode_words(words), self.eos_chars[None]])
