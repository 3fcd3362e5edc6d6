"""The run lifecycle of `experiments.ner`: exact resume after Ctrl-C and SIGKILL in the
middle of epochs with dropout on, validated resume, finished runs, and failed starts."""

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import sigint_as_in_a_terminal, tiny_config
from taglm_tf.tasks import sample_paths
from taglm_tf.training.experiment import run_experiment
from taglm_tf.training.trainer import Trainer
from taglm_tf.utils.errors import Interrupted

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Tiny, dropout on (chars and both RNN inputs), batches of 8 (about 50 per epoch: the runs stop at step 25,
# in the middle of an epoch); 2 constant epochs + 1 annealing epoch.
FLAGS = [
    "--data_dir=/nonexistent",
    *(f"--{k}_file={v}" for k, v in sample_paths().items()),
    "--char_dim=4",
    "--char_units=4",
    "--word_dim=8",
    "--rnn_units=8",
    "--char_dropout=0.25",
    "--rnn_input_dropout=0.25",
    "--output_dropout=0.25",
    "--batch_size=8",
    "--patience=1",
    "--max_constant_epochs=2",
    "--anneal_epochs=1",
    "--anneal_steps=1",
    "--seed=7",
    "--verbose=2",
]
TIMINGS = ("seconds", "train_tokens_per_sec", "tokens_per_sec")


def command(model_dir, *extra):
    return [sys.executable, "-m", "experiments.ner", f"--model_dir={model_dir}", *FLAGS, *extra]


def run(model_dir, *extra):
    return subprocess.run(command(model_dir, *extra), cwd=REPO, capture_output=True, text=True, timeout=600)


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def outcome(model_dir):
    """What must not depend on interruptions: scores, per-epoch history, final predictions."""
    results = json.loads((model_dir / "results.json").read_text())
    return (
        without_timings(results["scores"]),
        without_timings(results["history"]),
        (model_dir / "test_predictions.txt").read_text(),
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("reference") / "run"
    result = run(model_dir)
    assert result.returncode == 0, result.stderr
    return model_dir


def history(model_dir):
    try:
        return json.loads((model_dir / "state.json").read_text())["history"]
    except (OSError, ValueError):
        return []


def stop_in_epoch(model_dir, epoch, sig, *extra, steps=25):
    """Run (or resume) a run that signals itself ``sig`` after step ``steps`` of ``epoch`` (about 50
    batches; see interrupt_at_step.py); returns (exit status, stderr)."""
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "tests", "interrupt_at_step.py"),
            str(epoch),
            str(steps),
            sig.name[3:],
            *command(model_dir, *extra)[2:],
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=sigint_as_in_a_terminal,
    )
    assert len(history(model_dir)) == epoch - 1, result.stderr
    assert not (model_dir / "results.json").exists()
    return result.returncode, result.stderr


def test_a_run_stopped_twice_and_moved_resumes_to_the_uninterrupted_run(tmp_path, reference):
    """One run stopped twice: Ctrl-C in epoch 2 (one line, exit 130); then, moved elsewhere (state.json
    names checkpoints relative to the run), resumed and killed by SIGKILL in the annealing epoch 3
    (leaving a half-written checkpoint); the second resume ends the schedule with the same scores,
    history and predictions as the uninterrupted run. A copy taken after the first stop whose
    checkpoints (or best/) are gone is one error line, never the moved original's files."""
    import shutil

    assert len(history(reference)) == 3
    first = tmp_path / "first"
    returncode, err = stop_in_epoch(first, 2, signal.SIGINT)
    assert returncode == 130
    assert err.strip().splitlines()[-1] == (
        "interrupted in epoch 2; rerun with --resume to continue from the end of epoch 1"
    )
    assert "Traceback" not in err
    assert json.loads((first / "state.json").read_text())["checkpoint"] == "checkpoints/ckpt-1"
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    model_dir = tmp_path / "elsewhere" / "moved"
    model_dir.parent.mkdir()
    first.rename(model_dir)

    returncode, _ = stop_in_epoch(model_dir, 3, signal.SIGKILL, "--resume")
    assert returncode == -signal.SIGKILL
    leftover = model_dir / "checkpoints" / "ckpt-3_temp"  # as a kill during a save leaves it
    leftover.mkdir()
    (leftover / "part-00000-of-00001.index").write_bytes(b"partial")
    resumed = run(model_dir, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not leftover.exists()
    assert outcome(model_dir) == outcome(reference)
    assert [h["lr"] for h in history(model_dir)] == pytest.approx([1e-3, 1e-3, 1e-4])  # annealed

    broken = tmp_path / "broken"
    shutil.copytree(copy, broken)
    shutil.rmtree(broken / "checkpoints")
    failed = run(broken, "--resume")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1] == (
        f"error: {broken}: state.json names checkpoints/ckpt-1, which is not in the run directory: its files "
        "are incomplete; start the run anew (without --resume)"
    )
    no_best = tmp_path / "no_best"
    shutil.copytree(copy, no_best)
    shutil.rmtree(no_best / "best")
    failed = run(no_best, "--resume")  # annealing would need best/: refused at the start
    assert failed.returncode == 1 and failed.stderr.strip().splitlines()[-1] == (
        f"error: {no_best}: state.json names best/ckpt-1, which is not in the run directory: its files "
        "are incomplete; start the run anew (without --resume)"
    )


def test_resume_with_other_settings_is_one_error_line(reference):
    before = {p: os.path.getmtime(reference / p) for p in ("results.json", "model.keras", "state.json")}
    result = run(reference, "--resume", "--learning_rate=0.01", "--seed=8", "--rnn_units=100")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {reference}/config.json: --resume with settings other than the run's: "
        "--learning_rate (0.001 saved, 0.01 given), --rnn_units (8 saved, 100 given), "
        "--seed (7 saved, 8 given); drop these flags to continue the run, or use a new --model_dir"
    ]
    other_data = run(reference, "--resume", f"--dev_file={sample_paths()['test']}")
    assert other_data.returncode == 1
    assert (
        f'--dev_file ("{sample_paths()["dev"]}" saved, "{sample_paths()["test"]}" given)' in other_data.stderr
    )
    assert {p: os.path.getmtime(reference / p) for p in before} == before


def test_resume_of_a_finished_run_says_so_and_changes_nothing(reference):
    before = {p: (reference / p).read_bytes() for p in ("results.json", "model.keras", "state.json")}
    mtimes = {p: os.path.getmtime(reference / p) for p in before}
    dev_f1 = json.loads(before["results.json"])["dev_f1"]
    result = run(reference, "--resume", "--verbose=0", "--eval_batch_size=7", "--lm_cache_dir=elsewhere")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .startswith(f"{reference}: this run has already finished (dev F1 {dev_f1:.2f}")
    )
    assert "WARNING" not in result.stderr and "optimizer" not in result.stderr
    assert {p: (reference / p).read_bytes() for p in before} == before
    assert {p: os.path.getmtime(reference / p) for p in before} == mtimes


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_run_that_fails_in_its_first_epoch_leaves_nothing(tmp_path, monkeypatch, error):
    config = tiny_config(tmp_path / "run")

    def fail(self, data, epoch):
        raise error

    monkeypatch.setattr(Trainer, "_epoch", fail)
    with pytest.raises(Interrupted if isinstance(error, KeyboardInterrupt) else RuntimeError) as raised:
        run_experiment(config)
    assert not (tmp_path / "run").exists()
    if isinstance(error, KeyboardInterrupt):
        assert str(raised.value) == (
            f"interrupted in epoch 1, before any epoch was saved; nothing was kept in {tmp_path / 'run'}"
        )


def test_sigterm_stops_a_run_as_ctrl_c_does(tmp_path, monkeypatch):
    """SIGTERM (``run_seeds`` stopping its runs) is Ctrl-C: one line, and a run that saved no
    epoch leaves nothing."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")

    def terminated(self, data, epoch):
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # never stop the test process
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Trainer, "_epoch", terminated)
    with pytest.raises(Interrupted) as raised:
        run_experiment(tiny_config(tmp_path / "run"))
    assert str(raised.value) == (
        f"interrupted in epoch 1, before any epoch was saved; nothing was kept in {tmp_path / 'run'}"
    )
    assert not (tmp_path / "run").exists() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_failed_start_keeps_what_was_there(tmp_path, monkeypatch):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    (model_dir / "notes.txt").write_text("mine")

    def fail(self, data, epoch):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Trainer, "_epoch", fail)
    with pytest.raises(RuntimeError):
        run_experiment(tiny_config(model_dir))
    assert os.listdir(model_dir) == ["notes.txt"]


def test_dropout_in_a_traced_step_depends_only_on_seed_and_epoch():
    """Reseeding resets the dropout of an already traced function; Keras' default legacy dropout
    (hidden kernel state) is refused."""
    import numpy as np
    import tensorflow as tf

    from taglm_tf.models.config import TaggerConfig
    from taglm_tf.models.tagger import build_tagger
    from taglm_tf.training.trainer import random_generators, reseed_random_layers

    config = TaggerConfig(char_dim=4, char_units=4, word_dim=8, rnn_units=8, output_dropout=0.5)
    model = build_tagger(config, num_words=20, num_chars=10, num_tags=5)
    assert len(random_generators(model)) == 4  # chars, RNN-1 input, RNN-2 input, output
    inputs = {
        "word_ids": tf.constant([[2, 3, 4]]),
        "char_ids": tf.constant([[2, 3, 4], [5, 6, 0]]),
        "char_index": tf.constant([[0, 1, 0]]),
    }  # two word types
    step = tf.function(lambda: model(inputs, training=True)["potentials"])

    def epoch(seed, number):
        reseed_random_layers(model, seed, number)
        return [step().numpy() for _ in range(3)]

    first = epoch(1, 2)
    assert not np.array_equal(first[0], first[1])  # dropout differs from step to step
    epoch(1, 3)
    again = epoch(1, 2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(epoch(2, 2)[0], first[0])
    legacy = tf.keras.Sequential([tf.keras.layers.Dropout(0.5, input_shape=(3,))])
    with pytest.raises(ValueError, match="legacy stateful"):
        random_generators(legacy)


def test_a_kill_between_a_new_best_and_its_commit_leaves_the_committed_best(tmp_path, monkeypatch):
    """The best epoch's weights are written before state.json commits the epoch: a kill in
    between leaves them beside the committed best; the next start removes them, so annealing
    restores the best state.json names, and the run ends as an uninterrupted one does."""
    reference_dir, model_dir = tmp_path / "reference", tmp_path / "run"
    settings = dict(learning_rate=0.01, patience=3, max_constant_epochs=3)  # dev F1 best at epochs 1, 2, 3
    run_experiment(tiny_config(reference_dir, **settings))
    commit, killed = Trainer._commit, []

    def killed_at_a_later_best(self, schedule, history):
        if schedule.epoch > 1 and schedule.best_epoch == schedule.epoch and not killed:
            killed.append(schedule.epoch)
            raise KeyboardInterrupt
        return commit(self, schedule, history)

    monkeypatch.setattr(Trainer, "_commit", killed_at_a_later_best)
    with pytest.raises(Interrupted):
        run_experiment(tiny_config(model_dir, **settings))
    (epoch,) = killed
    committed = json.loads((model_dir / "state.json").read_text())["schedule"]["best_epoch"]
    assert committed < epoch and {p.name.split(".")[0] for p in (model_dir / "best").iterdir()} == {
        f"ckpt-{committed}",
        f"ckpt-{epoch}",
    }  # the uncommitted best beside the committed one
    monkeypatch.setattr(Trainer, "_commit", commit)
    epoch_fn, at_resume = Trainer._epoch, []

    def first_epoch_sees(self, data, epoch):  # what the start left in best/, before any epoch
        at_resume.append(at_resume or sorted({p.name.split(".")[0] for p in (model_dir / "best").iterdir()}))
        return epoch_fn(self, data, epoch)

    monkeypatch.setattr(Trainer, "_epoch", first_epoch_sees)
    run_experiment(tiny_config(model_dir, **settings), resume=True)
    assert at_resume[0] == [f"ckpt-{committed}"]
    best = json.loads((model_dir / "state.json").read_text())["schedule"]["best_epoch"]
    assert {p.name.split(".")[0] for p in (model_dir / "best").iterdir()} == {f"ckpt-{best}"}
    assert outcome(model_dir) == outcome(reference_dir)
