"""The multi-seed runner: failures, resume, parallel seeds, sweep.json; and sweeps' summaries."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fake_runs
from experiments import run_seeds
from taglm_tf.reports import sweeps
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stands in for `python -m experiments.ner`: records its call, fails for seeds in $FAKE_FAIL
# after leaving a partial run behind, and on --resume of a partial run finishes it.
FAKE_TRAIN = textwrap.dedent("""
    import json, os, sys
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if "=" in a)
    model_dir, seed = args["model_dir"], int(args["seed"])
    with open(os.environ["FAKE_CALLS"], "a") as f:
        f.write(json.dumps({"seed": seed, "argv": sys.argv[1:]}) + "\\n")
    os.makedirs(model_dir, exist_ok=True)
    partial = os.path.exists(os.path.join(model_dir, "state.json"))
    json.dump({"task": "ner", "train_with_dev": True, "embeddings": "x/glove.6B.50d.txt"},
              open(os.path.join(model_dir, "config.json"), "w"))
    if str(seed) in os.environ.get("FAKE_FAIL", "").split(","):
        open(os.path.join(model_dir, "state.json"), "w").write("{}")
        print("training seed", seed, "crashed"); sys.exit(3)
    resumed = partial and "--resume" in sys.argv
    json.dump({"test_f1": 90 + seed / 10, "dev_f1": 94 + seed / 100, "seed": seed, "epochs": 2,
               "resumed": resumed}, open(os.path.join(model_dir, "results.json"), "w"))
""")


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN)
    flagfile = tmp_path / "ner_demo.cfg"
    flagfile.write_text("--verbose=0\n")
    return {
        "script": str(script),
        "flagfile": str(flagfile),
        "calls": str(tmp_path / "calls.jsonl"),
        "sweep": str(tmp_path / "sweep"),
    }


def run_cli(fake, fail="", extra=(), seeds=3, parallel=1):
    template = f"{{python}} {fake['script']} --model_dir={{model_dir}} --seed={{seed}} --resume"
    argv = [
        sys.executable,
        "-m",
        "experiments.run_seeds",
        "--task=ner",
        f"--flagfile={fake['flagfile']}",
        f"--seeds={seeds}",
        f"--sweep_dir={fake['sweep']}",
        f"--parallel={parallel}",
        f"--command_template={template}",
        *(["--", *extra] if extra else []),
    ]
    env = {**os.environ, "FAKE_CALLS": fake["calls"], "FAKE_FAIL": fail}
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def calls(fake):
    with open(fake["calls"]) as f:
        return [json.loads(line) for line in f]


def test_failed_seed_is_reported_and_rerun_resumes_only_missing(fake):
    first = run_cli(fake, fail="2", extra=["--train_fraction=0.5"])
    assert first.returncode == 1
    log = os.path.join(fake["sweep"], "seed_2.log")
    assert f"seed 2 failed (exit status 3): see {log}" in first.stderr
    assert "crashed" in open(log).read()
    assert [c["seed"] for c in calls(fake)] == [1, 2, 3]
    assert calls(fake)[0]["argv"][-1] == "--train_fraction=0.5"  # passed through after --
    sweep = json.load(open(os.path.join(fake["sweep"], "sweep.json")))
    assert sweep["n"] == 2 and [f["seed"] for f in sweep["failed"]] == [2]
    assert sweep["label"] == "ner_demo" and sweep["flagfile"] == fake["flagfile"]

    second = run_cli(fake, extra=["--train_fraction=0.5"])
    assert second.returncode == 0, second.stderr
    assert [c["seed"] for c in calls(fake)] == [1, 2, 3, 2]  # only the failed seed ran again
    assert json.load(open(os.path.join(fake["sweep"], "seed_2", "results.json")))["resumed"]
    sweep = json.load(open(os.path.join(fake["sweep"], "sweep.json")))
    test = [90.1, 90.2, 90.3]
    assert sweep["failed"] == [] and sweep["n"] == 3
    assert [r["seed"] for r in sweep["runs"]] == [1, 2, 3]
    assert sweep["test_f1"]["mean"] == pytest.approx(np.mean(test))
    assert sweep["test_f1"]["std"] == pytest.approx(np.std(test, ddof=1))
    assert sweep["dev_f1"]["mean"] == pytest.approx(94.02)
    assert sweep["setting"] == {
        "train_with_dev": True,
        "dev_sample": None,
        "train_fraction": 1.0,
        "embeddings": "GloVe 6B 50d",
        "lms": "none",
        "lm_builds": None,
        "schedule": "paper schedule",
    }
    assert "test F1 90.20 ± 0.10 (n=3)" in second.stdout


def test_rerun_with_other_flags_is_refused(fake):
    assert run_cli(fake, seeds=1).returncode == 0
    result = run_cli(fake, seeds=1, extra=["--train_with_dev"])
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {fake['sweep']}: was started with other extra_args")


def test_parallel_runs_every_seed(fake, monkeypatch):
    monkeypatch.setenv("FAKE_CALLS", fake["calls"])
    monkeypatch.setenv("FAKE_FAIL", "4")
    template = f"{{python}} {fake['script']} --model_dir={{model_dir}} --seed={{seed}}"
    os.makedirs(fake["sweep"])
    failed = run_seeds.run_sweep(
        fake["sweep"],
        [1, 2, 3, 4, 5],
        lambda s: run_seeds.command_for(template, "ner", fake["flagfile"], fake["sweep"], s, []),
        parallel=3,
        echo=lambda *_: None,
    )
    assert [f["seed"] for f in failed] == [4]
    assert sorted(c["seed"] for c in calls(fake)) == [1, 2, 3, 4, 5]
    assert sweeps.seeds_to_run(fake["sweep"], range(1, 6)) == [4]


def test_default_command_and_flagfile_renaming():
    argv = run_seeds.command_for(run_seeds.DEFAULT_COMMAND, "chunking", "f.cfg", "d", 7, ["--x=1"])
    assert argv == [
        sys.executable,
        "-m",
        "experiments.train_tagger",
        "--task=chunking",
        "--flagfile=f.cfg",
        f"--model_dir={os.path.join('d', 'seed_7')}",
        "--seed=7",
        "--resume",
        "--x=1",
    ]
    assert run_seeds.rename_flagfile(["p", "--flagfile=a.cfg", "--flagfile", "b", "--", "--flagfile=c"]) == [
        "p",
        "--experiment_flagfile=a.cfg",
        "--experiment_flagfile",
        "b",
        "--",
        "--flagfile=c",
    ]


def test_summary_of_fake_sweep(tmp_path):
    f1s = [(91.5, 94.0), (92.1, 94.4), (91.8, 94.1), (92.4, 94.3)]
    sweep = fake_runs.write_sweep(
        str(tmp_path / "s"),
        "ner_taglm",
        f1s,
        train_with_dev=True,
        forward_lm="/lms/fwd/ckpt-*",
        backward_lm="/lms/bwd_lstm",
    )
    os.makedirs(tmp_path / "s" / "seed_9")  # started, unfinished: not counted
    (tmp_path / "s" / "seed_9" / "config.json").write_text("{}")
    summary = sweeps.sweep_summary(sweep, "ner", "x.cfg", "ner_taglm")
    test = [t for t, _ in f1s]
    assert summary["n"] == 4 and summary["seeds"] == "seeds 1–4"
    assert summary["test_f1"] == {
        "mean": pytest.approx(np.mean(test)),
        "std": pytest.approx(np.std(test, ddof=1)),
        "n": 4,
    }
    assert summary["setting"]["lms"] == "bwd: bwd_lstm; fwd: fwd/ckpt-*"
    assert summary["setting"]["lm_builds"] is None  # the runs recorded no fingerprints: no build named
    assert sweeps.unfinished(sweep) == [str(tmp_path / "s" / "seed_9")]
    expected = f"{np.mean(test):.2f} ± {np.std(test, ddof=1):.2f} (n=4)"
    assert sweeps.format_stat(summary["test_f1"]) == expected
    assert sweeps.format_stat(sweeps.stat([90.0])) == "90.00 (n=1)"


def test_load_runs_errors(tmp_path):
    with pytest.raises(InputError, match="neither a sweep directory nor a finished run"):
        sweeps.load_runs(str(tmp_path))
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(InputError, match="no test_f1"):
        sweeps.load_runs(str(tmp_path))


def test_schedule_is_named_when_it_is_not_the_papers():
    assert sweeps.describe_schedule({}) == "paper schedule"
    budget = {"max_constant_epochs": 6, "anneal_epochs": 2, "anneal_steps": 1, "patience": 5}
    assert sweeps.describe_schedule(budget) == "≤ 6 + 1×2 epochs"
    assert sweeps.describe_schedule({"patience": 3}) == "≤ 50 + 2×5 epochs"


def test_lm1b_specs_are_named_by_their_checkpoint_dir_once():
    spec = "lm1b:/abs/lms/cnn_s_forward/ckpt-*,/abs/lms/cnn_s_forward/vocab.txt"
    relative = (
        "lm1b:../../lms/cnn_s_forward/ckpt-*,../../lms/cnn_s_forward/vocab.txt"  # as experiments write it
    )
    config = {"forward_lm": spec, "lm_specs_relative_to_model_dir": {"forward_lm": relative}}
    assert sweeps.describe_lms(config) == "fwd: cnn_s_forward/ckpt-*"


@pytest.mark.parametrize(
    "config, data",
    [
        ({"task": "chunking", "embeddings": None}, "train − 1,000 dev sentences"),  # dev sampled out of train
        ({"task": "chunking", "files": {"dev": "my.dev"}}, "train"),
        ({"task": "chunking", "train_with_dev": True}, "train+dev"),
        ({"task": "ner"}, "train"),
        ({"task": "ner", "train_with_dev": True, "train_fraction": 0.01}, "train+dev (1% sample)"),
    ],
)
def test_setting_states_the_training_data(config, data):
    assert sweeps.describe_data(sweeps.setting_of(config)).split(", ")[0] == data


@pytest.mark.parametrize("task", ["ner", "chunking", "pos"])
def test_dev_sample_comes_from_the_task_registry(task):
    from taglm_tf.tasks import TASKS

    expected = TASKS[task].dev_sample_size if TASKS[task].dev_file is None else None
    assert sweeps.setting_of({"task": task})["dev_sample"] == expected
    assert sweeps.setting_of({"task": task, "files": {"dev": "my.dev"}})["dev_sample"] is None


def test_a_sweep_resumes_with_its_flagfile_named_another_way(tmp_path, monkeypatch):
    """The same flagfile as ``x.cfg``, ``./x.cfg``, an absolute path or a copy of the same bytes
    (another checkout) resumes; a flagfile with other contents is refused."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.cfg").write_text("--rnn_units=8\n")
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "x.cfg").write_text("--rnn_units=8\n")
    (tmp_path / "other.cfg").write_text("--rnn_units=9\n")
    sweeps.write_sweep(str(tmp_path), {"task": "ner", "flagfile": "x.cfg", "extra_args": []})
    for same in ("x.cfg", "./x.cfg", str(tmp_path / "x.cfg"), str(tmp_path / "copy" / "x.cfg")):
        sweeps.check_same_sweep(str(tmp_path), "ner", same, [])
    with pytest.raises(InputError, match="was started with other flagfile"):
        sweeps.check_same_sweep(str(tmp_path), "ner", "other.cfg", [])
