"""Tests for taglm_tf.utils.textio and for every reader sharing its line and field rules."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re

import pytest

from lm_1b_export import dump_lstm_emb
from taglm_tf.data import conll
from taglm_tf.lm import vocab as lm_vocab
from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError


def test_split_fields_only_at_ascii_space_and_tab():
    assert textio.split_fields(" \t1\u00a0200  CD\tI-NP \t O\t ") == ["1\u00a0200", "CD", "I-NP", "O"]
    odd = "a\u2009b\u3000c\u0085d\u2028e\u2029f\x0bg\x0ch\u1680i\u202fj"
    assert textio.split_fields(odd) == [odd]
    assert textio.split_fields(" \t ") == [] and textio.split_fields("") == []
    line = "ab  c\td"
    assert [line[a:b] for a, b in textio.field_spans(line)] == textio.split_fields(line)


@pytest.mark.parametrize(
    "data,lines",
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\r\nb\r\n", ["a", "b"]),
        (b"a\rb\r", ["a", "b"]),
        (b"a\rb", ["a", "b"]),
        (b"a\r\r\nb\n\r\rc", ["a", "", "b", "", "", "c"]),
        (b"\xef\xbb\xbfa\n\xef\xbb\xbfb\n", ["a", "\ufeffb"]),  # only a leading BOM is dropped
        ("x\u0085y\u2028z\u2029w\x0cv\x0bu\n".encode(), ["x\u0085y\u2028z\u2029w\x0cv\x0bu"]),
        (b"", []),
        (b"\n", [""]),
        (b"\xef\xbb\xbf", []),
    ],
)
def test_line_ends(data, lines):
    assert textio.decode_lines(data, "x") == lines


@pytest.mark.parametrize(
    "suffix,compress", [("", bytes), (".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)]
)
def test_read_lines_decompresses_by_suffix(tmp_path, suffix, compress):
    path = tmp_path / f"t.txt{suffix}"
    path.write_bytes(compress(b"\xef\xbb\xbfone\rtwo\r\nthree"))
    assert list(textio.read_lines(str(path))) == [(1, "one"), (2, "two"), (3, "three")]


def test_bad_utf8_and_damaged_stream_name_file_and_line(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"ok\rfine\r\nbad \xff\n")
    with pytest.raises(InputError) as info:
        list(textio.read_lines(str(path)))
    assert (info.value.path, info.value.line) == (str(path), 3)
    assert str(info.value) == f"{path}:3: not valid UTF-8 (byte 5 of the line)"
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(b"not gzip\n")
    with pytest.raises(InputError, match=r"t\.txt\.gz:1: cannot read"):
        list(textio.read_lines(str(gz)))
    with pytest.raises(InputError, match="missing.txt: no such file"):
        list(textio.read_lines(str(tmp_path / "missing.txt")))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1 << 16])
def test_iter_text_in_pieces(size):
    data = "\ufeffZürich\r\nx\u3000y\n\n\u2028€ end".encode("utf-8")
    pieces = list(textio.iter_text(io.BytesIO(data), "x", size=size))
    assert "".join(pieces) == "Zürich\r\nx\u3000y\n\n\u2028€ end"  # BOM dropped, line ends kept
    assert len(pieces) > 1 or size > len(data)


BAD_UTF8 = [  # (input, line, byte), both from 1
    (b"\xef\xbb\xbfok\rfine\r\nbad \xff\n", 3, 5),  # a BOM, then CR and CRLF line ends
    (b"caf\xe9", 1, 4),
    (b"a\nb\n\xe2\x82", 3, 1),  # cut inside a character
    (b"\r\n\r\n\r\rx\xff", 5, 2),
    (b"\n\n\r\n\n\xc3", 5, 1),
    (b"\xef\xbb\xbfab\xff", 1, 3),  # bytes after the BOM
]


@pytest.mark.parametrize("size", [1, 2, 4, 1 << 16])
@pytest.mark.parametrize(("data", "line", "byte"), BAD_UTF8)
def test_bad_utf8_is_placed_alike_by_the_line_and_the_piece_readers(data, line, byte, size):
    """Raw text is read in pieces of any size (a CRLF may be split between reads), other input
    line by line, BRAT text whole: all name the same line and byte, counted as an editor
    counts them."""
    expected = f"in.txt:{line}: not valid UTF-8 (byte {byte} of the line)"
    with pytest.raises(InputError) as info:
        "".join(textio.iter_text(io.BytesIO(data), "in.txt", size=size))
    assert str(info.value) == expected
    with pytest.raises(InputError) as info:
        list(textio.iter_lines(io.BytesIO(data), "in.txt"))
    assert str(info.value) == expected
    with pytest.raises(InputError) as info:  # the whole text at once (BRAT)
        textio.decode_exact(data, "in.txt")
    assert str(info.value) == expected


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("size", [1, 1 << 16])
def test_a_compressed_stream_read_as_text_is_named(tmp_path, suffix, size):
    """Compression is known by suffix, so stdin (or a file named without it) is read as text:
    the error says what the bytes are and how to pass them."""
    path = tmp_path / f"t.txt{suffix}"
    with {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix](path, "wb") as f:
        f.write(b"EU rejects German call\n" * 50)
    hint = f": it starts as a {suffix} file does; compressed input is read by its name, as FILE{suffix}"
    with pytest.raises(InputError, match=re.escape(hint) + "$"):
        "".join(textio.iter_text(io.BytesIO(path.read_bytes()), "<stdin>", size=size))
    with pytest.raises(InputError, match=re.escape(hint) + "$"):
        list(textio.iter_lines(io.BytesIO(path.read_bytes()), "<stdin>"))
    for text in (b"BZ\xff", b"BZh caf\xe9"):  # invalid UTF-8 alone gets no hint
        with pytest.raises(InputError) as info:
            list(textio.iter_lines(io.BytesIO(text), "<stdin>"))
        assert str(info.value) == f"<stdin>:1: not valid UTF-8 (byte {len(text)} of the line)"
    with pytest.raises(InputError, match=f"decompressed, it is {re.escape(suffix)}-compressed again$"):
        list(textio.iter_lines(io.BytesIO(path.read_bytes()), f"twice.txt{suffix}"))
    assert list(textio.read_lines(str(path)))[0] == (1, "EU rejects German call")


# ---------------------------------------------------------------- every reader, same rules

SENTENCES = [["EU", "rejects", "1\u00a0200", "x\u3000y"], ["a\u2028b", "c\u0085d", "."], ["Peter"]]


def _text(ending: str, bom: bool) -> bytes:
    body = ending.join(" ".join(s) for s in SENTENCES) + ending
    return (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8")


@pytest.mark.parametrize("ending,bom", [("\n", False), ("\r", False), ("\r\n", True), ("\r", True)])
def test_every_text_reader_reads_the_same_tokens(tmp_path, ending, bom):
    path = tmp_path / "s.txt"
    path.write_bytes(_text(ending, bom))
    tagging = list(conll.read_tokenized_text(io.BytesIO(path.read_bytes())))
    assert [list(s.tokens) for s in tagging] == SENTENCES
    assert [s.line for s in tagging] == [1, 2, 3]
    assert [tokens for _, tokens in lm_data.read_sentences(str(path))] == SENTENCES
    assert [i for i, _ in lm_data.read_sentences(str(path), start_line=1)] == [1, 2]
    assert dump_lstm_emb.read_sentences(str(path)) == SENTENCES
    # CoNLL: one token per line, blank line between sentences.
    columns = (ending + ending).join(ending.join(f"{t} NN I-NP O" for t in s) for s in SENTENCES)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + columns.encode("utf-8"))
    assert [list(s.tokens) for s in conll.read_conll(str(path), conll.CONLL2003)] == SENTENCES
    unlabeled = list(conll.read_unlabeled_conll(io.BytesIO(path.read_bytes())))
    assert [list(s.tokens) for s in unlabeled] == SENTENCES
    assert all(c == ("NN", "I-NP", "O") for s in unlabeled for c in s.columns)


@pytest.mark.parametrize("ending", ["\n", "\r"])
def test_lm_vocabulary_file(tmp_path, ending):
    words = ["<S>", "</S>", "<UNK>", "\u00a0nbsp\u00a0", "a\u2028b", "the"]
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\xef\xbb\xbf" + (ending.join(words) + ending).encode("utf-8"))
    (tmp_path / "vocab.txt.counts").write_bytes(("\ufeff" + ending.join("765432")).encode())
    vocab = lm_vocab.LMVocabulary.load(str(path))
    assert vocab.words == words and vocab.counts == [7, 6, 5, 4, 3, 2]
