"""Reusable Keras layers, one public layer per module: the tagger's (char encoders, token
gather, padding mask, CRF; ``recurrent`` holds Keras' GRU and LSTM without the cuDNN kernel's
trace on CPU-only machines) and the language models' (lm_1b's char-CNN word encoder, LSTMP)."""

from taglm_tf.layers.char_cnn import CharCNN
from taglm_tf.layers.char_cnn_word_encoder import CharCNNWordEncoder
from taglm_tf.layers.char_rnn import CharBiRNN
from taglm_tf.layers.crf import CRF
from taglm_tf.layers.lstmp import LSTMPLayer
from taglm_tf.layers.padding_mask import PaddingMask
from taglm_tf.layers.recurrent import GRU, LSTM
from taglm_tf.layers.token_gather import TokenGather

__all__ = [
    "CharCNN",
    "CharBiRNN",
    "CRF",
    "GRU",
    "CharCNNWordEncoder",
    "LSTM",
    "LSTMPLayer",
    "PaddingMask",
    "TokenGather",
]
