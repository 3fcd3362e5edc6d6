"""The kinds of frozen LM the tagger reads, and the spec that names one: ``KIND:PATH[,PATH]``.

- ``lm1b:CKPT_GLOB,VOCAB_FILE`` — the released lm_1b, or an lm_1b-shaped LM in its layout
  (``lm_1b_export.from_pretrained``); the top LSTM layer;
- ``lm1b_export:DIR`` — the same, from ``python -m lm_1b_export.export`` output;
- ``lstm_lm:MODEL_DIR`` — an LM trained with ``experiments.pretrain_lm`` (forward or backward;
  backward outputs come back in the sentence's own token order).

A spec string (a flag, a ``config.json`` value) is parsed once, by :meth:`LMSpec.parse`, which
knows every kind from :data:`KINDS`. Adding a kind: a
:class:`~taglm_tf.lm.frozen.embedder.SentenceEmbedder` subclass for it, and one :class:`LMKind`
entry in :data:`KINDS`.
"""

from __future__ import annotations

import dataclasses
import glob
from collections.abc import Callable

from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.frozen.lm1b_embedder import LM1BEmbedder
from taglm_tf.lm.frozen.lstm_embedder import PretrainedLMEmbedder
from taglm_tf.lm.lm1b.model import LM1BModel
from taglm_tf.lm.lm1b.saving import load_lm1b
from taglm_tf.lm.lm1b.writing import release_fingerprint
from taglm_tf.lm.pretraining.saving import recorded_perplexity, release_perplexity
from taglm_tf.utils.errors import InputError


@dataclasses.dataclass(frozen=True)
class LMSpec:
    """A frozen LM as named by ``KIND:PATH[,PATH]``.

    Attributes:
        kind: a key of :data:`KINDS`.
        paths: the kind's paths, in its order (:attr:`LMKind.paths`); a path may be a glob.
    """

    kind: str
    paths: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> LMSpec:
        """The spec ``text`` names.

        Raises:
            InputError: an unknown kind, or not the kind's number of non-empty paths.
        """
        kind, _, args = text.partition(":")
        if kind not in KINDS:
            raise InputError(
                f"unknown LM kind {kind!r} in {text!r}; expected {', '.join(k.usage for k in KINDS.values())}"
            )
        paths = tuple(args.split(","))
        if len(paths) != len(KINDS[kind].paths) or not all(paths):
            raise InputError(f"LM spec {text!r}: expected {KINDS[kind].usage}")
        return cls(kind, paths)

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(self.paths)}"

    def with_paths(self, change: Callable[[str], str]) -> LMSpec:
        """This spec with ``change`` applied to each path."""
        return dataclasses.replace(self, paths=tuple(change(p) for p in self.paths))

    def exists(self) -> bool:
        """Whether every path (glob) matches something on disk."""
        return all(glob.glob(p) for p in self.paths)


@dataclasses.dataclass(frozen=True)
class LMKind:
    """One kind of frozen LM.

    Attributes:
        name: the spec's ``KIND``.
        paths: what each path of the spec names, in order (for messages).
        load: the spec -> the loaded LM, named by the spec in reports; raises
            :class:`InputError` when the LM cannot be loaded.
        recorded_perplexity: the spec -> the held-out perplexity recorded beside the LM, or None
            (kinds that record none keep the default).
    """

    name: str
    paths: tuple[str, ...]
    load: Callable[[LMSpec], SentenceEmbedder]
    recorded_perplexity: Callable[[LMSpec], float | None] = lambda spec: None

    @property
    def usage(self) -> str:
        """``KIND:PATH[,PATH]`` with the kind's path names."""
        return f"{self.name}:{','.join(self.paths)}"


def _load_release(spec: LMSpec) -> SentenceEmbedder:
    pattern, vocab = spec.paths
    return LM1BEmbedder(
        LM1BModel.from_checkpoint(pattern, vocab), release_fingerprint(pattern), name=str(spec)
    )


def _load_export(spec: LMSpec) -> SentenceEmbedder:
    model = load_lm1b(spec.paths[0])
    return LM1BEmbedder(model, model.source_fingerprint, name=str(spec))


def _load_pretrained(spec: LMSpec) -> SentenceEmbedder:
    embedder = PretrainedLMEmbedder.from_model_dir(spec.paths[0])
    embedder.name = str(spec)
    return embedder


KINDS: dict[str, LMKind] = {
    kind.name: kind
    for kind in (
        LMKind(
            "lm1b", ("CKPT_GLOB", "VOCAB_FILE"), _load_release, lambda spec: release_perplexity(spec.paths[0])
        ),  # lm_1b_export.from_pretrained's record
        LMKind("lm1b_export", ("DIR",), _load_export),
        LMKind(
            "lstm_lm", ("MODEL_DIR",), _load_pretrained, lambda spec: recorded_perplexity(spec.paths[0])
        ),  # experiments.eval_lm --record
    )
}
