"""Experiment entry points (absl flags; one flagfile per experiment in ``experiments/flags/``)."""

import contextlib
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
from taglm_tf.utils.errors import InputError


def child_env() -> dict:
    """The environment of a child an experiment driver starts: it imports this checkout's code
    first (whatever its working directory) and reads the data directory the driver resolved,
    made absolute."""
    import os

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
    drivers), which end with it. It gives ``start(argv, **popen_args)``: ``subprocess.Popen(argv,
    env=child_env(), **popen_args)`` in a session of its own, so that a terminal's Ctrl-C or a
    signal to the driver's process group reaches the driver alone.

    Within the block SIGTERM and SIGHUP end the driver (exit status 143 and 129, where their
    handlers were Python's defaults; main thread only) as Ctrl-C does. Whenever the block ends,
    each child still running gets exactly one SIGTERM, on which a training run commits what it
    can (an LM its running step, a tagger its last epoch) and says where it stopped, and the
    block waits for all of them. A signal while it waits sends a second SIGTERM (the runs stop at
    once) and the wait goes on: the driver never ends before its children, so a rerun never
    finds a second trainer in a run directory. The handlers are restored when the block ends.

    Raises:
        InputError: from ``start``, a command that cannot be started.
    """
    children: list[subprocess.Popen] = []

    def start(argv: list[str], **popen_args) -> subprocess.Popen:
        try:
            child = subprocess.Popen(argv, env=child_env(), start_new_session=True, **popen_args)
        except OSError as e:
            raise InputError(f"cannot start {shlex.join(argv)}: {e}") from None
        children.append(child)
        return child

    previous = _set_handlers({signal.SIGTERM: _exit_with_status, signal.SIGHUP: _exit_with_status})
    try:
        yield start
    finally:
        try:
            _stop(children)
        finally:
            _restore(previous)


def _exit_with_status(signum, frame):
    sys.exit(128 + signum)


def _stop(children: list[subprocess.Popen]) -> None:
    """One SIGTERM to each child still running, then wait for all; a signal meanwhile sends a
    second SIGTERM (at once) and the wait goes on."""

    def again(signum, frame):
        for child in children:
            if child.poll() is None:
                child.terminate()

    previous = _set_handlers(
        dict.fromkeys((signal.SIGTERM, signal.SIGINT, signal.SIGHUP), again), always=True
    )
    try:
        again(None, None)
        for child in children:
            child.wait()
    finally:
        _restore(previous)


def _set_handlers(handlers: dict, always: bool = False) -> dict:
    """Set each ``{signal: handler}`` whose handler is Python's default (any, with ``always``),
    in the main thread only; returns ``{signal: handler to restore}`` for those set."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    defaults = {signal.SIGINT: signal.default_int_handler}
    return {
        signum: signal.signal(signum, handler)
        for signum, handler in handlers.items()
        if always or signal.getsignal(signum) is defaults.get(signum, signal.SIG_DFL)
    }


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
