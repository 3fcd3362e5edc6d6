"""Training the tagger: the run's configuration (``config``, without TensorFlow), the paper's
annealing schedule (``schedule``), a resumable trainer (``trainer``) and one run end to end
(``experiment``)."""
