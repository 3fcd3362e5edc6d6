"""Every tagging flagfile parses, and sets what its paper row needs."""

import dataclasses
import glob
import os

import pytest

from experiments import tagging_flags
from flag_helpers import parse_flagfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAGGING = sorted(
    p
    for p in glob.glob(os.path.join(REPO, "experiments/flags/*.cfg"))
    if os.path.basename(p).startswith(("ner_", "chunk_"))
)


@pytest.fixture
def parse():
    def parse_file(path):
        fv = parse_flagfile(tagging_flags.define_flags, path, "--model_dir=/tmp/x", "--data_dir=/data")
        task = "chunking" if os.path.basename(path).startswith("chunk_") else "ner"
        return tagging_flags.config_from_flags(task, fv)

    return parse_file


@pytest.mark.parametrize("path", TAGGING, ids=os.path.basename)
def test_flagfile_parses(parse, path):
    config = parse(path)
    name = os.path.basename(path)[:-4]
    if "taglm" in name or "lstm" in name or "cnnbig" in name or "lm_conll" in name:
        assert config.forward_lm, name
    if name.startswith("ner_1pct"):
        assert config.train_fraction == 0.01
    if name == "ner_taglm_no_rnn":
        assert config.model.task_rnn is False
    if name in ("ner_taglm_rnn1_input", "ner_taglm_rnn2_output"):
        assert config.model.insertion_point == name[len("ner_taglm_") :]


def test_paper_settings(parse):
    ner = parse(os.path.join(REPO, "experiments/flags/ner_baseline.cfg"))
    assert (ner.model.char_encoder, ner.model.char_units, ner.model.char_dim) == ("rnn", 80, 25)
    assert (ner.model.rnn_cell, ner.model.rnn_units, ner.model.rnn_input_dropout) == ("gru", 300, 0.25)
    assert (ner.train.learning_rate, ner.train.clip_norm) == (0.001, 5.0)
    chunk = parse(os.path.join(REPO, "experiments/flags/chunk_baseline.cfg"))
    assert (chunk.model.char_encoder, chunk.model.char_units, chunk.model.char_width) == ("cnn", 30, 3)
    assert (chunk.model.rnn_cell, chunk.model.rnn_units, chunk.model.output_dropout) == ("lstm", 200, 0.5)


@pytest.mark.parametrize("prefix", ["ner", "chunk"])
def test_cpu_budget_pairs_differ_only_in_their_lms(parse, prefix):
    """The CPU-budget TagLM rows (word LMs; CNN-LSTM pair; CNN-LSTM forward + word backward)
    are the baseline plus their LMs, nothing else."""
    flags_dir = os.path.join(REPO, "experiments/flags")
    baseline = parse(os.path.join(flags_dir, f"{prefix}_baseline_cpu.cfg")).to_dict()
    assert baseline.pop("forward_lm") is None and baseline.pop("backward_lm") is None
    for row, kinds in (
        ("taglm", ("lstm_lm:", "lstm_lm:")),
        ("taglm_cnn", ("lm1b:", "lm1b:")),
        ("taglm_cnn_word", ("lm1b:", "lstm_lm:")),
    ):
        taglm = parse(os.path.join(flags_dir, f"{prefix}_{row}_cpu.cfg")).to_dict()
        assert taglm.pop("forward_lm").startswith(kinds[0]) and taglm.pop("backward_lm").startswith(
            kinds[1]
        ), row
        assert taglm == baseline, row
    full = parse(os.path.join(flags_dir, f"{prefix}_baseline.cfg")).to_dict()
    assert baseline["train"]["max_constant_epochs"] < full["train"]["max_constant_epochs"]
    assert baseline["model"] == full["model"]


@pytest.mark.parametrize("percent", [1, 10, 100])
def test_data_size_pairs_differ_only_in_their_lms(parse, percent):
    """The 1%, 10% and 100% CPU TagLM arms are their baselines plus the `make cpu-lms` LMs: same
    fraction, same patience schedule, so the two arms of one seed pair."""
    flags_dir = os.path.join(REPO, "experiments/flags")
    name = "full" if percent == 100 else f"{percent}pct"
    baseline = parse(
        os.path.join(flags_dir, "ner_baseline.cfg" if percent == 100 else f"ner_{name}_baseline.cfg")
    ).to_dict()
    taglm = parse(os.path.join(flags_dir, f"ner_{name}_taglm_cnn_word_cpu.cfg")).to_dict()
    assert baseline.pop("forward_lm") is None and baseline.pop("backward_lm") is None
    assert taglm.pop("forward_lm").startswith("lm1b:") and taglm.pop("backward_lm").startswith("lstm_lm:")
    assert taglm == baseline
    assert baseline["train_fraction"] == percent / 100
    assert (
        baseline["train"]["max_constant_epochs"]
        == parse(os.path.join(flags_dir, "ner_baseline.cfg")).to_dict()["train"]["max_constant_epochs"]
    )


CPU_ANALYSIS = {  # flagfile -> (the TagLM it varies, the one setting that differs)
    "ner_taglm_rnn1_input_cpu": ("ner_taglm_cnn_word_cpu", "model", "insertion_point", "rnn1_input"),
    "ner_taglm_rnn2_output_cpu": ("ner_taglm_cnn_word_cpu", "model", "insertion_point", "rnn2_output"),
    "ner_taglm_no_rnn_cpu": ("ner_taglm_cnn_word_cpu", "model", "task_rnn", False),
    "ner_full_taglm_no_rnn_cpu": ("ner_full_taglm_cnn_word_cpu", "model", "task_rnn", False),
    "ner_taglm_small_rnn2_cpu": ("ner_taglm_cnn_word_cpu", "model", "rnn2_units", 205),
}


@pytest.mark.parametrize("name", sorted(CPU_ANALYSIS))
def test_cpu_analysis_rows_change_one_setting_of_a_cpu_taglm(parse, name):
    flags_dir = os.path.join(REPO, "experiments/flags")
    reference, section, key, value = CPU_ANALYSIS[name]
    taglm = parse(os.path.join(flags_dir, f"{reference}.cfg")).to_dict()
    variant = parse(os.path.join(flags_dir, f"{name}.cfg")).to_dict()
    assert variant[section][key] == value and taglm[section][key] != value
    variant[section][key] = taglm[section][key]
    assert variant == taglm


def test_the_analysis_stages_taglm_reference_is_the_cpu_taglm(parse):
    flags_dir = os.path.join(REPO, "experiments/flags")
    taglm = parse(os.path.join(flags_dir, "ner_taglm_cnn_word_cpu.cfg")).to_dict()
    assert parse(os.path.join(flags_dir, "ner_taglm_rnn1_output_cpu.cfg")).to_dict() == taglm


@pytest.mark.parametrize(
    "forward_only, taglm_name",
    [("ner_cnn_fwd_cpu", "ner_taglm_cnn_word_cpu"), ("ner_lstm_fwd_cpu", "ner_taglm_cpu")],
)
def test_cpu_forward_only_rows_are_their_taglm_without_the_backward_lm(parse, forward_only, taglm_name):
    flags_dir = os.path.join(REPO, "experiments/flags")
    baseline = parse(os.path.join(flags_dir, "ner_baseline_cpu.cfg")).to_dict()
    taglm = parse(os.path.join(flags_dir, f"{taglm_name}.cfg")).to_dict()
    fwd = parse(os.path.join(flags_dir, f"{forward_only}.cfg")).to_dict()
    assert fwd["forward_lm"] == taglm["forward_lm"] and fwd["backward_lm"] is None
    assert taglm["backward_lm"] is not None
    assert fwd["model"]["insertion_point"] == taglm["model"]["insertion_point"] == "rnn1_output"
    fwd["forward_lm"], fwd["model"]["insertion_point"] = None, baseline["model"]["insertion_point"]
    assert fwd == baseline


def test_cpu_big_rnn2_row_is_the_cpu_baseline_plus_one_setting(parse):
    flags_dir = os.path.join(REPO, "experiments/flags")
    baseline = parse(os.path.join(flags_dir, "ner_baseline_cpu.cfg")).to_dict()
    big = parse(os.path.join(flags_dir, "ner_baseline_big_rnn2_cpu.cfg")).to_dict()
    assert big["model"].pop("rnn2_units") == 416 and baseline["model"].pop("rnn2_units") is None
    assert big == baseline


def _lm_projection(name):
    from experiments import lm_flags

    fv = parse_flagfile(
        lm_flags.define_pretrain_flags,
        os.path.join(REPO, "experiments/flags", name),
        "--model_dir=/tmp/x",
        "--data_dir=/data",
    )
    return fv.projection_dim


def test_cpu_parameter_matched_rnn2_sizes_are_the_nearest(parse):
    """RNN-2 of the CPU TagLM reads RNN-1's outputs and the two LMs' projections; the matched
    sizes minimise the difference of RNN-2 parameter counts, counted on the built taggers."""
    from taglm_tf.models.tagger import build_tagger

    lm_dim = _lm_projection("lm_forward_cnn_lstm_cpu.cfg") + _lm_projection("lm_backward_512_256_cpu.cfg")
    flags_dir = os.path.join(REPO, "experiments/flags")

    def rnn2(name, units=None, extra_dim=0):
        config = parse(os.path.join(flags_dir, name)).model
        config = dataclasses.replace(config, extra_dim=extra_dim, **({"rnn2_units": units} if units else {}))
        return build_tagger(config, 50, 20, 9).get_layer("rnn2").count_params()

    taglm, baseline = rnn2("ner_taglm_cnn_word_cpu.cfg", extra_dim=lm_dim), rnn2("ner_baseline_cpu.cfg")
    big = parse(os.path.join(flags_dir, "ner_baseline_big_rnn2_cpu.cfg")).model.rnn2_units
    small = parse(os.path.join(flags_dir, "ner_taglm_small_rnn2_cpu.cfg")).model.rnn2_units
    assert rnn2("ner_baseline_big_rnn2_cpu.cfg") == 2_540_928 and taglm == 2_545_200
    for better in (big - 1, big + 1):
        assert abs(rnn2("ner_baseline_cpu.cfg", better) - taglm) > abs(
            rnn2("ner_baseline_cpu.cfg", big) - taglm
        )
    small_count = rnn2("ner_taglm_cnn_word_cpu.cfg", small, lm_dim)
    assert small_count == 1_622_370 and baseline == 1_623_600
    for other in (small - 1, small + 1):
        assert abs(rnn2("ner_taglm_cnn_word_cpu.cfg", other, lm_dim) - baseline) > abs(small_count - baseline)


@pytest.mark.parametrize("name", ["lm_forward_cnn_lstm", "lm_backward_512_256"])
def test_in_domain_lms_differ_from_the_news_lms_only_in_their_text(name):
    """Same model, steps and vocabulary settings (the in-domain LM builds the news LM's vocabulary
    from the news alone): only the training text differs."""
    from experiments import lm_flags

    def config(cfg):
        fv = parse_flagfile(
            lm_flags.define_pretrain_flags,
            os.path.join(REPO, "experiments/flags", cfg),
            "--model_dir=/tmp/x",
            "--data_dir=/data",
        )
        return lm_flags.pretrain_config_from_flags(fv)

    news, indomain = config(f"{name}_cpu.cfg"), config(f"{name}_conll_cpu.cfg")
    assert indomain.conll_files.endswith("conll2003/eng.train") and indomain.conll_weight == 5
    assert indomain.train.interleave and news.train.interleave
    assert indomain.vocab_file is None and not indomain.conll_in_vocab
    assert dataclasses.replace(indomain, conll_files=None, conll_weight=1, conll_in_vocab=True) == news


def test_in_domain_taglm_row_differs_from_the_news_row_only_in_its_lms(parse):
    flags_dir = os.path.join(REPO, "experiments/flags")
    news = parse(os.path.join(flags_dir, "ner_taglm_cnn_word_cpu.cfg")).to_dict()
    indomain = parse(os.path.join(flags_dir, "ner_taglm_cnn_word_conll_cpu.cfg")).to_dict()
    assert indomain.pop("forward_lm") == news.pop("forward_lm").replace("forward/", "forward_conll/")
    assert indomain.pop("backward_lm") == news.pop("backward_lm").replace("_cpu", "_conll_cpu")
    assert indomain == news


def _lm_config(name) -> dict:
    from experiments import lm_flags

    fv = parse_flagfile(
        lm_flags.define_pretrain_flags,
        os.path.join(REPO, "experiments/flags", name),
        "--model_dir=/tmp/x",
        "--data_dir=/data",
    )
    return dataclasses.asdict(lm_flags.pretrain_config_from_flags(fv))


def test_the_conll_only_lms_are_the_news_word_lms_on_conll_text(parse):
    news = _lm_config("lm_forward_512_256_cpu.cfg")
    forward = _lm_config("lm_forward_512_256_conll_only_cpu.cfg")
    assert (forward["train_files"], forward["conll_files"]) == ("", "conll2003/eng.train")
    assert (forward["min_count"], forward["normalize_words"], forward["train"]["train_steps"]) == (
        2,
        True,
        2380,
    )
    assert not news["normalize_words"]
    for key in ("train_files", "conll_files", "min_count", "normalize_words"):
        forward[key] = news[key]
    forward["train"]["train_steps"] = news["train"]["train_steps"]
    assert forward == news
    backward = _lm_config("lm_backward_512_256_conll_only_cpu.cfg")
    assert backward.pop("direction") == "backward" and forward.pop("direction") == "forward"
    forward["normalize_words"], forward["min_count"] = True, 2
    forward["train_files"], forward["conll_files"] = "", "conll2003/eng.train"
    forward["train"]["train_steps"] = 2380
    assert backward == forward
    taglm = parse(os.path.join(REPO, "experiments/flags/ner_taglm_cpu.cfg")).to_dict()
    conll = parse(os.path.join(REPO, "experiments/flags/ner_lm_conll_cpu.cfg")).to_dict()
    for key in ("forward_lm", "backward_lm"):
        assert conll[key] == taglm[key].replace("512_256_cpu", "512_256_conll_only_cpu") != taglm[key]
        conll[key] = taglm[key]
    assert conll == taglm
