"""ScienceIE span scoring against hand-computed precision, recall and F1, and its CLI."""

import json
import os
import subprocess
import sys

import pytest

from taglm_tf.scoring.brat_eval import score_folders
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ann(folder, name, *spans):
    """``spans``: (type, start, end); surfaces are not checked by the scorer."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ann").write_text(
        "".join(f"T{i}\t{t} {s} {e}\tx\n" for i, (t, s, e) in enumerate(spans, 1))
    )


def test_hand_computed_scores(tmp_path):
    gold, pred = tmp_path / "gold", tmp_path / "pred"
    # doc a: gold Task 0-5, Process 10-20 twice (counts once), Material 30-40 and Process 30-40 (the
    # first type counts); predicted: Task 0-5 (right), Material 10-20 (wrong type), Material 30-40
    # (right), Method 50-60 (a type no gold file has: counts for nothing)
    ann(
        gold,
        "a",
        ("Task", 0, 5),
        ("Process", 10, 20),
        ("Process", 10, 20),
        ("Material", 30, 40),
        ("Process", 30, 40),
    )
    ann(pred, "a", ("Task", 0, 5), ("Material", 10, 20), ("Material", 30, 40), ("Method", 50, 60))
    ann(gold, "b", ("Material", 1, 2))  # predicted as empty
    ann(pred, "b")
    ann(gold, "c", ("Task", 3, 4))  # no prediction file at all
    ann(pred, "extra", ("Task", 0, 1))  # no gold file: ignored
    scores = score_folders(str(gold), str(pred))
    counts = {t: (c.correct, c.found_guessed, c.found_gold) for t, c in scores.per_type.items()}
    assert counts == {"Task": (1, 1, 2), "Process": (0, 0, 1), "Material": (1, 2, 2)}
    o = scores.overall
    assert (o.correct, o.found_guessed, o.found_gold) == (2, 3, 5)
    assert (o.precision, o.recall) == (pytest.approx(200 / 3), pytest.approx(40.0))
    assert o.f1 == pytest.approx(2 * (200 / 3) * 40 / (200 / 3 + 40))
    assert scores.per_type["Process"].f1 == 0.0 and scores.missing_predictions == ["c.ann"]


def test_a_duplicate_prediction_counts_once(tmp_path):
    ann(tmp_path / "g", "a", ("Task", 0, 5))
    ann(tmp_path / "p", "a", ("Task", 0, 5), ("Task", 0, 5), ("Process", 0, 5))
    o = score_folders(str(tmp_path / "g"), str(tmp_path / "p")).overall
    assert (o.correct, o.found_guessed, o.found_gold, o.f1) == (1, 1, 1, 100.0)


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_ann_lines_are_read_as_every_text_input(tmp_path, bom, newline):
    """A leading BOM and CRLF or CR-only line ends: the same two gold spans as an LF file, scored
    the same (a CR-only file once read as one line, its second span swallowed into the first
    one's surface: 100/100/100 with one gold span)."""
    lines = ["T1\tTask 0 5\tx", "T2\tProcess 6 9\ty"]
    for folder, count in (("g", 2), ("p", 1)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.ann").write_bytes((bom + newline.join(lines[:count]) + newline).encode())
    scores = score_folders(str(tmp_path / "g"), str(tmp_path / "p"))
    overall = scores.as_dict()["overall"]
    assert (overall["gold"], overall["predicted"], overall["correct"]) == (2, 1, 1)
    assert (overall["precision"], overall["recall"], overall["f1"]) == (100.0, 50.0, pytest.approx(200 / 3))


def test_errors(tmp_path):
    ann(tmp_path / "g", "a", ("Task", 0, 5))
    with pytest.raises(InputError, match="no such folder"):
        score_folders(str(tmp_path / "g"), str(tmp_path / "nothing"))
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.ann").write_text("T1\tTask 0\tx\n")
    with pytest.raises(InputError, match="bad offsets") as e:
        score_folders(str(tmp_path / "g"), str(tmp_path / "p"))
    assert e.value.line == 1 and e.value.path.endswith("a.ann")


def test_cli_table_and_json(tmp_path):
    ann(tmp_path / "g", "a", ("Task", 0, 5), ("Process", 6, 9))
    ann(tmp_path / "p", "a", ("Task", 0, 5))
    ann(tmp_path / "g", "b", ("Task", 1, 2))
    command = [sys.executable, "-m", "experiments.brat_eval", str(tmp_path / "g"), str(tmp_path / "p")]
    table = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert (
        table.returncode == 0 and "| overall (micro) | 100.00 | 33.33 | 50.00 | 1 | 1 | 3 |" in table.stdout
    )
    assert table.stderr.strip() == "1 gold file(s) have no prediction file, scored as empty: b.ann"
    as_json = json.loads(
        subprocess.run(command + ["--json"], cwd=REPO, capture_output=True, text=True).stdout
    )
    assert as_json["overall"]["f1"] == pytest.approx(50.0) and set(as_json["per_type"]) == {"Task", "Process"}
    bad = subprocess.run(command[:-1], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("error: give the gold folder")
