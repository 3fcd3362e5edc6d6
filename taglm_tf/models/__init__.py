"""The tagger: its builder (``tagger``), saving and loading (``saving``), and decoding and
scoring it on a split (``evaluation``)."""
