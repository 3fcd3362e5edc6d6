r"""TensorFlow's oneDNN CPU kernels on and off, alternated in one run: tagger training and decoding
speed, and whether the tags of a trained model change.

    python -m benchmarks.onednn [--rounds=2] [--train_batches=100] [--dev_sentences=1000] \
        [--model_dir=runs/demo/tagger --test_file=conll2003/eng.testb] [--output=FILE.json]

Each round runs ``benchmarks.tagger_throughput`` (NER paper configuration) once with
``TF_ENABLE_ONEDNN_OPTS=1`` and once with ``=0``, in fresh processes, the order swapped every
round so that drift in the machine's speed falls on both. With ``--model_dir``, the model tags
``--test_file`` under both settings and the tags are compared token by token. The result gives
each setting's median tokens/s, the on/off ratios and the number of tags that differ; the
machine's AVX-512 flags come with it (TensorFlow enables oneDNN by default on x86 Linux).
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import json
import os
import statistics
import subprocess
import sys
import tempfile

from absl import flags

from benchmarks.common import report
from taglm_tf.data.paths import default_data_dir, resolve_data_path
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
SETTINGS = ("1", "0")


def define_flags() -> None:
    flags.DEFINE_integer("rounds", 2, "Rounds; each runs both settings once.", lower_bound=1)
    flags.DEFINE_integer("train_batches", 100, "Timed training batches per run.", lower_bound=1)
    flags.DEFINE_integer("dev_sentences", 1000, "Dev sentences decoded per run (0: all).", lower_bound=0)
    flags.DEFINE_string("model_dir", None, "A trained tagger whose test-set tags are compared.")
    flags.DEFINE_string("test_file", "conll2003/eng.testb", "The file --model_dir tags (CoNLL columns).")
    define_output_flag("output", None, "Also write the result as JSON here.")


def _run(argv, setting: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting}
    return subprocess.run([sys.executable, "-m", *argv], env=env, check=True, **kwargs)


def throughput(setting: str, workdir: str) -> dict:
    """One ``benchmarks.tagger_throughput`` run: training and inference tokens/s."""
    out = os.path.join(workdir, f"throughput_{setting}.json")
    _run(
        [
            "benchmarks.tagger_throughput",
            "--task=ner",
            f"--train_batches={FLAGS.train_batches}",
            f"--dev_sentences={FLAGS.dev_sentences}",
            f"--output={out}",
        ],
        setting,
        stdout=subprocess.DEVNULL,
    )
    with open(out, encoding="utf-8") as f:
        result = json.load(f)
    return {"train": result["train"]["tokens_per_sec"], "inference": result["inference"]["tokens_per_sec"]}


def tags(setting: str, test_file: str) -> list:
    """The model's predicted tag column for ``test_file`` under one setting."""
    done = _run(
        ["taglm_tf.tag", f"--model_dir={FLAGS.model_dir}", f"--input={test_file}", "--input_format=conll"],
        setting,
        stdout=subprocess.PIPE,
        text=True,
    )
    return [line.split()[-1] for line in done.stdout.splitlines() if line.strip()]


def main(argv):
    cli.no_arguments(argv)
    runs = {s: [] for s in SETTINGS}
    with tempfile.TemporaryDirectory() as workdir:
        for r in range(FLAGS.rounds):
            for setting in SETTINGS if r % 2 == 0 else SETTINGS[::-1]:
                runs[setting].append(throughput(setting, workdir))
                print(
                    f"round {r + 1}, oneDNN {'on' if setting == '1' else 'off'}: {runs[setting][-1]}",
                    file=sys.stderr,
                    flush=True,
                )
    median = {
        s: {k: statistics.median(run[k] for run in runs[s]) for k in ("train", "inference")} for s in SETTINGS
    }
    result = {
        "runs": {"on": runs["1"], "off": runs["0"]},
        "median_tokens_per_sec": {"on": median["1"], "off": median["0"]},
        "on_over_off": {k: median["1"][k] / median["0"][k] for k in ("train", "inference")},
        "train_batches": FLAGS.train_batches,
        "dev_sentences": FLAGS.dev_sentences,
    }
    if FLAGS.model_dir:
        test_file = resolve_data_path(FLAGS.test_file, default_data_dir())
        on, off = tags("1", test_file), tags("0", test_file)
        result["tags"] = {
            "model_dir": FLAGS.model_dir,
            "test_file": test_file,
            "tokens": len(on),
            "differing": sum(a != b for a, b in zip(on, off)) + abs(len(on) - len(off)),
        }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
