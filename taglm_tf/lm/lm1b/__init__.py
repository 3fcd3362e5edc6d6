"""Google's lm_1b release (CNN-BIG-LSTM): the V1 checkpoint reader, the vocabularies, the model
as frozen batched Keras layers, and a Keras-native export of it. Conventions: docs/lm_1b.md."""
from taglm_tf.lm.lm1b.checkpoint import LM1BDims, LM1BWeights, checkpoint_fingerprint, read_lm1b_checkpoint
from taglm_tf.lm.lm1b.model import LM1BEmbedder, LM1BSoftmax, sentence_char_ids
from taglm_tf.lm.lm1b.vocab import LM1BCharVocabulary, LM1BVocabulary

__all__ = ["LM1BCharVocabulary", "LM1BDims", "LM1BEmbedder", "LM1BSoftmax", "LM1BVocabulary",
           "LM1BWeights", "checkpoint_fingerprint", "read_lm1b_checkpoint", "sentence_char_ids"]
