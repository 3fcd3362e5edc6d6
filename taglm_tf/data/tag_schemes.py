"""Exact conversions between the IOB1, IOB2 and IOBES tagging schemes.

Every conversion goes through chunk spans: a tag sequence is read into spans with the
conlleval chunk rules (extended so that ``E-`` always closes and ``S-``/``B-`` always open a
chunk), and the spans are written back in the target scheme. For well-formed input this is
lossless; for malformed model output (``I-`` after ``O``, ``E-`` without ``B-``, a type change
inside a chunk) it decodes the chunks that conlleval would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from taglm_tf.scoring.conlleval import end_of_chunk, split_tag, start_of_chunk

SCHEMES = ("iob1", "iob2", "iobes")
_PREFIXES = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}
# The other names the field uses: BIO is IOB2 (B- opens every chunk), BIOES/BILOU-style IOBES.
ALIASES = {"bio": "iob2", "bioes": "iobes"}


class Chunk(NamedTuple):
    """A chunk of type ``type`` (e.g. ``PER``) over tokens ``start:end``."""

    type: str
    start: int
    end: int  # exclusive


def is_valid_tag(tag: str, scheme: str) -> bool:
    """True when ``tag`` is ``O`` or ``P-TYPE`` with a prefix the scheme allows."""
    allowed = _PREFIXES[check_scheme(scheme)]
    prefix, chunk_type = split_tag(tag)
    return tag == "O" or (len(prefix) == 1 and prefix in allowed and chunk_type != "")


def check_scheme(scheme: str) -> str:
    """Return ``scheme`` if it is one of :data:`SCHEMES`, else raise ValueError."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    return scheme


def scheme_named(name: str) -> str:
    """The scheme a user names, case-insensitively: one of :data:`SCHEMES` or an
    :data:`ALIASES` key (``BIO`` is ``iob2``, ``BIOES`` is ``iobes``); ValueError otherwise."""
    name = name.lower()
    if name in ALIASES:
        return ALIASES[name]
    if name not in SCHEMES:
        raise ValueError(
            f"unknown tag scheme {name!r}; expected one of {', '.join(SCHEMES + tuple(ALIASES))}"
        )
    return name


def _chunk_ends(prev: str, cur: str, prev_type: str, cur_type: str) -> bool:
    """conlleval's end-of-chunk rule, plus: a chunk always ends after E- and S-, and before S-."""
    if prev == "O":
        return False
    return prev in ("E", "S") or cur == "S" or end_of_chunk(prev, cur, prev_type, cur_type)


def _chunk_starts(prev: str, cur: str, prev_type: str, cur_type: str) -> bool:
    """conlleval's start-of-chunk rule, plus: a chunk always starts at B- and S-, and after E-/S-."""
    if cur == "O":
        return False
    return cur in ("B", "S") or prev in ("E", "S") or start_of_chunk(prev, cur, prev_type, cur_type)


def tags_to_chunks(tags: Sequence[str]) -> list[Chunk]:
    """Chunks of a tag sequence in any of the three schemes (lenient on malformed input)."""
    chunks: list[Chunk] = []
    prev, prev_type, start = "O", "", None
    for i, tag in enumerate(list(tags) + ["O"]):
        cur, cur_type = split_tag(tag)
        if start is not None and _chunk_ends(prev, cur, prev_type, cur_type):
            chunks.append(Chunk(prev_type, start, i))
            start = None
        if cur != "O" and (start is None or _chunk_starts(prev, cur, prev_type, cur_type)):
            start = i
        prev, prev_type = cur, cur_type
    return chunks


def chunks_to_tags(chunks: Sequence[Chunk], length: int, scheme: str) -> list[str]:
    """Write non-overlapping chunks as a tag sequence of ``length`` in ``scheme``."""
    check_scheme(scheme)
    tags = ["O"] * length
    prev_end, prev_type = -1, None
    for chunk in sorted(chunks, key=lambda c: c.start):
        n = chunk.end - chunk.start
        for i in range(chunk.start, chunk.end):
            tags[i] = "I-" + chunk.type
        if scheme == "iob2":
            tags[chunk.start] = "B-" + chunk.type
        elif scheme == "iob1":
            if chunk.start == prev_end and chunk.type == prev_type:
                tags[chunk.start] = "B-" + chunk.type
        elif n == 1:
            tags[chunk.start] = "S-" + chunk.type
        else:
            tags[chunk.start] = "B-" + chunk.type
            tags[chunk.end - 1] = "E-" + chunk.type
        prev_end, prev_type = chunk.end, chunk.type
    return tags


def convert(tags: Sequence[str], target: str) -> list[str]:
    """Convert one sentence's tags (any scheme) to ``target``."""
    return chunks_to_tags(tags_to_chunks(tags), len(tags), target)
