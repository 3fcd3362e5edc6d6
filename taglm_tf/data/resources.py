"""Vocabularies and initial word vectors for a task, built from its splits."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from taglm_tf.data import embeddings
from taglm_tf.data.conll import Sentence
from taglm_tf.data.featurizer import Featurizer, normalize_word_list
from taglm_tf.data.vocab import Vocabulary, build_vocabulary, count_items
from taglm_tf.utils.errors import InputError


@dataclasses.dataclass
class Resources:
    """Everything that maps text to ids for one trained model."""

    words: Vocabulary
    chars: Vocabulary
    tags: Vocabulary  # training scheme (IOBES)
    word_vectors: np.ndarray | None = None
    pretrained_found: int = 0

    def featurizer(self) -> Featurizer:
        """A :class:`Featurizer` for the word and char vocabularies."""
        return Featurizer(self.words.items, self.chars.items)

    def vocabularies(self) -> dict[str, Vocabulary]:
        """The word, char and tag vocabularies by name, as ``vocab.json`` stores them."""
        return {"words": self.words, "chars": self.chars, "tags": self.tags}


def build_resources(
    train: Sequence[Sentence],
    other: Sequence[Sentence] = (),
    embeddings_path: str | None = None,
    word_dim: int = 50,
    seed: int = 0,
) -> Resources:
    """Word vocabulary: normalised training words, plus words of ``other`` splits that have a
    pre-trained vector (their vectors are then usable at test time; they get no gradient from
    labels they never appear in). Chars and tags come from training data only.
    """
    train_words = normalize_word_list([t for s in train for t in s.tokens])
    other_words = normalize_word_list([t for s in other for t in s.tokens])
    table = {}
    if embeddings_path:
        table = embeddings.load_embeddings(embeddings_path, wanted=set(train_words) | set(other_words))
        dims = {v.shape[0] for v in table.values()}
        if dims and dims != {word_dim}:
            raise InputError(f"has {dims.pop()}-d vectors, but --word_dim is {word_dim}", embeddings_path)
    words = build_vocabulary(count_items([train_words]), extra=[w for w in other_words if w in table])
    chars = build_vocabulary(count_items(t for s in train for t in s.tokens))
    tags = Vocabulary(sorted({t for s in train for t in s.tags}), with_unk=False)
    vectors, found = (None, 0)
    if embeddings_path:
        vectors, found = embeddings.embedding_matrix(words.items, table, word_dim, seed)
    return Resources(words, chars, tags, vectors, found)
