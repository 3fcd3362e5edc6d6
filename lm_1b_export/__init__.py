"""Tools for the released lm_1b (CNN-BIG-LSTM) files: synthetic release, reference graph, dumps, export."""
