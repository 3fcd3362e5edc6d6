"""The LM benchmarks take their model flags from the LM configs: their default models are the CPU
flagfiles' LMs (without dropout), and gpu_check runs the paper's LMs and the toy ones it ran when
it listed their sizes by hand."""

import dataclasses
import os

import pytest
from absl import flags

from benchmarks import gpu_check, lm_precision, lm_strategy_overhead
from experiments import lm_flags
from flag_helpers import parse_flagfile
from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig, LSTMLMConfig
from taglm_tf.utils import config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flagfile_model(name):
    fv = parse_flagfile(
        lm_flags.define_pretrain_flags,
        os.path.join(REPO, "experiments/flags", name),
        "--model_dir=/tmp/x",
        "--data_dir=/nonexistent",
    )
    return dataclasses.replace(lm_flags.pretrain_config_from_flags(fv).model, dropout=0.0, sampler_seed=0)


def precision_model(*args):
    fv = flags.FlagValues()
    lm_precision.define_flags(fv)
    fv(["prog", *args])
    return lm_precision.model_config(fv), fv


def test_lm_precision_defaults_to_the_cpu_cnn_lstm():
    assert precision_model()[0] == flagfile_model("lm_forward_cnn_lstm_cpu.cfg")
    word, _ = precision_model("--kind=lstm")
    assert (word.embedding_dim, word.num_cells, word.projection_dim, word.use_peepholes) == (
        512,
        1024,
        256,
        False,
    )


def test_lm_strategy_overhead_defaults_to_the_cpu_word_lm():
    fv = flags.FlagValues()
    lm_strategy_overhead.define_flags(fv)
    fv(["prog"])
    assert config_flags.from_flags(LSTMLMConfig, fv) == flagfile_model("lm_forward_512_256_cpu.cfg")


# What gpu_check passed to lm_precision before the sizes came from the configs.
HAND_WRITTEN = {
    "gpu": {
        "lstm": [
            "--kind=lstm",
            "--vocab_size=793471",
            "--embedding_dim=512",
            "--num_cells=2048",
            "--projection_dim=512",
            "--num_layers=1",
            "--batch_size=128",
        ],
        "cnn_lstm": [
            "--kind=cnn_lstm",
            "--vocab_size=793471",
            "--conv_widths=1,2,3,4,5,6,7,7",
            "--conv_filters=32,32,64,128,256,512,1024,2048",
            "--num_highway=2",
            "--num_cells=8192",
            "--projection_dim=1024",
            "--num_layers=2",
            "--batch_size=32",
        ],
    },
    "tiny": {
        "lstm": [
            "--kind=lstm",
            "--vocab_size=500",
            "--embedding_dim=16",
            "--num_cells=32",
            "--projection_dim=16",
            "--num_sampled=50",
            "--batch_size=4",
            "--num_steps=5",
        ],
        "cnn_lstm": [
            "--kind=cnn_lstm",
            "--vocab_size=500",
            "--conv_widths=1,2",
            "--conv_filters=8,8",
            "--num_cells=32",
            "--projection_dim=16",
            "--num_sampled=50",
            "--batch_size=4",
            "--num_steps=5",
        ],
    },
}


@pytest.mark.parametrize("preset", ["gpu", "tiny"])
def test_gpu_check_runs_the_lms_it_ran(preset):
    arguments = gpu_check.lm_arguments(preset)
    assert set(arguments) == {"lstm", "cnn_lstm"}
    for kind, args in arguments.items():
        model, fv = precision_model(*args)
        before, fv_before = precision_model(*HAND_WRITTEN[preset][kind])
        assert model == before and model.kind == kind
        assert [fv[n].value for n in ("vocab_size", "batch_size", "num_steps")] == [
            fv_before[n].value for n in ("vocab_size", "batch_size", "num_steps")
        ]
    if preset == "gpu":  # the paper's LMs are the configs' defaults
        assert precision_model(*arguments["lstm"])[0] == LSTMLMConfig()
        assert precision_model(*arguments["cnn_lstm"])[0] == CNNLSTMLMConfig()
