"""Readers and writers for CoNLL column files (CoNLL-2003 NER, CoNLL-2000 chunking and POS).

A file holds one token per line with space- or tab-separated columns, a blank line between
sentences and optional ``-DOCSTART-`` lines between documents. The first column is the
word and one column (the last, unless the format says otherwise) the tag; everything is validated while reading so that a bad file
fails with its name and line number. Lines, fields, BOM and encoding follow
:mod:`taglm_tf.utils.textio` (only ASCII space and tab separate columns).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from taglm_tf.data import tag_schemes
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

DOCSTART = "-DOCSTART-"


@dataclasses.dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens, its tags and the other columns of the file."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    columns: tuple[tuple[str, ...], ...] = ()  # middle columns per token (e.g. POS, chunk)
    line: int = 0  # 1-based line of the first token in its file
    document: str = ""  # BRAT corpora: the .txt file the sentence comes from
    offsets: tuple[tuple[int, int], ...] = ()  # BRAT corpora: (start, end) characters per token

    def __len__(self) -> int:
        return len(self.tokens)

    def with_tags(self, tags: Sequence[str]) -> Sentence:
        """A copy with its tags replaced by ``tags``."""
        return dataclasses.replace(self, tags=tuple(tags))


@dataclasses.dataclass(frozen=True)
class CorpusFormat:
    """Column layout and tag scheme of a CoNLL file family.

    Attributes:
        name: the family's name, for errors.
        num_columns: fields per token line, the word first.
        tag_scheme: the chunk scheme of the tag column (``iob1``, ``iob2``), or ``None`` when
            the column holds one label per token (POS tags), any non-empty field.
        tag_column: the index of the tag column (the last by default); the columns between the
            word and the end that are not the tag are kept as :attr:`Sentence.columns`.
    """

    name: str
    num_columns: int
    tag_scheme: str | None
    tag_column: int = -1


CONLL2003 = CorpusFormat("conll2003", 4, "iob1")
CONLL2000 = CorpusFormat("conll2000", 3, "iob2")
CONLL2000_POS = CorpusFormat("conll2000", 3, None, tag_column=1)  # word POS chunk: the POS column


def read_conll(path: str, fmt: CorpusFormat) -> list[Sentence]:
    """Read a CoNLL file, checking columns and tags; raises :class:`InputError`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError("no such file", path)
    sentences: list[Sentence] = []
    rows: list[tuple[int, list[str]]] = []

    def flush():
        if rows:
            sentences.append(_make_sentence(rows, fmt.tag_column % fmt.num_columns))
            rows.clear()

    for number, line in textio.read_lines(path):
        fields = textio.split_fields(line)
        if not fields:
            flush()
            continue
        if fields[0] == DOCSTART:
            flush()
            continue
        if len(fields) != fmt.num_columns:
            raise InputError(
                f"expected {fmt.num_columns} columns for {fmt.name}, found {len(fields)}: {line!r}",
                path,
                number,
            )
        _check_tag(fields, fmt, path, number)
        rows.append((number, fields))
    flush()
    if not sentences:
        raise InputError("no sentences found (empty file?)", path)
    return sentences


def _make_sentence(rows, tag_column: int) -> Sentence:
    return Sentence(
        tokens=tuple(f[0] for _, f in rows),
        tags=tuple(f[tag_column] for _, f in rows),
        columns=tuple(tuple(f[1:tag_column] + f[tag_column + 1 :]) for _, f in rows),
        line=rows[0][0],
    )


def read_tokenized_text(stream: BinaryIO, source: str = "<stdin>") -> Iterator[Sentence]:
    """Text for tagging, read lazily: one space/tab-tokenized sentence per line (tags are ``O``),
    and an empty sentence for a line without tokens, so that the output of the n-th sentence
    answers the n-th input line.

    Args:
        stream: the UTF-8 input, binary (lines and fields as in :mod:`taglm_tf.utils.textio`).
        source: the input's name, for errors.

    Raises:
        InputError: invalid UTF-8, or a damaged compressed stream, naming ``source`` and the
            line (raised when that line is reached: the sentences before it have been yielded).
    """
    for number, line in textio.iter_lines(stream, source):
        tokens = tuple(textio.split_fields(line))
        yield Sentence(tokens, ("O",) * len(tokens), line=number)


def read_unlabeled_conll(
    stream: BinaryIO, source: str = "<stdin>", fmt: CorpusFormat | None = None
) -> Iterator[Sentence]:
    """CoNLL columns for tagging, read lazily: the first column is the word, the other columns
    are kept as they are; blank and ``-DOCSTART-`` lines end a sentence.

    Every token line must have as many fields as the first one of its file or document (a
    ``-DOCSTART-`` line starts another, so concatenated files read as each one would). When
    that is all of ``fmt``'s columns (the model's corpus format), the tag column holds gold tags
    and is checked as :func:`read_conll` checks it, so a line that training refuses is refused
    here too: a comment such as ``# id 7f3a domain=en`` has a field count of its own or an
    invalid tag. (The ``#`` of CoNLL-2000 is a real token, so no line is skipped for its first
    character. A POS model's tag column takes any label, so there only the count can tell.)

    Args:
        stream, source: as for :func:`read_tokenized_text`.
        fmt: the model's corpus format, or ``None`` (only the field count is checked).

    Raises:
        InputError: as for :func:`read_tokenized_text`, and for a line whose field count differs
            from its document's first token line's, or (with ``fmt``) whose tag is invalid in
            its scheme.
    """
    rows: list[tuple[int, list[str]]] = []
    width: tuple[int, int, str] | None = None  # (fields, line, word) of the document's first token line
    for number, line in textio.iter_lines(stream, source):
        fields = textio.split_fields(line)
        if fields and fields[0] != DOCSTART:
            width = width or (len(fields), number, fields[0])
            _check_unlabeled_row(fields, line, width, fmt, source, number)
            rows.append((number, fields))
            continue
        if fields:
            width = None  # concatenated files may differ, each from its -DOCSTART- line on
        if rows:
            yield _unlabeled_sentence(rows)
            rows = []
    if rows:
        yield _unlabeled_sentence(rows)


def _check_unlabeled_row(fields, line, width, fmt, source, number) -> None:
    if len(fields) != width[0]:
        # the first line sets the count: name a comment there, the likelier culprit
        comment = (
            f" (line {width[1]} starts with '#': CoNLL input has no comment lines)"
            if width[2][0] == "#"
            else ""
        )
        raise InputError(
            f"expected {width[0]} columns, as on line {width[1]}, found {len(fields)}: {line!r}{comment}",
            source,
            number,
        )
    if fmt is not None and len(fields) == fmt.num_columns:
        _check_tag(fields, fmt, source, number)


def _check_tag(fields: Sequence[str], fmt: CorpusFormat, source: str, number: int) -> None:
    """Refuse a tag column that is not a tag of ``fmt``'s scheme (any label when it has none)."""
    tag = fields[fmt.tag_column]
    if fmt.tag_scheme and not tag_schemes.is_valid_tag(tag, fmt.tag_scheme):
        raise InputError(f"invalid {fmt.tag_scheme.upper()} tag {tag!r}", source, number)


def _unlabeled_sentence(rows: Sequence[tuple[int, list[str]]]) -> Sentence:
    return Sentence(
        tuple(f[0] for _, f in rows), ("O",) * len(rows), tuple(tuple(f[1:]) for _, f in rows), rows[0][0]
    )


def convert_tags(sentences: Iterable[Sentence], scheme: str) -> list[Sentence]:
    """Return the sentences with their tags converted to ``scheme``."""
    return [s.with_tags(tag_schemes.convert(s.tags, scheme)) for s in sentences]


def conll_lines(sentences: Sequence[Sentence], *tag_columns: Sequence[Sequence[str]]) -> Iterator[str]:
    """``token [columns...] tags...`` per token (one tag per column of ``tag_columns``), and ``""``
    after each sentence: the CoNLL layout that conlleval and the tagging CLI write.

    Every field must read back as one field (:func:`read_conll`, and conlleval's default
    one-space delimiter): non-empty, without spaces, tabs or line breaks.

    Raises:
        ValueError: a tag column has another number of sentences, or of tags in a sentence.
        InputError: a field that would not read back as one, naming the sentence's line.
    """
    for tags in tag_columns:
        if len(tags) != len(sentences):
            raise ValueError(f"{len(tags)} predicted sequences for {len(sentences)} sentences")
    for k, sentence in enumerate(sentences):
        for tags in tag_columns:
            if len(tags[k]) != len(sentence):
                raise ValueError(
                    f"sentence at line {sentence.line}: {len(tags[k])} predicted tags for "
                    f"{len(sentence)} tokens"
                )
        for i, token in enumerate(sentence.tokens):
            fields = (
                token,
                *(sentence.columns[i] if sentence.columns else ()),
                *(tags[k][i] for tags in tag_columns),
            )
            line = " ".join(fields)
            if line.count(" ") != len(fields) - 1 or _NOT_IN_FIELD.search(line) or "" in fields:
                bad = next(f for f in fields if textio.split_fields(f) != [f] or _NOT_IN_FIELD.search(f))
                raise InputError(
                    f"{bad!r} (token {i + 1} of the sentence at line {sentence.line}) cannot be "
                    "one CoNLL column: it is empty or holds a space, tab or line break"
                )
            yield line
        yield ""


_NOT_IN_FIELD = re.compile("[\t\n\r]")


def format_predictions(sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]]) -> str:
    """conlleval input: ``token [columns...] gold predicted`` lines, blank line between sentences
    (:func:`read_predictions` reads them back)."""
    return "".join(line + "\n" for line in conll_lines(sentences, [s.tags for s in sentences], predicted))


@dataclasses.dataclass(frozen=True)
class PredictedSentence:
    """Tokens with gold and predicted tags, as in a predictions file (:func:`format_predictions`)."""

    tokens: tuple[str, ...]
    gold: tuple[str, ...]
    predicted: tuple[str, ...]


def read_predictions(path: str) -> list[PredictedSentence]:
    """Sentences of a predictions file: one token per line, its first field the token and its
    last two the gold and the predicted tag (conlleval's input, as :func:`format_predictions`
    writes it); blank lines and ``-DOCSTART-`` lines end sentences.

    Raises:
        InputError: a line with fewer than three fields (file and line named), or no sentence.
    """
    sentences: list[PredictedSentence] = []
    rows: list[list[str]] = []

    def flush():
        if rows:
            sentences.append(PredictedSentence(*(tuple(r[i] for r in rows) for i in (0, -2, -1))))
            rows.clear()

    for number, line in textio.read_lines(path):
        fields = textio.split_fields(line)
        if not fields or fields[0] == DOCSTART:
            flush()
        elif len(fields) < 3:
            raise InputError(
                f"expected a token, a gold tag and a predicted tag, found {line!r}", path, number
            )
        else:
            rows.append(fields)
    flush()
    if not sentences:
        raise InputError("no sentences found (empty file?)", path)
    return sentences
