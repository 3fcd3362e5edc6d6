"""BRAT standoff files: reading, errors, the one-layer rule and its counts, writing, round trips."""

import os

import pytest

from data_paths import real_data_dir
from taglm_tf.data import brat, tokenize
from taglm_tf.reports import paper_tables
from taglm_tf.utils.errors import InputError

TEXT = "Carbon nanotubes grow fast.\nWe model the growth of carbon nanotubes with DFT.\n"


def write_doc(folder, name, text, ann):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_bytes(text.encode("utf-8"))
    (folder / f"{name}.ann").write_bytes(ann.encode("utf-8"))
    return folder


def t_line(i, type_, start, end, text):
    return f"T{i}\t{type_} {start} {end}\t{text[start:end]}\n"


def test_text_bound_lines_are_read_and_the_others_skipped(tmp_path):
    ann = (
        t_line(1, "Material", 0, 16, TEXT)
        + "R1\tHyponym-of Arg1:T1 Arg2:T2\t\n*\tSynonym-of T1 T2\n"
        + "#1\tAnnotatorNotes T1\ta note\n"
        + t_line(2, "Process", 41, 47, TEXT)
    )
    (doc,) = brat.read_folder(str(write_doc(tmp_path, "d", TEXT, ann)))
    assert doc.name == "d" and doc.text == TEXT
    assert [(a.id, a.type, a.fragments) for a in doc.annotations] == [
        ("T1", "Material", ((0, 16),)),
        ("T2", "Process", ((41, 47),)),
    ]


def test_a_discontinuous_annotation_joins_its_fragments_with_a_space(tmp_path):
    ann = "T1\tTask 0 6;7 16\tCarbon nanotubes\n"
    (doc,) = brat.read_folder(str(write_doc(tmp_path, "d", TEXT, ann)))
    assert doc.annotations[0].discontinuous and doc.annotations[0].surface(TEXT) == "Carbon nanotubes"


def test_crlf_text_keeps_its_offsets(tmp_path):
    text = TEXT.replace("\n", "\r\n")
    start = text.index("model")
    (doc,) = brat.read_folder(
        str(write_doc(tmp_path, "d", text, t_line(1, "Process", start, start + 5, text)))
    )
    assert doc.text == text and doc.annotations[0].fragments == ((start, start + 5),)


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_ann_lines_are_read_as_every_text_input(tmp_path, bom, newline):
    """An ``.ann`` file with a leading BOM, CRLF or CR-only line ends gives the annotations of
    the LF file (the text keeps its exact offsets)."""
    ann = (
        t_line(1, "Material", 0, 16, TEXT)
        + "#1\tAnnotatorNotes T1\tnote\n"
        + t_line(2, "Process", 41, 47, TEXT)
    )
    (doc,) = brat.read_folder(str(write_doc(tmp_path, "d", TEXT, bom + ann.replace("\n", newline))))
    assert [(a.id, a.type, a.fragments) for a in doc.annotations] == [
        ("T1", "Material", ((0, 16),)),
        ("T2", "Process", ((41, 47),)),
    ]


@pytest.mark.parametrize(
    "ann,message,line",
    [
        ("T1\tMaterial 0 16\tCarbon nanotube\n", "surface 'Carbon nanotube' is not the text at 0 16", 1),
        ("\nT1\tMaterial 0 999\tx\n", "offset 999 is past the end of the text", 2),
        ("T1\tMaterial 0 x\tCarbon\n", "bad offsets '0 x'", 1),
        ("T1\tMaterial 5 5\t\n", "bad offsets 5 5", 1),
        ("T1\tMaterial 0 6\n", "a T line needs", 1),
        ("Q1\tsomething\n", "unknown annotation line", 1),
    ],
)
def test_a_bad_ann_line_is_one_error_naming_file_and_line(tmp_path, ann, message, line):
    folder = write_doc(tmp_path, "d", TEXT, ann)
    with pytest.raises(InputError, match=message) as e:
        brat.read_folder(str(folder))
    assert (e.value.path, e.value.line) == (str(folder / "d.ann"), line)


def test_a_killed_writers_temporaries_are_not_documents(tmp_path):
    folder = write_doc(tmp_path, "d", TEXT, "")
    (folder / "d.tmp-123.txt").write_text("half")
    assert [d.name for d in brat.read_folder(str(folder))] == ["d"]


def test_unpaired_files_are_named(tmp_path):
    folder = write_doc(tmp_path, "d", TEXT, "")
    (folder / "orphan.ann").write_text("")
    with pytest.raises(InputError, match="has no .txt file beside it") as e:
        brat.read_folder(str(folder))
    assert e.value.path.endswith("orphan.ann")
    os.remove(folder / "orphan.ann")
    (folder / "alone.txt").write_text("text")
    with pytest.raises(InputError, match="has no .ann file beside it"):
        brat.read_folder(str(folder))
    assert [d.name for d in brat.read_folder(str(folder), annotated=False)] == ["alone", "d"]


def test_one_layer_rule_and_its_counts():
    text = "Carbon nanotubes grow. Thin carbon films of gra-phene grow."
    spans = {
        "nanotubes": "Material",
        "Carbon nanotubes": "Material",
        "Carbon": "Process",
        "Thin carbon films": "Material",
        "carbon films": "Task",
        "gra": "Material",
    }
    annotations = [
        brat.TextBound(f"T{i}", t, ((text.index(s), text.index(s) + len(s)),))
        for i, (s, t) in enumerate(spans.items(), 1)
    ]
    annotations.append(
        brat.TextBound("T9", "Task", ((text.index("grow."), text.index("Thin") + 4),))
    )  # 2 sentences
    annotations.append(brat.TextBound("T10", "Task", ((0, 6), (7, 16))))
    document = brat.Document("d", text, tuple(annotations))
    sentences = tokenize.tokenize(text)
    chunks, counts = brat.one_layer(document, sentences)
    # longest first: "Carbon nanotubes" (16) and "Thin carbon films" (17) kept; "Carbon",
    # "nanotubes" and "carbon films" overlap them; "gra" ends inside the token "gra-phene".
    assert [
        [(c.type, " ".join(s.tokens[c.start : c.end])) for c in cs] for s, cs in zip(sentences, chunks)
    ] == [[("Material", "Carbon nanotubes")], [("Material", "Thin carbon films")]]
    assert counts == brat.LayerCounts(
        kept=2, overlapping=3, inside_token=1, across_sentences=1, discontinuous=1
    )
    assert counts.total == len(annotations)


def test_equal_lengths_keep_the_earlier_then_the_first_in_the_file():
    text = "ab cd ef"
    a = brat.TextBound("T1", "Task", ((3, 8),))  # "cd ef"
    b = brat.TextBound("T2", "Process", ((0, 5),))  # "ab cd", earlier: kept
    c = brat.TextBound("T3", "Material", ((0, 5),))  # same span, later in the file (the scorer's rule)
    chunks, counts = brat.one_layer(brat.Document("d", text, (a, b, c)), tokenize.tokenize(text))
    assert [(ch.type, ch.start, ch.end) for ch in chunks[0]] == [
        ("Process", 0, 2)
    ] and counts.overlapping == 2


def test_tags_round_trip_to_the_same_ann_bytes(tmp_path):
    """Non-overlapping annotations at token boundaries: read, tag (IOB2 and IOBES), decode and
    write give the same T spans, byte for byte in offsets and surfaces."""
    lines = [
        t_line(1, "Material", 0, 16, TEXT),
        t_line(2, "Process", 41, 47, TEXT),
        t_line(3, "Material", 51, 67, TEXT),
        t_line(4, "Task", 73, 76, TEXT),
    ]
    folder = write_doc(tmp_path, "d", TEXT, "".join(lines))
    (doc,) = brat.read_folder(str(folder))
    for scheme in ("iob2", "iobes"):
        tagged, counts = brat.tagged_sentences([doc], scheme)
        assert counts.kept == 4 and counts.total == 4
        found = brat.annotations_from_tags(tokenize.tokenize(doc.text), [s.tags for s in tagged])
        brat.write_ann(str(tmp_path / "out.ann"), found, doc.text)
        assert (tmp_path / "out.ann").read_bytes() == (folder / "d.ann").read_bytes()
    with pytest.raises(ValueError):  # a sentence without tags is an error, not a sentence without spans
        brat.annotations_from_tags(tokenize.tokenize(doc.text), [s.tags for s in tagged][:-1])


@pytest.mark.parametrize("gap", ["\n", "\r\n", "\t", "\u2028", "\x0c", "\x85"])
def test_a_surface_with_a_tab_or_line_break_is_written_on_one_line_and_reads_back(tmp_path, gap):
    text = f"carbon{gap}nanotubes"
    (tmp_path / "x.txt").write_bytes(text.encode("utf-8"))
    annotation = brat.TextBound("T1", "Material", ((0, len(text)),))
    brat.write_ann(str(tmp_path / "x.ann"), [annotation], text)
    assert (
        tmp_path / "x.ann"
    ).read_bytes() == f"T1\tMaterial 0 {len(text)}\tcarbon{' ' * len(gap)}nanotubes\n".encode()
    (doc,) = brat.read_folder(str(tmp_path))
    assert doc.annotations == (annotation,)
    from taglm_tf.scoring.brat_eval import score_folders

    assert score_folders(str(tmp_path), str(tmp_path)).overall.f1 == 100.0


def test_the_real_scienceie_folders():
    """Every keyphrase of the shared ScienceIE data reads (offsets give its surface), and the one
    layer keeps what the provenance notes count; the kept layer round-trips through tags."""
    base = real_data_dir()
    if base is None or not (base / "scienceie" / "dev").is_dir():
        pytest.skip("the ScienceIE data is not here")
    expected = {"dev": (50, 1162, 400, 11_056, 12, 1), "test": (100, 2052, 862, 22_058, 28, 0)}
    for split, (docs, keyphrases, sentences, tokens, inside, across) in expected.items():
        documents = brat.read_folder(str(base / "scienceie" / split))
        tagged, counts = brat.tagged_sentences(documents)
        assert (len(documents), counts.total, len(tagged), sum(len(s) for s in tagged)) == (
            docs,
            keyphrases,
            sentences,
            tokens,
        )
        assert (counts.inside_token, counts.across_sentences) == (inside, across)
        assert counts.kept + counts.overlapping + inside + across == keyphrases
        assert round(100 * counts.kept / counts.total, 1) == paper_tables.SCIENCEIE_ONE_LAYER_RECALL[split]
    document = documents[0]
    sentences = tokenize.tokenize(document.text)
    chunks, _ = brat.one_layer(document, sentences)
    kept = {
        (c.type, sentences[i].offsets[c.start][0], sentences[i].offsets[c.end - 1][1])
        for i, cs in enumerate(chunks)
        for c in cs
    }
    tagged, _ = brat.tagged_sentences([document])
    again = brat.annotations_from_tags(sentences, [s.tags for s in tagged])
    assert {(a.type, a.start, a.end) for a in again} == kept
