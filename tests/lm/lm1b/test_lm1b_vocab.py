"""lm_1b's vocabulary file and char encoding against hand-computed ids (docs/lm_1b.md §3, §9)."""

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder, read_vocab
from taglm_tf.lm.vocab import LMVocabulary, encode_sentence, to_bytes
from taglm_tf.utils.errors import InputError

SPECIALS = b"<S>\n</S>\n<UNK>\n"


def vocab_file(tmp_path, data: bytes) -> str:
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    return str(path)


def char_encoder(path: str) -> LM1BCharEncoder:
    return LM1BCharEncoder(read_vocab(path).words, path=path)


@pytest.fixture
def vocab(tmp_path):
    data = SPECIALS + b"the\n  cat \t\n!!!MAXTERMID\nna\xc3\xafve\r\n"
    return read_vocab(vocab_file(tmp_path, data))


@pytest.fixture
def chars(vocab):
    return LM1BCharEncoder(vocab.words, path=vocab.path)


def test_word_ids_skip_maxtermid_and_strip(vocab):
    assert vocab.size == 6
    assert [vocab.word_to_id(w) for w in ["<S>", "</S>", "<UNK>", "the", "cat", "naïve"]] == list(range(6))
    assert (vocab.bos, vocab.eos, vocab.unk) == (0, 1, 2)
    assert vocab.word_to_id("naïve".encode()) == 5
    assert vocab.word_to_id("dog") == 2 and vocab.word_to_id("!!!MAXTERMID") == 2
    assert vocab.id_to_word(4) == "cat"
    for outside in (6, -1):  # data_utils answers "ERROR"; the one vocabulary class refuses
        with pytest.raises(IndexError):
            vocab.id_to_word(outside)
    assert encode_sentence(vocab, ["the", "dog"]).tolist() == [0, 3, 2, 1]


def test_special_chars_are_the_lowest_free_bytes(chars):
    assert (chars.bos_char, chars.eos_char, chars.bow_char, chars.eow_char, chars.pad_char) == (0, 1, 2, 3, 4)
    assert chars.bos_chars.tolist() == [2, 0, 3] + [4] * 47
    assert chars.eos_chars.tolist() == [2, 1, 3] + [4] * 47


def test_encode_word_known_oov_and_non_ascii(chars):
    assert chars.encode_word("cat").tolist() == [2, 99, 97, 116, 3] + [4] * 45
    assert chars.encode_word("dog").tolist() == [2, 100, 111, 103, 3] + [4] * 45
    assert chars.encode_word("naïve").tolist() == [2, 110, 97, 195, 175, 118, 101, 3] + [4] * 42
    assert chars.encode_word("<S>").tolist() == [2, 60, 83, 62, 3] + [4] * 45
    assert chars.encode_word("").tolist() == [2, 3] + [4] * 48
    words = chars.encode_words(["cat", "dog"])
    assert words.shape == (2, 50) and words.dtype == np.int32
    assert chars.encode_chars(["cat"]).tolist() == [
        chars.bos_chars.tolist(),
        words[0].tolist(),
        chars.eos_chars.tolist(),
    ]


def test_long_words_keep_48_bytes(chars):
    assert chars.encode_word("x" * 60).tolist() == [2] + [120] * 48 + [3]
    assert chars.encode_word("y" * 48).tolist() == [2] + [121] * 48 + [3]
    assert chars.encode_word("z" * 47).tolist() == [2] + [122] * 47 + [3, 4]
    # 1 + 2*30 bytes; the cut after 48 bytes keeps only the first byte (0xc3) of the 24th "ü".
    assert chars.encode_word("a" + "ü" * 30).tolist() == [2, 97] + [195, 188] * 23 + [195, 3]


def test_free_bytes_skip_used_ones(tmp_path):
    chars = char_encoder(vocab_file(tmp_path, SPECIALS + b"a\x01b\x03\n"))
    assert (chars.bos_char, chars.eos_char, chars.bow_char, chars.eow_char, chars.pad_char) == (0, 2, 4, 5, 6)
    assert chars.encode_word("a\x01").tolist() == [4, 97, 1, 5] + [6] * 46


def test_maxtermid_bytes_do_not_count_and_line_ends_are_always_free(tmp_path):
    low = bytes(b for b in range(0x21) if b not in b"\r\n")  # every byte up to ' ' but LF and CR
    chars = char_encoder(vocab_file(tmp_path, SPECIALS + b"a" + low + b"z\n!!!MAXTERMID\n"))
    assert (chars.bos_char, chars.eos_char, chars.bow_char, chars.eow_char, chars.pad_char) == (
        0x0A,
        0x0D,
        0x21,
        0x22,
        0x23,
    )


def test_too_few_free_bytes(tmp_path):
    path = vocab_file(tmp_path, SPECIALS + b"a" + bytes(b for b in range(256) if b not in b"\r\n") + b"\n")
    with pytest.raises(InputError, match="only 2 byte values") as error:
        char_encoder(path)
    assert error.value.path == path


def test_missing_special_word(tmp_path):
    path = vocab_file(tmp_path, b"<S>\n</S>\nthe\n")
    with pytest.raises(InputError, match="<UNK>") as error:
        read_vocab(path)
    assert error.value.path == path


def test_repeated_word_keeps_last_id(tmp_path):
    vocab = read_vocab(vocab_file(tmp_path, SPECIALS + b"the\ncat\nthe\n"))
    assert vocab.size == 6 and vocab.word_to_id("the") == 5 and vocab.id_to_word(3) == "the"


def test_in_graph_encoding_equals_encode_word(tmp_path):
    chars = char_encoder(vocab_file(tmp_path, SPECIALS + b"a\x01b\x03\n"))  # non-default specials
    rng = np.random.default_rng(0)
    words = [
        "cat",
        "",
        "<S>",
        "naïve",
        "x" * 60,
        "y" * 48,
        "z" * 47,
        "a" + "ü" * 30,
        "a\x01",
        "\x00b",
        "日本語のテキスト" * 3,
    ] + [bytes(rng.integers(1, 256, n).tolist()) for n in rng.integers(1, 70, 40)]
    expected = np.stack([chars.encode_word(w) for w in words])
    got = chars.encode_words_in_graph(tf.constant([to_bytes(w) for w in words])).numpy()
    np.testing.assert_array_equal(got, expected)
    grid = chars.encode_words_in_graph(tf.constant([[b"cat", b""], [b"x" * 60, b"naive"]])).numpy()
    assert grid.shape == (2, 2, 50) and (grid[1, 0] == chars.encode_word("x" * 60)).all()


def test_a_leading_byte_order_mark_is_dropped(tmp_path):
    """As every text input of the project: <S> keeps id 0 in a file saved with a BOM."""
    vocab = read_vocab(vocab_file(tmp_path, b"\xef\xbb\xbf" + SPECIALS + b"the\n"))
    assert (vocab.bos, vocab.word_to_id("the"), vocab.size) == (0, 3, 4)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_lines_and_words_follow_the_text_input_rules(tmp_path, newline):
    """LF, CRLF or CR-only line ends give the same words; only spaces and tabs around a word are
    dropped (a form feed or vertical tab is part of it), as the project's own vocabulary reader
    (LMVocabulary.load) reads the same file."""
    data = b"\xef\xbb\xbf" + newline.join(
        [b"<S>", b"</S>", b"<UNK>", b" the\t", b"cat\x0c", b"\x0bna\xc3\xafve"]
    )
    path = vocab_file(tmp_path, data + newline)
    vocab = read_vocab(path)
    assert vocab.words == ["<S>", "</S>", "<UNK>", "the", "cat\x0c", "\x0bnaïve"]
    assert vocab.words == LMVocabulary.load(path).words
    chars = char_encoder(path)
    assert chars.encode_word("cat\x0c").tolist()[:6] == [chars.bow_char, 99, 97, 116, 12, chars.eow_char]
