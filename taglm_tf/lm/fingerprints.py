"""Content hashes of model weights, for cache keys and for refusing an LM that changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

# Tensors up to this many elements enter a fingerprint with their values (biases, peepholes,
# char tables, small matrices); larger ones with their name and shape only, so hashing a
# multi-GB checkpoint reads a few MB.
FINGERPRINT_MAX_ELEMENTS = 1 << 16


def hash_tensors(
    digest,
    tensors: Iterable[tuple[str, Sequence[int]]],
    header: Callable[[str, Sequence[int]], str],
    value_bytes: Callable[[str], bytes],
) -> None:
    """Feed ``digest`` (a ``hashlib`` object) each tensor's ``header(name, shape)`` (UTF-8), and
    ``value_bytes(name)`` for those with at most :data:`FINGERPRINT_MAX_ELEMENTS` elements."""
    for name, shape in tensors:
        digest.update(header(name, shape).encode("utf-8"))
        if int(np.prod(shape)) <= FINGERPRINT_MAX_ELEMENTS:
            digest.update(value_bytes(name))
