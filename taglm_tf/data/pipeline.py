"""The ``tf.data`` input: length-bucketed, padded batches with masks, reproducible per epoch.

Batches are formed in Python from sentence indices (shuffle, sort inside windows of
``bucket_window`` batches, shuffle the batches), so an epoch's order depends only on the seed
and the epoch number; that makes ``--resume`` replay exactly the data a killed run would
have seen. Featurization then runs in TF ops (:class:`Featurizer`).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.data.conll import Sentence
from taglm_tf.data.featurizer import Featurizer
from taglm_tf.data.vocab import Vocabulary
from taglm_tf.utils.errors import InputError

# An optional source of extra per-token features: (sentence indices) -> [B, T, F] float32.
FeatureSource = Callable[[np.ndarray, int], np.ndarray]

# TF 2.15's Dataset.from_generator, run eagerly, keeps the generator's py_func for the life of
# the process (it is attached to the global root graph; fixed upstream in tensorflow#123530), so
# whatever the generator closes over is never freed: every tagged chunk's sentences stayed in
# memory. The generator below is one module-level function that finds its batches here, by key,
# through a weak reference; the dataset object holds the only strong one.
_BATCH_SOURCES: weakref.WeakValueDictionary[int, _BatchSource] = weakref.WeakValueDictionary()
_NEXT_KEY = itertools.count()


class _BatchSource:
    def __init__(self, data: TaggingData, batches: list[np.ndarray]):
        self.data, self.batches = data, batches


def _generate_batches(key) -> Iterator[dict[str, np.ndarray]]:
    source = _BATCH_SOURCES[int(key)]
    for batch in source.batches:
        yield source.data._padded(batch)


def batch_order(
    lengths: Sequence[int],
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    epoch: int = 0,
    bucket_window: int = 20,
) -> list[np.ndarray]:
    """Sentence indices per batch. Without shuffling: sorted by length (fastest inference)."""
    lengths = np.asarray(lengths)
    if not shuffle:
        order = np.argsort(-lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    window = batch_size * bucket_window
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def encode_tags(sentences: Sequence[Sentence], tags: Vocabulary, source: str = "") -> list[np.ndarray]:
    """Tag ids per sentence; an unseen tag is an error naming the sentence's line."""
    encoded = []
    for s in sentences:
        try:
            encoded.append(np.array([tags.id(t) for t in s.tags], dtype=np.int32))
        except KeyError as e:
            raise InputError(
                f"tag {e.args[0]!r} does not occur in the training data", source or None, s.line
            ) from None
    return encoded


class TaggingData:
    """Sentences of one split with their encoded tags, ready to batch.

    Args:
        sentences: the split, tags already in the training scheme.
        featurizer: token strings -> ids.
        tag_vocab: tag vocabulary, or ``None`` for unlabeled text.
        features: optional extra per-token features (e.g. cached LM embeddings).
        source: file name used in error messages.
    """

    def __init__(
        self,
        sentences: Sequence[Sentence],
        featurizer: Featurizer,
        tag_vocab: Vocabulary | None = None,
        features: FeatureSource | None = None,
        source: str = "",
    ):
        self.sentences = list(sentences)
        self.featurizer = featurizer
        self.tag_ids = encode_tags(self.sentences, tag_vocab, source) if tag_vocab else None
        self.features = features
        self.lengths = np.array([len(s) for s in self.sentences])

    @property
    def num_tokens(self) -> int:
        """Tokens in all sentences."""
        return int(self.lengths.sum())

    def num_batches(self, batch_size: int, shuffle: bool = False) -> int:
        """How many batches :meth:`dataset` yields with these settings (the same for every seed
        and epoch: shuffling only reorders the length-sorted windows' batches)."""
        return len(batch_order(self.lengths, batch_size, shuffle))

    def _padded(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        width = int(self.lengths[batch].max())
        tokens = np.full((len(batch), width), b"", dtype=object)
        tags = np.zeros((len(batch), width), dtype=np.int32)
        for row, i in enumerate(batch):
            n = self.lengths[i]
            tokens[row, :n] = [t.encode("utf-8") for t in self.sentences[i].tokens]
            if self.tag_ids is not None:
                tags[row, :n] = self.tag_ids[i]
        out = {"tokens": tokens, "tags": tags, "index": batch.astype(np.int64)}
        if self.features is not None:
            out["features"] = self.features(batch, width)
        return out

    def dataset(
        self, batch_size: int, shuffle: bool = False, seed: int = 0, epoch: int = 0
    ) -> tf.data.Dataset:
        """Batches of ``{word_ids, char_ids, char_index, tags, index[, features]}``."""
        batches = batch_order(self.lengths, batch_size, shuffle, seed, epoch)
        signature = {
            "tokens": tf.TensorSpec([None, None], tf.string),
            "tags": tf.TensorSpec([None, None], tf.int32),
            "index": tf.TensorSpec([None], tf.int64),
        }
        if self.features is not None:
            signature["features"] = tf.TensorSpec([None, None, None], tf.float32)

        def featurize(batch):
            batch = dict(batch)
            batch.update(self.featurizer(batch.pop("tokens")))
            return batch

        source, key = _BatchSource(self, batches), next(_NEXT_KEY)
        _BATCH_SOURCES[key] = source
        ds = tf.data.Dataset.from_generator(_generate_batches, args=(key,), output_signature=signature)
        ds = ds.map(featurize, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
        ds._taglm_batch_source = source  # keeps the batches alive exactly as long as the dataset
        return ds
