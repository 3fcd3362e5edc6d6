"""Vocabularies for words, characters and tags."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable

from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

PAD = "<pad>"
UNK = "<unk>"


class Vocabulary:
    """A string <-> id mapping with ``<pad>`` = 0 and, optionally, ``<unk>`` = 1.

    Args:
        items: the entries after the reserved ones, in id order.
        with_unk: reserve id 1 for unknown entries (words, chars); tags have none.
    """

    def __init__(self, items: Iterable[str], with_unk: bool = True):
        reserved = [PAD, UNK] if with_unk else [PAD]
        self.with_unk = with_unk
        self.items: list[str] = reserved + [i for i in items if i not in reserved]
        self._index: dict[str, int] = {item: i for i, item in enumerate(self.items)}
        if len(self._index) != len(self.items):
            raise ValueError("vocabulary entries must be unique")

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self._index

    def id(self, item: str) -> int:
        """The id of ``item``; 1 (``<unk>``) if unknown, or KeyError without ``<unk>`` (tags)."""
        if item in self._index:
            return self._index[item]
        if self.with_unk:
            return 1
        raise KeyError(item)

    def to_json(self) -> dict:
        """``{"items": the entries after the reserved ones, "with_unk": ...}``."""
        return {"items": self.items[2 if self.with_unk else 1 :], "with_unk": self.with_unk}

    @classmethod
    def from_json(cls, data: dict) -> Vocabulary:
        """The vocabulary :meth:`to_json` describes."""
        return cls(data["items"], data["with_unk"])


def count_items(sequences: Iterable[Iterable[str]]) -> collections.Counter:
    """How often each item occurs over all ``sequences`` (token strings: their characters)."""
    counts: collections.Counter = collections.Counter()
    for seq in sequences:
        counts.update(seq)
    return counts


def build_vocabulary(
    counts: collections.Counter, min_count: int = 1, extra: Iterable[str] = ()
) -> Vocabulary:
    """Frequency-sorted entries with count >= ``min_count`` (ties by string), then ``extra``."""
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    seen = set(kept)
    return Vocabulary(kept + [w for w in extra if w not in seen and not seen.add(w)])


def save_vocabularies(path: str, vocabs: dict[str, Vocabulary]) -> None:
    """Write ``{name: vocabulary}`` to ``path`` as one UTF-8 JSON object (atomically)."""
    write_text_atomic(path, json.dumps({k: v.to_json() for k, v in vocabs.items()}, ensure_ascii=False))


def load_vocabularies(path: str) -> dict[str, Vocabulary]:
    """Read what :func:`save_vocabularies` wrote; an :class:`InputError` if it cannot."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return {k: Vocabulary.from_json(v) for k, v in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(f"cannot read vocabularies ({type(e).__name__}: {e})", path) from None
