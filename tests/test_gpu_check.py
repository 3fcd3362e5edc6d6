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
