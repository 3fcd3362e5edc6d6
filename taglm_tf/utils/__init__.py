"""What every layer shares, none of it specific to tagging: the error type (``errors``), the
input rules for text (``textio``), atomic files and run-directory guards (``fileio``), the
command-line tools' common behaviour (``cli``), the training loop that the tagger's and the LM
trainers run (``training_loop``), absl flags made from config dataclasses (``config_flags``), the
code commit (``provenance``), eager-then-traced functions (``tracing``), glibc's malloc settings
(``memory``) and Markdown tables (``markdown``)."""
