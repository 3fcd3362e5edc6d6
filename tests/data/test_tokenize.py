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


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, world. I live in New York.", ["Hello , world .", "I live in New York ."]),
        (
            "Mr. Smith met Dr. Jones in the U.S. on Monday.",
            ["Mr. Smith met Dr. Jones in the U.S. on Monday ."],
        ),
        ('He said "no" (twice); she didn\'t.', ['He said " no " ( twice ) ; she did n\'t .']),
        (
            "Germany's Anglo-Dutch talks on 1996-08-22 ended 6-2!",
            ["Germany 's Anglo-Dutch talks on 1996-08-22 ended 6-2 !"],
        ),
        (
            "See https://example.com/a-b?x=1, or www.reuters.com.",
            ["See https://example.com/a-b?x=1 , or www.reuters.com ."],
        ),
        (
            "Zürich’s São Paulo office — “quoted” — closed… Why?",
            ["Zürich ’s São Paulo office — “ quoted ” — closed …", "Why ?"],
        ),
        ("Straße in Köln. Ελλάδα και Κύπρος.", ["Straße in Köln .", "Ελλάδα και Κύπρος ."]),
    ],
)
def test_conll2003_style_tokens_and_sentences(text, expected):
    assert split(text) == expected


def test_offsets_index_the_original_text_across_whitespace_and_paragraphs():
    text = "  First line\twraps\u00a0here\nand goes on.\n\n \n\nSecond  paragraph, no period\n"
    sentences = tok.tokenize(text)
    assert [s.tokens for s in sentences] == [
        ("First", "line", "wraps", "here", "and", "goes", "on", "."),
        ("Second", "paragraph", ",", "no", "period"),
    ]
    assert sentences[0].offsets[0] == (2, 7)
    assert sentences[1].offsets[0] == (text.index("Second"), text.index("Second") + 6)
    assert sentences[1].offsets[-1] == (len(text) - 7, len(text) - 1)
    split(text)


def test_blank_line_always_ends_a_sentence():
    assert split("no period here\n\nNew York") == ["no period here", "New York"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("one two\r\rthree four", ["one two", "three four"]),  # CR-only lines
        ("one two\r \t\rthree four", ["one two", "three four"]),
        ("one two\r\n\r\nthree four", ["one two", "three four"]),  # CRLF
        ("one two\n\r\nthree four", ["one two", "three four"]),  # mixed
        ("one two\r\nthree four", ["one two three four"]),  # one CRLF is one line end
        ("one two\r\n \nthree four", ["one two", "three four"]),
        ("one two\rthree four", ["one two three four"]),
    ],
)
def test_blank_line_at_any_line_end_ends_a_sentence(text, expected):
    assert split(text) == expected


def test_leading_bom_is_skipped_and_offsets_index_the_text_given():
    text = "\ufeffAnna Novak left."
    assert split(text) == ["Anna Novak left ."]
    assert tok.tokenize(text)[0].offsets[0] == (1, 5)
    assert split("\ufeff") == []


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_whitespace_only_gives_no_sentences(text):
    assert tok.tokenize(text) == []


def test_tokenize_many_keeps_input_order():
    texts = ["Go now.", "", "Rain fell. It stopped.", "Paris"]
    assert [[s.tokens for s in out] for out in tok.tokenize_many(texts, batch_size=1)] == [
        [("Go", "now", ".")],
        [],
        [("Rain", "fell", "."), ("It", "stopped", ".")],
        [("Paris",)],
    ]


def test_paragraphs_offsets():
    text = "a b\n  \nc\n\n\nd e\n"
    assert list(tok.paragraphs(text)) == [(0, "a b"), (7, "c"), (11, "d e\n")]


# A text whose paragraph breaks take every form _BLANK_LINES knows (CRLF, CR, spaces and tabs on the
# blank line, several blank lines, Unicode space after the break), hard-wrapped lines, and a
# sentence without a period at a break.
STREAMED = (
    "John Smith lives in New York. He works\nfor the EU.\r\n\r\n"
    "EU rejects German call to boycott British lamb!\n \t\n\n\u00a0Peter Blackburn, "
    'BRUSSELS 1996-08-22: Mr. Novak of the U.S. said "no" in Zürich\n\n'
    "no period here\n\n\n  Last one .\r\rOld Mac file\r \rends . "
) * 3


@pytest.mark.parametrize("block_chars", [1, 7, 40, 100, 10_000])
def test_paragraph_blocks_tokenize_like_the_whole_text(block_chars):
    pieces = [STREAMED[i : i + 5] for i in range(0, len(STREAMED), 5)]
    blocks = list(tok.paragraph_blocks(pieces, block_chars=block_chars))
    assert "".join(b for _, b in blocks) == STREAMED
    assert [o for o, _ in blocks] == [sum(len(b) for _, b in blocks[:i]) for i in range(len(blocks))]
    assert all(len(b) >= block_chars for _, b in blocks[:-1])
    shifted = [
        tok.TokenizedSentence(s.tokens, tuple((a + o, b + o) for a, b in s.offsets))
        for o, b in blocks
        for s in tok.tokenize(b)
    ]
    assert shifted == tok.tokenize(STREAMED)
    if block_chars <= 100:
        assert len(blocks) > 3


def test_paragraph_blocks_cut_an_overlong_paragraph_at_a_line_break():
    text = "one line\n" * 30  # no paragraph break at all
    blocks = list(tok.paragraph_blocks([text], block_chars=10, max_block_chars=50))
    assert "".join(b for _, b in blocks) == text
    assert all(len(b) <= 50 and b.endswith("\n") for _, b in blocks)
    assert list(tok.paragraph_blocks(["x" * 120], block_chars=10, max_block_chars=50)) == [
        (0, "x" * 50),
        (50, "x" * 50),
        (100, "x" * 20),
    ]
