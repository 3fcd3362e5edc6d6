"""Token strings -> model inputs, in TensorFlow ops so training and serving share one path.

The same :class:`Featurizer` runs inside the ``tf.data`` pipeline and inside the exported
SavedModel, so a served model sees exactly the ids it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

MAX_WORD_LEN = 50


def normalize_words(tokens: tf.Tensor) -> tf.Tensor:
    """Embedding lookup key (paper §3): lowercase, and every digit 0-9 becomes 0."""
    return tf.strings.regex_replace(tf.strings.lower(tokens, encoding="utf-8"), "[0-9]", "0")


def normalize_word_list(words: Sequence[str]) -> list[str]:
    """:func:`normalize_words` on a Python list (used to build vocabularies)."""
    if not words:
        return []
    out = normalize_words(tf.constant(list(words))).numpy()
    return [w.decode("utf-8") for w in out]


class Featurizer(tf.Module):
    """Maps a ``[B, T]`` string tensor of tokens (``""`` = padding) to id tensors.

    Returns ``word_ids`` ``[B, T]`` (0 = padding, 1 = unknown), ``char_ids`` ``[U, L]`` for the
    U distinct surface forms in the batch, and ``char_index`` ``[B, T]`` pointing each token at
    its row of ``char_ids``: the char encoder then runs once per word type, not per token.

    Args:
        words: word vocabulary items in id order, including ``<pad>`` and ``<unk>``.
        chars: char vocabulary items in id order, including ``<pad>`` and ``<unk>``.
        max_word_len: characters kept per token.
    """

    def __init__(self, words: Sequence[str], chars: Sequence[str], max_word_len: int = MAX_WORD_LEN):
        super().__init__()
        self.max_word_len = max_word_len
        self.word_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(words[2:]), tf.string), tf.range(2, len(words), dtype=tf.int64)
            ),
            default_value=1,
        )
        codepoints = np.array([ord(c) for c in chars[2:]], dtype=np.int64)
        self.char_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(codepoints), tf.range(2, len(chars), dtype=tf.int64)
            ),
            default_value=1,
        )

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string)], autograph=False)
    def __call__(self, tokens: tf.Tensor) -> dict[str, tf.Tensor]:
        present = tf.not_equal(tokens, "")
        word_ids = tf.where(present, self.word_table.lookup(normalize_words(tokens)), 0)
        forms, index = tf.unique(tf.reshape(tokens, [-1]))
        codes = tf.strings.unicode_decode(forms, "UTF-8", errors="replace")[:, : self.max_word_len]
        codes = tf.cast(codes, tf.int64)
        char_ids = tf.ragged.map_flat_values(self.char_table.lookup, codes).to_tensor(0)
        return {
            "word_ids": tf.cast(word_ids, tf.int32),
            "char_ids": tf.cast(char_ids, tf.int32),
            "char_index": tf.reshape(index, tf.shape(tokens)),
        }
