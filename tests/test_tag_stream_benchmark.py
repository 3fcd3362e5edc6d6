"""``benchmarks.tag_stream``: the tagging time read from the CLI's progress line; the RSS
trajectory (samples of a real child, and their mapping to tokens)."""

import io
import os
import sys
import types

import pytest

from benchmarks import tag_stream


def test_tagging_seconds_read_from_the_clis_progress_line(monkeypatch):
    from taglm_tf import tag

    clock = iter([10.0, 12.5, 20.0])  # the clock starts at creation; updates after 2.5 and 10 s
    monkeypatch.setattr(tag, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    stderr = io.StringIO()
    progress = tag.Progress(stderr)
    progress.update(100, 1_000)
    progress.update(400, 4_321, done=True)
    assert tag_stream.tagging_seconds(stderr.getvalue()) == pytest.approx(10.0, rel=1e-6)
    with pytest.raises(IndexError):
        tag_stream.tagging_seconds("error: no model\n")


def test_rss_by_tokens_marks_first_sample_past_each_tenth():
    # (output bytes written, VmRSS, VmHWM); 1,000 output bytes stand for 5,000 tokens.
    samples = [
        (0, 100.0, 100.0),
        (50, 110.0, 112.0),
        (100, 120.0, 121.0),
        (350, 130.0, 135.0),
        (999, 128.0, 140.0),
        (1000, 127.0, 140.0),
    ]
    rows = tag_stream.rss_by_tokens(samples, 1000, 5000)
    # Marks at 100, 200, ..., 1,000 bytes: 100 is met at 100; 200 and 300 at 350; 400..900 at
    # 999; 1,000 at 1,000.
    assert [r["tokens"] for r in rows] == [500, 1750, 1750] + [4995] * 6 + [5000]
    assert [r["rss_mib"] for r in rows] == [120.0, 130.0, 130.0] + [128.0] * 6 + [127.0]
    assert [r["peak_rss_mib"] for r in rows] == [121.0, 135.0, 135.0] + [140.0] * 7


def test_rss_by_tokens_leaves_out_marks_no_sample_reached():
    assert tag_stream.rss_by_tokens([(30, 1.0, 1.0)], 100, 10, points=4) == [
        {"tokens": 3, "rss_mib": 1.0, "peak_rss_mib": 1.0}
    ]
    with pytest.raises(ValueError, match="output_bytes"):
        tag_stream.rss_by_tokens([], 0, 10)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_run_child_samples_a_growing_child(tmp_path):
    # The child writes a line, then holds ~200 MiB more, then writes again: the samples see the
    # output grow and the RSS rise with it; the sampled peak is under wait4's ru_maxrss.
    script = (
        "import sys, time\nprint('a' * 100, flush=True)\ntime.sleep(0.6)\n"
        "block = b'x' * (200 * 2**20)\nprint('b' * 100, flush=True)\ntime.sleep(0.6)\n"
    )
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        child = tag_stream.run_child(
            [sys.executable, "-c", script], stdout=f, rss_output=str(out), rss_interval=0.05
        )
    assert child["exit"] == 0
    first = [s for s in child["rss_samples"] if s[0] == 101]
    second = [s for s in child["rss_samples"] if s[0] == 202]
    assert first and second
    assert second[0][1] - first[0][1] > 150  # (at exit the interpreter frees the block first)
    # wait4's ru_maxrss starts from the spawning process's RSS (Linux keeps the larger across
    # vfork + exec), so it only bounds the child's own peak from above.
    assert 200 < max(s[2] for s in second) <= child["peak_rss_mib"] + 1
    rows = tag_stream.rss_by_tokens(child["rss_samples"], os.path.getsize(out), 2000, points=2)
    assert rows[0]["tokens"] == 1000 and rows[1]["tokens"] == 2000
    assert rows[1]["rss_mib"] - rows[0]["rss_mib"] > 150


def test_the_benchmark_end_to_end_on_the_tiny_model(model_dir, tmp_path):
    """Two CLI runs of one size, the decoder alone, the ratio of the two, the JSON file."""
    import json
    import subprocess
    import sys

    from tests.data_paths import require_real_file

    require_real_file("conll2003", "eng.train")
    output = tmp_path / "stream.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.tag_stream",
            f"--model_dir={model_dir}",
            "--tokens=300",
            "--min_passes=2",
            "--min_seconds=0",
            "--single_runs=0",
            f"--output={output}",
        ],
        cwd=tag_stream.REPO,
        check=True,
        capture_output=True,
    )
    result = json.loads(output.read_text())
    (size,) = result["sizes"]
    assert size["passes"] == len(size["runs"]) == 2 and size["tokens"] >= 300
    assert size["tokens_per_sec_min"] <= size["tokens_per_sec"] <= size["tokens_per_sec_max"]
    assert result["decoder"]["tokens"] == size["tokens"] and result["decoder"]["passes"] == 2
    assert size["vs_decoder"] == pytest.approx(size["tokens_per_sec"] / result["decoder"]["tokens_per_sec"])
