"""benchmarks.common: repeated timing and what a result records about the machine."""

import pytest

from benchmarks import common


def test_repeat_runs_enough_passes_and_reports_the_median_and_spread():
    seconds = iter([2.0, 1.0, 4.0, 1.0, 2.0, 8.0, 1.0])
    result = common.repeat(lambda: {"tokens": 8, "seconds": next(seconds)}, min_passes=5, min_seconds=15.0)
    assert result["passes"] == 6  # 5 passes are 10 s; a sixth reaches 18 s
    assert result["tokens_per_sec"] == pytest.approx(4.0)  # median of 4, 8, 2, 8, 4, 1
    assert (result["tokens_per_sec_min"], result["tokens_per_sec_max"]) == (1.0, 8.0)
    assert result["seconds"] == [2.0, 1.0, 4.0, 1.0, 2.0, 8.0]


def test_a_result_records_cpu_and_threads(capsys):
    result = {}
    common.report(result)
    assert {"cpu_model", "cpu_flags", "threads", "tensorflow", "git_commit"} <= set(result)
    assert {"intra_op", "inter_op", "environment"} <= set(result["threads"])


def test_repeat_stops_long_passes_at_max_seconds():
    seconds = iter([70.0, 90.0, 80.0, 1.0])
    result = common.repeat(lambda: {"tokens": 900, "seconds": next(seconds)}, 5, 30.0, max_seconds=150.0)
    assert result["seconds"] == [70.0, 90.0]  # 70 s < 150 s: one more; 160 s: enough
    assert result["tokens_per_sec"] == pytest.approx((900 / 70 + 900 / 90) / 2)
    once = common.repeat(lambda: {"tokens": 1, "seconds": 500.0}, 5, 30.0, max_seconds=150.0)
    assert once["passes"] == 1
