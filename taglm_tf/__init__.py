"""TagLM-TF: semi-supervised sequence tagging with bidirectional LMs (Peters et al., 2017).

``from taglm_tf import Tagger`` gives the Python API (:class:`taglm_tf.api.Tagger`).
"""

__all__ = ["Tagger"]


def __getattr__(name):
    if name == "Tagger":
        # Imported on first use: the API imports TensorFlow (~2 s), which `import taglm_tf.data`
        # or the CLIs' --help should not pay for.
        from taglm_tf.api import Tagger
        return Tagger
    raise AttributeError(f"module 'taglm_tf' has no attribute {name!r}")
