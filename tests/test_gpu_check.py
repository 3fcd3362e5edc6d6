"""`make gpu-check`: the tiny CPU version of benchmarks.gpu_check runs every step, and the
Makefile picks the GPU venv only where nvidia-smi sees a GPU."""

import json
import os
import subprocess
import sys

import pytest

from test_stacks import MAKE, fake_python, make_print_stack

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow


def test_tiny_gpu_check_runs_every_step(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_check", "--preset=tiny", f"--output={out}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads(out.read_text())
    assert result["preset"] == "tiny" and result["passed"] and result["gpus"] == []
    steps = result["steps"]
    assert set(steps) == {
        "mirrored",
        "lm_lstm_float32_mixed_bfloat16",
        "lm_cnn_lstm_float32_mixed_bfloat16",
        "lm1b_extraction",
        "tagger",
    }
    assert "--collect-only" in steps["mirrored"]["command"]
    for kind in ("lstm", "cnn_lstm"):
        measured = steps[f"lm_{kind}_float32_mixed_bfloat16"]["result"]
        assert measured["kind"] == kind
        for precision in ("float32", "mixed_bfloat16"):
            assert measured["precisions"][precision]["tokens_per_sec"] > 0
            assert measured["training_flops_per_step"] > 0
    assert steps["lm1b_extraction"]["result"]["max_relative_difference_vs_graph"] < 1e-4
    tagger = steps["tagger"]["result"]
    assert (
        tagger["train"]["tokens_per_sec"] > 0
        and tagger["dev_sentences"] == 128
        and tagger["embeddings"] is None
    )


def test_the_gpu_preset_runs_every_step_in_full_at_the_papers_sizes():
    from benchmarks import gpu_check

    steps = gpu_check.plan_steps("gpu", "PY", "/s", gpus=True)
    lms = [f"lm_{kind}_{p}" for kind in ("lstm", "cnn_lstm") for p in ("float32", "mixed_float16")]
    assert list(steps) == ["mirrored", *lms, "lm1b_extraction", "tagger"]
    assert "--collect-only" not in steps["mirrored"].command
    assert steps["mirrored"].env == {"TAGLM_TEST_GPUS": "1"}
    for kind in ("lstm", "cnn_lstm"):
        for precision in ("float32", "mixed_float16"):
            step = steps[f"lm_{kind}_{precision}"]
            assert step.command[:3] == ["PY", "-m", "benchmarks.lm_precision"]
            assert step.command[3:-1] == [
                *gpu_check.lm_arguments("gpu")[kind],
                *gpu_check.TIMING["gpu"],
                f"--precisions={precision}",
            ]
            assert step.output == f"/s/lm_{kind}_{precision}.json"
    assert "--size=full" in steps["lm1b_extraction"].command
    assert steps["tagger"].command == [
        "PY",
        "-m",
        "benchmarks.tagger_throughput",
        "--task=ner",
        "--output=/s/tagger.json",
    ]
    tiny = gpu_check.plan_steps("tiny", "PY", "/s", gpus=False)
    assert "--collect-only" in tiny["mirrored"].command and tiny["mirrored"].env is None


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize("gpu", [True, False])
def test_makefile_uses_the_gpu_venv_only_with_a_gpu(tmp_path, gpu):
    fake_python(tmp_path / "bin", "python3.11", "3.11")
    if gpu:
        fake_python(tmp_path / "bin", "nvidia-smi", "GPU 0: fake")
    result = make_print_stack([tmp_path / "bin", "/usr/bin", "/bin"], "-n", "gpu-check")
    venv = ".venv-gpu" if gpu else ".venv"
    assert f"PYTHONPATH=. {venv}/bin/python -m benchmarks.gpu_check --output=gpu_check.json" in result.stdout
    assert (f"{venv}/bin/pip install --quiet --no-compile -e '.[gpu,test]'" in result.stdout) == gpu
    assert ("no GPU here" in result.stdout) == (not gpu)
