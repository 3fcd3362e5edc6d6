"""Google's lm_1b release (CNN-BIG-LSTM): the V1 checkpoint reader, the vocabulary file and the
char encoding, the model as frozen batched Keras layers, writing the release layout, and a
Keras-native export. Conventions: docs/lm_1b.md."""

from taglm_tf.lm.lm1b.checkpoint import LM1BDims, LM1BWeights, checkpoint_fingerprint, read_lm1b_checkpoint
from taglm_tf.lm.lm1b.model import LM1BModel, LM1BSoftmax, sentence_char_ids
from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder, read_vocab

__all__ = [
    "LM1BCharEncoder",
    "LM1BDims",
    "LM1BModel",
    "LM1BSoftmax",
    "LM1BWeights",
    "checkpoint_fingerprint",
    "read_lm1b_checkpoint",
    "read_vocab",
    "sentence_char_ids",
]
