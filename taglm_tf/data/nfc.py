"""Unicode normalization form C (NFC) of string tensors, in core TensorFlow ops.

The tagger's vocabularies are NFC (the form of the CoNLL files and of embedding vocabularies), so
``Zu`` + U+0308 must be looked up as ``Zürich``. Core TensorFlow has no Unicode normalization
(tensorflow-text has, but it is not a dependency), and a ``tf.py_function`` cannot be saved in a
SavedModel, so the served model normalizes with this graph: the algorithm of Unicode Standard
Annex #15, §§ 1.3 and 1.4 (canonical decomposition, canonical ordering, canonical composition),
with its tables taken from Python's :mod:`unicodedata` when the graph is traced. The result
equals ``unicodedata.normalize("NFC", s)`` of the Python that traced it (tested against it on
every code point and on random mixtures of the characters the algorithm acts on).
"""

from __future__ import annotations

import functools
import sys
import unicodedata

import numpy as np
import tensorflow as tf

# Hangul syllables decompose and compose by arithmetic (Unicode Standard, §3.12).
_S_BASE, _L_BASE, _V_BASE, _T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
_L_COUNT, _V_COUNT, _T_COUNT = 19, 21, 28
_N_COUNT = _V_COUNT * _T_COUNT
_S_COUNT = _L_COUNT * _N_COUNT
_PAIR_BASE = sys.maxunicode + 1  # a pair (a, b) is the key a * _PAIR_BASE + b


def _canonical_decomposition(c: str) -> str:
    """The full canonical decomposition of the non-Hangul character ``c`` (``c`` if none)."""
    fields = unicodedata.decomposition(c).split()
    if not fields or fields[0].startswith("<"):  # none, or a compatibility one
        return c
    return "".join(_canonical_decomposition(chr(int(f, 16))) for f in fields)


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """Sorted key arrays and their values: canonical combining classes, full canonical
    decompositions (Hangul excluded), primary composites, and the code points that NFC may
    change in a string: those it changes alone (its quick check No), the second halves of
    compositions (Maybe: Hangul vowels and trailing consonants among them) and the combining
    marks (they may need reordering). A string without any of them is NFC."""
    ccc, decomp, composite, changed = {}, {}, {}, set()
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or _S_BASE <= cp < _S_BASE + _S_COUNT:
            continue
        c = chr(cp)
        if unicodedata.combining(c):
            ccc[cp] = unicodedata.combining(c)
        fields = unicodedata.decomposition(c)
        if not fields or fields.startswith("<"):  # NFC keeps a character without a canonical one
            continue
        if unicodedata.normalize("NFC", c) != c:
            changed.add(cp)
        full = _canonical_decomposition(c)
        if full != c:
            decomp[cp] = [ord(x) for x in full]
            pair = unicodedata.decomposition(c).split()
            if len(pair) == 2 and unicodedata.normalize("NFC", "".join(chr(int(f, 16)) for f in pair)) == c:
                composite[int(pair[0], 16) * _PAIR_BASE + int(pair[1], 16)] = cp  # not excluded
    seconds = {key % _PAIR_BASE for key in composite}
    hangul_vt = set(range(_V_BASE, _V_BASE + _V_COUNT)) | set(range(_T_BASE + 1, _T_BASE + _T_COUNT))
    quick = sorted(set(ccc) | changed | seconds | hangul_vt)
    keys = sorted(decomp)
    lengths = np.array([len(decomp[k]) for k in keys], np.int32)
    return {
        "ccc_keys": np.array(sorted(ccc), np.int32),
        "ccc_values": np.array([ccc[k] for k in sorted(ccc)], np.int32),
        "decomp_keys": np.array(keys, np.int32),
        "decomp_lengths": lengths,
        "decomp_starts": np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32),
        "decomp_values": np.array([v for k in keys for v in decomp[k]], np.int32),
        "pair_keys": np.array(sorted(composite), np.int64),
        "pair_values": np.array([composite[k] for k in sorted(composite)], np.int32),
        "quick": np.array(quick, np.int32),
    }


def _find(keys: np.ndarray, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``(found, index)`` of each value of the 1-D ``x`` in the sorted constant ``keys``."""
    last = len(keys) - 1
    keys = tf.constant(keys)
    index = tf.minimum(tf.searchsorted(keys, x, out_type=tf.int32), last)
    return tf.equal(tf.gather(keys, index), x), index


def _lookup(keys: np.ndarray, values: np.ndarray, x: tf.Tensor, default: int | tf.Tensor) -> tf.Tensor:
    found, index = _find(keys, x)
    return tf.where(found, tf.gather(tf.constant(values), index), default)


def _combining_class(cps: tf.Tensor) -> tf.Tensor:
    t = _tables()
    return _lookup(t["ccc_keys"], t["ccc_values"], cps, 0)


def _decompose(cps: tf.RaggedTensor) -> tf.RaggedTensor:
    """Full canonical decomposition of each row of code points ([n, None] int32)."""
    t = _tables()
    v = cps.flat_values
    s = v - _S_BASE
    hangul = (s >= 0) & (s < _S_COUNT)
    found, index = _find(t["decomp_keys"], v)
    length = tf.where(
        hangul, tf.where(s % _T_COUNT == 0, 2, 3), tf.where(found, tf.gather(t["decomp_lengths"], index), 1)
    )
    source = tf.repeat(tf.range(tf.size(v)), length)  # the input code point of each output one
    k = tf.range(tf.reduce_sum(length)) - tf.gather(tf.cumsum(length, exclusive=True), source)
    s = tf.gather(s, source)
    jamo = tf.stack([_L_BASE + s // _N_COUNT, _V_BASE + s % _N_COUNT // _T_COUNT, _T_BASE + s % _T_COUNT], 1)
    table = tf.gather(t["decomp_values"], tf.gather(tf.gather(t["decomp_starts"], index), source) + k)
    out = tf.where(
        tf.gather(hangul, source),
        tf.gather(jamo, tf.minimum(k, 2), batch_dims=1),
        tf.where(tf.gather(found, source), table, tf.gather(v, source)),
    )
    return tf.RaggedTensor.from_value_rowids(out, tf.gather(cps.value_rowids(), source), cps.nrows())


def _reorder(cps: tf.RaggedTensor, cc: tf.Tensor) -> tuple[tf.RaggedTensor, tf.Tensor]:
    """Canonical ordering: each run of non-starters (class > 0) sorted by class, stably;
    ``cc`` holds the classes of ``cps.flat_values``. Returns the reordered rows and classes."""
    rows = cps.value_rowids()
    first = tf.equal(tf.range(tf.size(rows, out_type=rows.dtype)), tf.gather(cps.row_starts(), rows))
    group = tf.cumsum(tf.cast((cc == 0) | first, tf.int64))  # a starter or a row opens a group
    order = tf.argsort(group * 256 + tf.cast(cc, tf.int64), stable=True)
    return cps.with_flat_values(tf.gather(cps.flat_values, order)), tf.gather(cc, order)


def _compose_pair(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """The primary composite of each pair ``(a, b)`` of code points, -1 where there is none."""
    t = _tables()
    l_index, v_index = a - _L_BASE, b - _V_BASE
    lv = (l_index >= 0) & (l_index < _L_COUNT) & (v_index >= 0) & (v_index < _V_COUNT)
    s_index, t_index = a - _S_BASE, b - _T_BASE
    lvt = (s_index >= 0) & (s_index < _S_COUNT) & (s_index % _T_COUNT == 0)
    lvt &= (t_index > 0) & (t_index < _T_COUNT)
    key = tf.cast(a, tf.int64) * _PAIR_BASE + tf.cast(b, tf.int64)
    table = _lookup(t["pair_keys"], t["pair_values"], key, -1)
    return tf.where(
        lv, _S_BASE + (l_index * _V_COUNT + v_index) * _T_COUNT, tf.where(lvt, a + t_index, table)
    )


def _compose(cps: tf.RaggedTensor, cc: tf.Tensor) -> tf.RaggedTensor:
    """Canonical composition of canonically ordered rows, all rows at once, one position per
    step: a character composes with the last starter unless a character between them is a
    starter or has a class at least its own (it is then blocked). A step reads and writes one
    column, so the cost is linear in the rows' length: a kept character is final when it is
    read, and a starter's composed value is written back once, when the next starter opens or
    at the end."""
    chars, classes = cps.to_tensor(-1), cps.with_flat_values(cc).to_tensor(0)
    width = tf.shape(chars)[1]
    columns, column_classes = tf.transpose(chars), tf.transpose(classes)
    kept = tf.TensorArray(tf.int32, size=width).write(0, columns[0])  # -1: composed away
    closed_at = tf.TensorArray(tf.int32, size=width).write(0, tf.fill(tf.shape(columns[0]), -1))
    closed_as = tf.TensorArray(tf.int32, size=width).write(0, columns[0])
    # A row that opens with a non-starter has no starter to compose with until one comes.
    last_class = tf.where(column_classes[0] == 0, 0, 256)

    def step(i, starter_pos, starter, last_class, kept, closed_at, closed_as):
        ch, ch_class = columns[i], column_classes[i]
        valid = ch >= 0
        composite = _compose_pair(starter, ch)
        merge = valid & (composite >= 0) & ((last_class < ch_class) | (last_class == 0))
        starter = tf.where(merge, composite, starter)
        opens = valid & ~merge & (ch_class == 0)
        closed_at = closed_at.write(i, tf.where(opens, starter_pos, -1))
        closed_as = closed_as.write(i, starter)
        starter_pos, starter = tf.where(opens, i, starter_pos), tf.where(opens, ch, starter)
        last_class = tf.where(valid & ~merge, ch_class, last_class)
        kept = kept.write(i, tf.where(merge, -1, ch))
        return i + 1, starter_pos, starter, last_class, kept, closed_at, closed_as

    _, starter_pos, starter, _, kept, closed_at, closed_as = tf.while_loop(
        lambda i, *_: i < width,
        step,
        (tf.constant(1), tf.zeros_like(columns[0]), columns[0], last_class, kept, closed_at, closed_as),
    )
    positions = tf.concat([closed_at.stack(), starter_pos[tf.newaxis]], 0)  # [width + 1, rows]
    values = tf.concat([closed_as.stack(), starter[tf.newaxis]], 0)
    at = tf.where(positions >= 0)  # (step, row) of each starter's final value
    rows_and_positions = tf.stack([at[:, 1], tf.cast(tf.gather_nd(positions, at), tf.int64)], 1)
    out = tf.tensor_scatter_nd_update(
        tf.transpose(kept.stack()), rows_and_positions, tf.gather_nd(values, at)
    )
    return tf.ragged.boolean_mask(out, out >= 0)


def _nfc_of_codepoints(cps: tf.RaggedTensor) -> tf.RaggedTensor:
    cps = _decompose(cps)
    cps, cc = _reorder(cps, _combining_class(cps.flat_values))
    return _compose(cps, cc)


def nfc(strings: tf.Tensor) -> tf.Tensor:
    """``unicodedata.normalize("NFC", s)`` of every string of a string tensor (any shape, UTF-8),
    with the tables of the Python that traces the graph. Only valid UTF-8 strings holding a code
    point that NFC may change (see :func:`_tables`) are rebuilt; the others, invalid UTF-8
    among them, are returned byte for byte. Its loops are explicit graph ops, so it traces
    without AutoGraph."""
    flat = tf.reshape(strings, [-1])
    cps = tf.strings.unicode_decode(flat, "UTF-8", errors="replace")
    touched, _ = _find(_tables()["quick"], cps.flat_values)
    rows = tf.reshape(
        tf.where(
            tf.math.unsorted_segment_max(tf.cast(touched, tf.int32), cps.value_rowids(), cps.nrows()) > 0
        ),
        [-1],
    )

    def rebuild():
        given, picked = tf.gather(flat, rows), tf.gather(cps, rows)
        valid = tf.equal(tf.strings.unicode_encode(picked, "UTF-8"), given)  # nothing replaced
        normal = tf.strings.unicode_encode(_nfc_of_codepoints(picked), "UTF-8")
        return tf.tensor_scatter_nd_update(flat, rows[:, tf.newaxis], tf.where(valid, normal, given))

    flat = tf.cond(tf.size(rows) > 0, rebuild, lambda: flat)
    return tf.reshape(flat, tf.shape(strings))
