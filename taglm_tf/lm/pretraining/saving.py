"""A pretraining run's directory on disk, and loading the trained LM from it.

``model_dir`` layout: ``config.json`` (the run's :class:`~taglm_tf.lm.pretraining.config.PretrainConfig`,
the model's arguments, the vocabulary size, and the commit and platform of each start), ``vocab.txt`` (+
``vocab.txt.counts``), ``checkpoints/ckpt-<step>``, ``tensorboard/``, ``train_result.json``
(written when the run ends) and ``perplexity.json`` (written by ``experiments.eval_lm --record``).
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from taglm_tf import run_dir
from taglm_tf.lm.fingerprints import hash_tensors
from taglm_tf.lm.lm1b.checkpoint import HighwayWeights, LM1BDims, LM1BWeights, LSTMPWeights
from taglm_tf.lm.lm1b.writing import PERPLEXITY_FILE, write_release
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel
from taglm_tf.lm.pretraining.config import model_config_from_dict
from taglm_tf.lm.pretraining.lm_kinds import build_lm
from taglm_tf.lm.pretraining.lstm_lm import LSTMPStackLM
from taglm_tf.lm.vocab import MAX_WORD_LENGTH, LMVocabulary
from taglm_tf.utils.errors import InputError

VOCAB_FILE = "vocab.txt"


def recorded_perplexity(model_dir: str) -> float | None:
    """The held-out perplexity ``eval_lm --record`` stored for the LM's latest checkpoint, if any."""
    latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    record = perplexity_record(model_dir, latest) if latest else None
    return float(record["perplexity"]) if record else None


def perplexity_record(model_dir: str, checkpoint: str, record_file: str | None = None) -> dict | None:
    """The ``eval_lm`` record of ``checkpoint``: ``record_file`` (an ``eval_lm --output`` file,
    which must name that checkpoint) or else ``MODEL_DIR/perplexity.json`` if it names it.

    Raises:
        InputError: ``record_file`` describes another checkpoint."""
    path = record_file or os.path.join(model_dir, PERPLEXITY_FILE)
    if not os.path.isfile(path):
        if record_file:
            raise InputError("no such file", record_file)
        return None
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    if os.path.basename(record.get("checkpoint", "")) == os.path.basename(checkpoint):
        return record
    if record_file:
        raise InputError(
            f"describes {record.get('checkpoint')!r}, not the exported {checkpoint!r}", record_file
        )
    return None


def release_perplexity(checkpoint_glob: str) -> float | None:
    """The perplexity ``lm_1b_export.from_pretrained`` stored beside a release-layout LM it wrote
    (``perplexity.json`` in the directory of ``checkpoint_glob``), if any."""
    path = os.path.join(os.path.dirname(checkpoint_glob), PERPLEXITY_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return float(json.load(f)["perplexity"])


def load_lm(model_dir: str, checkpoint: str | None = None) -> tuple[LSTMPStackLM, LMVocabulary, dict, str]:
    """A trained LM from ``model_dir``: ``(model, vocab, config dict, checkpoint path)``.

    Args:
        model_dir: a :func:`pretrain` output directory.
        checkpoint: a checkpoint prefix; default the latest in ``model_dir/checkpoints``.
    """
    path = os.path.join(model_dir, run_dir.CONFIG)
    if not os.path.exists(path):
        raise InputError("not an LM directory (no config.json)", model_dir)
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    model_config_from_dict(config.get("model", {}), path)  # refuses a run it cannot rebuild
    vocab = LMVocabulary.load(os.path.join(model_dir, VOCAB_FILE))
    checkpoint = checkpoint or tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    if not checkpoint:
        raise InputError("has no checkpoint yet", os.path.join(model_dir, "checkpoints"))
    model = model_from_record(config, vocab.size)
    model.build()
    model.trainable = False
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial().assert_existing_objects_matched()
    return model, vocab, config, checkpoint


def run_fingerprint(checkpoint: str, config: dict, vocab: LMVocabulary) -> str:
    """The fingerprint of a trained LM, which the tagger's runs and LM caches record: the sha256
    hex digest of what determines its vectors: the direction, words' normalization and model
    config of the run's ``config.json`` dict, the
    vocabulary, and the model variables of ``checkpoint`` (names and shapes, plus the values of
    those with at most :data:`~taglm_tf.lm.fingerprints.FINGERPRINT_MAX_ELEMENTS` elements: biases,
    peepholes, small matrices)."""
    digest = hashlib.sha256(b"taglm_tf lstm lm fingerprint v1\n")
    reading = {"direction": config["direction"], "model": config["model_args"]}
    if config.get("normalize_words"):  # absent, the digest of every LM trained before the option
        reading["normalize_words"] = True
    digest.update(json.dumps(reading, sort_keys=True).encode("utf-8"))
    digest.update("\n".join(vocab.words).encode("utf-8"))
    reader = tf.train.load_checkpoint(checkpoint)
    hash_tensors(
        digest,
        [
            (name, shape)
            for name, shape in sorted(tf.train.list_variables(checkpoint))
            if name.startswith("model/") and ".OPTIMIZER_SLOT" not in name
        ],
        lambda name, shape: f"\n{name}\0{shape}",
        lambda name: np.ascontiguousarray(reader.get_tensor(name), "<f4").tobytes(),
    )
    return digest.hexdigest()


def model_from_record(config: dict, vocab_size: int) -> LSTMPStackLM:
    """A new, unbuilt model as a run's ``config.json`` (a dict) describes it: ``model.kind`` and
    ``model_args``."""
    return build_lm(config["model"]["kind"], vocab_size, config["model_args"])


def lm1b_weights(model: CNNLSTMLanguageModel, global_step: int = 0) -> LM1BWeights:
    """A CNN-LSTM's variables as the lm_1b loader's :class:`LM1BWeights` (softmax included).

    Without peepholes the peephole weights are zeros, which computes the same cell.

    Raises:
        InputError: the model computes something the lm_1b graph cannot (cell clipping, a
            forget bias other than 1, words of other than 50 chars).
    """
    if model.cell_clip or model.forget_bias != 1.0 or model.max_word_length != MAX_WORD_LENGTH:
        raise InputError(
            f"lm_1b's graph has no cell clipping, forget bias 1.0 and {MAX_WORD_LENGTH}-char "
            f"words; this LM has cell_clip={model.cell_clip}, forget_bias={model.forget_bias}, "
            f"max_word_length={model.max_word_length}"
        )
    char, value = model.char_embedder, lambda v: v.numpy()
    highway = [HighwayWeights(*(value(v) for v in layer)) for layer in char.highway.layer_weights]
    lstm = []
    for layer in model.lstm_layers:
        peepholes = [
            value(getattr(layer, name)) if layer.use_peepholes else np.zeros(model.num_cells, np.float32)
            for name in ("w_i_diag", "w_f_diag", "w_o_diag")
        ]
        lstm.append(
            LSTMPWeights(
                np.concatenate([value(layer.input_kernel), value(layer.recurrent_kernel)]),
                value(layer.bias),
                *peepholes,
                value(layer.projection),
            )
        )
    dims = LM1BDims(
        char_vocab_size=char.num_chars,
        char_dim=char.char_dim,
        conv_widths=tuple(char.conv_widths),
        conv_filters=tuple(char.conv_filters),
        num_highway=char.num_highway,
        highway_dim=char.highway_dim,
        projection_dim=model.projection_dim,
        num_lstm_layers=model.num_layers,
        lstm_cells=model.num_cells,
        softmax_rows=model.vocab_size,
        num_shards=8,
    )
    return LM1BWeights(
        dims=dims,
        global_step=global_step,
        char_embedding=value(char.char_table),
        conv_kernels=[value(k) for k in char.conv_kernels],
        conv_biases=[value(b) for b in char.conv_biases],
        highway=highway,
        projection_kernel=value(char.projection.kernel),
        projection_bias=value(char.projection.bias),
        lstm=lstm,
        softmax_kernel=value(model.softmax.kernel),
        softmax_bias=value(model.softmax.bias),
    )


def write_lm1b_release(
    model: CNNLSTMLanguageModel,
    vocab: LMVocabulary,
    direction: str,
    output_dir: str,
    global_step: int = 0,
    perplexity: dict | None = None,
) -> dict:
    """Write a trained CNN-LSTM in lm_1b's release layout (:mod:`taglm_tf.lm.lm1b.writing`):
    ``ckpt-*`` shards, ``vocab.txt``, if backward ``direction.json``, and ``perplexity.json``
    holding ``perplexity`` (its :func:`perplexity_record`) if given; then
    ``--forward_lm=lm1b:DIR/ckpt-*,DIR/vocab.txt`` and ``LM1BModel.from_checkpoint`` load it.
    The folder appears whole or not at all, replacing an earlier release there as a whole
    (:func:`~taglm_tf.lm.lm1b.writing.write_release`). Returns {file name: path}."""
    if not isinstance(model, CNNLSTMLanguageModel):
        raise InputError(f"only a cnn_lstm LM has lm_1b's layout, not a {type(model).__name__}")
    return write_release(
        output_dir, lm1b_weights(model, global_step), vocab.words, direction, perplexity=perplexity
    )
