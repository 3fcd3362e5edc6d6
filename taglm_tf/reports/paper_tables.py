"""The paper's numbers (Peters et al. 2017, Tables 1, 2, 5, 6 and §3.2), in one structure.

Each row names the experiment ``label`` whose runs fill the "ours" cells: the flagfile name
(``experiments/flags/<label>.cfg``), which ``experiments.run_seeds`` stores in ``sweep.json``.
``label=None`` marks a published system that we do not reproduce.
"""

from __future__ import annotations

import dataclasses

# The paper's settings (§3): final NER models train on train+dev; chunking holds out 1,000
# training sentences as dev; Senna 50d embeddings; 10 seeds per final configuration.
NER = "train+dev, Senna 50d"
CHUNK = "train − 1,000 dev sentences, Senna 50d"
TAGLM_LMS = "fwd CNN-BIG-LSTM + bwd LSTM-2048-512"
SEEDS = "10 seeds"
PUBLISHED = "published system (not reproduced)"


@dataclasses.dataclass(frozen=True)
class PaperRow:
    """One line of a paper table: its F1 (± std) and setting, and our experiment's label."""

    name: str
    f1: float | None
    std: float | None = None
    label: str | None = None
    setting: str = PUBLISHED
    ppl: tuple[float | None, float | None] | None = None  # LM test perplexity fwd, bwd
    note: str = ""


@dataclasses.dataclass(frozen=True)
class PaperTable:
    key: str
    title: str
    rows: tuple[PaperRow, ...]
    show_ppl: bool = False
    caption: str = ""
    split: str = "test"  # the split of the paper's numbers, and of ours beside them


def _setting(data: str, lms: str, seeds: str = SEEDS) -> str:
    return f"{data}, LMs: {lms}, {seeds}"


# The share of ScienceIE's gold annotations that one layer of non-overlapping token spans holds
# (taglm_tf.data.brat.one_layer: kept / all, in percent), measured on the shared data.
SCIENCEIE_ONE_LAYER_RECALL = {"dev": 90.4, "test": 91.0}

TABLES = (
    PaperTable(
        "table1",
        "Table 1: CoNLL 2003 NER test F1 (CoNLL 2003 data and unlabeled text only)",
        (
            PaperRow("Chiu and Nichols (2016)", 90.91, 0.20),
            PaperRow("Lample et al. (2016)", 90.94),
            PaperRow("Ma and Hovy (2016)", 91.37),
            PaperRow("Our baseline without LM", 90.87, 0.13, "ner_baseline", _setting(NER, "none")),
            PaperRow("TagLM", 91.93, 0.19, "ner_taglm", _setting(NER, TAGLM_LMS)),
        ),
    ),
    PaperTable(
        "table2",
        "Table 2: CoNLL 2000 chunking test F1 (CoNLL 2000 data and unlabeled text only)",
        (
            PaperRow("Yang et al. (2017)", 94.66),
            PaperRow("Hashimoto et al. (2016)", 95.02),
            PaperRow("Søgaard and Goldberg (2016)", 95.28),
            PaperRow("Our baseline without LM", 95.00, 0.08, "chunk_baseline", _setting(CHUNK, "none")),
            PaperRow("TagLM", 96.37, 0.05, "chunk_taglm", _setting(CHUNK, TAGLM_LMS)),
        ),
    ),
    PaperTable(
        "table5",
        "Table 5: CoNLL 2003 test F1 by where the LM embeddings enter the tagger",
        (
            PaperRow(
                "input to the first RNN layer", 91.55, 0.21, "ner_taglm_rnn1_input", _setting(NER, TAGLM_LMS)
            ),
            PaperRow(
                "output of the first RNN layer (Eq. 3)", 91.93, 0.19, "ner_taglm", _setting(NER, TAGLM_LMS)
            ),
            PaperRow(
                "output of the second RNN layer",
                91.72,
                0.13,
                "ner_taglm_rnn2_output",
                _setting(NER, TAGLM_LMS),
            ),
        ),
    ),
    PaperTable(
        "table6",
        "Table 6: CoNLL 2003 test F1 by language models (forward / backward)",
        (
            PaperRow("— / —", 90.87, 0.13, "ner_baseline", _setting(NER, "none")),
            PaperRow(
                "LSTM-512-256* / LSTM-512-256*",
                90.79,
                0.15,
                "ner_lm_conll",
                _setting(NER, "fwd + bwd LSTM-512-256 trained on CoNLL 2003 train+dev"),
                (106.9, 104.2),
            ),
            PaperRow(
                "LSTM-2048-512 / —",
                91.40,
                0.18,
                "ner_lstm_fwd",
                _setting(NER, "fwd LSTM-2048-512"),
                (47.7, None),
            ),
            PaperRow(
                "LSTM-2048-512 / LSTM-2048-512",
                91.62,
                0.23,
                "ner_lstm_bi",
                _setting(NER, "fwd + bwd LSTM-2048-512"),
                (47.7, 47.3),
            ),
            PaperRow(
                "CNN-BIG-LSTM / —",
                91.66,
                0.13,
                "ner_cnnbig_fwd",
                _setting(NER, "fwd CNN-BIG-LSTM"),
                (30.0, None),
            ),
            PaperRow(
                "CNN-BIG-LSTM / LSTM-2048-512",
                91.93,
                0.19,
                "ner_taglm",
                _setting(NER, TAGLM_LMS),
                (30.0, 47.3),
            ),
        ),
        show_ppl=True,
        caption="Paper perplexities: 1B Word Benchmark test, over its full vocabulary, except "
        "LSTM-512-256* (CoNLL 2003 test). Ours: the held-out perplexity that "
        "`experiments.eval_lm --record` stored beside each LM (the text it was "
        "measured on is named in the LM's perplexity.json), over that LM's own output "
        "vocabulary, every other word counted as `<UNK>`: LMs of different vocabularies, "
        "and ours against the paper's, compare only roughly (see the preamble).",
    ),
    PaperTable(
        "analysis",
        "§3.2 analyses (CoNLL 2003 NER test F1)",
        (
            PaperRow(
                "No task RNN: LM embeddings → dense → CRF",
                88.17,
                None,
                "ner_taglm_no_rnn",
                _setting(NER, TAGLM_LMS, "seeds not stated"),
            ),
            PaperRow(
                "1% of training data: baseline without LM",
                67.66,
                None,
                "ner_1pct_baseline",
                _setting("1% sample of train (Yang et al. 2017), Senna 50d", "none", "seeds not stated"),
            ),
            PaperRow(
                "1% of training data: TagLM",
                71.01,
                None,
                "ner_1pct_taglm",
                _setting("1% sample of train (Yang et al. 2017), Senna 50d", TAGLM_LMS, "seeds not stated"),
            ),
            PaperRow(
                "10% of training data: baseline without LM",
                None,
                None,
                "ner_10pct_baseline",
                "not in the paper (between its 1% and 100% points)",
            ),
            PaperRow(
                "10% of training data: TagLM",
                None,
                None,
                "ner_10pct_taglm",
                "not in the paper (between its 1% and 100% points)",
            ),
            PaperRow(
                "Baseline, RNN-2 enlarged to TagLM's parameter count",
                90.72,
                None,
                "ner_baseline_big_rnn2",
                _setting(NER, "none", "seeds not stated"),
                note="paper: baseline − 0.15 = 90.87 − 0.15",
            ),
            PaperRow(
                "TagLM, RNN-2 shrunk to the baseline's parameter count",
                92.00,
                0.11,
                "ner_taglm_small_rnn2",
                _setting(NER, TAGLM_LMS),
            ),
            PaperRow(
                "LMs trained on CoNLL 2003 only (LSTM-512-256*)",
                90.79,
                0.15,
                "ner_lm_conll",
                _setting(NER, "fwd + bwd LSTM-512-256 trained on CoNLL 2003 train+dev"),
                (106.9, 104.2),
            ),
            PaperRow(
                "TagLM, LMs trained on news + CoNLL 2003 train (in-domain text)",
                None,
                None,
                "ner_taglm_indomain",
                "not in the paper (its LSTM-512-256* read CoNLL 2003 text alone)",
            ),
        ),
        show_ppl=True,
    ),
    PaperTable(
        "scienceie",
        "§3.2 domain transfer: ScienceIE keyphrase extraction, development set F1",
        (
            PaperRow(
                "Baseline without LM",
                49.93,
                None,
                "scienceie_baseline",
                _setting("ScienceIE train (350 paragraphs), Senna 50d", "none", "seeds not stated"),
            ),
            PaperRow(
                "TagLM, LMs trained on news",
                54.05,
                None,
                "scienceie_taglm",
                _setting("ScienceIE train (350 paragraphs), Senna 50d", TAGLM_LMS, "seeds not stated"),
            ),
        ),
        split="dev",
        caption="SemEval 2017 Task 10, subtask B (entities: Material, Process, Task), "
        "scored as the task's scorer does: exact character spans and types against "
        "every gold annotation, nested ones included. Our tagger predicts one layer of "
        "non-overlapping spans on token boundaries, so it can find at most "
        f"{SCIENCEIE_ONE_LAYER_RECALL['dev']}% of the dev and {SCIENCEIE_ONE_LAYER_RECALL['test']}% "
        "of the test annotations (the rest overlap a longer one, end inside a token, or are "
        "discontinuous). The paper does not say how it treated these annotations; a tagger "
        "of one tag per token, as the paper's is, cannot predict them either.",
    ),
)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A difference the paper reports: ``variant − base`` test F1 (``None``: not in the paper).
    ``same_lms``: the two arms differ in the tagger only, so they pair only when they read the
    same LMs by name (the report shows each arm's LM builds beside the difference: the same LMs
    trained on another CPU are other bits); otherwise the LMs are what differs."""

    base: str
    variant: str
    paper_delta: float | None
    same_lms: bool = False
    paper_split: str = "test"  # the split of paper_delta; ours is always the test split


COMPARISONS = (
    Comparison("ner_baseline", "ner_taglm", 1.06),
    Comparison("chunk_baseline", "chunk_taglm", 1.37),
    Comparison("ner_1pct_baseline", "ner_1pct_taglm", 3.35),
    Comparison("ner_10pct_baseline", "ner_10pct_taglm", None),
    Comparison("scienceie_baseline", "scienceie_taglm", 4.12, paper_split="dev"),
    Comparison("ner_taglm", "ner_taglm_rnn1_input", -0.38, same_lms=True),
    Comparison("ner_taglm", "ner_taglm_rnn2_output", -0.21, same_lms=True),
    Comparison("ner_taglm", "ner_taglm_no_rnn", -3.76, same_lms=True),
    # "well below our baseline": 88.17 − 90.87 (§3.2, Table 1).
    Comparison("ner_baseline", "ner_taglm_no_rnn", -2.70),
    Comparison("ner_baseline", "ner_cnnbig_fwd", 0.79),
    # Table 6: 91.40 − 90.87 (forward LSTM-2048-512 alone), 91.62 − 91.40, 91.62 − 90.87.
    Comparison("ner_baseline", "ner_lstm_fwd", 0.53),
    Comparison("ner_lstm_fwd", "ner_lstm_bi", 0.22),
    Comparison("ner_baseline", "ner_lstm_bi", 0.75),
    Comparison("ner_cnnbig_fwd", "ner_taglm", 0.27),
    Comparison("ner_baseline", "ner_lm_conll", -0.08),
    Comparison("ner_baseline", "ner_taglm_indomain", None),
    Comparison("ner_baseline", "ner_baseline_big_rnn2", -0.15),
    Comparison("ner_taglm", "ner_taglm_small_rnn2", 0.07, same_lms=True),
)

# §3.2 'Dataset size': (fraction of the training sentences, baseline label, TagLM label) of NER.
# The paper's deltas at 1% and 100% are those of COMPARISONS; our points take the fraction
# their runs record.
DATA_SIZE = (
    (0.01, "ner_1pct_baseline", "ner_1pct_taglm"),
    (0.1, "ner_10pct_baseline", "ner_10pct_taglm"),
    (1.0, "ner_baseline", "ner_taglm"),
)


def paper_data_size_points():
    """``[(fraction, paper Δ)]`` for the fractions the paper reports."""
    return [(f, paper_delta(b, v)) for f, b, v in DATA_SIZE if paper_delta(b, v) is not None]


def paper_delta(base: str, variant: str) -> float | None:
    """The paper's test-F1 difference ``variant − base`` from COMPARISONS, or None."""
    return next((c.paper_delta for c in COMPARISONS if (c.base, c.variant) == (base, variant)), None)


def known_labels() -> tuple[str, ...]:
    labels = {row.label for table in TABLES for row in table.rows if row.label}
    labels.update(label for c in COMPARISONS for label in (c.base, c.variant))
    return tuple(sorted(labels))
