"""``--help`` of every entry point lists its own flags with defaults and help; ``--helpfull`` keeps
absl's other flags."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# entry point -> (flag names --help must list, text it must contain: a default, a help phrase)
ENTRY_POINTS = {
    "experiments.ner": (
        [
            "model_dir",
            "data_dir",
            "embeddings",
            "forward_lm",
            "backward_lm",
            "seed",
            "resume",
            "train_with_dev",
            "char_units",
            "rnn_units",
            "insertion_point",
            "learning_rate",
            "patience",
            "verbose",
            "log_every_steps",
            "rnn2_units",
        ],
        [
            "(default: '0.001')",
            "char RNN units per direction, or CNN filters (default: the "
            "task's paper setting, ner: 80; chunking: 30; pos: 30; scienceie: 80)",
            "$TAGLM_DATA_DIR",
            "units per direction in the second layer (default: --rnn_units)",
        ],
    ),
    "experiments.chunking": (
        ["model_dir", "data_dir", "dev_seed", "rnn_cell", "rnn_units", "forward_lm"],
        [
            "'gru' or 'lstm' for the two sequence layers (default: the task's paper "
            "setting, ner: gru; chunking: lstm; pos: lstm; scienceie: gru)"
        ],
    ),
    "experiments.train_tagger": (["task", "model_dir", "forward_lm", "rnn_units"], ["The task to train"]),
    "experiments.pretrain_lm": (
        [
            "model_dir",
            "data_dir",
            "train_files",
            "direction",
            "num_cells",
            "projection_dim",
            "num_sampled",
            "train_steps",
            "batch_size",
            "resume",
        ],
        ["(default: 'forward')"],
    ),
    "experiments.cpu_lms": (["runs_dir", "lms_dir", "parallel", "only"], ["(default: 'runs/lms')"]),
    "experiments.eval_lm": (
        ["model_dir", "eval_files", "task_split", "checkpoint", "batch_size", "num_steps", "output"],
        [],
    ),
    "experiments.run_seeds": (
        ["task", "experiment_flagfile", "seeds", "first_seed", "sweep_dir", "parallel"],
        ["(default: '10')"],
    ),
    "experiments.compare": (["metric"], ["(default: 'test_f1')"]),
    "experiments.lm_train_cost": (["output"], []),
    "experiments.report": (["runs", "output", "plots_dir", "preamble"], []),
    "experiments.seen_entities": (
        ["base", "variant", "task", "train_files", "lm_vocab", "split", "data_dir", "output"],
        ["(default: 'ner')", "(default: the task's training file)"],
    ),
    "taglm_tf.tag": (
        [
            "model_dir",
            "input",
            "input_format",
            "format",
            "output_scheme",
            "batch_size",
            "progress",
            "forward_lm",
            "backward_lm",
            "info",
            "output_dir",
        ],
        ["<raw|text|conll>", "(default: 'raw')", "(default: '128')", "(default: 'task')"],
    ),
    "taglm_tf.export": (["model_dir", "export_dir", "forward_lm", "backward_lm"], []),
    "experiments.report_runs": (["stages", "sweeps", "sweeps_dir", "record_dir", "report"], []),
    "lm_1b_export.from_pretrained": (["output_dir"], []),
    "lm_1b_export.export": (["ckpt", "vocab_file", "output_dir", "include_softmax"], []),
    "lm_1b_export.dump_lstm_emb": (
        ["ckpt", "vocab_file", "input_file", "output_file", "batch_size", "chunk"],
        ["(default: '32')"],
    ),
    "tools.lm1b.make_synthetic": (
        ["output_dir", "size", "seed", "no_softmax"],
        ["(default: tiny)", "seed of the random weights"],
    ),
}
ARGPARSE_TOOLS = {"tools.lm1b.make_synthetic"}
ABSL_NOISE = "--verbosity"  # absl.logging's flag: --helpfull only
# ``python -m MODULE OPTION``, then one last stdout line telling whether TensorFlow was imported.
_RUN_AND_REPORT_TENSORFLOW = """
import atexit, runpy, sys
module = sys.argv.pop(1)
atexit.register(lambda: print("\\nimported tensorflow:", "tensorflow" in sys.modules))
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


# Every command run as ``python -m``: the modules with a ``__main__`` block (the console scripts
# of setup.py among them). benchmarks/ measure TensorFlow and may import it first.
COMMANDS = sorted(
    os.path.relpath(path, REPO)[: -len(".py")].replace(os.sep, ".")
    for pattern in ("experiments/*.py", "lm_1b_export/*.py", "tools/*.py", "tools/*/*.py", "taglm_tf/*.py")
    for path in glob.glob(os.path.join(REPO, pattern))
    if 'if __name__ == "__main__":' in open(path, encoding="utf-8").read()
)
# Command lines each tool refuses from its flags alone: exit status 1 before TensorFlow loads.
REFUSED = [
    ("experiments.ner", "--model_dir=/nonexistent/run", "--rnn_cell=transformer"),
    ("experiments.train_tagger", "--task=pos", "--model_dir=/nonexistent/run", "--insertion_point=top"),
    ("experiments.pretrain_lm", "--model_dir=/nonexistent/run"),
    ("experiments.eval_lm", "--model_dir=/nonexistent/run", "--task_split=ner:final"),
    (
        "taglm_tf.tag",
        "--model_dir=/nonexistent/run",
        "--input=taglm_tf/resources",
        "--format=brat",
        "--output_dir=taglm_tf/resources",
    ),
    ("lm_1b_export.export", "--ckpt=c", "--vocab_file=v", "--output_dir=/nonexistent/out", "stray"),
    ("tools.lm1b.make_synthetic", "--output_dir=/nonexistent/out", "--bogus"),  # argparse
]


def _help(module, *args):
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_AND_REPORT_TENSORFLOW, module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def outputs():
    """Every command's --help, experiments.ner's --helpfull and the refused command lines, three
    processes at a time."""
    jobs = [(m, "--help") for m in COMMANDS] + [("experiments.ner", "--helpfull"), *REFUSED]
    with ThreadPoolExecutor(3) as pool:
        return dict(zip(jobs, pool.map(lambda job: _help(*job), jobs)))


@pytest.mark.parametrize("module", sorted(ENTRY_POINTS))
def test_help_lists_own_flags_with_defaults(outputs, module):
    code, text = outputs[(module, "--help")]
    assert code == 0, text
    names, phrases = ENTRY_POINTS[module]
    unwrapped = " ".join(text.split())
    assert module in ARGPARSE_TOOLS or "\nflags:\n" in text, text  # absl's heading of the flag list
    flag_list = text.split("\nflags:\n", 1)[-1]
    for name in names:
        # in the list of flags (absl's "  --name: help", argparse's "  --name NAME"), not the usage
        assert re.search(rf"^ +--(\[no\])?{name}(:| |$)", flag_list, re.MULTILINE), (
            f"{module} --help lacks --{name}"
        )
    for phrase in phrases:
        assert " ".join(phrase.split()) in unwrapped, f"{module} --help lacks {phrase!r}"
    if module not in ARGPARSE_TOOLS:
        assert ABSL_NOISE not in text
    usage = text.split("\nflags:\n")[0]
    assert "``" not in usage and ":func:`" not in usage and ":mod:`" not in usage, "Sphinx markup in --help"
    assert not re.search(r"\S {4,}--", usage), "a usage line lost its line break (backslash in a docstring)"
    assert not re.search(r"\\\\$", usage, re.MULTILINE), "a doubled backslash at a line end (raw docstring)"
    assert "ner: None" not in unwrapped  # a flag whose paper setting is "unset" states its default itself


def test_every_command_is_covered():
    assert set(ENTRY_POINTS) <= set(COMMANDS) and len(COMMANDS) >= 20
    assert {"taglm_tf.tag", "experiments.ner", "lm_1b_export.from_pretrained", "tools.repredict"} <= set(
        COMMANDS
    )


def _imported_tensorflow(text: str) -> list[str]:
    return re.findall(r"^imported tensorflow: (True|False)$", text, re.MULTILINE)


# Flags are defined from modules without TensorFlow, whose import costs 2-3 s of CPU: --help and
# the refusal of bad flags come before it.
@pytest.mark.parametrize("module", COMMANDS)
def test_help_does_not_import_tensorflow(outputs, module):
    code, text = outputs[(module, "--help")]
    assert code == 0, text
    assert _imported_tensorflow(text) == ["False"], text[-500:]


@pytest.mark.parametrize("job", REFUSED, ids=lambda job: job[0])
def test_refusal_from_flags_does_not_import_tensorflow(outputs, job):
    code, text = outputs[job]
    said = [line for line in text.splitlines() if line and not line.startswith("imported tensorflow")]
    assert code == 1 and len(said) == 1 and said[0].startswith("error: "), text
    assert "Unknown command line flag" not in text, text
    assert _imported_tensorflow(text) == ["False"], text[-500:]


def test_helpfull_keeps_absl_flags(outputs):
    code, text = outputs[("experiments.ner", "--helpfull")]
    assert code == 0 and ABSL_NOISE in text and "--char_units" in text
