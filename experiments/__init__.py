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


def stop_with_children_on_sigterm() -> None:
    """Make SIGTERM exit this driver (status 143) through its ``finally`` blocks, so that
    :func:`stop_children` stops the runs it started instead of leaving them running alone."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def stop_children(children) -> None:
    """SIGTERM every child (``subprocess.Popen``) still running, then wait for all: a training
    run commits what it can and says where it stopped (an LM commits its running step, a tagger
    keeps its last epoch), and all of them stop at the same time."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        child.wait()
