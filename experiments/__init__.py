"""Experiment entry points (absl flags; one flagfile per experiment in ``experiments/flags/``)."""

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.signals import handling


def child_env() -> dict:
    """The environment of a child an experiment driver starts: it imports this checkout's code
    first (whatever its working directory) and reads the data directory the driver resolved,
    made absolute."""
    from taglm_tf.data.paths import default_data_dir

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
        "TAGLM_DATA_DIR": os.path.abspath(default_data_dir()),
    }


@contextlib.contextmanager
def child_runs() -> Iterator[Callable[..., subprocess.Popen]]:
    """The block in which a driver runs its children (training runs, evaluations, other
    drivers), which end with it. It gives ``start(argv, log_file=None, **popen_args)``:
    ``subprocess.Popen(argv, env=child_env(), **popen_args)`` in a session of its own, so that a
    terminal's Ctrl-C or a signal to the driver's process group reaches the driver alone; with
    ``log_file``, a line with the time and the command is appended to it, then the child's
    stdout and stderr.

    Within the block SIGTERM and SIGHUP end the driver (exit status 143 and 129) as Ctrl-C does
    (for each signal whose handler was Python's default; main thread only; a signal the process
    ignores stays ignored). Whenever the block ends, each child still running gets exactly one
    SIGTERM, on which a training run commits what it can (an LM its running step, a tagger its
    last epoch) and says where it stopped, and the block waits for all of them. A signal while it
    waits sends a second SIGTERM (the runs stop at once) and the wait goes on: the driver never
    ends before its children, so a rerun never finds a second trainer in a run directory. A
    signal while a child starts, or while the block waits for children that ended on their own,
    takes effect once it can. The handlers are restored when the block ends.

    Raises:
        InputError: from ``start``, a command that cannot be started.
    """
    runs = _Children()
    with handling(runs.on_signal, (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)):
        try:
            yield runs.start
        except BaseException:
            runs.stop_all()
            raise
        runs.stop_all()
    runs.raise_pending()


class _Children:
    """The children of one :func:`child_runs` block and its one signal handler."""

    def __init__(self):
        self.children: list[subprocess.Popen] = []
        self.starting = self.stopping = False
        self.pending: int | None = None  # a signal to act on once a start or the stop is over

    def start(self, argv: list[str], log_file: str | None = None, **popen_args) -> subprocess.Popen:
        self.starting = True
        try:
            if log_file is None:
                self.children.append(self._popen(argv, popen_args))
            else:
                os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
                with open(log_file, "a", encoding="utf-8") as log:  # the child keeps its own copy
                    log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(argv)}\n")
                    log.flush()
                    self.children.append(
                        self._popen(argv, {**popen_args, "stdout": log, "stderr": subprocess.STDOUT})
                    )
        finally:
            self.starting = False
        self.raise_pending()
        return self.children[-1]

    @staticmethod
    def _popen(argv, popen_args) -> subprocess.Popen:
        try:
            return subprocess.Popen(argv, env=child_env(), start_new_session=True, **popen_args)
        except OSError as e:
            raise InputError(f"cannot start {shlex.join(argv)}: {e}") from None

    def on_signal(self, signum, frame):
        if self.stopping:
            self._terminate()  # a second SIGTERM: at once
        if self.stopping or self.starting:
            self.pending = self.pending or signum
            return
        _raise_for(signum)

    def _terminate(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()

    def stop_all(self) -> None:
        """One SIGTERM to each child still running, then wait for all."""
        self.stopping = True
        try:
            self._terminate()
            for child in self.children:
                child.wait()
        finally:
            self.stopping = False

    def raise_pending(self) -> None:
        if self.pending is not None:
            signum, self.pending = self.pending, None
            _raise_for(signum)


def _raise_for(signum: int):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    sys.exit(128 + signum)
