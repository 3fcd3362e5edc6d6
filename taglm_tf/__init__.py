"""TagLM-TF: semi-supervised sequence tagging with bidirectional LMs (Peters et al., 2017).

Importing this package selects Keras 2 for TensorFlow: where ``tf_keras`` is installed (the
current-TF stack), ``TF_USE_LEGACY_KERAS=1`` makes TensorFlow load it as ``tf.keras`` instead of
Keras 3. On the TF 2.15 stack, Keras 2 is built in and the variable stays unset (TF 2.15 honours it
too, and would then fail for want of ``tf_keras``). It has to be set before TensorFlow is first
imported, so every entry point imports ``taglm_tf`` first: the packages ``experiments``,
``lm_1b_export`` and ``benchmarks`` do it in their ``__init__``, and so does ``tests/conftest.py``.

It also sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless the environment sets it: TensorFlow's C++ start-up
notices (CPU features; on TF 2.21 the absl pre-init line and the tf.data memory patch) and its
known-harmless graph type-inference warning would otherwise fill stderr, where the CLIs write only
the project's own messages (issue 13, item 3). ``TF_CPP_MIN_LOG_LEVEL=0`` shows them again.

``from taglm_tf import Tagger`` gives the Python API (:class:`taglm_tf.api.Tagger`).
"""
import importlib.util
import os

if importlib.util.find_spec("tf_keras") is not None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["Tagger"]


def __getattr__(name):
    if name == "Tagger":
        # Imported on first use: the API imports TensorFlow (~2 s), which `import taglm_tf.data`
        # or the CLIs' --help should not pay for.
        from taglm_tf.api import Tagger
        return Tagger
    raise AttributeError(f"module 'taglm_tf' has no attribute {name!r}")
