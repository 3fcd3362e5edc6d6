"""Pairing a layer's sub-layers or variables with the arrays of a checkpoint, count checked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def paired(what: str, targets: Sequence[A], values: Sequence[B]) -> Iterator[tuple[A, B]]:
    """``zip(targets, values)`` after checking that both have the same length.

    Raises:
        ValueError: naming ``what`` (e.g. ``"highway layers"``) and both counts; a plain ``zip``
            would leave the extra targets with their initial weights, silently.
    """
    targets, values = list(targets), list(values)
    if len(targets) != len(values):
        raise ValueError(f"{what}: the layer has {len(targets)}, the weights have {len(values)}")
    return zip(targets, values)
