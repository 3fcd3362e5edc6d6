"""In-graph NFC against Python's ``unicodedata.normalize("NFC", ...)``: every code point alone,
the canonical decomposition of every character that has one (so composition must rebuild it),
and random mixtures of the characters the algorithm acts on."""

from __future__ import annotations

import random
import sys
import unicodedata

import numpy as np
import tensorflow as tf

from taglm_tf.data import nfc as nfc_module
from taglm_tf.data.nfc import nfc

NFC = tf.function(nfc, autograph=False)  # as the served graph traces it


def _check(strings: list[str]) -> None:
    got = [s.decode("utf-8") for s in NFC(tf.constant(strings)).numpy()]
    want = [unicodedata.normalize("NFC", s) for s in strings]
    wrong = [(s, g, w) for s, g, w in zip(strings, got, want, strict=True) if g != w]
    assert not wrong, (
        f"{len(wrong)} of {len(strings)} differ, e.g. {[tuple(map(ascii, x)) for x in wrong[:5]]}"
    )


def test_every_code_point_alone():
    _check([chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF])


def test_every_canonical_decomposition_composes_back():
    decomposed = [unicodedata.normalize("NFD", chr(cp)) for cp in range(sys.maxunicode + 1)]
    _check([d for cp, d in enumerate(decomposed) if len(d) > 1 and not 0xD800 <= cp <= 0xDFFF])


def test_random_mixtures_of_bases_marks_jamo_and_exclusions():
    t = nfc_module._tables()
    pool = [
        *map(chr, t["quick"]),  # combining marks, decomposable characters, second halves of pairs
        *map(chr, {int(k) // nfc_module._PAIR_BASE for k in t["pair_keys"]}),  # first halves
        *"aeiouAEIOU \u00e9\u212b\u2126\u0958\u0344\uac00\uac01\u1100\u1161\u11a8",
    ]
    rng = random.Random(7)
    strings = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 8))) for _ in range(20000)]
    _check(strings)


def test_shape_padding_and_untouched_bytes():
    tokens = tf.constant([["Zu\u0308rich", ""], ["plain", "e\u0302\u0323"]])
    assert NFC(tokens).numpy().tolist() == [
        ["Z\u00fcrich".encode(), b""],
        [b"plain", "\u1ec7".encode()],
    ]
    invalid = tf.constant([b"\xff\xfeok", b"a", b"\xffe\xcc\x81"])  # not UTF-8: returned as given
    assert NFC(invalid).numpy().tolist() == [b"\xff\xfeok", b"a", b"\xffe\xcc\x81"]
    assert NFC(tf.constant(np.zeros([0, 3], object), tf.string)).shape == (0, 3)


def test_cost_is_linear_in_a_long_tokens_length():
    """Tokens of 5,000 and 20,000 characters in a batch of NFC tokens with precomposed letters:
    no step costs the batch's whole width (the composition writes one column per step), and
    precomposed letters that NFC keeps do not send a token down the rebuilding path."""
    import time

    def cpu_seconds(length: int) -> float:
        """CPU seconds of all this process's threads for one call, traced before: unlike wall
        time, not inflated by waiting for cores that other processes hold."""
        long = "Cafe\u0301" + "x" * length + "e\u0301"
        batch = tf.constant([long, "Zürich"] * 4)  # one shape for both lengths: traced once
        out = NFC(batch).numpy()
        assert [s.decode() for s in out] == [unicodedata.normalize("NFC", s) for s in [long, "Zürich"] * 4]
        start = time.process_time()
        NFC(batch)
        return time.process_time() - start

    ratio = cpu_seconds(20000) / cpu_seconds(5000)
    assert ratio < 8, ratio  # linear: about 4 (3.7-4.2 measured); a cost quadratic in length: 16
    rows = nfc_module._find(nfc_module._tables()["quick"], tf.constant([ord(c) for c in "Zürich Café"]))[0]
    assert not rows.numpy().any()
