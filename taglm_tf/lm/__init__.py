"""The released lm_1b (CNN-BIG-LSTM) language model as frozen, batched Keras layers."""
from taglm_tf.lm.char_cnn_embedder import LM1BCharEmbedder
from taglm_tf.lm.lm1b_checkpoint import (LM1BDims, LM1BWeights, checkpoint_fingerprint,
                                         read_lm1b_checkpoint)
from taglm_tf.lm.lm1b_model import LM1BEmbedder, LM1BSoftmax, sentence_char_ids
from taglm_tf.lm.lm1b_vocab import LM1BCharVocabulary, LM1BVocabulary
from taglm_tf.lm.lstmp_layer import LSTMPLayer

__all__ = ["LM1BCharEmbedder", "LM1BCharVocabulary", "LM1BDims", "LM1BEmbedder", "LM1BSoftmax",
           "LM1BVocabulary", "LM1BWeights", "LSTMPLayer", "checkpoint_fingerprint",
           "read_lm1b_checkpoint", "sentence_char_ids"]
