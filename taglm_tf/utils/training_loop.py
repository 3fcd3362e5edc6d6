"""The training loop that the tagger's trainer and the LM trainer share: a run's checkpoints and
the commit of each unit of training, resume from the last commit, the TensorBoard writer, and
Ctrl-C / SIGTERM. Each trainer supplies its own step, its own *unit* (the tagger: one epoch; the
LM: the steps up to its next checkpoint step) and its own evaluation; :class:`TrainingLoop` runs
the units and owns what they have in common, as Model Garden's orbit ``Controller`` runs the
inner loops a task supplies.

Commit. A unit ends with :meth:`TrainingLoop.commit`: the checkpoint ``checkpoints/ckpt-N`` (N:
the unit's number, an epoch or a step) of everything the unit changed, then the run's *commit
record*. With a state file (the tagger's ``state.json``) the record is that file, written
atomically: the trainer's state and the checkpoint's name relative to the run directory, so that
a moved or copied run resumes from its own files. Without one (the LM) it is the checkpoint
manager's index ``checkpoints/checkpoint``, which TensorFlow writes atomically after the
checkpoint's files. A kill at any moment leaves the last commit whole: a checkpoint cut short is a
``ckpt-N_temp/`` folder, removed when the run starts again, or a checkpoint that no record names.
Evaluation whose results the commit records (the tagger's dev score, which drives its schedule)
runs before the commit; evaluation that is only logged (the LM's held-out perplexity) runs after
it, so that an interruption during it keeps the unit.

Resume: :meth:`TrainingLoop.restore` restores the last commit and returns its record.

Stop: within :func:`interruptible`, Ctrl-C and SIGTERM stop the run, and the block raises
:class:`~taglm_tf.utils.errors.Interrupted` with the one line its caller gives
(:func:`taglm_tf.run_dir.interrupted`: where the run stopped, what ``--resume`` does). A trainer
whose unit can end after any step (the LM: its state is whole after every step) makes its loop
with ``stop_between_steps``: the first signal then asks the running unit to end after its current
step and commit what it trained (a job runner's or a preempted cloud machine's SIGTERM costs a
step, not up to a unit of them), and a second signal stops at once. With several workers (one
process each) the loop is given ``agree_to_stop``, a collective that tells every worker whether
any of them was asked to stop: the workers consult it after every step and before every unit, so
a signal to any one of them, or to all at different steps, ends all of them after the same step
and they commit that step together; a first signal anywhere within :meth:`TrainingLoop.run` waits
for the next such point. A worker whose answer comes first may leave before another has read its
own, so every worker ends the run, done or stopped (after the stop's commit), with one more
check and ignores its failure: only that last one may fail. Otherwise (the tagger, whose
epoch resumes only from its start) the stop is at once: the running unit is lost (nothing of it is
committed; a resume repeats it exactly).

Under ``tf.distribute``'s multi-worker strategy every worker saves (collectives may run while
saving): the chief into ``checkpoints/``, another worker into ``worker_tmp_<id>/``, deleted at
once; only the chief writes a commit record and TensorBoard logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator, Mapping

import tensorflow as tf

from taglm_tf.utils.errors import InputError, Interrupted
from taglm_tf.utils.fileio import remove_partial_checkpoints, write_text_atomic
from taglm_tf.utils.signals import handling

CHECKPOINTS, TENSORBOARD = "checkpoints", "tensorboard"


class TrainingLoop:
    """Runs a trainer's units and owns its checkpoints, commits and TensorBoard writer.

    Args:
        checkpoint: everything a unit changes (model, optimizer, data and random state).
        model_dir: the run directory.
        keep: checkpoints kept in ``checkpoints/`` (older ones are deleted after a commit).
        state_file: the name of the commit record in ``model_dir`` (a JSON object), or ``None``:
            the checkpoint manager's index is the record.
        worker: the task id of a non-chief worker of a multi-worker strategy; ``None`` for the
            chief or a single process.
        on_writer: called once, with the writer as default, when the TensorBoard writer is made
            (e.g. to write the run's hyper-parameters).
        stop_between_steps: the units end early when :meth:`should_stop`, committing the steps
            they trained.
        agree_to_stop: with several workers, a collective every worker calls at the same points:
            given this worker's :attr:`stop_requested`, whether any worker's is set (see the
            module docstring, "Stop"); ``None`` in one process.
    """

    def __init__(
        self,
        checkpoint: tf.train.Checkpoint,
        model_dir: str,
        keep: int,
        state_file: str | None = None,
        worker: int | None = None,
        on_writer: Callable[[], None] | None = None,
        stop_between_steps: bool = False,
        agree_to_stop: Callable[[bool], bool] | None = None,
    ):
        self.checkpoint, self.model_dir, self.state_file, self.worker = (
            checkpoint,
            model_dir,
            state_file,
            worker,
        )
        self.directory = os.path.join(model_dir, CHECKPOINTS)
        own = self.directory if worker is None else os.path.join(model_dir, f"worker_tmp_{worker}")
        remove_partial_checkpoints(own)  # left by a kill during a save
        self.manager = tf.train.CheckpointManager(checkpoint, own, keep)
        self._on_writer, self._writer = on_writer, None
        self.running: int | None = None  # the unit being trained and not yet committed, if any
        self.stop_between_steps = stop_between_steps
        self.stop_requested = False  # set by this process's first Ctrl-C or SIGTERM, see interruptible()
        self._agree_to_stop = agree_to_stop
        self._stop_agreed = False  # the workers' answer, once it is yes
        self._in_run = False

    def clear_stop(self) -> None:
        """Forget stop requests and agreements (a new :func:`interruptible` block begins)."""
        self.stop_requested = self._stop_agreed = False

    def should_stop(self) -> bool:
        """Whether the running unit should end after its current step: a stop was requested of
        this process, or, with several workers, of any of them. Then, until they agree to stop,
        this call is a collective, made by every worker at the same point, and its answer is the
        collective's, the same on every worker: a request that comes while it runs waits for the
        next call. Once they have agreed, the answer is yes without a collective."""
        if self._agree_to_stop is None:
            return self.stop_requested
        if not self._stop_agreed:
            # kept apart from stop_requested: this worker's own first signal, coming after the
            # others agreed, is still a first one (deferred), not a second (at once)
            self._stop_agreed = self._agree_to_stop(self.stop_requested)
        return self._stop_agreed

    def _last_check(self) -> None:
        """With several workers, the last collective of :meth:`run`, made by every worker on its
        way out (done, or stopping with every worker committed): none leaves while another
        still reads an answer of an earlier collective. But one that gets this answer first may
        exit before this one has read its part, and this collective then fails ("Socket
        closed"); nothing depends on its answer, so the failure is ignored."""
        if self._agree_to_stop is None:
            return
        try:
            self._agree_to_stop(self._stop_agreed)
        except tf.errors.OpError:
            pass

    def defers_stop(self) -> bool:
        """Whether a first Ctrl-C or SIGTERM now only requests a stop (:func:`interruptible`):
        with ``stop_between_steps``, while a unit trains, and with several workers anywhere
        within :meth:`run` (a worker that stopped alone would leave the others waiting in a
        collective)."""
        if not self.stop_between_steps or self.stop_requested:
            return False
        return self.running is not None or (self._agree_to_stop is not None and self._in_run)

    # -- commit and resume -------------------------------------------------------------------
    def commit(self, number: int, state: Mapping | None = None) -> str:
        """Commit a unit: write the checkpoint ``ckpt-<number>``, then the record naming it (the
        state file holds ``state`` plus ``checkpoint``). Returns the checkpoint's path."""
        path = self.manager.save(checkpoint_number=number)
        if self.worker is not None:
            shutil.rmtree(self.manager.directory, ignore_errors=True)
        elif self.state_file is not None:
            record = {**(state or {}), "checkpoint": f"{CHECKPOINTS}/{os.path.basename(path)}"}
            write_text_atomic(os.path.join(self.model_dir, self.state_file), json.dumps(record, indent=1))
        self.running = None
        return path

    def restore(self) -> dict | None:
        """Restore the last commit, if any, and return its record: the state file's contents (its
        ``checkpoint`` relative to the run directory), or without a state file ``{"checkpoint":
        path}`` of the newest checkpoint in ``checkpoints/``; ``None`` when nothing is committed.

        Raises:
            InputError: the state file names a checkpoint that is not in the run directory.
        """
        if self.state_file is None:
            path = tf.train.latest_checkpoint(self.directory)
            if path:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            return {"checkpoint": path} if path else None
        state = self._read_state()
        if state and state.get("checkpoint"):  # always this run's own file, wherever the run lies now
            path = self.own_file(f"{CHECKPOINTS}/{os.path.basename(state['checkpoint'])}")
            self.checkpoint.restore(path).assert_existing_objects_matched()
        return state

    def own_file(self, name: str) -> str:
        """The path of checkpoint ``name`` (relative to the run directory, e.g. ``best/ckpt-3``).

        Raises:
            InputError: it is not there (the run's files are incomplete).
        """
        path = os.path.join(self.model_dir, name)
        if not tf.io.gfile.exists(path + ".index"):
            raise InputError(
                f"{self.state_file} names {name}, which is not in the run directory: "
                "its files are incomplete; start the run anew (without --resume)",
                self.model_dir,
            )
        return path

    def last_commit(self) -> int | None:
        """The number of the last committed unit, as the run directory says now; ``None``: none."""
        if self.state_file is None:
            path = tf.train.latest_checkpoint(self.directory)
        else:
            path = (self._read_state() or {}).get("checkpoint")
        return int(path.rsplit("-", 1)[1]) if path else None

    def _read_state(self) -> dict | None:
        path = os.path.join(self.model_dir, self.state_file)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, done: Callable[[], bool], number: Callable[[], int], unit: Callable[[], None]) -> None:
        """Run units until ``done()``. ``number()`` names the next unit (:attr:`running` until it
        commits); ``unit()`` trains it, evaluates it and commits it with :meth:`commit` (a unit
        that finds nothing left to train, e.g. at the end of the data, commits nothing). With
        ``stop_between_steps``, a unit that sees :meth:`should_stop` ends after its current step
        and commits; the run then stops as at a Ctrl-C, unless it was done. With several
        workers, every worker ends the run, done or stopped, with one more collective whose
        failure is ignored (the module docstring, "Stop"); nothing after :meth:`run` should make
        a collective.

        Raises:
            KeyboardInterrupt: a stop was requested and the run is not done.
        """
        self._in_run = True
        try:
            stopped = False
            while not done():
                if self.should_stop():
                    stopped = True
                    break
                self.running = number()
                unit()
                self.running = None
            self._last_check()
        finally:
            self._in_run = False
        if stopped:
            raise KeyboardInterrupt

    # -- TensorBoard -------------------------------------------------------------------------
    @property
    def writer(self) -> tf.summary.SummaryWriter:
        """The run's TensorBoard writer (``tensorboard/``), made at its first use, so that a run
        that fails before it logs leaves no logs; a writer that writes nothing on a non-chief
        worker."""
        if self._writer is None:
            if self.worker is not None:
                self._writer = tf.summary.create_noop_writer()
            else:
                self._writer = tf.summary.create_file_writer(os.path.join(self.model_dir, TENSORBOARD))
                if self._on_writer is not None:
                    with self._writer.as_default():
                        self._on_writer()
        return self._writer

    def log_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Write each ``{tag: value}`` at ``step`` and flush."""
        with self.writer.as_default(step=step):
            for tag, value in scalars.items():
                tf.summary.scalar(tag, value)
        self.writer.flush()


@contextlib.contextmanager
def interruptible(describe: Callable[[], str], loop: TrainingLoop | None = None) -> Iterator[None]:
    """Stop the block on Ctrl-C or SIGTERM with one line: :class:`Interrupted` with the message
    ``describe()`` returns when it is called (where the run stopped, what ``--resume`` does).

    Within the block SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does, so that a run stopped
    by a job runner (``run_seeds``, a cluster) says where it stopped and a start that committed
    nothing cleans up after itself. With a ``loop`` made with ``stop_between_steps``, the first
    Ctrl-C or SIGTERM where the loop :meth:`~TrainingLoop.defers_stop` (while a unit trains; with
    several workers, anywhere within its run) sets its :attr:`~TrainingLoop.stop_requested`
    instead (a unit that is training commits after its current step, then the loop raises;
    between units nothing more is committed), and a second one raises at once. With several
    workers a signal that raises at once (the second, or one during start-up) stops that worker
    alone; the others fail in their next collective. Python runs signal handlers in the main
    thread only; in another thread, or where the program has set its own handler for a signal,
    that signal is left alone. The handlers are restored when the block ends.
    """

    def handler(signum, frame):
        if loop is not None and loop.defers_stop():
            loop.stop_requested = True
            # os.write, not print: a handler that lands within a print to stderr may not print
            os.write(2, b"stopping after the running step and its checkpoint (again: at once)\n")
            return
        raise KeyboardInterrupt

    if loop is not None:
        loop.clear_stop()
    with handling(handler, (signal.SIGTERM, signal.SIGINT)):
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted(describe()) from None
