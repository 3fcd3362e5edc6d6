"""Raw text -> sentences of CoNLL-2003-style tokens with character offsets into the text.

Tokenization and sentence splitting are spaCy's rule-based English tokenizer and
``sentencizer`` (no statistical model, nothing downloaded at run time), with one change to
match CoNLL-2003: hyphens inside a word or number never split it (``Anglo-Dutch``,
``1996-08-22`` and ``6-2`` stay one token, as in the CoNLL-2003 files), while punctuation,
quotes, brackets, clitics (``'s``, ``n't``) and a sentence-final period split off; ``Mr.``,
``U.S.`` and URLs stay whole. See the README ("Raw text") for why spaCy.

Blank lines (a line with only whitespace) always end a sentence; single line breaks do not, so
hard-wrapped paragraphs are fine. Offsets are Python string indices (code points), end
exclusive: ``text[start:end] == token``.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator, List, NamedTuple, Tuple

_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n\s*")  # paragraph break: a line holding only whitespace


class TokenizedSentence(NamedTuple):
    """One sentence of a raw text.

    ``tokens[i] == text[offsets[i][0]:offsets[i][1]]`` for the ``text`` that was tokenized.
    """

    tokens: Tuple[str, ...]
    offsets: Tuple[Tuple[int, int], ...]  # (char start, char end) per token, end exclusive


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
    infixes = [rule for rule in English.Defaults.infixes
               if not (re.search(rule, "a-b") or re.search(rule, "1-2"))]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # "…" ends sentences too; spaCy's list of sentence-final characters lacks it.
    nlp.add_pipe("sentencizer", config={"punct_chars": Sentencizer.default_punct_chars + ["…"]})
    return nlp


def paragraphs(text: str) -> Iterator[Tuple[int, str]]:
    """``(offset, paragraph)`` for each stretch of ``text`` between blank lines (non-empty ones)."""
    start = 0
    for match in _BLANK_LINES.finditer(text):
        if text[start:match.start()].strip():
            yield start, text[start:match.start()]
        start = match.end()
    if text[start:].strip():
        yield start, text[start:]


def tokenize(text: str) -> List[TokenizedSentence]:
    """Split ``text`` into sentences and tokens; offsets index ``text`` itself.

    Whitespace is never part of a token, and an all-whitespace text gives ``[]``.
    """
    return next(tokenize_many([text]))


def tokenize_many(texts: Iterable[str], batch_size: int = 64) -> Iterator[List[TokenizedSentence]]:
    """:func:`tokenize` for each text, in order (spaCy processes the paragraphs in batches)."""
    nlp = _pipeline()
    for text in texts:
        sentences: List[TokenizedSentence] = []
        spans = list(paragraphs(text))
        for (offset, _), doc in zip(spans, nlp.pipe((p for _, p in spans), batch_size=batch_size)):
            for sent in doc.sents:
                words = [t for t in sent if not t.is_space]
                if words:
                    sentences.append(TokenizedSentence(
                        tuple(t.text for t in words),
                        tuple((offset + t.idx, offset + t.idx + len(t.text)) for t in words)))
        yield sentences
