"""Tests for the tagging CLI ``python -m taglm_tf.tag`` on a tiny random-weight model."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taglm_tf import tag
from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.models.evaluation import Predictor
from taglm_tf.scoring import conlleval
from taglm_tf.serving.api import Tagger
from taglm_tf.tasks import task_named
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[1]

TEXT = (
    "John Smith lives in New York .\n"
    "\n"
    "  EU rejects   German call to boycott British lamb .  \n"
    "Zürich 1996-08-22\n"
    "Peter\n"
    "The European Commission said on Thursday it disagreed with German advice .\n"
)
PLAIN = "Angela Merkel visited Paris. Apple Inc. rose 5%.\n"
TEXT_SENTENCES = [line.split() for line in TEXT.splitlines() if line.strip()]
TEXT_LINES = [line.split() for line in TEXT.splitlines()]  # one output record per input line
BRAT_TEXTS = [
    "Angela Merkel visited Paris.\r\nApple Inc. rose 5%.\n\nJohn Smith lives in New York.",
    "EU rejects",
]

CONLL = (
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "SOCCER NN I-NP O\n"
    "- : O O\n"
    "JAPAN NNP I-NP I-LOC\n"
    "GET VB I-VP O\n"
    "\n"
    "Nadim NNP I-NP I-PER\n"
    "Ladki NNP I-NP I-PER\n"
    "\n"
    "\n"
    "-DOCSTART- -X- -X- O\n"
    "AL-AIN NNP I-NP I-LOC\n"
    ", , O O\n"
    "United NNP I-NP I-LOC\n"
)
CONLL_ROWS = [
    [line.split() for line in block.splitlines() if line and not line.startswith("-DOCSTART-")]
    for block in CONLL.split("\n\n")
]
CONLL_ROWS = [rows for rows in CONLL_ROWS if rows]

# BOM, CR-only line ends and a no-break space inside a token.
ODD_CONLL = (
    "\ufeff-DOCSTART- -X- -X- O\r\r1\u00a0200 CD I-NP O\rAnna NNP I-NP I-PER\r\rx\u2028y\u3000z NN I-NP O\r"
).encode("utf-8")
ODD_ROWS = [
    [["1\u00a0200", "CD", "I-NP", "O"], ["Anna", "NNP", "I-NP", "I-PER"]],
    [["x\u2028y\u3000z", "NN", "I-NP", "O"]],
]


@pytest.fixture(scope="session")
def predict(tagger):
    """Reference tags: Predictor.predict on the same sentences, in IOB1 (NER's gold scheme)."""
    predictor = Predictor(tagger.model, tagger.resources.tags)  # one instance: traced once

    def run(token_lists, scheme="iob1"):
        sentences = [conll.Sentence(tuple(t), ("O",) * len(t)) for t in token_lists]
        return predictor.predict(TaggingData(sentences, tagger.resources.featurizer()), scheme)

    return run


def _cli(model_dir, *args):
    return [sys.executable, "-m", "taglm_tf.tag", f"--model_dir={model_dir}", *args]


@pytest.fixture(scope="session")
def cli(model_dir, tmp_path_factory):
    """Run the CLI cases concurrently (each start-up imports TensorFlow) and collect results."""
    tmp = tmp_path_factory.mktemp("tag_inputs")
    (tmp / "in.conll").write_text(CONLL, encoding="utf-8")
    (tmp / "bad.txt").write_bytes("fine line\nZ\u00fcrich ok\n".encode("utf-8") + b"caf\xe9 bad\n")
    (tmp / "odd.conll").write_bytes(ODD_CONLL)
    (tmp / "commented.conll").write_bytes(b"EU NNP I-NP I-ORG\n# id 7f3a domain=en\n")
    (tmp / "brat_in").mkdir()
    for i, text in enumerate(BRAT_TEXTS):
        (tmp / "brat_in" / f"doc{i}.txt").write_bytes(text.encode("utf-8"))
    (tmp / "exported").mkdir()  # what taglm_tf.export writes, as far as the check looks
    (tmp / "exported" / "saved_model.pb").write_bytes(b"")
    (tmp / "runs" / "tagger").mkdir(parents=True)  # a run folder one level up
    (tmp / "runs" / "tagger" / "model.keras").write_bytes(b"")
    (tmp / "appended.conll").write_text(CONLL, encoding="utf-8")
    os.mkfifo(tmp / "fifo")
    # output beyond a pipe's buffer
    (tmp / "many.txt").write_text("".join(f"Anna Smith visited Paris on day {i} .\n" for i in range(3000)))
    cases = {
        "stdin_json": (
            _cli(model_dir, "--input=-", "--input_format=text", "--format=json", "--batch_size=2"),
            TEXT.encode("utf-8"),
        ),
        "file_conll": (_cli(model_dir, f"--input={tmp / 'in.conll'}", "--input_format=conll"), b""),
        "bad_utf8": (_cli(model_dir, f"--input={tmp / 'bad.txt'}", "--input_format=text"), b""),
        "no_model": (_cli(tmp / "missing"), b"a b\n"),
        "bioes_json": (
            _cli(
                model_dir,
                "--input=-",
                "--input_format=text",
                "--format=json",
                "--batch_size=2",
                "--output_scheme=bioes",
            ),
            TEXT.encode("utf-8"),
        ),
        "plain_default": (_cli(model_dir, "--format=json"), PLAIN.encode("utf-8")),
        "odd_conll": (_cli(model_dir, f"--input={tmp / 'odd.conll'}", "--input_format=conll"), b""),
        "commented_conll": (
            _cli(model_dir, f"--input={tmp / 'commented.conll'}", "--input_format=conll"),
            b"",
        ),
        "brat": (
            _cli(
                model_dir, f"--input={tmp / 'brat_in'}", "--format=brat", f"--output_dir={tmp / 'brat_out'}"
            ),
            b"",
        ),
        "brat_same_dir": (
            _cli(model_dir, f"--input={tmp / 'brat_in'}", "--format=brat", f"--output_dir={tmp / 'brat_in'}"),
            b"",
        ),
        "to_output": (
            _cli(
                model_dir,
                f"--input={tmp / 'in.conll'}",
                "--input_format=conll",
                f"--output={tmp / 'out.conll'}",
            ),
            b"",
        ),
        "output_is_input": (
            _cli(
                model_dir,
                f"--input={tmp / 'in.conll'}",
                "--input_format=conll",
                f"--output={tmp / 'in.conll'}",
            ),
            b"",
        ),
        "failed_output": (
            _cli(
                model_dir, f"--input={tmp / 'bad.txt'}", "--input_format=text", f"--output={tmp / 'bad.out'}"
            ),
            b"",
        ),
        "output_dash": (
            _cli(model_dir, f"--input={tmp / 'in.conll'}", "--input_format=conll", "--output=-"),
            b"",
        ),
        "output_fifo": (_cli(model_dir, f"--input={tmp / 'in.conll'}", f"--output={tmp / 'fifo'}"), b""),
        "model_file": (_cli(Path(model_dir) / "model.keras"), b"a b\n"),
        "exported": (_cli(tmp / "exported"), b"a b\n"),
        "run_parent": (_cli(tmp / "runs"), b"a b\n"),
        "input_folder": (_cli(model_dir, f"--input={tmp / 'brat_in'}"), b""),
        "missing_input": (_cli(model_dir, f"--input={tmp / 'none.txt'}"), b""),
        "early_reader_exit": (
            _cli(model_dir, f"--input={tmp / 'many.txt'}", "--input_format=text", "--batch_size=16"),
            b"",
        ),
    }
    stdout = {name: subprocess.PIPE for name in cases}
    stdout["stdout_is_input"] = open(tmp / "appended.conll", "ab")  # a shell's >>
    cases["stdout_is_input"] = (
        _cli(model_dir, f"--input={tmp / 'appended.conll'}", "--input_format=conll"),
        b"",
    )
    procs = {
        name: subprocess.Popen(
            cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=stdout[name], stderr=subprocess.PIPE
        )
        for name, (cmd, _) in cases.items()
    }
    stdout["stdout_is_input"].close()
    results = {}
    for name, proc in procs.items():
        if name == "early_reader_exit":  # read one line, then go away as `| head -1` does
            proc.stdin.close()
            first = proc.stdout.readline()
            proc.stdout.close()
            err = proc.stderr.read()
            results[name] = (proc.wait(timeout=300), first.decode("utf-8"), err.decode("utf-8"))
            continue
        out, err = proc.communicate(cases[name][1], timeout=300)
        results[name] = (proc.returncode, (out or b"").decode("utf-8"), err.decode("utf-8"))
    results["tmp"], results["model_dir"] = tmp, model_dir
    results["bad_path"] = str(tmp / "bad.txt")
    results["commented_path"] = str(tmp / "commented.conll")
    results["brat_dirs"] = (tmp / "brat_in", tmp / "brat_out")
    return results


def _ok(result):
    code, out, err = result
    assert code == 0, err
    return out


def _records(conll_text):
    """CoNLL output -> list of sentences, each a list of column lists."""
    blocks = conll_text.split("\n\n")
    assert blocks[-1] == "" and conll_text.endswith("\n\n")
    return [[line.split(" ") for line in block.split("\n")] for block in blocks[:-1]]


def test_text_input_conll_output(tmp_path, predict):
    (tmp_path / "in.txt").write_text(TEXT, encoding="utf-8")
    sentences = list(tag.read_input(str(tmp_path / "in.txt"), "text"))
    expected = predict(TEXT_LINES)
    text = "".join(line + "\n" for line in conll.conll_lines(sentences, expected))
    assert text.index("\n\n\n") == text.index("\n\n")  # line 2 is blank: an empty record after sentence 1
    records = _records(text.replace("\n\n\n", "\n\n"))
    assert records == [
        [[t, g] for t, g in zip(toks, tags)] for toks, tags in zip(TEXT_SENTENCES, predict(TEXT_SENTENCES))
    ]
    assert [s.line for s in sentences] == [1, 2, 3, 4, 5, 6]


def test_conll_file_echoes_columns_and_skips_docstart(cli, predict):
    sentences = _records(_ok(cli["file_conll"]))
    assert [[row[:-1] for row in s] for s in sentences] == CONLL_ROWS
    expected = predict([[row[0] for row in rows] for rows in CONLL_ROWS])
    assert [[row[-1] for row in s] for s in sentences] == expected


def test_conll_input_with_bom_cr_and_unicode_spaces(cli, predict):
    output = _ok(cli["odd_conll"])
    sentences = _records(output)
    assert [[row[:-1] for row in s] for s in sentences] == ODD_ROWS  # 4 + 1 fields per line
    expected = predict([[row[0] for row in rows] for rows in ODD_ROWS])
    assert [[row[-1] for row in s] for s in sentences] == expected
    # conlleval (Perl rules: fields split at " ") accepts the output and scores 3 tokens.
    assert conlleval.evaluate_lines(conlleval.split_lines(output)).tokens == 3


def test_text_input_with_bom_and_cr_line_ends(tmp_path, predict):
    plain = "Anna lives in Berlin .\nEU\u00a0rejects it\n"
    (tmp_path / "plain.txt").write_text(plain, encoding="utf-8")
    (tmp_path / "bom_cr.txt").write_text("\ufeff" + plain.replace("\n", "\r"), encoding="utf-8")
    tokens = [["Anna", "lives", "in", "Berlin", "."], ["EU\u00a0rejects", "it"]]
    for name in ("plain.txt", "bom_cr.txt"):
        sentences = list(tag.read_input(str(tmp_path / name), "text"))
        assert [list(s.tokens) for s in sentences] == tokens
        assert [s.line for s in sentences] == [1, 2]
    lines = list(conll.conll_lines(sentences, predict(tokens)))
    assert lines[0].split(" ")[0] == "Anna" and lines[6].split(" ")[0] == "EU\u00a0rejects"


def test_json_output_structure_and_offsets(cli, predict):
    records = [json.loads(line) for line in _ok(cli["stdin_json"]).splitlines()]
    assert [r["tokens"] for r in records] == TEXT_LINES  # one record per line, in order despite batching
    assert [r["tags"] for r in records] == predict(TEXT_LINES)
    for r in records:
        assert set(r) == {"tokens", "tags", "entities"}
        covered = set()
        for e in r["entities"]:
            assert set(e) == {"type", "start", "end", "text"}
            assert 0 <= e["start"] < e["end"] <= len(r["tokens"])
            assert e["text"] == " ".join(r["tokens"][e["start"] : e["end"]])
            assert all(t.endswith("-" + e["type"]) for t in r["tags"][e["start"] : e["end"]])
            covered.update(range(e["start"], e["end"]))
        assert all((i in covered) == (t != "O") for i, t in enumerate(r["tags"]))
        chunks = tag_schemes.tags_to_chunks(r["tags"])
        assert [(e["type"], e["start"], e["end"]) for e in r["entities"]] == chunks
    assert any(r["entities"] for r in records)


def test_non_utf8_input_names_line(cli):
    code, out, err = cli["bad_utf8"]
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [f"error: {cli['bad_path']}:3: not valid UTF-8 (byte 4 of the line)"]


def test_a_comment_line_in_conll_input_is_refused_as_training_refuses_it(cli):
    """The NER model's format tells the line from a token line: its tag column is no IOB1 tag."""
    code, out, err = cli["commented_conll"]
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [f"error: {cli['commented_path']}:2: invalid IOB1 tag 'domain=en'"]


def test_plain_text_through_the_default_cli_is_split_as_conll_does(cli):
    """What people pipe in: sentences end at the period, which is its own token, as are % and
    the period after a number; abbreviations stay whole. No entity can span two sentences."""
    records = [json.loads(line) for line in _ok(cli["plain_default"]).splitlines()]
    assert [r["tokens"] for r in records] == [
        ["Angela", "Merkel", "visited", "Paris", "."],
        ["Apple", "Inc.", "rose", "5", "%", "."],
    ]
    assert [r["offsets"][3] for r in records] == [[22, 27], [45, 46]]


@pytest.fixture(scope="module")
def task_scheme_tagger(tagger):
    """A Tagger in the task's own scheme (NER: IOB1), and its tags of the text."""
    task_tagger = Tagger(tagger, task_named("ner", ""))
    return task_tagger, task_tagger.predict(TEXT_SENTENCES)


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "iobes"])
def test_output_scheme_changes_the_tags_and_keeps_the_spans(tagger, task_scheme_tagger, scheme):
    task_tagger, want = task_scheme_tagger
    assert task_tagger.scheme == "iob1" and any(s.spans for s in want)
    got = Tagger(tagger, task_named("ner", ""), output_scheme=scheme).predict(TEXT_SENTENCES)
    assert [s.tags for s in got] == [tuple(tag_schemes.convert(s.tags, scheme)) for s in want]
    assert [s.spans for s in got] == [s.spans for s in want]
    assert all(tag_schemes.is_valid_tag(t, scheme) for s in got for t in s.tags)


@pytest.mark.parametrize(
    "name,scheme", [("BIO", "iob2"), ("bioes", "iobes"), ("IOBES", "iobes"), ("Task", "iob1")]
)
def test_output_scheme_names_in_any_case_and_aliases(tagger, name, scheme):
    """Tagger builds its module with the resolved ``Tagger.scheme`` alone, whose tags the test above
    checks for each scheme; what a name adds is its resolution."""
    assert Tagger(tagger, task_named("ner", ""), output_scheme=name).scheme == scheme


def test_an_unknown_output_scheme_is_refused(tagger):
    with pytest.raises(
        ValueError, match="unknown tag scheme 'bilou'; expected one of iob1, iob2, iobes, bio, bioes"
    ):
        Tagger(tagger, task_named("ner", ""), output_scheme="BILOU")


def test_conll_gold_tags_follow_the_output_scheme(tagger):
    """CoNLL input that carries gold tags comes back with them in the output scheme, beside the
    predictions; columns without a gold tag column (in some rows or all), or whose tag column
    holds no IOB1 tags, are echoed as they are."""
    rows = [
        ("Peter", "NNP", "I-NP", "I-PER"),
        ("Blackburn", "NNP", "I-NP", "I-PER"),
        ("in", "IN", "I-PP", "O"),
    ]
    rows += [("EU", "NNP", "I-NP", "I-ORG"), ("UN", "NNP", "I-NP", "B-ORG")]
    full = conll.Sentence(tuple(r[0] for r in rows), ("O",) * 5, tuple(r[1:] for r in rows))
    short = conll.Sentence(full.tokens, full.tags, tuple(r[1:3] for r in rows))
    odd = conll.Sentence(full.tokens, full.tags, tuple((*r[1:3], "PER") for r in rows))
    ragged = conll.Sentence(full.tokens, full.tags, (*full.columns[:2], *short.columns[2:]))
    for scheme, gold in (
        ("iobes", ("B-PER", "E-PER", "O", "S-ORG", "S-ORG")),
        ("iob2", ("B-PER", "I-PER", "O", "B-ORG", "B-ORG")),
        (None, ("I-PER", "I-PER", "O", "I-ORG", "B-ORG")),
    ):
        got = Tagger(tagger, task_named("ner", ""), output_scheme=scheme).predict([full, short, odd, ragged])
        assert tuple(row[-1] for row in got[0].columns) == gold
        assert [row[:2] for row in got[0].columns] == [row[:2] for row in full.columns]
        assert [s.columns for s in got[1:]] == [short.columns, odd.columns, ragged.columns]
        assert all(tag_schemes.is_valid_tag(t, scheme or "iob1") for s in got for t in s.tags)


def test_cli_output_scheme(cli):
    task_tags = [json.loads(line)["tags"] for line in _ok(cli["stdin_json"]).splitlines()]
    bioes = [json.loads(line)["tags"] for line in _ok(cli["bioes_json"]).splitlines()]
    assert bioes == [tag_schemes.convert(tags, "iobes") for tags in task_tags] != task_tags


def _refusal(result) -> str:
    """The one error line of a refused call, which wrote nothing on stdout."""
    code, out, err = result
    assert code == 1 and out == "", err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    return err.strip()


def test_a_model_dir_without_a_model_is_refused_with_what_it_is(cli):
    tmp = cli["tmp"]
    assert _refusal(cli["no_model"]) == f"error: {tmp / 'missing'}: no such folder"
    assert _refusal(cli["exported"]).startswith(f"error: {tmp / 'exported'}: a SavedModel export: ")
    assert _refusal(cli["model_file"]).endswith(
        f"model.keras: a file, not a run folder (its folder: {cli['model_dir']})"
    )
    assert _refusal(cli["run_parent"]) == (
        f"error: {tmp / 'runs'}: no model.keras here; is this a finished training run? "
        f"(a model is in {tmp / 'runs' / 'tagger'})"
    )


def test_output_goes_to_a_file_whole_and_never_onto_the_input(cli):
    tmp = cli["tmp"]
    code, out, err = cli["to_output"]
    assert code == 0 and out == "", err
    assert (tmp / "out.conll").read_text(encoding="utf-8") == _ok(cli["file_conll"])
    assert _ok(cli["output_dash"]) == _ok(cli["file_conll"])  # '-': stdout
    assert _refusal(cli["output_fifo"]).endswith("--output: not a regular file (a device, FIFO or socket)")
    assert "--output" in _refusal(cli["output_is_input"]) and (tmp / "in.conll").read_text() == CONLL
    # an input error on its 3rd line: no output file, not even the lines tagged before it
    code, _, err = cli["failed_output"]
    assert code == 1 and f"{cli['bad_path']}:3:" in err and not (tmp / "bad.out").exists()
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("bad.")) == ["bad.txt"]
    # stdout appending to the input file (a shell's >>) would read its own output: refused
    assert "standard output is this input file" in _refusal(cli["stdout_is_input"])
    assert (tmp / "appended.conll").read_text(encoding="utf-8") == CONLL


def test_an_input_that_is_a_folder_or_missing_is_refused_before_the_model_loads(cli):
    tmp = cli["tmp"]
    assert _refusal(cli["input_folder"]).startswith(f"error: {tmp / 'brat_in'}: a folder: ")
    assert _refusal(cli["missing_input"]) == f"error: {tmp / 'none.txt'}: no such file"


def test_a_reader_that_goes_away_ends_the_tagger_as_sigpipe_would(cli):
    code, first, err = cli["early_reader_exit"]
    assert first.startswith("Anna ")
    assert code == 141 and err == "", err


@pytest.mark.parametrize(
    "input_format,data", [("text", b""), ("conll", b"-DOCSTART- -X- O\n\n"), ("raw", b" \n\n\t\r\n")]
)
def test_empty_stdin_gives_empty_output_as_the_api_does(monkeypatch, tagger, input_format, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = io.BytesIO()
    counts = tag.tag_stream(
        Tagger(tagger, task_named("ner", "")), tag.read_input("-", input_format), input_format, "conll", out
    )
    assert counts == (0, 0) and out.getvalue() == b""
    assert Tagger(tagger, task_named("ner", "")).predict([]) == []


def test_blank_lines_of_text_input_give_empty_records(monkeypatch, tagger):
    """Text input: the n-th output record answers the n-th input line, blank lines included."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\n  \nEU rejects\n\n")))
    out = io.BytesIO()
    counts = tag.tag_stream(
        Tagger(tagger, task_named("ner", "")), tag.read_input("-", "text"), "text", "json", out
    )
    records = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert [r["tokens"] for r in records] == [[], [], ["EU", "rejects"], []] and counts == (1, 2)


def test_missing_input_file(tmp_path):
    with pytest.raises(InputError, match="nope.txt: no such file"):
        list(tag.read_input(str(tmp_path / "nope.txt"), "conll"))


def test_chunking_model_uses_chunks_key(model_dir, tagger, predict):
    task = task_named("chunking", model_dir)
    assert task.fmt.tag_scheme == "iob2"
    tags = predict(TEXT_SENTENCES, "iob2")
    tagged = Tagger(tagger, task).predict(TEXT_SENTENCES)
    assert [list(t.tags) for t in tagged] == tags
    records = [json.loads(line) for line in tag.json_lines(tagged, task.entity_word)]
    assert all(set(r) == {"tokens", "tags", "chunks"} for r in records)
    assert [[(c["start"], c["end"]) for c in r["chunks"]] for r in records] == [
        [c[1:] for c in tag_schemes.tags_to_chunks(t)] for t in tags
    ]
    with pytest.raises(InputError, match="unknown task 'srl'"):
        task_named("srl", model_dir)


def test_brat_output_for_a_folder_of_text_files(cli, model_dir):
    """--format=brat writes NAME.ann (offsets into the text as stored, CRLF included) and a copy
    of NAME.txt per input file: the spans the API finds in the raw text, a folder that reads back."""
    from taglm_tf.data import brat

    code, out, err = cli["brat"]
    assert code == 0 and out == "" and err.strip().startswith("2 document(s), "), err
    in_dir, out_dir = cli["brat_dirs"]
    tagger = Tagger.load(model_dir)
    for document in brat.read_folder(str(out_dir)):  # checks every offset against its surface
        text = BRAT_TEXTS[int(document.name[-1])]
        assert (out_dir / f"{document.name}.txt").read_bytes() == text.encode("utf-8")
        expected = [(s.type, s.char_start, s.char_end) for sent in tagger.predict(text) for s in sent.spans]
        assert [(a.type, a.start, a.end) for a in document.annotations] == expected
    assert sorted(p.name for p in in_dir.iterdir()) == ["doc0.txt", "doc1.txt"]  # input untouched
    code, _, err = cli["brat_same_dir"]
    assert (
        code == 1
        and "--output_dir is also an input" in err
        and sorted(p.name for p in in_dir.iterdir()) == ["doc0.txt", "doc1.txt"]
    )


def test_api_write_brat_refuses_another_folders_files(model_dir, tmp_path):
    tagger = Tagger.load(model_dir)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Angela Merkel visited Paris.")
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "a.txt").write_text("Another text.")
    (tmp_path / "gold" / "a.ann").write_text("T1\tTask 0 7\tAnother\n")
    with pytest.raises(InputError, match="holds .ann files that taglm_tf did not write"):
        tagger.write_brat(str(tmp_path / "in"), str(tmp_path / "gold"))
    assert (tmp_path / "gold" / "a.ann").read_text() == "T1\tTask 0 7\tAnother\n"
    (tmp_path / "gold2").mkdir()  # gold texts only: another folder's a.txt
    (tmp_path / "gold2" / "a.txt").write_text("Another text.")
    with pytest.raises(InputError, match="holds another a.txt"):
        tagger.write_brat(str(tmp_path / "in"), str(tmp_path / "gold2"))
    assert tagger.write_brat(str(tmp_path / "in"), str(tmp_path / "out"))[0] == 1
    assert tagger.write_brat(str(tmp_path / "in"), str(tmp_path / "out"))[0] == 1  # its own output: rewritten


def test_json_records_stay_one_per_line_for_every_line_reader():
    from taglm_tf.serving.api import TaggedSentence

    tokens = ("a\u2028b", "\u0085", "c\u2029d", "e\x0bf", "g\x1ch")
    sentence = TaggedSentence(tokens, ("O",) * len(tokens), ())
    text = "".join(line + "\n" for line in tag.json_lines([sentence, sentence], "entities"))
    assert len(text.splitlines()) == 2 and text.count("\n") == 2
    assert [json.loads(line)["tokens"] for line in text.splitlines()] == [list(tokens)] * 2


def test_stdin_that_is_stdout_is_refused_before_the_model_loads(model_dir, tmp_path):
    looped = tmp_path / "loop.txt"  # `tag < loop.txt >> loop.txt` would read its own output
    looped.write_text("Anna visited Paris .\n", encoding="utf-8")
    with open(looped, "rb") as stdin, open(looped, "ab") as stdout:
        result = subprocess.run(
            _cli(model_dir, "--input_format=text"),
            cwd=REPO,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=300,
        )
    assert _refusal((result.returncode, "", result.stderr.decode())).startswith(
        "error: <stdin>: standard output is this input file"
    )
    assert looped.read_text(encoding="utf-8") == "Anna visited Paris .\n"


def test_an_output_named_through_proc_onto_a_pipe_is_refused(model_dir):
    result = subprocess.run(
        _cli(model_dir, "--input_format=text", "--output=/dev/stdout"),
        cwd=REPO,
        input=b"a b\n",
        capture_output=True,
        timeout=300,
    )  # stdout is a pipe: /dev/stdout resolves to /proc/PID/fd/pipe:[N], no file to write beside
    refusal = _refusal((result.returncode, result.stdout.decode(), result.stderr.decode()))
    assert refusal.endswith("--output: not a regular file (a device, FIFO or socket)")


def test_sigterm_while_tagging_into_output_leaves_nothing(model_dir, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(
        "".join(f"Anna Smith visited Paris on day {i} .\n" for i in range(100_000)), encoding="utf-8"
    )
    out = tmp_path / "out.conll"
    args = (f"--input={big}", "--input_format=text", f"--output={out}", "--batch_size=16")
    proc = subprocess.Popen(_cli(model_dir, *args), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not any(p.name.startswith("out.tmp-") for p in tmp_path.iterdir()):  # tagging has begun
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.decode().strip().splitlines()[-1] == "terminated: no output written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]
