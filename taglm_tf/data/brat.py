"""BRAT standoff files: text-bound annotations in and out, and their one-layer token tags.

A BRAT document is a text file ``NAME.txt`` and its annotations ``NAME.ann``. Only text-bound
annotations are read: ``T<id> TAB <type> <start> <end>[;<start> <end>...] TAB <surface>``, with
character offsets into the text, end exclusive, and ``text[start:end] == surface`` (fragments of
a discontinuous annotation are joined by one space in its surface). Relations (``R``),
equivalences (``*``), events (``E``), attributes (``A``, ``M``), normalizations (``N``) and notes
(``#``) are skipped; any other line is an error naming the file and line.

Texts are read exactly as stored (UTF-8, line ends kept, ``newline=""``), so offsets count the
characters of the file, CRLF pairs as two: the offsets BRAT itself writes. ``.ann`` files are
read by the line rules of every text input (:mod:`taglm_tf.utils.textio`: a leading BOM dropped, LF,
CRLF or CR line ends), by the scorer and the training reader alike (:func:`read_ann`).

A sequence tagger emits one layer of non-overlapping, contiguous spans whose ends are token ends.
:func:`one_layer` turns a document's annotations into such a layer by a stated rule and counts
what it leaves out (:class:`LayerCounts`); nothing is moved to a token boundary.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence

from taglm_tf.data import tokenize
from taglm_tf.data.conll import Sentence
from taglm_tf.data.tag_schemes import Chunk, chunks_to_tags, tags_to_chunks
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

SKIPPED_KINDS = ("R", "*", "E", "A", "M", "N", "#")
# Characters that would break an .ann line (a tab separates its fields; the others end a line for
# str.splitlines): a surface holding one is written, and compared, with spaces in their place.
_LINE_BREAKING = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_ONE_LINE = str.maketrans(_LINE_BREAKING, " " * len(_LINE_BREAKING))


def one_line(surface: str) -> str:
    """``surface`` as an ``.ann`` line holds it: tabs and line breaks become spaces."""
    return surface.translate(_ONE_LINE)


@dataclasses.dataclass(frozen=True)
class TextBound:
    """One text-bound annotation: its id (``T3``), type and character fragments (end exclusive)."""

    id: str
    type: str
    fragments: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]

    @property
    def discontinuous(self) -> bool:
        return len(self.fragments) > 1

    def surface(self, text: str) -> str:
        return " ".join(text[s:e] for s, e in self.fragments)


@dataclasses.dataclass(frozen=True)
class Document:
    """A BRAT document: its name (the file stem), text and text-bound annotations, and the path
    of its ``.txt`` file."""

    name: str
    text: str
    annotations: tuple[TextBound, ...] = ()
    path: str = ""


def read_text(path: str) -> str:
    """A ``.txt`` file exactly as stored: UTF-8, line ends kept (:func:`textio.decode_exact`)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path) from None
    return textio.decode_exact(data, path)


def _fragments(spec: str, path: str, line: int) -> tuple[tuple[int, int], ...]:
    fragments = []
    for part in spec.split(";"):
        try:
            start, end = (int(x) for x in textio.split_fields(part))
        except ValueError:
            raise InputError(
                f"bad offsets {spec!r} (expected 'START END[;START END...]')", path, line
            ) from None
        if not 0 <= start < end:
            raise InputError(f"bad offsets {start} {end}: need 0 <= start < end", path, line)
        fragments.append((start, end))
    return tuple(fragments)


def read_ann(path: str, text: str | None) -> tuple[TextBound, ...]:
    """The text-bound annotations of the ``.ann`` file at ``path`` for ``text`` (``None``: the
    offsets and surfaces are not checked against a text, as a scorer reads predictions).

    Its lines are read as every text input's (:mod:`taglm_tf.utils.textio`): UTF-8, a leading BOM
    dropped, LF, CRLF or CR line ends; a line of only spaces and tabs is skipped. Within a line
    the fields are BRAT's: tab-separated.

    Raises:
        InputError: naming ``path`` and the line, for invalid UTF-8, an unknown line kind, a
            malformed ``T`` line, offsets outside the text, or a surface that is not the text at
            its offsets.
    """
    found = []
    for number, line in textio.read_lines(path):
        if not textio.split_fields(line):
            continue
        kind = line[:1]
        if kind in SKIPPED_KINDS:
            continue
        if kind != "T":
            raise InputError(
                f"unknown annotation line {line[:40]!r} (BRAT lines start with T, R, *, E, A, M, N or #)",
                path,
                number,
            )
        fields = line.split("\t", 2)
        if len(fields) != 3 or " " not in fields[1]:
            raise InputError("a T line needs 'ID<TAB>TYPE START END<TAB>SURFACE'", path, number)
        type_, spec = fields[1].split(" ", 1)
        annotation = TextBound(fields[0], type_, _fragments(spec, path, number))
        if text is None:
            found.append(annotation)
            continue
        if annotation.end > len(text):
            raise InputError(
                f"offset {annotation.end} is past the end of the text ({len(text)} characters)", path, number
            )
        if one_line(annotation.surface(text)) != one_line(fields[2]):
            raise InputError(
                f"surface {fields[2]!r} is not the text at {spec}: {annotation.surface(text)!r}", path, number
            )
        found.append(annotation)
    return tuple(found)


def read_document(txt_path: str, ann_path: str | None = None) -> Document:
    """A ``.txt`` file and, if given, its ``.ann`` file."""
    text = read_text(txt_path)
    annotations: tuple[TextBound, ...] = ()
    if ann_path is not None:
        annotations = read_ann(ann_path, text)
    return Document(os.path.splitext(os.path.basename(txt_path))[0], text, annotations, txt_path)


def read_folder(folder: str, annotated: bool = True) -> list[Document]:
    """The documents of ``folder`` by name: every ``.txt`` file, with its ``.ann`` file when
    ``annotated`` (then each ``.txt`` needs one, and each ``.ann`` a ``.txt``).

    Raises:
        InputError: no ``.txt`` file, or an unpaired file (naming it), or a bad file.
    """
    if not os.path.isdir(folder):
        raise InputError("not a folder of BRAT .txt/.ann files", folder)
    names = sorted(n for n in os.listdir(folder) if ".tmp-" not in n)  # a killed writer's temporaries
    texts = [n for n in names if n.endswith(".txt")]
    if not texts:
        raise InputError("holds no .txt file", folder)
    if annotated:
        stems = {n[:-4] for n in texts}
        for n in names:
            if n.endswith(".ann") and n[:-4] not in stems:
                raise InputError("has no .txt file beside it", os.path.join(folder, n))
        for n in texts:
            if not os.path.isfile(os.path.join(folder, n[:-4] + ".ann")):
                raise InputError("has no .ann file beside it", os.path.join(folder, n))
    return [
        read_document(os.path.join(folder, n), os.path.join(folder, n[:-4] + ".ann") if annotated else None)
        for n in texts
    ]


def ann_text(annotations: Iterable[TextBound], text: str) -> str:
    """The ``.ann`` content of ``annotations``, numbered ``T1``, ``T2``... in order of offsets.
    A tab or line break inside a surface is written as a space (:func:`one_line`), so that each
    annotation stays one line; the offsets still point at the original characters, and
    :func:`parse_ann` compares surfaces the same way."""
    lines = []
    ordered = sorted(annotations, key=lambda a: (a.start, a.end, a.type))
    for i, a in enumerate(ordered, 1):
        spec = ";".join(f"{s} {e}" for s, e in a.fragments)
        lines.append(f"T{i}\t{a.type} {spec}\t{one_line(a.surface(text))}\n")
    return "".join(lines)


def write_ann(path: str, annotations: Iterable[TextBound], text: str) -> None:
    """Write an ``.ann`` file atomically (:func:`ann_text`)."""
    write_text_atomic(path, ann_text(annotations, text))


@dataclasses.dataclass
class LayerCounts:
    """What :func:`one_layer` kept and left out, in annotations."""

    kept: int = 0
    overlapping: int = 0  # overlaps a longer (or as long, earlier) annotation that was kept
    inside_token: int = 0  # a boundary falls inside a token
    across_sentences: int = 0  # starts and ends in different sentences
    discontinuous: int = 0  # several fragments: not one chunk

    def add(self, other: LayerCounts) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in dataclasses.fields(self))


def one_layer(
    document: Document, sentences: Sequence[tokenize.TokenizedSentence]
) -> tuple[list[list[Chunk]], LayerCounts]:
    """The annotations of ``document`` as non-overlapping token chunks, per sentence.

    The rule: discontinuous annotations, and those whose start or end falls inside a token or in
    another sentence, are left out; of the rest, the longest (in characters) is kept first, then
    the earlier, then the one listed first in the file (as the ScienceIE scorer gives a span
    the type of its first annotation), and an annotation that overlaps one already kept is left
    out. Every annotation left out is counted in :class:`LayerCounts` under its first reason.
    """
    counts = LayerCounts()
    starts: dict[int, tuple[int, int]] = {}
    ends: dict[int, tuple[int, int]] = {}
    for s, sentence in enumerate(sentences):
        for t, (start, end) in enumerate(sentence.offsets):
            starts[start], ends[end] = (s, t), (s, t)
    candidates = []
    for a in document.annotations:
        if a.discontinuous:
            counts.discontinuous += 1
        elif a.start not in starts or a.end not in ends:
            counts.inside_token += 1
        elif starts[a.start][0] != ends[a.end][0]:
            counts.across_sentences += 1
        else:
            candidates.append(a)
    chunks: list[list[Chunk]] = [[] for _ in sentences]
    taken: list[tuple[int, int]] = []
    for a in sorted(candidates, key=lambda a: (-(a.end - a.start), a.start)):  # stable: file order
        if any(a.start < e and s < a.end for s, e in taken):
            counts.overlapping += 1
            continue
        taken.append((a.start, a.end))
        sentence, first = starts[a.start]
        chunks[sentence].append(Chunk(a.type, first, ends[a.end][1] + 1))
        counts.kept += 1
    return [sorted(c, key=lambda c: c.start) for c in chunks], counts


def tagged_sentences(
    documents: Sequence[Document], scheme: str = "iob2"
) -> tuple[list[Sentence], LayerCounts]:
    """Every document tokenized into sentences (:func:`taglm_tf.data.tokenize.tokenize`) and
    tagged in ``scheme`` with its :func:`one_layer` chunks; the counts of all documents. Each
    sentence keeps its document's ``.txt`` path and its tokens' character offsets."""
    out, total = [], LayerCounts()
    for document, sentences in zip(documents, tokenize.tokenize_many(d.text for d in documents)):
        chunks, counts = one_layer(document, sentences)
        total.add(counts)
        out += [
            Sentence(
                s.tokens,
                tuple(chunks_to_tags(c, len(s.tokens), scheme)),
                document=document.path,
                offsets=s.offsets,
            )
            for s, c in zip(sentences, chunks)
        ]
    return out, total


def annotations_from_tags(
    sentences: Sequence[tokenize.TokenizedSentence | Sentence], tags: Sequence[Sequence[str]]
) -> list[TextBound]:
    """The chunks of each sentence's tags (any IOB scheme) as text-bound annotations, with the
    character offsets of their first and last tokens (the sentences' ``offsets``: tokenized raw
    text, or sentences read by :func:`tagged_sentences`).

    Raises:
        ValueError: ``sentences`` and ``tags`` differ in length.
    """
    found = []
    for sentence, sentence_tags in zip(sentences, tags, strict=True):
        for chunk in tags_to_chunks(sentence_tags):
            fragment = (sentence.offsets[chunk.start][0], sentence.offsets[chunk.end - 1][1])
            found.append(TextBound(f"T{len(found) + 1}", chunk.type, (fragment,)))
    return found
