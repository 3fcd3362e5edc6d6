"""Experiment entry points (absl flags; one flagfile per experiment in ``experiments/flags/``)."""
import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
