"""Keras layers of the tagger, one public layer per module."""
from taglm_tf.layers.char_cnn import CharCNN
from taglm_tf.layers.char_rnn import CharBiRNN
from taglm_tf.layers.crf import CRF
from taglm_tf.layers.padding_mask import PaddingMask
from taglm_tf.layers.token_gather import TokenGather

__all__ = ["CharCNN", "CharBiRNN", "CRF", "PaddingMask", "TokenGather"]
