"""Frozen LMs behind one interface: token lists in, one vector per token out.

A :class:`SentenceEmbedder` has ``name``, ``dim``, ``fingerprint`` (identifies the weights, for
caches) and ``embed_sentences(token_lists, batch_size)`` returning one ``[n_i, dim]`` float32
array per sentence, each sentence embedded from a zero state. :func:`load_embedder` builds one
from a spec:

- ``lm1b:CKPT_GLOB,VOCAB_FILE`` — the released lm_1b (or a synthetic one), top LSTM layer;
- ``lm1b_export:DIR`` — the same, from ``python -m lm_1b_export.export`` output;
- ``lstm_lm:MODEL_DIR`` — an LM trained with ``experiments.pretrain_lm`` (forward or backward;
  backward outputs come back in the sentence's own token order).

Relative paths are tried as given, then under the data directory (:func:`resolve_lm_spec`).
"""
from __future__ import annotations

from typing import List, Protocol, Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.errors import InputError


class SentenceEmbedder(Protocol):
    name: str
    dim: int
    fingerprint: str

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> List[np.ndarray]:
        ...


class LM1BTopLayer:
    """The lm_1b output used by TagLM: the top LSTM layer (``lstm/lstm_1/control_dependency``).

    Args:
        embedder: a loaded :class:`~taglm_tf.lm.lm1b_model.LM1BEmbedder`.
        fingerprint: identifies its weights.
        name: a label for reports.
    """

    def __init__(self, embedder, fingerprint: str, name: str = "lm1b"):
        self.embedder, self.fingerprint, self.name = embedder, fingerprint, name
        self.dim = embedder.projection_dim

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> List[np.ndarray]:
        return [layers[-1] for layers in self.embedder.embed_sentences(sentences, batch_size)]

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph: right-padded ``tokens`` ``[B, T]`` (``""`` = padding) -> ``[B, T, P]``, zeros
        at padding; the same char ids, ``<S>`` rule and layers as :meth:`embed_sentences`."""
        from taglm_tf.lm.lm1b_model import token_char_ids, token_steps
        char_ids, lengths = token_char_ids(self.embedder.char_vocab, tokens)
        mask = tf.sequence_mask(lengths, tf.shape(char_ids)[1])
        top = token_steps(self.embedder.top_layer(char_ids, mask=mask), tokens)
        return top * tf.cast(tf.not_equal(tokens, ""), top.dtype)[:, :, None]

    @property
    def trackables(self) -> list:
        """What a SavedModel must hold to run :meth:`embed_tokens`."""
        return list(self.embedder.weights)


def load_embedder(spec: str) -> SentenceEmbedder:
    """Build an embedder from ``KIND:ARGS`` (see the module docstring)."""
    kind, _, args = spec.partition(":")
    if kind == "lm1b":
        from taglm_tf.lm.lm1b_checkpoint import checkpoint_fingerprint
        from taglm_tf.lm.lm1b_model import LM1BEmbedder
        pattern, _, vocab = args.partition(",")
        if not vocab:
            raise InputError(f"LM spec {spec!r}: expected lm1b:CKPT_GLOB,VOCAB_FILE")
        return LM1BTopLayer(LM1BEmbedder.from_checkpoint(pattern, vocab),
                            checkpoint_fingerprint(pattern), name=spec)
    if kind == "lm1b_export":
        from taglm_tf.lm.lm1b_saving import load_lm1b
        embedder = load_lm1b(args)
        return LM1BTopLayer(embedder, embedder.source_fingerprint, name=spec)
    if kind == "lstm_lm":
        from taglm_tf.lm.lm_embedder import LMEmbedder
        embedder = LMEmbedder.from_model_dir(args)
        embedder.name = spec
        return embedder
    raise InputError(f"unknown LM kind {kind!r} in {spec!r}; expected lm1b, lm1b_export or lstm_lm")


def resolve_lm_spec(spec: str, data_dir: str) -> str:
    """``spec`` with each relative path replaced by its location under ``data_dir`` when only
    that one exists."""
    from taglm_tf.tasks import resolve_data_path
    kind, sep, args = spec.partition(":")
    if not sep:
        return spec
    return kind + ":" + ",".join(resolve_data_path(p, data_dir) for p in args.split(","))
