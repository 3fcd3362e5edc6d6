"""CLIs for lm_1b (CNN-BIG-LSTM) files: batched dumps (``dump_lstm_emb``), the Keras-native copy
(``export``), and a trained CNN-LSTM written in the release layout (``from_pretrained``)."""

import taglm_tf  # noqa: F401  (first: it selects Keras 2 before TensorFlow is imported)
