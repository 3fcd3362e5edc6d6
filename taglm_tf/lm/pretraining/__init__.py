"""Language-model pretraining: the configs (``config``, without TensorFlow), vocabulary, corpus and
windows, the models and their softmax, the distributed trainer, one run end to end, and loading a
run's result."""
