"""Experiment entry points (absl flags; one flagfile per experiment in ``experiments/flags/``)."""

import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)


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


def start_child(argv: list[str], **popen_args):
    """Start a run of this driver (``subprocess.Popen(argv, env=child_env(), **popen_args)``) in
    a session of its own, so that a terminal's Ctrl-C or a signal to the driver's process group
    reaches the driver alone, which passes exactly one SIGTERM on with :func:`stop_children` (a
    run that got the signal twice would stop at once, and an LM would lose its running step).

    The first call also makes SIGTERM and SIGHUP exit this process (status 143 and 129) through
    its ``finally`` blocks, where the driver calls :func:`stop_children` (for each signal whose
    handler was still Python's default, in the main thread).

    Raises:
        InputError: the command cannot be started.
    """
    import shlex
    import signal
    import subprocess
    import threading

    from taglm_tf.utils.errors import InputError

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, _exit_with_status)
    try:
        return subprocess.Popen(argv, env=child_env(), start_new_session=True, **popen_args)
    except OSError as e:
        raise InputError(f"cannot start {shlex.join(argv)}: {e}") from None


def _exit_with_status(signum, frame):
    import sys

    sys.exit(128 + signum)


def stop_children(children) -> None:
    """Stop the runs (from :func:`start_child`) still running and wait for all of them: one
    SIGTERM each, on which a training run commits what it can (an LM its running step, a tagger
    its last epoch) and says where it stopped. While it waits, a SIGTERM, SIGINT or SIGHUP to
    this process sends each run a second SIGTERM, which stops it at once, and the wait goes on:
    the driver never ends before its runs."""
    import signal
    import threading

    def again(signum, frame):
        for child in children:
            if child.poll() is None:
                child.terminate()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, again) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        again(None, None)
        for child in children:
            child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
