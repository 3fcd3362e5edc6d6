"""Experiment entry points (absl flags; one flagfile per experiment in ``experiments/flags/``)."""
