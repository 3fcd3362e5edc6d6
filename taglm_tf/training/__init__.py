"""Training the tagger: the paper's annealing schedule (``schedule``), a resumable trainer
(``trainer``) and one run end to end (``experiment``)."""
