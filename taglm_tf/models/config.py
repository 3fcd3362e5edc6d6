"""The tagger's hyper-parameters (:class:`TaggerConfig`), apart from the code that builds it so that
the command-line tools define their flags from it without importing TensorFlow."""

from __future__ import annotations

import dataclasses

INSERTION_POINTS = ("rnn1_input", "rnn1_output", "rnn2_output")


@dataclasses.dataclass(kw_only=True, frozen=True)
class TaggerConfig:
    """Hyper-parameters of the tagger. Defaults are the paper's NER model."""

    char_encoder: str = dataclasses.field(default="rnn", metadata={"help": "'rnn' (BiGRU) or 'cnn'"})
    char_dim: int = dataclasses.field(default=25, metadata={"help": "char embedding size", "lower_bound": 1})
    char_units: int = dataclasses.field(
        default=80, metadata={"help": "char RNN units per direction, or CNN filters", "lower_bound": 1}
    )
    char_width: int = dataclasses.field(
        default=3, metadata={"help": "char CNN filter width", "lower_bound": 1}
    )
    char_dropout: float = dataclasses.field(
        default=0.25, metadata={"help": "dropout on char embeddings", "lower_bound": 0, "below": 1}
    )
    word_dim: int = dataclasses.field(
        default=50, metadata={"help": "word embedding size (must match --embeddings)", "lower_bound": 1}
    )
    rnn_cell: str = dataclasses.field(
        default="gru", metadata={"help": "'gru' or 'lstm' for the two sequence layers"}
    )
    rnn_units: int = dataclasses.field(
        default=300, metadata={"help": "units per direction in both sequence layers", "lower_bound": 1}
    )
    # a smaller or larger layer 2 makes the parameter-matched variants
    rnn2_units: int | None = dataclasses.field(
        default=None,
        metadata={"help": "units per direction in the second layer (default: --rnn_units)", "lower_bound": 1},
    )
    rnn_input_dropout: float = dataclasses.field(
        default=0.25,
        metadata={"help": "dropout on the input of each sequence RNN", "lower_bound": 0, "below": 1},
    )
    output_dropout: float = dataclasses.field(
        default=0.0, metadata={"help": "dropout on the last RNN output", "lower_bound": 0, "below": 1}
    )
    # size of extra per-token features (0 = none), set from the LMs: no flag
    extra_dim: int = dataclasses.field(default=0, metadata={"flag": False})
    insertion_point: str = dataclasses.field(
        default="rnn1_output",
        metadata={"help": "where LM embeddings join: rnn1_input, rnn1_output (Eq. 3) or rnn2_output"},
    )
    task_rnn: bool = dataclasses.field(
        default=True, metadata={"help": "False: LM embeddings -> dense -> CRF, no task RNN (§3.2)."}
    )

    def validate(self) -> TaggerConfig:
        """Return ``self`` if its choices are known.

        Raises:
            ValueError: ``char_encoder``, ``rnn_cell`` or ``insertion_point`` is not one of its
                allowed values.
        """
        if self.char_encoder not in ("rnn", "cnn"):
            raise ValueError(f"char_encoder must be 'rnn' or 'cnn', not {self.char_encoder!r}")
        if self.rnn_cell not in ("gru", "lstm"):
            raise ValueError(f"rnn_cell must be 'gru' or 'lstm', not {self.rnn_cell!r}")
        if self.insertion_point not in INSERTION_POINTS:
            raise ValueError(
                f"insertion_point must be one of {INSERTION_POINTS}, not {self.insertion_point!r}"
            )

        return self
