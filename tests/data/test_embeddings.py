"""Tests for taglm_tf.data.embeddings: GloVe/word2vec/Senna readers and embedding_matrix."""

from __future__ import annotations

import gzip
import lzma
import os

import numpy as np
import pytest

from taglm_tf.data.embeddings import embedding_matrix, load_embeddings
from taglm_tf.utils.errors import InputError

try:
    from data_paths import real_file
except ImportError:  # tests/ became a package
    from tests.data_paths import real_file

VECTORS = {
    "the": [0.418, 0.24968, -0.41242],
    ",": [0.013441, 0.23682, -0.16899],
    "paris": [-1.5, 2.0, 1e-3],
    "école": [0.0, -0.0, 3.25],
    "0000": [1.0, 2.0, 3.0],
}
GLOVE = "".join(f"{w} {' '.join(repr(v) for v in vec)}\n" for w, vec in VECTORS.items())


def _write(path, text, compression=None):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if compression == "gz":
        data = gzip.compress(data)
    elif compression == "xz":
        data = lzma.compress(data)
    path.write_bytes(data)
    return path


def _name(base, compression):
    return base + (f".{compression}" if compression else "")


def _check_table(table, words=VECTORS):
    assert set(table) == set(words)
    for w in words:
        assert table[w].dtype == np.float32 and table[w].shape == (3,)
        np.testing.assert_array_equal(table[w], np.asarray(VECTORS[w], dtype=np.float32))


@pytest.mark.parametrize("compression", [None, "gz", "xz"])
def test_glove(tmp_path, compression):
    path = _write(tmp_path / _name("glove.txt", compression), GLOVE, compression)
    _check_table(load_embeddings(str(path)))


@pytest.mark.parametrize("compression", [None, "gz", "xz"])
def test_word2vec_header(tmp_path, compression):
    path = _write(tmp_path / _name("w2v.txt", compression), f"{len(VECTORS)} 3\n" + GLOVE, compression)
    _check_table(load_embeddings(str(path)))


@pytest.mark.parametrize(
    "ending",
    [
        " \n",  # word2vec's text writer leaves a space before the newline
        "\r\n",
        " \r\n",
    ],
)
def test_line_endings(tmp_path, ending):
    text = "".join(f"{w} {' '.join(map(str, v))}{ending}" for w, v in VECTORS.items())
    _check_table(load_embeddings(str(_write(tmp_path / "t.txt", text))))


@pytest.mark.parametrize("compression", [None, "gz", "xz"])
def test_senna(tmp_path, compression):
    words = _write(
        tmp_path / _name("words.lst", compression), "".join(f"{w}\n" for w in VECTORS), compression
    )
    vectors = _write(
        tmp_path / _name("embeddings.txt", compression),
        "".join(" ".join(map(str, v)) + "\n" for v in VECTORS.values()),
        compression,
    )
    _check_table(load_embeddings(str(vectors), words_path=str(words)))
    _check_table(load_embeddings(str(vectors)))  # Senna's layout: words.lst beside embeddings.txt
    os.rename(words, tmp_path / "other.lst")  # without it, the file reads as GloVe text
    assert not set(load_embeddings(str(vectors))) & set(VECTORS)


def test_senna_two_numbers_first_line_is_not_a_header(tmp_path):
    words = _write(tmp_path / "words.lst", "a\nb\n")
    vectors = _write(tmp_path / "embeddings.txt", "2 3\n4 5\n")
    table = load_embeddings(str(vectors), words_path=str(words))
    np.testing.assert_array_equal(table["a"], [2, 3])
    np.testing.assert_array_equal(table["b"], [4, 5])


@pytest.mark.parametrize("compression", [None, "xz"])
def test_wanted(tmp_path, compression):
    path = _write(tmp_path / _name("glove.txt", compression), "2 3\n" + GLOVE, compression)
    wanted = ["paris", "école", "absent", "PARIS"]
    table = load_embeddings(str(path), wanted=iter(wanted))  # any iterable
    _check_table(table, ["paris", "école"])
    assert load_embeddings(str(path), wanted=set()) == {}
    words = _write(tmp_path / "words.lst", "".join(f"{w}\n" for w in VECTORS))
    vectors = _write(tmp_path / "emb.txt", "".join(" ".join(map(str, v)) + "\n" for v in VECTORS.values()))
    _check_table(load_embeddings(str(vectors), wanted={"the", "x"}, words_path=str(words)), ["the"])


# ---------------------------------------------------------------- words with spaces (GloVe 840B)


def _as_lists(table):
    return {w: v.tolist() for w, v in table.items()}


def test_multi_word_keys_take_the_last_d_fields(tmp_path):
    path = _write(
        tmp_path / "840b.txt",
        "the 0.25 0.5 0.75\n. . . 0.5 0.25 -1\nat name@domain.com 1 2 3\na  b\t4 5 6\nx 7 8 9\n",
    )
    assert _as_lists(load_embeddings(str(path))) == {
        "the": [0.25, 0.5, 0.75],
        ". . .": [0.5, 0.25, -1],
        "at name@domain.com": [1, 2, 3],
        "a  b": [4, 5, 6],
        "x": [7, 8, 9],
    }
    # The first piece of a multi-word key in the vocabulary is neither an error nor a match.
    assert _as_lists(load_embeddings(str(path), wanted={"at", ". . .", "."})) == {". . .": [0.5, 0.25, -1]}


def test_dimension_is_the_majority_when_the_first_line_has_a_multi_word_key(tmp_path):
    path = _write(tmp_path / "e.txt", "1 x 0.5 0.25\nw 1 2\nv 3 4\n")
    assert _as_lists(load_embeddings(str(path))) == {"1 x": [0.5, 0.25], "w": [1, 2], "v": [3, 4]}


def test_dimension_from_header_with_multi_word_key(tmp_path):
    path = _write(tmp_path / "e.txt", "3 2\na 1 2\nb c 5 6\n")
    assert _as_lists(load_embeddings(str(path))) == {"a": [1, 2], "b c": [5, 6]}


@pytest.mark.parametrize(
    "line,values", [("farah 0.5 1 2", 3), ("farah\t0.5  1 2", 3), ("a b -1e-3 .5 1 2", 4)]
)
def test_a_line_with_numbers_too_many_is_not_a_word_with_spaces(tmp_path, line, values):
    """Without the rule, ``farah 0.5`` would silently become a word with a space in it."""
    path = _write(tmp_path / "e.txt", f"x 1 2\nfarah 3 4\n{line}\ny 5 6\n")
    _raises_at(path, 3, f"vector has {values} values, expected 2")
    header = _write(tmp_path / "h.txt", f"3 2\nx 1 2\n{line}\n")
    _raises_at(header, 3, f"vector has {values} values, expected 2", wanted={"x"})


# ---------------------------------------------------------------- text input rules (textio)


def test_bom_does_not_join_the_first_word(tmp_path):
    path = _write(tmp_path / "e.txt", b"\xef\xbb\xbf" + GLOVE.encode("utf-8"))
    _check_table(load_embeddings(str(path)))
    words = _write(tmp_path / "words.lst", b"\xef\xbb\xbf" + "".join(f"{w}\n" for w in VECTORS).encode())
    vectors = _write(tmp_path / "emb.txt", "".join(" ".join(map(str, v)) + "\n" for v in VECTORS.values()))
    _check_table(load_embeddings(str(vectors), words_path=str(words)))


def test_cr_only_file_reads_like_lf(tmp_path):
    _check_table(load_embeddings(str(_write(tmp_path / "e.txt", GLOVE.replace("\n", "\r")))))


def test_unicode_spaces_belong_to_the_word(tmp_path):
    text = "a\u00a0b 1 2\nc\u3000d\u2009e 3 4\nf\u0085g\u2028h 5 6\n"
    assert _as_lists(load_embeddings(str(_write(tmp_path / "e.txt", text)))) == {
        "a\u00a0b": [1, 2],
        "c\u3000d\u2009e": [3, 4],
        "f\u0085g\u2028h": [5, 6],
    }


def test_bz2(tmp_path):
    import bz2

    path = tmp_path / "glove.txt.bz2"
    path.write_bytes(bz2.compress(GLOVE.encode("utf-8")))
    _check_table(load_embeddings(str(path)))


# ---------------------------------------------------------------- errors


def _raises_at(path, line, *parts, **kw):
    with pytest.raises(InputError) as info:
        load_embeddings(str(path), **kw)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    for part in parts:
        assert part in str(err)
    return err


def test_inconsistent_dimension(tmp_path):
    path = _write(tmp_path / "e.txt", "a 1 2 3\nb 4 5 6\nc 7 8\n")
    _raises_at(path, 3, "2 values, expected 3")


def test_too_few_values_after_header(tmp_path):
    path = _write(tmp_path / "e.txt", "3 2\na 1 2\nb 4\n")
    _raises_at(path, 3, "1 values, expected 2")


def test_non_numeric_value(tmp_path):
    path = _write(tmp_path / "e.txt", "a 1 2\nb 4 x\n")
    _raises_at(path, 2, "non-numeric")


def test_runs_of_spaces_and_tabs_separate_values(tmp_path):
    path = _write(tmp_path / "e.txt", "a 1 2\nb 4  5\nc\t6\t7 \t\n")
    table = load_embeddings(str(path))
    assert {w: v.tolist() for w, v in table.items()} == {"a": [1, 2], "b": [4, 5], "c": [6, 7]}


def test_non_finite_value(tmp_path):
    path = _write(tmp_path / "e.txt", "a 1 2\nb inf 5\n")
    _raises_at(path, 2, "inf or nan")


@pytest.mark.parametrize("line", ["b", "b "])
def test_word_without_vector(tmp_path, line):
    path = _write(tmp_path / "e.txt", f"a 1 2\n{line}\nc 3 4\n")
    _raises_at(path, 2, "no vector")


def test_missing_file(tmp_path):
    _raises_at(tmp_path / "missing.txt.xz", None, "no such file")


@pytest.mark.parametrize("compression", [None, "gz", "xz"])
@pytest.mark.parametrize("text", ["", "400000 50\n"])
def test_empty_file(tmp_path, compression, text):
    path = _write(tmp_path / _name("e.txt", compression), text, compression)
    _raises_at(path, None, "empty")


def _big_glove(n=3000):
    return "".join(f"w{i} {i}.5 -{i}.25 0.125\n" for i in range(n))


@pytest.mark.parametrize("compression", ["gz", "xz"])
def test_truncated_compressed_file(tmp_path, compression):
    whole = _write(tmp_path / _name("full.txt", compression), _big_glove(), compression)
    data = whole.read_bytes()
    path = tmp_path / _name("cut.txt", compression)
    path.write_bytes(data[: len(data) // 2])
    err = _raises_at_any_line(path)
    assert "cannot read" in str(err)


def _raises_at_any_line(path, **kw):
    with pytest.raises(InputError) as info:
        load_embeddings(str(path), **kw)
    assert info.value.path == str(path)
    assert info.value.line is None or info.value.line >= 1
    return info.value


@pytest.mark.parametrize("compression", ["gz", "xz"])
def test_not_compressed_at_all(tmp_path, compression):
    path = _write(tmp_path / _name("e.txt", compression), GLOVE)  # plain text, .gz/.xz name
    _raises_at(path, 1, "cannot read")


def _corrupt_middle(data: bytes) -> bytes:
    data = bytearray(data)
    for i in range(len(data) // 3, len(data) // 3 + 20):
        data[i] ^= 0x55
    return bytes(data)


def test_corrupt_xz(tmp_path):
    path = tmp_path / "e.txt.xz"
    path.write_bytes(_corrupt_middle(lzma.compress(_big_glove().encode())))
    _raises_at_any_line(path)


def test_corrupt_gz(tmp_path):
    path = tmp_path / "e.txt.gz"
    path.write_bytes(_corrupt_middle(gzip.compress(_big_glove().encode())))
    _raises_at_any_line(path)


def test_non_utf8_reported_as_input_error(tmp_path):
    path = _write(tmp_path / "e.txt", b"a 1 2\nb 3 4\nc\xff 5 6\n")
    err = _raises_at_any_line(path)
    assert "utf-8" in str(err).lower()


@pytest.mark.parametrize("bad_line", [3, 1500])
def test_non_utf8_line_number(tmp_path, bad_line):
    lines = _big_glove(2000).encode().split(b"\n")
    lines[bad_line - 1] = b"w\xff 1 2 3"
    path = _write(tmp_path / "e.txt", b"\n".join(lines))
    _raises_at(path, bad_line)


def test_senna_more_vectors_than_words(tmp_path):
    words = _write(tmp_path / "words.lst", "a\nb\n")
    vectors = _write(tmp_path / "embeddings.txt", "1 2\n3 4\n5 6\n")
    err = _raises_at(vectors, 3, "more vectors than the 2 words", words_path=str(words))
    assert str(words) in str(err)


def test_senna_fewer_vectors_than_words(tmp_path):
    words = _write(tmp_path / "words.lst", "a\nb\nc\n")
    vectors = _write(tmp_path / "embeddings.txt", "1 2\n3 4\n")
    _raises_at(vectors, None, "2 vectors for 3 words", words_path=str(words))


@pytest.mark.parametrize(
    "words,vectors",
    [
        ("a\nb\n", "1 2\n3 4\n\n"),  # a trailing blank line in embeddings.txt
        ("a\nb\n\n", "1 2\n3 4\n"),  # ... and in words.lst
        ("\ta\n \n\nb\n \t\n", " \n1 2\n\t\n3 4\n"),  # blank lines anywhere, of spaces and tabs
    ],
)
def test_senna_blank_lines_are_skipped_as_in_glove_files(tmp_path, words, vectors):
    """As the GloVe reader, the Senna reader skips blank lines in both files: the k-th non-blank
    word goes with the k-th non-blank vector."""
    table = load_embeddings(
        str(_write(tmp_path / "embeddings.txt", vectors)),
        words_path=str(_write(tmp_path / "words.lst", words)),
    )
    assert sorted(table) == ["a", "b"]
    np.testing.assert_array_equal(table["a"], [1, 2])
    np.testing.assert_array_equal(table["b"], [3, 4])
    glove = load_embeddings(str(_write(tmp_path / "glove.txt", "a 1 2\n\nb 3 4\n\n")))
    assert {w: v.tolist() for w, v in glove.items()} == {w: v.tolist() for w, v in table.items()}


def test_senna_counts_leave_blank_lines_out(tmp_path):
    words = _write(tmp_path / "words.lst", "a\n\nb\n")
    vectors = _write(tmp_path / "embeddings.txt", "1 2\n\n3 4\n\n5 6\n")
    _raises_at(vectors, 5, "more vectors than the 2 words", words_path=str(words))
    words = _write(tmp_path / "words.lst", "a\nb\n\nc\n")
    vectors = _write(tmp_path / "embeddings.txt", "1 2\n\n3 4\n")
    _raises_at(vectors, None, "2 vectors for 3 words", words_path=str(words))


def test_senna_missing_words_file(tmp_path):
    vectors = _write(tmp_path / "embeddings.txt", "1 2\n")
    with pytest.raises(InputError) as info:
        load_embeddings(str(vectors), words_path=str(tmp_path / "words.lst"))
    assert info.value.path == str(tmp_path / "words.lst")


# ---------------------------------------------------------------- embedding_matrix


def test_embedding_matrix():
    words = ["<pad>", "<unk>", "the", "unseen", "paris", "<unk2>"]
    table = {w: np.asarray(v, np.float32) for w, v in VECTORS.items()}
    table["<unk>"] = np.ones(3, np.float32)  # reserved rows never take a vector
    table["<pad>"] = np.ones(3, np.float32)
    matrix, found = embedding_matrix(words, table, 3, seed=7)
    assert matrix.shape == (6, 3) and matrix.dtype == np.float32
    assert found == 2
    np.testing.assert_array_equal(matrix[0], 0.0)
    assert np.any(matrix[1] != 0) and not np.allclose(matrix[1], 1.0)
    np.testing.assert_array_equal(matrix[2], table["the"])
    np.testing.assert_array_equal(matrix[4], table["paris"])
    scale = np.sqrt(3.0 / 3)
    for row in (1, 3, 5):
        assert np.all(np.abs(matrix[row]) <= scale)
    again, _ = embedding_matrix(words, table, 3, seed=7)
    np.testing.assert_array_equal(again, matrix)
    other, _ = embedding_matrix(words, table, 3, seed=8)
    assert not np.array_equal(other[3], matrix[3])
    np.testing.assert_array_equal(other[2], matrix[2])


def test_embedding_matrix_no_reserved_rows():
    table = {"a": np.full(2, 5.0, np.float32)}
    matrix, found = embedding_matrix(["a", "b"], table, 2, reserved=0)
    assert found == 1
    np.testing.assert_array_equal(matrix[0], 5.0)  # no reserved rows: row 0 is a word too
    assert np.all(np.abs(matrix[1]) <= np.sqrt(3.0 / 2)) and np.any(matrix[1] != 0)


# ---------------------------------------------------------------- the real GloVe file


def test_real_glove_subset():
    path = real_file("embeddings", "glove.6B.50d.txt.xz")
    if path is None:
        pytest.skip("GloVe file not found")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        first = f.readline().split(" ")
    wanted = {first[0], "paris", "école", "0000", "zzzz-not-a-word"}
    table = load_embeddings(str(path), wanted=wanted)  # decompresses the whole file once
    assert set(table) == wanted - {"zzzz-not-a-word"}
    assert all(v.shape == (50,) and v.dtype == np.float32 for v in table.values())
    np.testing.assert_array_equal(table[first[0]], np.asarray(first[1:], dtype=np.float32))
