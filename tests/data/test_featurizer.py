"""Tests for taglm_tf.data.featurizer: word normalisation and token -> id tensors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.data.featurizer import MAX_WORD_LEN, Featurizer, normalize_word_list, normalize_words
from taglm_tf.data.vocab import PAD, UNK, Vocabulary


@pytest.mark.parametrize(
    "word,expected",
    [
        ("Paris-1996", "paris-0000"),
        ("ÉCOLE", "école"),
        ("Zürich", "zürich"),
        ("ΑΘΗΝΑ", "αθηνα"),
        ("ÀÖØÞ", "àöøþ"),
        ("3:1", "0:0"),
        ("1,234.56", "0,000.00"),
        ("U.S.", "u.s."),
        ("", ""),
        ("東京", "東京"),
        ("١٢", "١٢"),  # only ASCII digits are mapped
    ],
)
def test_normalize_word_list(word, expected):
    assert normalize_word_list([word]) == [expected]


def test_normalize_words_tensor_keeps_shape():
    tokens = tf.constant([["The", "ÉCOLE", ""], ["Paris-1996", "x", "9"]])
    out = normalize_words(tokens).numpy()
    assert out.shape == (2, 3)
    assert [[w.decode("utf-8") for w in row] for row in out] == [
        ["the", "école", ""],
        ["paris-0000", "x", "0"],
    ]


def test_normalize_word_list_empty_and_order():
    assert normalize_word_list([]) == []
    words = ["B", "a", "B", "Ü1"]
    assert normalize_word_list(words) == ["b", "a", "b", "ü0"]
    assert normalize_word_list(tuple(words)) == ["b", "a", "b", "ü0"]


# ---------------------------------------------------------------- Featurizer

WORDS = Vocabulary(["the", "paris", "0000", "école", ","])
CHARS = Vocabulary(list("TtheParis196,É") + ["😀"])


@pytest.fixture(scope="module")
def featurizer():
    return Featurizer(WORDS.items, CHARS.items)


def _run(featurizer, rows):
    width = max(len(r) for r in rows)
    tokens = tf.constant(
        [
            [t.encode("utf-8") if isinstance(t, str) else t for t in r] + [b""] * (width - len(r))
            for r in rows
        ],
        dtype=tf.string,
    )
    return {k: v.numpy() for k, v in featurizer(tokens).items()}


def _spell(char_row, chars=CHARS):
    return "".join(chars.items[c] for c in char_row if c != 0)


def test_word_ids(featurizer):
    out = _run(featurizer, [["The", "Paris", "1996", "unknown"], ["ÉCOLE", ","]])
    assert out["word_ids"].dtype == np.int32
    assert out["word_ids"].tolist() == [[2, 3, 4, 1], [5, 6, 0, 0]]
    assert WORDS.id(PAD) == 0 and WORDS.id(UNK) == 1


def test_char_index_spells_every_token(featurizer):
    rows = [["The", "Paris", "the", "The", "1996", ","], ["Paris", "The"], ["😀", "É"], ["Paris"]]
    out = _run(featurizer, rows)
    char_ids, index = out["char_ids"], out["char_index"]
    assert index.shape == (4, 6)
    assert char_ids.dtype == np.int32
    for b, row in enumerate(rows):
        for t in range(6):
            if t < len(row):
                assert _spell(char_ids[index[b, t]]) == row[t], (b, t)
            else:
                assert _spell(char_ids[index[b, t]]) == ""  # padding points at the empty form
    # one row per distinct surface form (including the padding form "")
    forms = {tok for row in rows for tok in row} | {""}
    assert char_ids.shape == (len(forms), max(len(f) for f in forms))
    assert len(set(index.ravel().tolist())) == len(forms)
    assert index[0, 0] == index[0, 3] == index[1, 1]  # repeated "The" shares a row
    assert index[0, 0] != index[0, 2]  # chars are case-sensitive: "the" is another form


def test_unknown_chars(featurizer):
    out = _run(featurizer, [["Pxris", "ü"]])
    row = out["char_ids"][out["char_index"][0, 0]]
    assert row.tolist() == [CHARS.id("P"), 1, CHARS.id("r"), CHARS.id("i"), CHARS.id("s")]
    row = out["char_ids"][out["char_index"][0, 1]]
    assert row.tolist()[:1] == [1] and not row[1:].any()


def test_invalid_utf8_bytes_become_unknown_chars(featurizer):
    out = _run(featurizer, [[b"T\xffe"]])
    assert out["char_ids"][out["char_index"][0, 0]].tolist() == [CHARS.id("T"), 1, CHARS.id("e")]


def test_long_words_truncated():
    featurizer = Featurizer(WORDS.items, CHARS.items, max_word_len=4)
    out = _run(featurizer, [["Paris", "Pari", "The"]])
    assert out["char_ids"].shape[1] == 4
    assert _spell(out["char_ids"][out["char_index"][0, 0]]) == "Pari"
    assert _spell(out["char_ids"][out["char_index"][0, 2]]) == "The"
    # different words that truncate alike keep their own word ids and rows
    assert out["char_index"][0, 0] != out["char_index"][0, 1]
    assert out["word_ids"][0].tolist() == [3, 1, 2]


def test_default_max_word_len(featurizer):
    word = "P" + "a" * 80
    out = _run(featurizer, [[word]])
    assert out["char_ids"].shape[1] == MAX_WORD_LEN
    assert _spell(out["char_ids"][out["char_index"][0, 0]]) == word[:MAX_WORD_LEN]


def test_all_padding_batch(featurizer):
    out = featurizer(tf.constant([[""]]))
    assert out["word_ids"].numpy().tolist() == [[0]]
    assert out["char_index"].numpy().tolist() == [[0]]
