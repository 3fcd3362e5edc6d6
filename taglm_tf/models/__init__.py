"""The tagger: its hyper-parameters (``config``, without TensorFlow), its builder (``tagger``),
saving and loading (``saving``), and decoding and scoring it on a split (``evaluation``)."""
