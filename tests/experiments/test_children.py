"""The experiment drivers that start training runs (``report_runs``, ``run_seeds``,
``cpu_lms``) stop them when they are stopped: SIGTERM to a driver reaches each child it started
as SIGTERM, and the driver exits only once they have, so that an LM commits its running step and a
rerun never finds a second trainer in a run directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A child that takes a moment to stop on SIGTERM, as a run committing its step does.
CHILD = """
import os, signal, sys, time
def stop(*_):
    time.sleep(0.5)
    open({done!r}, "w").write("committed")
    sys.exit(130)
signal.signal(signal.SIGTERM, stop)
open({pid!r}, "w").write(str(os.getpid()))
time.sleep(60)
"""

# How each driver starts one child running ``argv`` (``CHILD``), after its main's SIGTERM set-up.
DRIVERS = {
    "report_runs": "from experiments import report_runs; report_runs._call(argv)",
    "run_seeds": (
        "from experiments import run_seeds; "
        "run_seeds.run_sweep({sweep!r}, [1], lambda seed: argv, poll_seconds=0.05)"
    ),
    "cpu_lms": (
        "from experiments import cpu_lms; "
        "cpu_lms.run_parallel([(cpu_lms.CPU_LMS[0], argv, {log!r})], parallel=1)"
    ),
}


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_a_stopped_driver_stops_its_children_and_waits_for_them(tmp_path, driver):
    pid_file, done_file = tmp_path / "child.pid", tmp_path / "child.done"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(pid=str(pid_file), done=str(done_file)))
    (tmp_path / "sweep").mkdir()
    start = DRIVERS[driver].format(sweep=str(tmp_path / "sweep"), log=str(tmp_path / "lm.log"))
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from experiments import stop_with_children_on_sigterm; "
            f"stop_with_children_on_sigterm(); argv = [sys.executable, {str(script)!r}]; {start}",
        ],
        cwd=REPO,
    )
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    child = int(pid_file.read_text())
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=60) == 143
    assert done_file.read_text() == "committed"  # the child stopped on SIGTERM, before the driver
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
