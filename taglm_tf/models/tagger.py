"""The hierarchical BiRNN-CRF tagger of TagLM (paper §2.2), with an optional LM feature input.

Pipeline per token k: ``x_k = [c_k; w_k]`` (char encoder, word embedding) -> BiRNN-1 -> BiRNN-2
-> dense -> CRF. Extra per-token features (the LM embeddings ``h_LM``) can be concatenated at
the input of RNN-1, the output of RNN-1 (paper Eq. 3) or the output of RNN-2 (Table 5).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import CRF, CharBiRNN, CharCNN, PaddingMask, TokenGather
from taglm_tf.layers.recurrent import RNN_LAYERS
from taglm_tf.models.config import TaggerConfig

# Dropout draws from a tf.random.Generator (state in a variable, reseeded per epoch by the
# trainer), not Keras' default legacy stateful ops, so that a resumed run is exact.
RNG = "stateful"


def _bi_rnn(cell: str, units: int, name: str) -> keras.layers.Layer:
    rnn = RNN_LAYERS[cell]
    return keras.layers.Bidirectional(rnn(units, return_sequences=True), name=name)


def _char_encoder(config: TaggerConfig, num_chars: int) -> keras.layers.Layer:
    if config.char_encoder == "cnn":
        return CharCNN(
            num_chars,
            config.char_dim,
            config.char_units,
            config.char_width,
            config.char_dropout,
            name="char_encoder",
        )
    return CharBiRNN(
        num_chars, config.char_dim, config.char_units, "gru", config.char_dropout, name="char_encoder"
    )


# The layers' control flow is Python's or explicit TensorFlow ops (the served module traces them
# with autograph=False), so Keras need not convert their source while it builds the graph: that
# costs about half a second of every process that builds or loads a tagger.
@tf.autograph.experimental.do_not_convert
def build_tagger(
    config: TaggerConfig,
    num_words: int,
    num_chars: int,
    num_tags: int,
    word_vectors: np.ndarray | None = None,
) -> keras.Model:
    """Build the tagger; its outputs are ``{"potentials": [B,T,K], "tags": [B,T]}``.

    Args:
        config: hyper-parameters.
        num_words, num_chars, num_tags: vocabulary sizes (each including padding).
        word_vectors: optional ``[num_words, word_dim]`` initial embeddings (fine-tuned).
    """
    config.validate()
    word_ids = keras.Input((None,), dtype="int32", name="word_ids")
    char_ids = keras.Input((None,), dtype="int32", name="char_ids")
    char_index = keras.Input((None,), dtype="int32", name="char_index")
    inputs = {"word_ids": word_ids, "char_ids": char_ids, "char_index": char_index}
    extra = None
    if config.extra_dim:
        extra = keras.Input((None, config.extra_dim), dtype="float32", name="features")
        inputs["features"] = extra

    mask = PaddingMask(name="mask")(word_ids)
    if not config.task_rnn:
        if extra is None:
            raise ValueError("task_rnn=False needs LM features (the ablation is LM -> dense -> CRF)")
        x = keras.layers.Dropout(config.output_dropout, name="output_dropout", rng_type=RNG)(extra)
        return _crf_head(x, mask, num_tags, inputs)
    # Pretrained vectors are assigned after the build, not given as a Constant initializer: the
    # initializer would put the whole matrix into the model's config (22 MB of JSON in model.keras
    # for GloVe 50d), which Keras re-serialises many times while loading (~35 s of a 46 s load).
    # "zeros" draws no random numbers, so the other layers' initial weights are as before.
    embedding = keras.layers.Embedding(
        num_words,
        config.word_dim,
        name="word_embedding",
        embeddings_initializer="uniform" if word_vectors is None else "zeros",
    )
    words = embedding(word_ids)
    chars = TokenGather(name="char_gather")([_char_encoder(config, num_chars)(char_ids), char_index])

    def with_extra(x, point):
        if extra is None or config.insertion_point != point:
            return x
        return keras.layers.Concatenate(name=f"concat_lm_{point}")([x, extra])

    x = with_extra(keras.layers.Concatenate(name="token_repr")([chars, words]), "rnn1_input")
    x = keras.layers.Dropout(config.rnn_input_dropout, name="rnn1_dropout", rng_type=RNG)(x)
    x = _bi_rnn(config.rnn_cell, config.rnn_units, "rnn1")(x, mask=mask)
    x = with_extra(x, "rnn1_output")
    x = keras.layers.Dropout(config.rnn_input_dropout, name="rnn2_dropout", rng_type=RNG)(x)
    x = _bi_rnn(config.rnn_cell, config.rnn2_units or config.rnn_units, "rnn2")(x, mask=mask)
    x = with_extra(x, "rnn2_output")
    x = keras.layers.Dropout(config.output_dropout, name="output_dropout", rng_type=RNG)(x)
    model = _crf_head(x, mask, num_tags, inputs)
    if word_vectors is not None:
        embedding.embeddings.assign(word_vectors)
    return model


def _crf_head(x, mask, num_tags: int, inputs: dict) -> keras.Model:
    potentials = keras.layers.Dense(num_tags, name="potentials")(x)
    tags = CRF(num_tags, name="crf")(potentials, mask=mask)
    return keras.Model(inputs, {"potentials": potentials, "tags": tags}, name="tagger")
