"""Prediction and scoring of a tagger on a split (the task's scorer: conlleval or accuracy)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import tensorflow as tf

from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.vocab import Vocabulary
from taglm_tf.tasks import Labels, Scores, Task
from taglm_tf.utils.tracing import EagerThenTraced

MODEL_INPUTS = ("word_ids", "char_ids", "char_index", "features")


def model_inputs(batch: dict) -> dict:
    """The entries of ``batch`` the tagger takes (those of :data:`MODEL_INPUTS` present)."""
    return {k: batch[k] for k in MODEL_INPUTS if k in batch}


class Predictor:
    """Runs a tagger's Viterbi output over :class:`TaggingData` and returns tag strings.

    Args:
        model: a model built by :func:`taglm_tf.models.tagger.build_tagger`.
        tag_vocab: the training tag vocabulary (training scheme, e.g. IOBES).
        batch_size: sentences per inference batch.
    """

    def __init__(self, model: tf.keras.Model, tag_vocab: Vocabulary, batch_size: int = 128):
        self.model, self.tag_vocab, self.batch_size = model, tag_vocab, batch_size
        self._decode_fn: EagerThenTraced | None = None

    def decode(self, batch: dict) -> tf.Tensor:
        """Viterbi tags ``[B, T]`` of one batch from :meth:`TaggingData.dataset`.

        The first batch is decoded eagerly, later ones through one trace with unknown batch and
        time dimensions (:class:`taglm_tf.utils.tracing.EagerThenTraced`)."""
        inputs = model_inputs(batch)
        if self._decode_fn is None:
            spec = {k: tf.TensorSpec([None] * v.shape.rank, v.dtype) for k, v in inputs.items()}
            self._decode_fn = EagerThenTraced(lambda x: self.model(x, training=False)["tags"], [spec])
        return self._decode_fn(inputs)

    def predict(self, data: TaggingData, scheme: str | None) -> list[list[str]]:
        """Predicted tags for every sentence, converted to ``scheme`` (chunks; see
        :func:`taglm_tf.data.tag_schemes.convert`), or as decoded for ``None`` (token labels)."""
        out: list[list[str] | None] = [None] * len(data.sentences)
        items = self.tag_vocab.items
        for batch in data.dataset(self.batch_size, shuffle=False):
            tags = self.decode(batch).numpy()
            for row, index in enumerate(batch["index"].numpy()):
                n = data.lengths[index]
                # id 0 is padding and never gold; if decoded it reads as O.
                out[index] = [items[t] if t else "O" for t in tags[row, :n]]
        return [tag_schemes.convert(tags, scheme) if scheme else tags for tags in out]


@dataclasses.dataclass
class Evaluation:
    """A tagger's scores on one split.

    Attributes:
        scores: the task's scores (percentages): chunk F1, precision and recall, or accuracy.
        predictions: the scorer's input, ``token [columns...] gold predicted`` lines (the
            conlleval layout).
        tokens_per_sec: tokens tagged per second of wall time of :meth:`Predictor.predict`.
    """

    scores: Scores
    predictions: str  # as written to disk
    tokens_per_sec: float

    @property
    def score(self) -> float:
        """The task's metric (chunk F1 or accuracy), in percent (0-100)."""
        return self.scores.value


def evaluate(
    predictor: Predictor, data: TaggingData, gold: Sequence[conll.Sentence], scorer: Task | Labels
) -> Evaluation:
    """Tag ``data`` and score it against the original ``gold`` sentences (in the files' own
    scheme) with ``scorer``: a task (:meth:`taglm_tf.tasks.Task.score`), or its labels alone
    (conlleval or accuracy over the tags)."""
    start = time.perf_counter()
    predicted = predictor.predict(data, scorer.scheme)
    elapsed = time.perf_counter() - start
    text = conll.format_predictions(gold, predicted)
    return Evaluation(scorer.score(gold, predicted), text, data.num_tokens / max(elapsed, 1e-9))
