"""A run directory written before LMs were recorded relative to it (``lstm_lm:lms/forward``,
relative to where training ran) still tags from any working directory, given an absolute
``--model_dir`` (the working directory of training is inferred from the ``model_dir`` its
config.json records)."""
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "pre_move")
SENTENCES = ["Anna Novak of Kestrel Bank met EU officials in Paris on Monday .", "Peace talks resumed ."]


def test_old_run_tags_from_another_working_directory(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "sentences.txt").write_text("\n".join(SENTENCES) + "\n")
    out = subprocess.run([sys.executable, "-m", "taglm_tf.tag", f"--model_dir={root / 'taglm_run'}",
                          "--input=sentences.txt", "--input_format=text", "--format=json"], capture_output=True, text=True,
                         cwd=elsewhere, env={**os.environ, "PYTHONPATH": REPO})
    assert out.returncode == 0, out.stderr
    want = [json.loads(line) for line in (root / "expected_tags.jsonl").read_text().splitlines()]
    assert [json.loads(line) for line in out.stdout.splitlines()] == want
