"""Frozen language models as tagger features: LM specs and loading, fingerprints, sentence
embedders (lm_1b-shaped and LSTM LMs), the embedding cache, and cached or on-the-fly
``[h_fwd; h_bwd]`` features (paper §2.3)."""
