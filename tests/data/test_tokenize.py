"""Raw-text tokenization: CoNLL-2003 splitting, sentence boundaries, offsets into the input."""
import pytest

from taglm_tf.data import tokenize as tok


def split(text):
    sentences = tok.tokenize(text)
    for s in sentences:
        assert len(s.tokens) == len(s.offsets)
        assert [text[a:b] for a, b in s.offsets] == list(s.tokens)
        assert all(a < b for a, b in s.offsets)
    starts = [a for s in sentences for a, _ in s.offsets]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    return [" ".join(s.tokens) for s in sentences]


@pytest.mark.parametrize("text, expected", [
    ("Hello, world. I live in New York.", ["Hello , world .", "I live in New York ."]),
    ("Mr. Smith met Dr. Jones in the U.S. on Monday.",
     ["Mr. Smith met Dr. Jones in the U.S. on Monday ."]),
    ('He said "no" (twice); she didn\'t.', ['He said " no " ( twice ) ; she did n\'t .']),
    ("Germany's Anglo-Dutch talks on 1996-08-22 ended 6-2!",
     ["Germany 's Anglo-Dutch talks on 1996-08-22 ended 6-2 !"]),
    ("See https://example.com/a-b?x=1, or www.reuters.com.",
     ["See https://example.com/a-b?x=1 , or www.reuters.com ."]),
    ("Zürich’s São Paulo office — “quoted” — closed… Why?",
     ["Zürich ’s São Paulo office — “ quoted ” — closed …", "Why ?"]),
    ("Straße in Köln. Ελλάδα και Κύπρος.", ["Straße in Köln .", "Ελλάδα και Κύπρος ."]),
])
def test_conll2003_style_tokens_and_sentences(text, expected):
    assert split(text) == expected


def test_offsets_index_the_original_text_across_whitespace_and_paragraphs():
    text = "  First line\twraps\u00a0here\nand goes on.\n\n \n\nSecond  paragraph, no period\n"
    sentences = tok.tokenize(text)
    assert [s.tokens for s in sentences] == [
        ("First", "line", "wraps", "here", "and", "goes", "on", "."),
        ("Second", "paragraph", ",", "no", "period")]
    assert sentences[0].offsets[0] == (2, 7)
    assert sentences[1].offsets[0] == (text.index("Second"), text.index("Second") + 6)
    assert sentences[1].offsets[-1] == (len(text) - 7, len(text) - 1)
    split(text)


def test_blank_line_always_ends_a_sentence():
    assert split("no period here\n\nNew York") == ["no period here", "New York"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_whitespace_only_gives_no_sentences(text):
    assert tok.tokenize(text) == []


def test_tokenize_many_keeps_input_order():
    texts = ["Go now.", "", "Rain fell. It stopped.", "Paris"]
    assert [[s.tokens for s in out] for out in tok.tokenize_many(texts, batch_size=1)] == [
        [("Go", "now", ".")], [], [("Rain", "fell", "."), ("It", "stopped", ".")], [("Paris",)]]


def test_paragraphs_offsets():
    text = "a b\n  \nc\n\n\nd e\n"
    assert list(tok.paragraphs(text)) == [(0, "a b"), (7, "c"), (11, "d e\n")]
