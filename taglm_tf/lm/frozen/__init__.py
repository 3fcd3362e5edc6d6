"""Frozen language models as tagger features: LM specs and loading, the embedder protocol and
its implementations (lm_1b-shaped and pretrained LMs), the embedding cache, and cached or
on-the-fly ``[h_fwd; h_bwd]`` features (paper §2.3)."""
