"""The served function traces without AutoGraph, so its code and every layer it reaches may
branch on Python values only. For each tagger variant that the other serving tests do not
trace (char CNN, LSTM cells, a smaller layer 2, the LM embeddings at RNN-1's input or RNN-2's
output, no task RNN, a CNN-LSTM LM), the traced ``serve`` gives the tags its Python function
gives when run eagerly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import tiny_model
from taglm_tf.data.resources import build_resources
from taglm_tf.lm.frozen.lstm_embedder import PretrainedLMEmbedder
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel
from taglm_tf.lm.pretraining.lstm_lm import LSTMLanguageModel
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.models.saving import LoadedTagger
from taglm_tf.models.tagger import build_tagger
from taglm_tf.serving.module import TaggerModule, padded_batches

SENTENCES = [
    "John Smith lives in New York .".split(),
    ["Zu\u0308rich", "Peter", "x" * 40, "naïve", "東京"],
    "EU rejects German call to boycott unseen lamb Thursday .".split(),
    ["BRUSSELS"],
]
LM_WORDS = ["<S>", "</S>", "<UNK>", "John", "Smith", "lives", "in", "New", "York", ".", "EU", "Zürich"]


def _lm(kind: str, direction: str, seed: int) -> PretrainedLMEmbedder:
    tf.keras.utils.set_random_seed(seed)
    vocab = LMVocabulary(LM_WORDS)
    sizes = dict(num_cells=8, projection_dim=5, num_layers=2, num_sampled=4, reset_id=vocab.bos)
    if kind == "word":
        model = LSTMLanguageModel(len(LM_WORDS), embedding_dim=6, cell_clip=3.0, **sizes)
    else:
        model = CNNLSTMLanguageModel(
            len(LM_WORDS), char_dim=4, conv_widths=(1, 2, 3), conv_filters=(3, 4, 5), num_highway=2, **sizes
        )
    model.build()
    return PretrainedLMEmbedder(model, vocab, direction, f"{kind}-{direction}")


VARIANTS = {
    "char_cnn_lstm_smaller_rnn2": (dict(char_encoder="cnn", rnn_cell="lstm", rnn2_units=5), None),
    "rnn1_input_cnn_lstm_lms": (dict(insertion_point="rnn1_input", char_encoder="cnn"), "cnn_lstm"),
    "rnn2_output": (dict(insertion_point="rnn2_output", rnn_cell="lstm"), "word"),
    "no_task_rnn": (dict(task_rnn=False), "word"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_traced_serve_tags_as_its_eager_function(variant):
    settings, lm_kind = VARIANTS[variant]
    lms = (_lm(lm_kind, "forward", 1), _lm(lm_kind, "backward", 2)) if lm_kind else ()
    config = dataclasses.replace(tiny_model.CONFIG, extra_dim=sum(lm.dim for lm in lms), **settings)
    resources = build_resources(tiny_model.train_sentences(), word_dim=config.word_dim, seed=0)
    tf.keras.utils.set_random_seed(7)
    model = build_tagger(config, len(resources.words), len(resources.chars), len(resources.tags))
    tiny_model.sharpen(model)
    module = TaggerModule(LoadedTagger(model, resources, {}), "iobes", lms)
    _, tokens = next(padded_batches(SENTENCES, len(SENTENCES)))

    traced = module.serve(tokens=tokens)
    eager = module.serve.python_function(tokens)
    assert len(set(traced["tag_ids"].numpy().ravel())) > 2  # not a constant tagging
    for key in ("tag_ids", "tags"):
        np.testing.assert_array_equal(traced[key].numpy(), eager[key].numpy())
