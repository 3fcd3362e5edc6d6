"""One command for a GPU machine (``make gpu-check``): what it has, whether multi-GPU training is
exact there, and how fast this project runs on it.

    python -m benchmarks.gpu_check [--preset=auto|gpu|tiny] [--output=gpu_check.json]

Steps, each a subprocess with its own time limit (one failing does not stop the others):

1. ``devices``: the visible GPUs (name, compute capability) and TensorFlow's CUDA/cuDNN build.
2. ``mirrored``: the 2-device ``MirroredStrategy`` equality test of
   ``tests/lm/pretraining/test_lm_training.py`` on two GPUs (``TAGLM_TEST_GPUS=1``; one GPU is split
   into two logical ones).
3. ``lm_lstm_*`` and ``lm_cnn_lstm_*``: training tokens/s and FLOP/s of the LSTM-2048-512 and of
   CNN-BIG-LSTM at the paper's sizes (``benchmarks.lm_precision``), float32 and then mixed
   float16, one process each (two paper-size models do not fit one GPU's memory together).
4. ``lm1b_extraction``: lm_1b embedding extraction tokens/s at the release's dimensions
   (synthetic full-size checkpoint, written to a temporary directory).
5. ``tagger``: NER tagger training and inference tokens/s (``benchmarks.tagger_throughput``).

``--preset=gpu`` uses those sizes; ``tiny`` runs every step at toy sizes with bfloat16 as the
mixed precision, which is what a CPU-only machine can do in a minute (a test runs it, so the
script cannot rot), except that step 2 only collects the tests it would run (the test suite runs
them itself) and step 3 measures both precisions of an LM in one process; ``auto`` is ``gpu``
when a GPU is visible. The JSON holds each step's exit
status, seconds and result; the exit status is 0 only if every step passed.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import flags

from benchmarks.common import report
from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig, LSTMLMConfig
from taglm_tf.utils import config_flags
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TIMING = {
    "gpu": ["--steps=10", "--rounds=3", "--warmup=3"],
    "tiny": ["--steps=1", "--rounds=1", "--warmup=2"],
}
MIXED = {"gpu": "mixed_float16", "tiny": "mixed_bfloat16"}


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_enum("preset", "auto", ["auto", "gpu", "tiny"], "Sizes (see the module docstring).")
    define_output_flag("output", "gpu_check.json", "Where the JSON result goes.")
    flags.DEFINE_integer("step_timeout", 600, "Seconds allowed to each step.")


def lm_arguments(preset: str) -> dict[str, list[str]]:
    """``{LM kind: benchmarks.lm_precision arguments}``. gpu: the paper's LMs, which are the LM
    configs' defaults (LSTM-2048-512 and CNN-BIG-LSTM: the sizes of experiments/flags/lm_*_2048_512.cfg
    and lm_cnn_big_lstm.cfg), over 1B Word's 793,471 words; tiny: toy sizes."""
    if preset == "gpu":
        runs = [
            (LSTMLMConfig(), ["--vocab_size=793471", "--batch_size=128"]),
            (CNNLSTMLMConfig(), ["--vocab_size=793471", "--batch_size=32"]),
        ]
    else:
        tiny = ["--vocab_size=500", "--batch_size=4", "--num_steps=5"]
        runs = [
            (LSTMLMConfig(embedding_dim=16, num_cells=32, projection_dim=16, num_sampled=50), tiny),
            (
                CNNLSTMLMConfig(
                    conv_widths=(1, 2),
                    conv_filters=(8, 8),
                    num_highway=1,
                    num_cells=32,
                    projection_dim=16,
                    num_layers=1,
                    num_sampled=50,
                ),
                tiny,
            ),
        ]
    return {model.kind: [f"--kind={model.kind}", *config_flags.to_args(model), *args] for model, args in runs}


def run_step(
    name: str, command: list[str], timeout: int, env: dict | None = None, output: str | None = None
) -> dict:
    """Run ``command`` from the repository root; its result is the JSON it wrote to ``output``."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            command,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        code, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as e:
        code, stderr = None, f"timed out after {timeout} s\n{e.stderr or ''}"
    step = {
        "command": " ".join(command[1:]),
        "exit": code,
        "seconds": time.perf_counter() - start,
        "passed": code == 0,
    }
    if output and code == 0 and os.path.exists(output):
        with open(output, encoding="utf-8") as f:
            step["result"] = json.load(f)
    if code != 0:
        step["stderr_tail"] = (stderr or "")[-2000:]
    print(f"{name}: {'passed' if step['passed'] else 'FAILED'} in {step['seconds']:.0f} s", flush=True)
    return step


def devices() -> dict:
    import tensorflow as tf  # after absl parsed the flags; TF's own logging stays quiet

    gpus = tf.config.list_physical_devices("GPU")
    build = tf.sysconfig.get_build_info()
    return {
        "gpus": [{"name": g.name, **tf.config.experimental.get_device_details(g)} for g in gpus],
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
    }


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the check: its command (run from the repository root), extra environment,
    and the JSON file its result is read from (None: the exit status is the result)."""

    command: list[str]
    env: dict[str, str] | None = None
    output: str | None = None


def plan_steps(preset: str, python: str, scratch: str, gpus: bool) -> dict[str, Step]:
    """The steps of ``preset`` (``gpu`` or ``tiny``) by name, in order (see the module
    docstring); results go to JSON files in ``scratch``; ``gpus``: whether GPUs are visible."""

    def out(name):
        return os.path.join(scratch, f"{name}.json")

    mirrored = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    mirrored += ["tests/lm/pretraining/test_lm_training.py", "-k", "mirrored_two_replicas"]
    # tiny: that the selection still names tests (exit 5 if none); the suite runs them
    mirrored += [] if preset == "gpu" else ["--collect-only"]
    steps = {"mirrored": Step(mirrored, {"TAGLM_TEST_GPUS": "1"} if gpus else None)}
    lm_sizes, precisions = lm_arguments(preset), ("float32", MIXED[preset])
    # gpu: one process per precision (two paper-size models do not fit one GPU together);
    # tiny: both in one process, which saves a TensorFlow start.
    groups = [(p,) for p in precisions] if preset == "gpu" else [precisions]
    for kind in ("lstm", "cnn_lstm"):
        for group in groups:
            name = "_".join((f"lm_{kind}", *group))
            command = [python, "-m", "benchmarks.lm_precision", *lm_sizes[kind], *TIMING[preset]]
            steps[name] = Step(
                command + [f"--precisions={','.join(group)}", f"--output={out(name)}"], output=out(name)
            )
    extraction = (
        ["--size=full", "--sentences=200"]
        if preset == "gpu"
        else ["--size=tiny", "--sentences=8", "--reference_sentences=2", "--batch_size=4"]
    )
    steps["lm1b_extraction"] = Step(
        [python, "-m", "benchmarks.lm1b_extraction", f"--release_dir={os.path.join(scratch, 'lm1b')}"]
        + [*extraction, f"--output={out('lm1b')}"],
        output=out("lm1b"),
    )
    tagger = (
        []
        if preset == "gpu"
        else [
            "--train_batches=2",
            "--warmup_batches=1",
            "--dev_sentences=128",
            "--embeddings=",
            "--min_passes=1",  # the tiny preset checks that the step runs, not its speed
            "--min_seconds=0",
        ]
    )
    steps["tagger"] = Step(
        [python, "-m", "benchmarks.tagger_throughput", "--task=ner", *tagger, f"--output={out('tagger')}"],
        output=out("tagger"),
    )
    return steps


def main(argv):
    cli.no_arguments(argv)
    found = devices()
    preset = FLAGS.preset if FLAGS.preset != "auto" else ("gpu" if found["gpus"] else "tiny")
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as scratch:
        planned = plan_steps(preset, sys.executable, scratch, bool(found["gpus"]))
        steps = {
            name: run_step(name, step.command, FLAGS.step_timeout, env=step.env, output=step.output)
            for name, step in planned.items()
        }
    result = {"preset": preset, **found, "passed": all(s["passed"] for s in steps.values()), "steps": steps}
    report(result, FLAGS.output)
    if not result["passed"]:
        failed = ", ".join(name for name, s in steps.items() if not s["passed"])
        raise SystemExit(f"gpu-check: failed steps: {failed} (see {FLAGS.output})")


if __name__ == "__main__":
    define_flags()
    run(main)
