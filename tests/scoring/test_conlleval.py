"""Tests for taglm_tf.scoring.conlleval against golden outputs of the official Perl script.

The golden files in tests/fixtures/conlleval/ were made by make_fixtures.py
there, which runs the official conlleval script (not shipped with the project).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taglm_tf.scoring import conlleval
from taglm_tf.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "conlleval"

# Fixture name -> command-line options it was scored with (as in make_fixtures.py).
GOLDEN = {
    "iob1": [],
    "iob2": [],
    "iob2_malformed": [],
    "iobes": [],
    "iobes_malformed": [],
    "docstart": [],
    "boundary_x": [],
    "hyphen_types": [],
    "no_type": [],
    "brackets": [],
    "raw": ["-r"],
    "raw_otag": ["-r", "-o", "NONE"],
    "otag_no_raw": ["-o", "NONE"],
    "tab_delim": ["-d", "\t"],
    "regex_delim": ["-d", " +"],
    "latex": ["-l"],
    "latex_quirks": ["-l"],
    "quirks": [],
    "empty": [],
    "only_boundaries": [],
    "no_final_newline": [],
    "crlf": [],
    "non_ascii": [],
    "two_columns": [],
    "random": [],
}

# Phrase counts of the NER column of CoNLL-2003 English.
CONLL2003_PHRASES = {"eng.train": 23499, "eng.testa": 5942, "eng.testb": 5648}


def _api_kwargs(args: list) -> tuple:
    """Map command-line options to (evaluate kwargs, latex flag)."""
    kwargs, latex, rest = {}, False, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "-l":
            latex = True
        elif arg == "-r":
            kwargs["raw"] = True
        elif arg == "-d":
            kwargs["delimiter"] = rest.pop(0)
        elif arg == "-o":
            kwargs["o_tag"] = rest.pop(0)
    return kwargs, latex


def _run_cli(args: list, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taglm_tf.conlleval", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )


def _data_dir():
    """The data directory, as the project finds it, or None."""
    candidates = [os.environ.get("TAGLM_DATA_DIR"), REPO / "data", REPO.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


# ---------------------------------------------------------------- golden files


def test_golden_table_matches_fixture_files():
    on_disk = {p.stem for p in FIXTURES.glob("*.txt")}
    assert on_disk == set(GOLDEN)
    assert {p.stem for p in FIXTURES.glob("*.expected")} == set(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_api(name):
    kwargs, latex = _api_kwargs(GOLDEN[name])
    report = conlleval.format_report(conlleval.evaluate_file(FIXTURES / f"{name}.txt", **kwargs), latex=latex)
    expected = (FIXTURES / f"{name}.expected").read_bytes()
    assert report.encode("utf-8", "surrogateescape") == expected


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_cli_file(name):
    run = _run_cli([*GOLDEN[name], str(FIXTURES / f"{name}.txt")])
    assert run.returncode == 0, run.stderr
    assert run.stdout == (FIXTURES / f"{name}.expected").read_bytes()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_api_with_bom(name, tmp_path):
    """A leading byte-order mark is dropped: the Perl script's report on the file without it."""
    kwargs, latex = _api_kwargs(GOLDEN[name])
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / f"{name}.txt").read_bytes())
    report = conlleval.format_report(conlleval.evaluate_file(path, **kwargs), latex=latex)
    assert report.encode("utf-8", "surrogateescape") == (FIXTURES / f"{name}.expected").read_bytes()


def test_bom_before_a_boundary_line():
    plain = ["-X- -X- O O", "a NN B-NP B-NP", "b NN I-NP O"]
    with_bom = conlleval.evaluate_lines(conlleval.split_lines("\ufeff" + "\n".join(plain)))
    result = conlleval.evaluate_lines(plain)
    assert (with_bom.tokens, with_bom.overall) == (result.tokens, result.overall)
    assert (result.tokens, result.overall.correct, result.overall.found_gold) == (2, 0, 1)


def test_bom_on_stdin():
    run = _run_cli([], stdin=b"\xef\xbb\xbf" + (FIXTURES / "iob1.txt").read_bytes())
    assert run.returncode == 0, run.stderr
    assert run.stdout == (FIXTURES / "iob1.expected").read_bytes()


@pytest.mark.parametrize("name", ["iob1", "latex", "tab_delim", "non_ascii", "crlf", "random"])
def test_golden_cli_stdin(name):
    run = _run_cli(GOLDEN[name], stdin=(FIXTURES / f"{name}.txt").read_bytes())
    assert run.returncode == 0, run.stderr
    assert run.stdout == (FIXTURES / f"{name}.expected").read_bytes()


# ---------------------------------------------------------------- result values


def test_result_fields_and_quirks():
    result = conlleval.evaluate_file(FIXTURES / "quirks.txt")
    assert (result.tokens, result.correct_tags) == (5, 3)
    assert (result.overall.correct, result.overall.found_gold, result.overall.found_guessed) == (3, 4, 4)
    assert result.accuracy == pytest.approx(60.0)
    # The empty type is printed twice, as the Perl script does.
    assert result.report_types == ["", "", "NP", "VERYLONGTYPE", "ÉTAT"]
    assert list(result.per_type) == ["", "NP", "VERYLONGTYPE", "ÉTAT"]
    empty = result.per_type[""]
    assert (empty.precision, empty.recall) == (50.0, 100.0)
    assert empty.f1 == pytest.approx(200 / 3)
    assert result.per_type["NP"].precision == 0.0  # nothing guessed


def test_chunk_counts_zero():
    counts = conlleval.ChunkCounts(0, 0, 0)
    assert (counts.precision, counts.recall, counts.f1) == (0.0, 0.0, 0.0)


def test_iobes_s_tags_are_scored_as_perl_does():
    # S- has no rule: two S-LOC in a row form one chunk for conlleval.
    result = conlleval.evaluate_lines(["a S-LOC S-LOC", "b S-LOC S-LOC"])
    assert result.overall.found_gold == 1


def test_docstart_lines_are_tokens():
    result = conlleval.evaluate_lines(["-DOCSTART- -X- -X- O", "", "a NN B-NP B-NP"])
    assert result.tokens == 2
    assert result.report_types == ["NP", "X-"]


@pytest.mark.parametrize(
    "pattern, line, fields",
    [  # expected fields as printed by Perl's split(/$d/, $line)
        (" ", "a  b", ["a", "", "b"]),
        (" ", " a b", ["", "a", "b"]),
        (" ", "a b  ", ["a", "b"]),
        (" ", "   ", []),
        (" ", "", []),
        (" ", "a b\r", ["a", "b\r"]),
        ("x*", "axb", ["a", "b"]),
        ("x*", "xab", ["", "a", "b"]),
        ("", "abc", ["a", "b", "c"]),
        ("(-)|(\\+)", "a-b+c", ["a", "-", "", "b", "", "+", "c"]),
    ],
)
def test_perl_split(pattern, line, fields):
    assert conlleval.perl_split(re.compile(pattern), line) == fields


def test_evaluate_tag_sequences_matches_lines():
    gold = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    pred = [["B-PER", "O", "O"], ["B-LOC"]]
    lines = ["tok B-PER B-PER", "tok I-PER O", "tok O O", "", "tok B-LOC B-LOC"]
    assert conlleval.evaluate_tag_sequences(gold, pred) == conlleval.evaluate_lines(lines)


@pytest.mark.parametrize(
    "gold, pred",
    [([["O"]], []), ([["O", "O"]], [["O"]]), ([["B-A B"]], [["O"]]), ([[""]], [["O"]])],
)
def test_evaluate_tag_sequences_rejects_bad_input(gold, pred):
    with pytest.raises(InputError):
        conlleval.evaluate_tag_sequences(gold, pred)


# ---------------------------------------------------------------- bad input


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a NN B-NP B-NP\n\nb NN I-NP\n")
    with pytest.raises(InputError) as info:
        conlleval.evaluate_file(path)
    assert (info.value.path, info.value.line) == (str(path), 3)
    run = _run_cli([str(path)])
    assert run.returncode == 1
    assert run.stdout == b""
    assert f"{path}:3:" in run.stderr.decode()
    assert "unexpected number of features" in run.stderr.decode()


def test_wrong_column_count_on_stdin_and_crlf_blank_line():
    # A CRLF blank line is "\r": one field, so Perl rejects it too.
    run = _run_cli([], stdin=b"a NN B-NP B-NP\r\n\r\nb NN I-NP I-NP\r\n")
    assert run.returncode == 1
    assert run.stdout == b""
    assert "<stdin>:2:" in run.stderr.decode()


def test_single_field_rejected():
    with pytest.raises(InputError) as info:
        conlleval.evaluate_lines(["O", "O"], source="x.txt")
    assert (info.value.path, info.value.line) == ("x.txt", 1)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError):
        conlleval.evaluate_file(missing)
    run = _run_cli([str(missing)])
    assert run.returncode == 1
    assert run.stdout == b""
    stderr = run.stderr.decode()
    assert str(missing) in stderr and stderr.count("\n") == 1


def test_main_usage_errors_are_one_line_and_exit_status_1(capsys):
    for argv, message in ((["-d"], "-d requires an argument"), (["-x"], "unknown argument -x")):
        assert conlleval.main(argv) == 1
        assert capsys.readouterr().err == f"conlleval: {message} ({conlleval.USAGE})\n"
    assert conlleval.main(["a", "b"]) == 1
    assert capsys.readouterr().err.startswith("conlleval: at most one FILE can be given (usage: ")


def test_main_in_process(capsysbinary):
    assert conlleval.main(["-o", "NONE", "-r", str(FIXTURES / "raw_otag.txt")]) == 0
    assert capsysbinary.readouterr().out == (FIXTURES / "raw_otag.expected").read_bytes()


# ---------------------------------------------------------------- real data


@pytest.mark.parametrize("name", sorted(CONLL2003_PHRASES))
def test_conll2003_gold_against_itself(name):
    data_dir = _data_dir()
    path = None if data_dir is None else data_dir / "conll2003" / name
    if path is None or not path.is_file():
        pytest.skip("CoNLL-2003 data not found")
    lines = [line + " " + line.split(" ")[-1] if line else line for line in conlleval.read_lines(path)]
    result = conlleval.evaluate_lines(lines, source=str(path))
    phrases = CONLL2003_PHRASES[name]
    overall = result.overall
    assert (overall.found_gold, overall.found_guessed, overall.correct) == (phrases, phrases, phrases)
    assert overall.f1 == 100.0
    report = conlleval.format_report(result)
    assert f"with {phrases} phrases; found: {phrases} phrases; correct: {phrases}." in report
    assert "FB1: 100.00\n" in report
