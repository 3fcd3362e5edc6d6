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
