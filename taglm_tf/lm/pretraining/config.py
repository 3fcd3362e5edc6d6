"""The configuration of LM pretraining: the model config of each LM kind, the optimisation
settings and the run's config, saved as a run's ``config.json``.

They are plain dataclasses, apart from the code that builds and trains the models
(:mod:`~taglm_tf.lm.pretraining.lm_kinds`, :mod:`~taglm_tf.lm.pretraining.trainer`,
:mod:`~taglm_tf.lm.pretraining.run`), so this module imports no TensorFlow: the command-line
tools define, parse and check their flags from it before TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from taglm_tf.lm.vocab import DIRECTIONS, MAX_WORD_LENGTH
from taglm_tf.utils.errors import InputError

STRATEGIES = ("auto", "mirrored", "multi_worker", "default")
OPTIMIZERS = ("adagrad", "adam")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras mixed-precision policy names
RESET_STATES = ("sentence", "never")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LSTMPStackConfig:
    """What every LM kind's config holds: the LSTMP stack, its softmax and regularisation. Each
    kind adds its input side and its own defaults; ``kind`` names it in ``config.json``."""

    kind: str = dataclasses.field(metadata={"flag": False})  # a tool's LM kind flag chooses the config
    num_cells: int = dataclasses.field(default=2048, metadata={"help": "LSTM cells per layer."})
    projection_dim: int = dataclasses.field(default=512, metadata={"help": "LSTM projection (output) size."})
    num_layers: int = dataclasses.field(default=1, metadata={"help": "LSTMP layers."})
    num_sampled: int = dataclasses.field(
        default=8192, metadata={"help": "Sampled-softmax negatives per step (< vocabulary); 0: full softmax."}
    )
    dropout: float = dataclasses.field(
        default=0.0,
        metadata={"help": "Dropout on LSTM inputs and the top output.", "lower_bound": 0, "below": 1},
    )
    use_peepholes: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "Peephole connections in the LSTM cell (lm_1b's cell has them; the training recipes of "
            "Jozefowicz et al. and bilm-tf do not)."
        },
    )
    # lm_1b's; no recipe changes it, so no flag
    forget_bias: float = dataclasses.field(default=1.0, metadata={"flag": False})
    cell_clip: float = dataclasses.field(
        default=0.0, metadata={"help": "Clip the LSTM cell state to this magnitude (0: off; bilm-tf: 3)."}
    )
    sampler_seed: int = dataclasses.field(default=0, metadata={"flag": False})  # the run's --seed

    KIND = ""

    def __post_init__(self):
        if self.kind != self.KIND:
            raise ValueError(f"{type(self).__name__}.kind must be {self.KIND!r}, not {self.kind!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LSTMLMConfig(LSTMPStackConfig):
    """The word-level LM (``kind="lstm"``):
    :class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel`'s arguments other than
    ``vocab_size`` and ``reset_id``. Defaults: the paper's LSTM-2048-512 (§3)."""

    KIND = "lstm"
    kind: str = "lstm"
    embedding_dim: int = dataclasses.field(
        default=512, metadata={"help": "Token embedding size (--lm_kind=lstm)."}
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class CNNLSTMLMConfig(LSTMPStackConfig):
    """The char-aware LM (``kind="cnn_lstm"``):
    :class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLanguageModel`'s arguments other than
    ``vocab_size`` and ``reset_id``. Defaults: the released CNN-BIG-LSTM (docs/lm_1b.md
    §2: E=16, banks of widths 1-7,7 with 32..2048 filters, 2 highway layers, P=1024, 2 LSTMP
    layers of 8192 cells with peepholes), trained as Jozefowicz et al. with 8192 sampled negatives."""

    KIND = "cnn_lstm"
    kind: str = "cnn_lstm"
    char_dim: int = dataclasses.field(default=16, metadata={"help": "cnn_lstm: char embedding size."})
    conv_widths: tuple[int, ...] = dataclasses.field(
        default=(1, 2, 3, 4, 5, 6, 7, 7), metadata={"help": "cnn_lstm: width of each conv bank."}
    )
    conv_filters: tuple[int, ...] = dataclasses.field(
        default=(32, 32, 64, 128, 256, 512, 1024, 2048),
        metadata={"help": "cnn_lstm: filters of each conv bank."},
    )
    num_highway: int = dataclasses.field(default=2, metadata={"help": "cnn_lstm: highway layers."})
    max_word_length: int = dataclasses.field(
        default=MAX_WORD_LENGTH,
        metadata={"help": "cnn_lstm: chars per word (bow and eow included; the lm_1b loader reads 50)."},
    )
    num_cells: int = 8192
    projection_dim: int = 1024
    num_layers: int = 2
    use_peepholes: bool = True

    def __post_init__(self):
        super().__post_init__()
        # JSON gives lists; tuples keep the config hashable and comparable
        object.__setattr__(self, "conv_widths", tuple(int(w) for w in self.conv_widths))
        object.__setattr__(self, "conv_filters", tuple(int(n) for n in self.conv_filters))


ModelConfig = LSTMLMConfig | CNNLSTMLMConfig
CONFIGS = {"lstm": LSTMLMConfig, "cnn_lstm": CNNLSTMLMConfig}
LM_KINDS = tuple(CONFIGS)


def model_config_from_dict(data: Mapping, source: str | None = None) -> ModelConfig:
    """The typed config of a ``config.json`` ``model`` dict (missing fields take their defaults).

    Args:
        data: the dict.
        source: the file it was read from, for error messages.

    Raises:
        InputError: no ``kind`` (a run written by an older taglm_tf, which did not record it),
            an unknown ``kind`` or an unknown field.
    """
    if "kind" not in data:
        raise InputError("written by an older taglm_tf (its model has no kind); train the LM again", source)
    kind = data["kind"]
    if kind not in CONFIGS:
        raise InputError(f"unknown LM kind {kind!r}; expected one of {', '.join(LM_KINDS)}", source)
    cls = CONFIGS[kind]
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise InputError(f"{kind} LM config has unknown fields: {', '.join(sorted(unknown))}", source)
    return cls(**data)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LMTrainConfig:
    """Optimisation settings; the defaults are the original LM recipe (docs/lm_1b.md §11)."""

    batch_size: int = dataclasses.field(
        default=128,
        metadata={"help": "Rows per replica; the global batch is this x replicas.", "lower_bound": 1},
    )
    num_steps: int = dataclasses.field(
        default=20, metadata={"help": "Window length: truncated-BPTT steps.", "lower_bound": 1}
    )
    train_steps: int = dataclasses.field(
        default=100000, metadata={"help": "Total optimizer steps.", "lower_bound": 1}
    )
    optimizer: str = dataclasses.field(
        default="adagrad", metadata={"help": "Adagrad (original recipe) or Adam.", "choices": OPTIMIZERS}
    )
    learning_rate: float = dataclasses.field(default=0.2, metadata={"help": "Learning rate.", "above": 0})
    initial_accumulator_value: float = dataclasses.field(
        default=1.0, metadata={"help": "Adagrad's initial accumulator."}
    )
    clip_norm: float = dataclasses.field(
        default=10.0, metadata={"help": "Clip the summed gradient to this global norm (0: no clipping)."}
    )
    # 20 = bilm-tf's loss * unroll_steps
    gradient_scale: float = dataclasses.field(
        default=1.0, metadata={"help": "Gradients of scale x token-mean loss (bilm-tf: num_steps)."}
    )
    checkpoint_every: int = dataclasses.field(
        default=1000,
        metadata={"help": "Steps between checkpoints (and held-out evaluations).", "lower_bound": 1},
    )
    keep_checkpoints: int = dataclasses.field(
        default=3, metadata={"help": "Checkpoints kept.", "lower_bound": 1}
    )
    log_every: int = dataclasses.field(
        default=100, metadata={"help": "Steps between log lines and TensorBoard points.", "lower_bound": 1}
    )
    seed: int = dataclasses.field(
        default=1, metadata={"help": "Seed of initialisation, data order and the softmax sampler."}
    )
    # corpus.LMCorpus
    shuffle_chunk: int = dataclasses.field(
        default=10000, metadata={"help": "Lines of a shard shuffled together."}
    )
    interleave: bool = dataclasses.field(
        default=True,
        metadata={
            "help": "Mix the sentences of all training files within each epoch (--nointerleave: one file after "
            "another)."
        },
    )
    # see trainer.precision_policy
    precision: str = dataclasses.field(
        default="float32",
        metadata={
            "help": "float32, or Keras mixed precision: bfloat16 or float16 compute with float32 variables, softmax "
            "and losses (float16 with dynamic loss scaling). Fast only with hardware support (bfloat16: "
            "AVX512-BF16/AMX CPUs, TPUs, Ampere+ GPUs; float16: GPUs).",
            "choices": PRECISIONS,
        },
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """Everything that defines a pretraining run; saved as ``config.json``. Built with keywords,
    never changed (derive variants with ``dataclasses.replace``).

    Args:
        model_dir: output directory.
        train_files: comma-separated globs of training shards (may be empty with ``conll_files``).
        direction: ``forward`` or ``backward`` (see :func:`~taglm_tf.lm.vocab.encode_sentence`).
        vocab_file: use this vocabulary instead of building one from ``train_files``.
        vocab_size: cap on the built vocabulary (specials included); ``None``: no cap.
        min_count: keep words seen at least this often in ``train_files``.
        normalize_words: every reader of this LM's text (vocabulary, training, held-out, the
            tagger's embedder) lowercases each word and writes each digit as 0 first
            (:func:`taglm_tf.data.featurizer.normalize_words`).
        model: the LM's kind and sizes: :class:`LSTMLMConfig` or
            :class:`CNNLSTMLMConfig`.
        train: optimisation settings.
        heldout_files: globs evaluated (full softmax) at each checkpoint; must not overlap training.
        heldout_max_sentences: evaluate only the first sentences of ``heldout_files`` (0: all).
        epochs: passes over the training data (0: repeat until ``train.train_steps``).
        strategy: ``auto``, ``mirrored``, ``multi_worker`` or ``default``.
        conll_files: comma-separated globs of CoNLL files whose words join the training text
            (:mod:`~taglm_tf.lm.pretraining.conll_text`; test sets are refused).
        conll_weight: how many times each epoch reads the text of ``conll_files`` (it is listed
            that many times among the training files), to up-weight a small in-domain text
            against a large corpus; a built vocabulary counts it as often (with
            ``conll_in_vocab``).
        conll_in_vocab: whether a built vocabulary counts the text of ``conll_files``; without
            it, the vocabulary is the one ``train_files`` alone build (the same words, order and
            counts as an LM trained on them alone). ``False`` needs ``conll_files`` and
            ``train_files`` and no ``vocab_file``.
        reset_state: ``sentence``: every sentence starts from a zero LSTM state (the model's
            ``reset_id`` is set to ``<S>``), as the embedder reads sentences; ``never``: the state
            runs on across sentences, as lm_1b and bilm-tf trained.
    """

    model_dir: str = dataclasses.field(
        metadata={"help": "Output directory (config, vocabulary, checkpoints, logs)."}
    )
    train_files: str = dataclasses.field(
        metadata={
            "help": "Comma-separated globs of training shards (one sentence per line; .gz/.xz/plain); relative "
            "globs are tried against --data_dir too."
        }
    )
    direction: str = dataclasses.field(
        default="forward",
        metadata={"help": "forward: <S> w1..wn </S>; backward: <S> wn..w1 </S>.", "choices": DIRECTIONS},
    )
    vocab_file: str | None = dataclasses.field(
        default=None, metadata={"help": "Use this vocabulary (one word per line, most frequent first)."}
    )
    vocab_size: int | None = dataclasses.field(
        default=None, metadata={"help": "Cap on the built vocabulary, <S> </S> <UNK> included."}
    )
    min_count: int = dataclasses.field(
        default=1, metadata={"help": "Keep words seen at least this often in the training data."}
    )
    normalize_words: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "Read every word lowercased, each digit 0-9 as 0 (the tagger's word-embedding key, paper "
            "§3), in the vocabulary, training and held-out text; the LM's readers (eval_lm, the tagger) read "
            "it so too. Paper Table 6's LSTM-512-256* read its text so."
        },
    )
    model: ModelConfig = dataclasses.field(default_factory=LSTMLMConfig)
    train: LMTrainConfig = dataclasses.field(default_factory=LMTrainConfig)
    heldout_files: str | None = dataclasses.field(
        default=None, metadata={"help": "Globs evaluated (full softmax) at each checkpoint."}
    )
    heldout_max_sentences: int = dataclasses.field(
        default=0, metadata={"help": "Evaluate only this many held-out sentences (0: all)."}
    )
    epochs: int = dataclasses.field(
        default=0, metadata={"help": "Passes over the training data (0: until --train_steps)."}
    )
    strategy: str = dataclasses.field(
        default="auto",
        metadata={
            "help": "auto: multi_worker if TF_CONFIG is set, mirrored with 2+ GPUs, else default (one device).",
            "choices": STRATEGIES,
        },
    )
    reset_state: str = dataclasses.field(
        default="sentence",
        metadata={
            "help": "sentence: each sentence starts from a zero LSTM state (as the tagger's embedder reads it); "
            "never: the state runs on across sentences (lm_1b, bilm-tf).",
            "choices": RESET_STATES,
        },
    )
    conll_files: str | None = dataclasses.field(
        default=None,
        metadata={
            "flag": "conll_train_files",
            "help": "Comma-separated globs of CoNLL files whose words join the training text, e.g. "
            "conll2003/eng.train (paper Table 6's LSTM-512-256*); test sets (eng.testb, CoNLL-2000 "
            "test.txt) are refused.",
        },
    )
    conll_weight: int = dataclasses.field(
        default=1,
        metadata={
            "help": "Read the --conll_train_files text this many times per epoch (up-weights a small in-domain "
            "text; a built vocabulary counts it as often, unless --conll_in_vocab=false).",
            "lower_bound": 1,
        },
    )
    conll_in_vocab: bool = dataclasses.field(
        default=True,
        metadata={
            "help": "Count the --conll_train_files text in the built vocabulary; false builds it from "
            "--train_files alone, the vocabulary an LM of that corpus alone has (so their perplexities "
            "compare), with no need to train that LM first."
        },
    )

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None) -> PretrainConfig:
        """The config a ``config.json`` dict describes (``source``: its file, for messages).
        Unknown top-level keys are ignored.

        Raises:
            InputError: an unknown ``train`` field, a ``train`` without ``interleave`` or a
                ``model`` without ``kind`` (a run written by an older taglm_tf, which did not
                record them), or an unknown LM kind or ``model`` field.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        args = {k: v for k, v in data.items() if k in fields}
        train = args.get("train", {})
        unknown = set(train) - {f.name for f in dataclasses.fields(LMTrainConfig)}
        if unknown:
            raise InputError(f"training config has unknown fields: {', '.join(sorted(unknown))}", source)
        if "interleave" not in train:
            raise InputError(
                "written by an older taglm_tf (its training config has no interleave); start a new run",
                source,
            )
        args["train"] = LMTrainConfig(**train)
        args["model"] = model_config_from_dict(args.get("model", {}), source)
        return cls(**args)
