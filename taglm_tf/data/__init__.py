"""Data: CoNLL readers, tag schemes, vocabularies, embeddings and the tf.data input."""
