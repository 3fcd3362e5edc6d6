"""Raw text -> sentences of CoNLL-2003-style tokens with character offsets into the text.

Tokenization and sentence splitting are spaCy's rule-based English tokenizer and
``sentencizer`` (no statistical model, nothing downloaded at run time), with one change to
match CoNLL-2003: hyphens inside a word or number never split it (``Anglo-Dutch``,
``1996-08-22`` and ``6-2`` stay one token, as in the CoNLL-2003 files), while punctuation,
quotes, brackets, clitics (``'s``, ``n't``) and a sentence-final period split off; ``Mr.``,
``U.S.`` and URLs stay whole. See the README ("Raw text") for why spaCy.

Blank lines (a line with only whitespace; lines end at LF, CRLF or CR) always end a sentence;
single line breaks do not, so hard-wrapped paragraphs are fine. Any Unicode space separates
tokens here (U+00A0 included), unlike pre-tokenized text, where only ASCII spaces and tabs do. A
leading byte-order mark is skipped. Offsets are Python string indices (code points) into the
text given, end exclusive: ``text[start:end] == token``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from taglm_tf.utils import textio

# A paragraph break: a line holding only whitespace. Lines end at LF, CRLF or CR (as in
# taglm_tf.utils.textio); "\r(?!\n)" keeps one CRLF from counting as two line ends.
_LINE_END = r"(?:\r\n|\r(?!\n)|\n)"
_BLANK_LINES = re.compile(_LINE_END + r"[ \t\f\v]*" + _LINE_END + r"\s*")


class TokenizedSentence(NamedTuple):
    """One sentence of a raw text.

    ``tokens[i] == text[offsets[i][0]:offsets[i][1]]`` for the ``text`` that was tokenized.
    """

    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]  # (char start, char end) per token, end exclusive


@functools.lru_cache(maxsize=1)
def _pipeline():
    # spaCy is imported here, not at module level: it costs 1.4-1.6 s and only raw text needs it.
    import spacy
    from spacy.lang.en import English
    from spacy.pipeline import Sentencizer
    from spacy.util import compile_infix_regex

    nlp = spacy.blank("en")
    # CoNLL-2003 keeps hyphenated words and numbers whole: drop every infix rule that would split
    # a hyphen between letters or digits (spaCy's rules are regexes; test each on both cases).
    infixes = [
        rule for rule in English.Defaults.infixes if not (re.search(rule, "a-b") or re.search(rule, "1-2"))
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # "…" ends sentences too; spaCy's list of sentence-final characters lacks it.
    nlp.add_pipe("sentencizer", config={"punct_chars": Sentencizer.default_punct_chars + ["…"]})
    return nlp


def paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, paragraph)`` for each stretch of ``text`` between blank lines (non-empty ones)."""
    start = 0
    for match in _BLANK_LINES.finditer(text):
        if text[start : match.start()].strip():
            yield start, text[start : match.start()]
        start = match.end()
    if text[start:].strip():
        yield start, text[start:]


# Raw text read as a stream is tokenized in blocks of about BLOCK_CHARS characters, cut at
# paragraph breaks (:func:`paragraph_blocks`); a paragraph longer than MAX_BLOCK_CHARS is cut at a
# line break (spaCy refuses a text over 1,000,000 characters: its ``nlp.max_length``).
BLOCK_CHARS = 1 << 16
MAX_BLOCK_CHARS = 1 << 19


def paragraph_blocks(
    pieces: Iterable[str], block_chars: int = BLOCK_CHARS, max_block_chars: int = MAX_BLOCK_CHARS
) -> Iterator[tuple[int, str]]:
    """Cut a text that arrives in ``pieces`` into ``(offset, block)``: consecutive blocks that
    together are the text, ``offset`` the block's start in it (characters).

    Each block but the last holds at least ``block_chars`` characters and ends where a paragraph
    starts (:func:`paragraphs`: after a blank-line break, at its first non-space character), so
    the sentences of each block, offsets shifted by the block's offset, are exactly those of
    :func:`tokenize` on the whole text. A block that reaches ``max_block_chars`` without such a
    break is cut after its last line break (else its last space or tab, else anywhere): only
    there may a sentence be split differently. Memory holds one block and one piece.
    """
    held: list[str] = []
    size, offset, next_try = 0, 0, block_chars
    for piece in pieces:
        held.append(piece)
        size += len(piece)
        if size < next_try:
            continue
        buffer = "".join(held)
        while True:
            cut = _paragraph_cut(buffer, block_chars)
            if cut is None and len(buffer) >= max_block_chars:
                cut = _forced_cut(buffer, max_block_chars)
            if cut is None:
                break
            yield offset, buffer[:cut]
            offset, buffer = offset + cut, buffer[cut:]
        held, size = [buffer], len(buffer)
        # Look again once a little more text has come (not at every small piece of a pipe).
        next_try = max(block_chars, size + block_chars // 8)
    buffer = "".join(held)
    if buffer:
        yield offset, buffer


def _paragraph_cut(text: str, start: int) -> int | None:
    """The end of the first paragraph break (``_BLANK_LINES``) found from ``start`` that ends
    before the end of ``text`` (so a non-space character follows and the break is whole), or
    ``None``. A break found from ``start`` ends where the whole text's break there ends: the
    regex has no anchors and only whitespace precedes the end of a break."""
    for match in _BLANK_LINES.finditer(text, start):
        if match.end() < len(text):
            return match.end()
    return None


def _forced_cut(text: str, limit: int) -> int:
    """Where to cut ``text[:limit]`` when it holds no paragraph break: after its last line break,
    else after its last space or tab, else at ``limit``."""
    head = text[:limit]
    for separators in ("\n\r", " \t"):
        cut = max(head.rfind(c) for c in separators) + 1
        if cut > 0:
            return cut
    return limit


def tokenize(text: str) -> list[TokenizedSentence]:
    """Split ``text`` into sentences and tokens; offsets index ``text`` itself.

    Whitespace is never part of a token, and an all-whitespace text gives ``[]``.
    """
    return next(tokenize_many([text]))


def tokenize_many(texts: Iterable[str], batch_size: int = 64) -> Iterator[list[TokenizedSentence]]:
    """:func:`tokenize` for each text, in order (spaCy processes the paragraphs in batches)."""
    nlp = _pipeline()
    for text in texts:
        sentences: list[TokenizedSentence] = []
        skip = len(text) - len(textio.strip_bom(text))  # spaCy would glue it to the first token
        spans = [(offset + skip, paragraph) for offset, paragraph in paragraphs(text[skip:])]
        for (offset, _), doc in zip(spans, nlp.pipe((p for _, p in spans), batch_size=batch_size)):
            for sent in doc.sents:
                words = [t for t in sent if not t.is_space]
                if words:
                    sentences.append(
                        TokenizedSentence(
                            tuple(t.text for t in words),
                            tuple((offset + t.idx, offset + t.idx + len(t.text)) for t in words),
                        )
                    )
        yield sentences
