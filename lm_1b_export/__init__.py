"""Tools for the released lm_1b (CNN-BIG-LSTM) files: synthetic release, reference graph, dumps, export."""
import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
