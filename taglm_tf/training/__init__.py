"""Training: the paper's annealing schedule and a resumable trainer."""
