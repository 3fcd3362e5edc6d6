"""Batches of similar length, for inference over many sentences with little padding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def batches_by_length(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices into ``lengths``, shortest first, in batches of ``batch_size`` (the last may be
    smaller). Callers put each result back at its index, so output order is input order."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
