"""Tests for taglm_tf.data.tag_schemes: exact IOB1/IOB2/IOBES conversions.

Three layers: round trips on the real CoNLL files (with the official chunk counts),
an independent brute-force oracle on every short tag sequence, and hand-written
malformed sequences and tag-syntax edge cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from taglm_tf.data import conll
from taglm_tf.data.tag_schemes import (
    SCHEMES,
    Chunk,
    check_scheme,
    chunks_to_tags,
    convert,
    is_valid_tag,
    split_tag,
    tags_to_chunks,
)

try:
    from data_paths import real_file
except ImportError:  # tests/ became a package
    from tests.data_paths import real_file

# ---------------------------------------------------------------- real data

# file -> (format, sentences, tokens is tested in test_conll; here: official chunk count)
REAL_FILES = {
    "conll2003/eng.train": (conll.CONLL2003, 23_499),
    "conll2003/eng.testa": (conll.CONLL2003, 5_942),
    "conll2003/eng.testb": (conll.CONLL2003, 5_648),
    "conll2000/train.txt": (conll.CONLL2000, 106_978),
    "conll2000/test.txt": (conll.CONLL2000, 23_852),
}

# eng.train has exactly two NE tags that are not valid IOB1: a B-MISC right after "O"
# (1-based file line of the sentence's first token). They decode to the same chunks, but
# writing IOB1 back gives the canonical I-MISC, so those two sentences cannot round-trip
# byte for byte. Every other sentence of every file must.
NON_CANONICAL_IOB1 = {"conll2003/eng.train": {152416, 175432}}


@pytest.fixture(scope="module")
def real_sentences():
    cache: dict[str, list[conll.Sentence]] = {}

    def get(name: str) -> list[conll.Sentence]:
        if name not in cache:
            path = real_file(*name.split("/"))
            if path is None:
                pytest.skip(f"real data file {name} not found")
            cache[name] = conll.read_conll(path, REAL_FILES[name][0])
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_round_trips(real_sentences, name):
    fmt, _ = REAL_FILES[name]
    sentences = real_sentences(name)
    irregular = set()
    for s in sentences:
        tags = list(s.tags)
        chunks = tags_to_chunks(tags)
        if fmt.tag_scheme == "iob1":
            iob2 = convert(tags, "iob2")
            iobes = convert(iob2, "iobes")
            back2 = convert(iobes, "iob2")
            back1 = convert(back2, "iob1")
            via_iobes = convert(convert(tags, "iobes"), "iob1")
            assert back2 == iob2
            assert via_iobes == back1
            if back1 != tags:
                irregular.add(s.line)
                assert not valid_iob1(tags), s.line  # only invalid IOB1 may change
                assert back1 == convert(tags, "iob1")
            for other in (iob2, iobes, back1):
                assert tags_to_chunks(other) == chunks, s.line
            assert valid_iob2(iob2) and valid_iobes(iobes) and valid_iob1(back1)
        else:
            iobes = convert(tags, "iobes")
            assert convert(iobes, "iob2") == tags, s.line
            iob1 = convert(tags, "iob1")
            assert convert(iob1, "iob2") == tags, s.line
            for other in (iobes, iob1):
                assert tags_to_chunks(other) == chunks, s.line
    assert irregular == NON_CANONICAL_IOB1.get(name, set())


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_official_chunk_counts(real_sentences, name):
    fmt, expected = REAL_FILES[name]
    sentences = real_sentences(name)
    for scheme in SCHEMES:
        total = sum(len(tags_to_chunks(convert(s.tags, scheme))) for s in sentences)
        assert total == expected, scheme


def test_real_ner_chunk_types(real_sentences):
    counts: dict[str, int] = {}
    for s in real_sentences("conll2003/eng.train"):
        for c in tags_to_chunks(s.tags):
            counts[c.type] = counts.get(c.type, 0) + 1
    assert counts == {"LOC": 7140, "MISC": 3438, "ORG": 6321, "PER": 6600}


# ---------------------------------------------------------------- brute-force oracle

TYPES = ("X", "Y")
IOB_TAGS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]
IOBES_TAGS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BIES"]
MAX_LEN = 5
MAX_LEN_IOBES = 4

OracleChunks = tuple[tuple[str, int, int], ...]


def chunkings(n: int, start: int = 0) -> list[OracleChunks]:
    """Every set of non-overlapping typed spans over positions start..n-1."""
    if start >= n:
        return [()]
    out = [rest for rest in chunkings(n, start + 1)]  # position `start` is outside
    for t in TYPES:
        for end in range(start + 1, n + 1):
            out.extend(((t, start, end),) + rest for rest in chunkings(n, end))
    return out


def oracle_encode(chunks: OracleChunks, n: int, scheme: str) -> tuple[str, ...]:
    """The textbook definitions of the three schemes."""
    tags = ["O"] * n
    previous = None
    for t, start, end in chunks:
        for i in range(start, end):
            tags[i] = "I-" + t
        if scheme == "iob2":
            tags[start] = "B-" + t
        elif scheme == "iob1":
            # B- only where a chunk directly follows a chunk of the same type
            if previous is not None and previous[2] == start and previous[0] == t:
                tags[start] = "B-" + t
        elif end - start == 1:
            tags[start] = "S-" + t
        else:
            tags[start] = "B-" + t
            tags[end - 1] = "E-" + t
        previous = (t, start, end)
    return tuple(tags)


def _type(tag: str) -> str:
    return tag[2:] if tag != "O" else ""


def valid_iob1(tags: Sequence[str]) -> bool:
    """I- continues or opens a chunk; B- only right after a token of a same-type chunk."""
    return all(
        not (tag.startswith("B-") and (i == 0 or _type(tags[i - 1]) != _type(tag)))
        for i, tag in enumerate(tags)
    )


def valid_iob2(tags: Sequence[str]) -> bool:
    """Every chunk opens with B-; I- only continues a same-type chunk."""
    return all(
        not (tag.startswith("I-") and (i == 0 or _type(tags[i - 1]) != _type(tag)))
        for i, tag in enumerate(tags)
    )


def valid_iobes(tags: Sequence[str]) -> bool:
    padded = ["O"] + list(tags) + ["O"]
    for i in range(1, len(padded) - 1):
        prev, tag, nxt = padded[i - 1], padded[i], padded[i + 1]
        p, t = tag[0], _type(tag)
        continues_before = prev[0] in "BI" and _type(prev) == t
        continued_after = nxt[0] in "IE" and _type(nxt) == t
        if p == "B" and not continued_after:
            return False
        if p == "I" and not (continues_before and continued_after):
            return False
        if p == "E" and not continues_before:
            return False
        if p in "BS" and prev != "O" and prev[0] in "BI" and _type(prev) == t:
            return False  # previous chunk was left open
    return True


def _oracle_tables(n: int) -> dict[str, dict[tuple[str, ...], OracleChunks]]:
    tables: dict[str, dict[tuple[str, ...], OracleChunks]] = {s: {} for s in SCHEMES}
    all_chunkings = chunkings(n)
    for chunks in all_chunkings:
        for scheme in SCHEMES:
            tables[scheme][oracle_encode(chunks, n, scheme)] = chunks
    for scheme in SCHEMES:  # each scheme is a bijection from chunkings
        assert len(tables[scheme]) == len(all_chunkings)
    return tables


def test_oracle_self_check():
    # number of chunkings with 2 types: a(n) = a(n-1) + 2 * sum_{k>=1} a(n-k)
    assert [len(chunkings(n)) for n in range(5)] == [1, 3, 11, 41, 153]
    assert oracle_encode((("X", 0, 2), ("X", 2, 3), ("Y", 4, 5)), 5, "iob1") == (
        "I-X",
        "I-X",
        "B-X",
        "O",
        "I-Y",
    )
    assert oracle_encode((("X", 0, 2), ("X", 2, 3), ("Y", 4, 5)), 5, "iobes") == (
        "B-X",
        "E-X",
        "S-X",
        "O",
        "S-Y",
    )


@pytest.mark.parametrize("n", range(MAX_LEN + 1))
@pytest.mark.parametrize("source", ["iob1", "iob2"])
def test_all_short_valid_iob_sequences(n, source):
    tables = _oracle_tables(n)
    valid = valid_iob1 if source == "iob1" else valid_iob2
    all_valid = {seq for seq in itertools.product(IOB_TAGS, repeat=n) if valid(seq)}
    assert all_valid == set(tables[source])  # oracle encodings are exactly the valid sequences
    for seq in all_valid:
        expected = tables[source][seq]
        got = tags_to_chunks(seq)
        assert [tuple(c) for c in got] == list(expected), seq
        for target in SCHEMES:
            want = list(oracle_encode(expected, n, target))
            assert convert(seq, target) == want, (seq, target)
            assert chunks_to_tags(got, n, target) == want, (seq, target)


@pytest.mark.parametrize("n", range(MAX_LEN_IOBES + 1))
def test_all_short_valid_iobes_sequences(n):
    tables = _oracle_tables(n)
    all_valid = {seq for seq in itertools.product(IOBES_TAGS, repeat=n) if valid_iobes(seq)}
    assert all_valid == set(tables["iobes"])
    for seq in all_valid:
        expected = tables["iobes"][seq]
        assert [tuple(c) for c in tags_to_chunks(seq)] == list(expected), seq
        for target in SCHEMES:
            assert convert(seq, target) == list(oracle_encode(expected, n, target))


@pytest.mark.parametrize("n", range(4))
def test_any_sequence_converts_to_a_valid_canonical_form(n):
    """Malformed input (any mix of prefixes) still yields chunks that every scheme preserves."""
    for seq in itertools.product(IOBES_TAGS, repeat=n):
        chunks = tags_to_chunks(seq)
        assert all(0 <= c.start < c.end <= n for c in chunks)
        assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
        covered = {i for c in chunks for i in range(c.start, c.end)}
        assert covered == {i for i, t in enumerate(seq) if t != "O"}, seq
        for target in SCHEMES:
            out = convert(seq, target)
            assert tags_to_chunks(out) == chunks, (seq, target)
            assert convert(out, target) == out  # idempotent


# ---------------------------------------------------------------- malformed sequences

MALFORMED = [
    # I- after O opens a chunk
    (["O", "I-X", "E-X"], [("X", 1, 3)]),
    (["I-X"], [("X", 0, 1)]),
    (["O", "I-X", "O", "I-X", "I-X"], [("X", 1, 2), ("X", 3, 5)]),
    # E- without B-
    (["E-X", "O"], [("X", 0, 1)]),
    (["O", "E-X", "E-X"], [("X", 1, 2), ("X", 2, 3)]),
    (["E-X", "I-X", "E-X"], [("X", 0, 1), ("X", 1, 3)]),
    (["B-X", "O", "E-X"], [("X", 0, 1), ("X", 2, 3)]),
    # type change inside a chunk
    (["B-X", "I-Y", "E-Y"], [("X", 0, 1), ("Y", 1, 3)]),
    (["B-X", "E-Y"], [("X", 0, 1), ("Y", 1, 2)]),
    (["B-X", "I-X", "I-Y", "E-X"], [("X", 0, 2), ("Y", 2, 3), ("X", 3, 4)]),
    # S- S- and other S- neighbours
    (["S-X", "S-X"], [("X", 0, 1), ("X", 1, 2)]),
    (["S-X", "I-X"], [("X", 0, 1), ("X", 1, 2)]),
    (["S-X", "E-X"], [("X", 0, 1), ("X", 1, 2)]),
    (["B-X", "S-X", "E-X"], [("X", 0, 1), ("X", 1, 2), ("X", 2, 3)]),
    # chunks left open
    (["B-X"], [("X", 0, 1)]),
    (["B-X", "I-X"], [("X", 0, 2)]),
    (["B-X", "B-X", "O"], [("X", 0, 1), ("X", 1, 2)]),
]


@pytest.mark.parametrize("tags,expected", MALFORMED)
def test_malformed_iobes(tags, expected):
    chunks = tags_to_chunks(tags)
    assert chunks == [Chunk(*c) for c in expected]
    for target in SCHEMES:
        assert tags_to_chunks(convert(tags, target)) == chunks


def test_malformed_examples_decode_canonically():
    assert convert(["B-X", "E-Y"], "iobes") == ["S-X", "S-Y"]
    assert convert(["O", "I-X", "E-X"], "iob2") == ["O", "B-X", "I-X"]
    assert convert(["S-X", "S-X"], "iob1") == ["I-X", "B-X"]
    assert convert(["B-X", "I-Y"], "iob1") == ["I-X", "I-Y"]


# ---------------------------------------------------------------- tag syntax


@pytest.mark.parametrize(
    "tag,expected",
    [
        ("B-NP-SBJ", ("B", "NP-SBJ")),
        ("I-PP-LOC-CLR", ("I", "PP-LOC-CLR")),
        ("O", ("O", "")),
        ("B-", ("B", "")),
        ("B", ("B", "")),
        ("-X", ("", "X")),
        ("", ("", "")),
    ],
)
def test_split_tag(tag, expected):
    assert split_tag(tag) == expected


@pytest.mark.parametrize(
    "tag,valid_in",
    [
        ("O", {"iob1", "iob2", "iobes"}),
        ("B-PER", {"iob1", "iob2", "iobes"}),
        ("I-PER", {"iob1", "iob2", "iobes"}),
        ("B-NP-SBJ", {"iob1", "iob2", "iobes"}),
        ("E-PER", {"iobes"}),
        ("S-PER", {"iobes"}),
        ("S-NP-SBJ", {"iobes"}),
        ("X-PER", set()),
        ("B-", set()),
        ("I-", set()),
        ("B", set()),
        ("PER", set()),
        ("O-PER", set()),
        ("", set()),
        ("-PER", set()),
        ("b-PER", set()),
    ],
)
def test_is_valid_tag(tag, valid_in):
    assert {s for s in SCHEMES if is_valid_tag(tag, s)} == valid_in


def test_unknown_scheme_rejected():
    with pytest.raises(ValueError, match="iob3"):
        check_scheme("iob3")
    with pytest.raises(ValueError):
        convert(["B-X"], "iob3")
    with pytest.raises(ValueError):
        chunks_to_tags([], 0, "IOB2")
    with pytest.raises(ValueError):
        is_valid_tag("B-X", "bio")
    assert check_scheme("iobes") == "iobes"


def test_unknown_scheme_rejected_for_o_tag():
    with pytest.raises(ValueError):
        is_valid_tag("O", "iob3")


def test_hyphenated_types_convert():
    iob1 = ["I-NP-SBJ", "B-NP-SBJ", "I-NP-SBJ", "I-PP-LOC", "O", "I-NP-SBJ"]
    chunks = tags_to_chunks(iob1)
    assert chunks == [
        Chunk("NP-SBJ", 0, 1),
        Chunk("NP-SBJ", 1, 3),
        Chunk("PP-LOC", 3, 4),
        Chunk("NP-SBJ", 5, 6),
    ]
    assert convert(iob1, "iob2") == ["B-NP-SBJ", "B-NP-SBJ", "I-NP-SBJ", "B-PP-LOC", "O", "B-NP-SBJ"]
    assert convert(iob1, "iobes") == ["S-NP-SBJ", "B-NP-SBJ", "E-NP-SBJ", "S-PP-LOC", "O", "S-NP-SBJ"]
    assert convert(convert(iob1, "iobes"), "iob1") == iob1


def test_empty_and_all_outside():
    for scheme in SCHEMES:
        assert convert([], scheme) == []
        assert convert(["O", "O"], scheme) == ["O", "O"]
        assert chunks_to_tags([], 3, scheme) == ["O"] * 3
    assert tags_to_chunks([]) == []
    assert tags_to_chunks(("O",)) == []


def test_chunks_to_tags_ignores_chunk_order():
    chunks = [Chunk("X", 2, 3), Chunk("X", 0, 2)]
    assert chunks_to_tags(chunks, 3, "iob1") == ["I-X", "I-X", "B-X"]
    assert chunks_to_tags(chunks, 4, "iobes") == ["B-X", "E-X", "S-X", "O"]


def test_convert_accepts_tuples_and_returns_lists():
    out = convert(("I-X", "B-X"), "iob2")
    assert out == ["B-X", "B-X"] and isinstance(out, list)
