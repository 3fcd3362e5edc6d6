"""taglm_tf.utils.training_loop on a toy trainer: a resumed run ends as the uninterrupted one, with
and without a state file; Ctrl-C and SIGTERM stop at once with one line and keep the last commit,
or, with units that can end after any step, commit the steps trained (a second signal: at once);
what a kill leaves between a checkpoint and its commit is never read."""

import json
import os
import signal

import pytest
import tensorflow as tf

from taglm_tf.utils import training_loop
from taglm_tf.utils.errors import InputError, Interrupted
from taglm_tf.utils.training_loop import TrainingLoop, interruptible

STEPS_PER_UNIT, UNITS = 3, 4


class Toy:
    """A trainer of one number: each step makes it depend on every earlier step, so that a
    resume from any but the last commit's state ends elsewhere. Units of three steps; the
    history of the units' end values is committed with the unit when there is a state file."""

    def __init__(self, model_dir, state_file=None, on_step=None):
        self.value, self.steps = tf.Variable(1.0), tf.Variable(0, dtype=tf.int64)
        checkpoint = tf.train.Checkpoint(value=self.value, steps=self.steps)
        self.loop = TrainingLoop(checkpoint, str(model_dir), 2, state_file)
        self.on_step, self.history = on_step or (lambda toy: None), []

    def train(self, resume=False):
        record = self.loop.restore() if resume else None
        self.history = (record or {}).get("history", [])
        with interruptible(lambda: f"stopped at step {int(self.steps)}, commit {self.loop.last_commit()}"):
            self.loop.run(
                lambda: int(self.steps) >= STEPS_PER_UNIT * UNITS,
                lambda: int(self.steps) // STEPS_PER_UNIT + 1,
                self.unit,
            )
        return float(self.value.numpy()), self.history

    def unit(self):
        for _ in range(STEPS_PER_UNIT):
            self.steps.assign_add(1)
            self.value.assign(self.value * 1.25 + tf.cast(self.steps, tf.float32) / 7)
            self.on_step(self)
        self.history.append(float(self.value.numpy()))
        self.loop.commit(self.loop.running, {"history": self.history} if self.loop.state_file else None)


class StepwiseToy(Toy):
    """The toy with the LM's kind of unit: named by the step it ends at, and able to end after
    any step (the value and the step count are all its state)."""

    def __init__(self, model_dir, on_step=None, agree_to_stop=None):
        super().__init__(model_dir, on_step=on_step)
        checkpoint = tf.train.Checkpoint(value=self.value, steps=self.steps)
        self.loop = TrainingLoop(
            checkpoint, str(model_dir), 2, stop_between_steps=True, agree_to_stop=agree_to_stop
        )

    def train(self, resume=False):
        if resume:
            self.loop.restore()
        with interruptible(
            lambda: f"stopped at step {int(self.steps)}, commit {self.loop.last_commit()}", self.loop
        ):
            self.loop.run(
                lambda: int(self.steps) >= STEPS_PER_UNIT * UNITS,
                lambda: (int(self.steps) // STEPS_PER_UNIT + 1) * STEPS_PER_UNIT,
                self.unit,
            )
        return float(self.value.numpy())

    def unit(self):
        while int(self.steps) < self.loop.running and not self.loop.should_stop():
            self.steps.assign_add(1)
            self.value.assign(self.value * 1.25 + tf.cast(self.steps, tf.float32) / 7)
            self.on_step(self)
        self.loop.commit(int(self.steps))


def stop_at(step, how=KeyboardInterrupt, times=1):
    """An ``on_step`` that stops the run after ``step`` (raising ``how``, or sending the signal
    ``how`` ``times`` times)."""

    def on_step(toy):
        if int(toy.steps) != step:
            return
        if not isinstance(how, signal.Signals):
            raise how
        for _ in range(times):
            # never the test process's own handling (nor a signal it ignores)
            assert signal.getsignal(how) not in (signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler)
            os.kill(os.getpid(), how)  # its handler runs at once, in this thread

    return on_step


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return Toy(tmp_path_factory.mktemp("full")).train()


@pytest.mark.parametrize("state_file", [None, "state.json"])
def test_ctrl_c_keeps_the_last_commit_and_a_resume_ends_as_the_uninterrupted_run(
    tmp_path, uninterrupted, state_file
):
    toy = Toy(tmp_path, state_file, on_step=stop_at(8))  # in unit 3, after two commits
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 8, commit 2"
    assert toy.loop.running == 3 and toy.loop.last_commit() == 2
    value, history = Toy(tmp_path, state_file).train(resume=True)
    assert value == uninterrupted[0]
    assert history == (uninterrupted[1] if state_file else uninterrupted[1][2:])  # the units it trained
    if state_file:
        record = json.loads((tmp_path / state_file).read_text())
        assert record == {"history": uninterrupted[1], "checkpoint": f"checkpoints/ckpt-{UNITS}"}
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("*.index")) == [
        "ckpt-3.index",
        "ckpt-4.index",
    ]


def test_sigterm_stops_as_ctrl_c_does_and_the_handler_is_restored(tmp_path, uninterrupted):
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    toy = Toy(tmp_path, "state.json", on_step=stop_at(4, signal.SIGTERM))
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 4, commit 1"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert Toy(tmp_path, "state.json").train(resume=True) == uninterrupted


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_unit_that_can_end_after_any_step_commits_it_at_a_signal(tmp_path, uninterrupted, how, capfd):
    """With ``stop_between_steps``, SIGTERM or Ctrl-C in the middle of a unit (step 7 of the unit
    ending at step 9) commits step 7, and the resumed run ends as the uninterrupted one. Both
    handlers are Python's defaults again after the block."""
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    if before[how] is not {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}[how]:
        pytest.skip(f"the test runner handles or ignores {how.name} itself (e.g. a background job)")
    toy = StepwiseToy(tmp_path, on_step=stop_at(7, how))
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 7, commit 7"
    assert capfd.readouterr().err == "stopping after the running step and its checkpoint (again: at once)\n"
    assert {s: signal.getsignal(s) for s in before} == before
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_a_second_signal_stops_at_once_and_loses_the_unit(tmp_path, uninterrupted):
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    toy = StepwiseToy(tmp_path, on_step=stop_at(7, signal.SIGTERM, times=2))
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 7, commit 6"
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


class OtherWorker:
    """``agree_to_stop`` of one of several workers: the collective answers whether any worker was
    asked; another worker was asked at the check made after step ``step`` (or before the unit
    that starts there)."""

    def __init__(self, step):
        self.step, self.toy, self.asked = step, None, []

    def __call__(self, asked):
        self.asked.append((int(self.toy.steps), asked))
        return asked or int(self.toy.steps) >= self.step


def worker_with(other, tmp_path, on_step=None):
    """The stepwise toy as one of several workers, whose collective is ``other``."""
    toy = StepwiseToy(tmp_path, on_step=on_step, agree_to_stop=other)
    other.toy = toy
    return toy


@pytest.mark.parametrize("step", [7, 6])
def test_a_stop_asked_of_another_worker_ends_this_one_after_the_same_step(tmp_path, uninterrupted, step):
    """With ``agree_to_stop``, a stop asked of another worker ends this worker too, after the step
    where the collective said so: step 7 in the middle of the unit ending at 9 (committed), or step
    6 at a unit's end (then before the next unit); the resumed run ends as the uninterrupted one."""
    other = OtherWorker(step)
    toy = worker_with(other, tmp_path)
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == f"stopped at step {step}, commit {step}"
    first = next(check for check in other.asked if check[0] >= step)
    assert first == (step, False) and not toy.loop.stop_requested  # checked then; never asked here
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_this_workers_own_first_signal_after_the_others_agreed_is_a_first_one(tmp_path, uninterrupted):
    """SIGTERM goes to every worker of a cluster, and arrives on either side of a step: here
    another worker was asked after step 7, and this worker's own SIGTERM lands while step 7 is
    committed. It is deferred like any first signal, so every worker commits step 7."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    other = OtherWorker(7)
    toy = worker_with(other, tmp_path)
    commit = toy.loop.commit

    def signalled_in_commit_7(number, state=None):
        if number == 7:
            os.kill(os.getpid(), signal.SIGTERM)
        return commit(number, state)

    toy.loop.commit = signalled_in_commit_7
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 7, commit 7"
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_a_stop_asked_while_the_workers_agree_waits_for_their_next_check(tmp_path, uninterrupted):
    """A signal that lands while the collective runs (after it read this worker's flag) must not
    stop this worker alone: the others got the same answer, "go on". Here the request comes
    within the check after step 7; the check after step 8 stops every worker."""
    toy = None

    def signalled_while_agreeing(asked):
        if int(toy.steps) == 7 and not asked:
            toy.loop.stop_requested = True  # as the handler does, after the flag was read
        return asked

    toy = StepwiseToy(tmp_path, agree_to_stop=signalled_while_agreeing)
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 8, commit 8"
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


class PeerLeftAfterTheStop(OtherWorker):
    """:class:`OtherWorker`, whose peer leaves as soon as it has its answer to the check that
    said stop: every check after that one fails as a collective with a closed peer does.
    ``checks``: ``(step, answer)`` of each check, the answer ``"failed"`` for a failed one."""

    def __init__(self, step):
        super().__init__(step)
        self.checks = []

    def __call__(self, asked):
        if any(answer is True for _, answer in self.checks):
            self.checks.append((int(self.toy.steps), "failed"))
            raise tf.errors.UnavailableError(None, None, "Collective ops is aborted by: Socket closed")
        self.checks.append((int(self.toy.steps), super().__call__(asked)))
        return self.checks[-1][1]


@pytest.mark.parametrize("step", [7, 6])
def test_every_worker_joins_one_check_after_the_one_that_said_stop(tmp_path, uninterrupted, step):
    """The workers leave after a stop, and one whose answer comes first may leave while another
    still reads its own. So each joins the check once more after the one that said stop, after
    the commit, and only that last check may fail (here it does): a stop agreed after step 7,
    within the unit ending at 9, or after step 6, at the check before the next unit (a signal
    after a unit's last check: in its last step, its commit or its evaluation)."""
    other = PeerLeftAfterTheStop(step)
    toy = worker_with(other, tmp_path)
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == f"stopped at step {step}, commit {step}"
    assert other.checks[-2:] == [(step, True), (step, "failed")]
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_a_finished_run_ends_with_one_more_check_whose_failure_is_ignored(tmp_path, uninterrupted):
    """Done, the workers leave too: each makes one more check after the last commit, so that none
    leaves while another reads the one before, and that last check may fail (a peer gone)."""
    checks, end = [], STEPS_PER_UNIT * UNITS

    def peer_left_at_the_end(asked):
        checks.append(int(toy.steps))
        if checks[-1] == end:
            raise tf.errors.UnavailableError(None, None, "Collective ops is aborted by: Socket closed")
        return asked

    toy = StepwiseToy(tmp_path, agree_to_stop=peer_left_at_the_end)
    assert toy.train() == uninterrupted[0]
    assert checks[-2:] == [end - 1, end]


def test_a_stop_at_once_leaves_without_the_last_check(tmp_path, uninterrupted):
    """A second signal stops this worker at once, while the others wait in the next collective
    of a step: it must leave without the run's last check, which they would never join."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    other = OtherWorker(STEPS_PER_UNIT * UNITS + 1)  # never asked
    toy = worker_with(other, tmp_path, on_step=stop_at(7, signal.SIGTERM, times=2))
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 7, commit 6"
    assert other.asked[-1] == (6, False)  # the check before step 7, none after
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_a_check_that_fails_before_any_stop_was_agreed_is_an_error(tmp_path):
    """Only the answer of a stop already agreed is known: a collective failing before that (a
    worker lost mid-run) fails the run."""

    def lost(asked):
        raise tf.errors.UnavailableError(None, None, "Socket closed")

    with pytest.raises(tf.errors.UnavailableError):
        StepwiseToy(tmp_path, agree_to_stop=lost).train()


@pytest.mark.parametrize("workers", [2, 1])
def test_with_several_workers_a_signal_between_units_waits_for_the_next_check(
    tmp_path, uninterrupted, workers
):
    """A first SIGTERM after one unit's checkpoint and before the next unit (here: in its commit)
    only asks for a stop with several workers, where one that stopped alone would leave the
    others in a collective; the check before the next unit ends the run. One process stops at
    once there. Either way the run stops after step 3, committed."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    toy = StepwiseToy(tmp_path, agree_to_stop=(lambda asked: asked) if workers > 1 else None)
    commit = toy.loop.commit

    def signalled_in_the_first_commit(number, state=None):
        name = commit(number, state)
        if number == STEPS_PER_UNIT:
            assert toy.loop.defers_stop() is (workers > 1)
            os.kill(os.getpid(), signal.SIGTERM)
        return name

    toy.loop.commit = signalled_in_the_first_commit
    with pytest.raises(Interrupted) as stopped:
        toy.train()
    assert str(stopped.value) == "stopped at step 3, commit 3"
    assert toy.loop.stop_requested is (workers > 1)
    assert StepwiseToy(tmp_path).train(resume=True) == uninterrupted[0]


def test_a_kill_between_the_checkpoint_and_the_state_file_leaves_the_previous_commit(
    tmp_path, monkeypatch, uninterrupted
):
    write, writes = training_loop.write_text_atomic, []

    def killed_at_the_second_commit(path, text):
        writes.append(path)
        if len(writes) == 2:
            raise KeyboardInterrupt  # after ckpt-2 is written, before state.json names it
        write(path, text)

    monkeypatch.setattr(training_loop, "write_text_atomic", killed_at_the_second_commit)
    with pytest.raises(Interrupted):
        Toy(tmp_path, "state.json").train()
    monkeypatch.undo()
    assert (tmp_path / "checkpoints" / "ckpt-2.index").exists()
    resumed = Toy(tmp_path, "state.json")
    assert resumed.loop.last_commit() == 1
    assert resumed.train(resume=True) == uninterrupted


def test_what_a_kill_during_a_save_leaves_is_never_read(tmp_path, uninterrupted):
    """A save cut short leaves ``ckpt-N_temp/``, or the checkpoint's files before the index names
    them: the next start removes the first, and restores the checkpoint the index names."""
    toy = Toy(tmp_path, on_step=stop_at(7))
    with pytest.raises(Interrupted):
        toy.train()
    checkpoints = tmp_path / "checkpoints"
    (checkpoints / "ckpt-3_temp").mkdir()
    (checkpoints / "ckpt-3_temp" / "part-00000-of-00001.index").write_bytes(b"partial")
    for path in checkpoints.glob("ckpt-2.*"):
        (checkpoints / path.name.replace("ckpt-2", "ckpt-3")).write_bytes(b"not a checkpoint")
    resumed = Toy(tmp_path)
    assert not (checkpoints / "ckpt-3_temp").exists() and resumed.loop.last_commit() == 2
    assert resumed.train(resume=True)[0] == uninterrupted[0]


def test_a_state_file_naming_a_missing_checkpoint_is_one_error(tmp_path):
    Toy(tmp_path, "state.json").train()
    for path in (tmp_path / "checkpoints").glob(f"ckpt-{UNITS}.*"):
        path.unlink()
    with pytest.raises(InputError) as refused:
        Toy(tmp_path, "state.json").loop.restore()
    assert str(refused.value) == (
        f"{tmp_path}: state.json names checkpoints/ckpt-{UNITS}, which is not in the run directory: "
        "its files are incomplete; start the run anew (without --resume)"
    )


def test_tensorboard_writer_made_at_first_use_and_silent_on_other_workers(tmp_path):
    made = []
    loop = TrainingLoop(
        tf.train.Checkpoint(v=tf.Variable(0.0)), str(tmp_path / "chief"), 1, on_writer=lambda: made.append(1)
    )
    assert not (tmp_path / "chief" / "tensorboard").exists() and not made
    loop.log_scalars(3, {"train/loss": 0.5})
    loop.log_scalars(4, {"train/loss": 0.25})
    assert made == [1] and list((tmp_path / "chief" / "tensorboard").iterdir())
    worker = TrainingLoop(
        tf.train.Checkpoint(v=tf.Variable(0.0)), str(tmp_path / "worker"), 1, "state.json", worker=1
    )
    worker.log_scalars(1, {"train/loss": 0.5})
    worker.commit(1, {"history": []})
    assert (
        not (tmp_path / "worker" / "tensorboard").exists()
        and not (tmp_path / "worker" / "state.json").exists()
    )
    assert not (tmp_path / "worker" / "worker_tmp_1").exists()
