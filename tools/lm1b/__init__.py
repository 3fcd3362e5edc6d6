"""The lm_1b yardsticks the library is tested against: a synthetic release in the exact layout
(``make_synthetic``) and the original one-token-per-``session.run`` graph runner (``reference``,
which shares no code with the library). This package imports nothing, so importing
``reference`` pulls in no library code."""
