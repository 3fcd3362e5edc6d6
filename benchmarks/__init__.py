"""Benchmarks of the tagger, the CRF ops and the LMs (``python -m benchmarks.NAME``)."""

import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
