"""``benchmarks.vs_flair``: ratios and targets on fake results, the order of the sides, failures
and argument errors. No flair and no training here: the sides are small fake programs."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from absl import app

from benchmarks import vs_flair


def fake_result(decode: float, train: float) -> dict:
    return {"inference": {"tokens_per_sec": decode, "tokens": 100}, "train": {"tokens_per_sec": train}}


def test_ratios_are_ours_over_flair_per_section():
    got = vs_flair.ratios(fake_result(6000.0, 2000.0), fake_result(1000.0, 500.0))
    assert got == {"decode": pytest.approx(6.0), "train": pytest.approx(4.0)}


@pytest.mark.parametrize(
    "ours,flair,side",
    [
        ({"train": {"tokens_per_sec": 1.0}}, fake_result(1.0, 1.0), "ours"),  # no inference section
        (fake_result(1.0, 1.0), fake_result(0.0, 1.0), "flair"),
        (fake_result(1.0, 1.0), fake_result(1.0, None), "flair"),
    ],
)
def test_ratios_refuse_missing_or_zero_rates(ours, flair, side):
    with pytest.raises(ValueError, match=f"^{side}'s result"):
        vs_flair.ratios(ours, flair)


def test_summary_takes_the_median_round_and_checks_each_target():
    rounds = [{"decode": 4.0, "train": 4.4}, {"decode": 6.0, "train": 3.0}, {"decode": 5.0, "train": 3.9}]
    result = vs_flair.summary(rounds)
    assert result["ratio"] == {"decode": 5.0, "train": 3.9}
    assert result["ratio_min"] == {"decode": 4.0, "train": 3.0}
    assert result["ratio_max"] == {"decode": 6.0, "train": 4.4}
    assert result["targets"] == {"decode": 5.0, "train": 4.0}
    assert result["met"] == {"decode": True, "train": False}  # a median equal to its target meets it
    # Two rounds: the median is their mean.
    assert vs_flair.summary(rounds[:2], {"decode": 5.0})["ratio"] == {"decode": 5.0}
    with pytest.raises(ValueError, match="no rounds"):
        vs_flair.summary([])


def test_both_sides_get_the_same_settings():
    settings = {"data_dir": "/data", "train_batches": 7, "min_seconds": 0.5, "dev_sentences": None}
    commands = vs_flair.side_commands("/venv/bin/python", "/o/ours.json", "/o/flair.json", settings)
    shared = ["--data_dir=/data", "--train_batches=7", "--min_seconds=0.5"]
    assert commands["ours"] == [
        sys.executable,
        "-m",
        "benchmarks.tagger_throughput",
        "--task=ner",
        "--output=/o/ours.json",
        *shared,
    ]
    assert commands["flair"] == ["/venv/bin/python", vs_flair.FLAIR_SCRIPT, "--output=/o/flair.json", *shared]


def test_the_flair_python_must_be_an_executable(tmp_path):
    with pytest.raises(app.UsageError, match="make flair-venv"):
        vs_flair.flair_python(str(tmp_path / "missing" / "python"))
    not_executable = tmp_path / "python"
    not_executable.write_text("")
    with pytest.raises(app.UsageError, match="no flair venv"):
        vs_flair.flair_python(str(not_executable))
    assert vs_flair.flair_python(sys.executable) == sys.executable


def writer(output, decode: float, train: float, log=None) -> list[str]:
    """A command that writes a fake benchmark result to ``output`` (and its name to ``log``)."""
    code = f"import json; json.dump({fake_result(decode, train)!r}, open({str(output)!r}, 'w'))" + (
        f"; open({str(log)!r}, 'a').write({output.stem!r} + ' ')" if log else ""
    )
    return [sys.executable, "-c", code]


def test_rounds_alternate_the_order_and_keep_each_sides_result(tmp_path):
    outputs = {side: tmp_path / f"{side}.json" for side in ("ours", "flair")}
    log = tmp_path / "log"
    commands = {
        "ours": writer(outputs["ours"], 3000.0, 800.0, log),
        "flair": writer(outputs["flair"], 500.0, 200.0, log),
    }
    first = vs_flair.run_round(1, commands, outputs, timeout=60)
    second = vs_flair.run_round(2, commands, outputs, timeout=60)
    assert log.read_text().split() == ["ours", "flair", "flair", "ours"]
    assert (first["order"], second["order"]) == (["ours", "flair"], ["flair", "ours"])
    assert second["ratios"] == {"decode": pytest.approx(6.0), "train": pytest.approx(4.0)}
    assert second["flair"]["inference"]["tokens_per_sec"] == 500.0
    assert len(second["ours"]["load_average"]["start"]) == 3
    assert second["ours"]["process"]["wall_seconds"] > 0 and second["ours"]["process"]["cpu_seconds"] > 0


def test_a_failing_side_is_one_error_naming_it(tmp_path):
    outputs = {side: tmp_path / f"{side}.json" for side in ("ours", "flair")}
    commands = {
        "ours": writer(outputs["ours"], 1.0, 1.0),
        "flair": [sys.executable, "-c", "raise SystemExit(3)"],
    }
    with pytest.raises(SystemExit, match=r"^error: flair's benchmark failed \(exit 3"):
        vs_flair.run_round(1, commands, outputs, timeout=60)
    commands["flair"] = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(SystemExit, match="ran past --timeout=0.5 s"):
        vs_flair.run_side("flair", commands["flair"], outputs["flair"], timeout=0.5)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--flair_python=/nonexistent/bin/python"], "error: no flair venv: /nonexistent/bin/python"),
        (["--rounds=0"], "error: flag --rounds=0"),
        (["--flair_python=/nonexistent/bin/python", "extra"], "error: unexpected arguments: extra"),
    ],
)
def test_argument_errors_are_one_line_before_any_work(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.vs_flair", *args, "--output="],
        cwd=vs_flair.REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()] and done.stderr.startswith(message)
    assert done.stdout == ""


def test_fake_sides_json_round_trips(tmp_path):
    # run_side reads what the side wrote and adds the load average and the CPU it used; nothing else.
    output = tmp_path / "side.json"
    result = vs_flair.run_side("ours", writer(output, 2.0, 1.0), output, timeout=60)
    assert {k: v for k, v in result.items() if k not in ("load_average", "process")} == json.loads(
        output.read_text()
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_flair_venv_pins_torch_before_flair(tmp_path):
    # A torch that pip picked for flair itself would be a CUDA build of several GB.
    shutil.copy(
        os.path.join(vs_flair.REPO, "Makefile"), tmp_path / "Makefile"
    )  # a copy: no real venv is touched
    done = subprocess.run(
        ["make", "-n", "flair-venv"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    installs = [
        line.split("install --quiet ", 1)[1] for line in done.stdout.splitlines() if "pip install" in line
    ]
    assert installs == ["--upgrade pip", "torch==2.13.0", "torch==2.13.0 flair==0.15.1"]
    assert ".venv-flair/" in open(os.path.join(vs_flair.REPO, ".gitignore")).read().split()


def test_a_side_that_writes_nothing_is_not_given_an_earlier_result(tmp_path):
    output = tmp_path / "side.json"
    output.write_text(json.dumps(fake_result(1.0, 1.0)))
    with pytest.raises(SystemExit, match="^error: flair's benchmark wrote no result"):
        vs_flair.run_side("flair", [sys.executable, "-c", "pass"], output, timeout=60)
