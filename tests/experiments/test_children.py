"""The experiment drivers that start training runs (``report_runs``, ``run_seeds``,
``cpu_lms``) stop them when they are stopped, through ``experiments.child_runs``: each run gets
exactly one SIGTERM, whether the driver got SIGTERM or a terminal's Ctrl-C reached its process
group, so that an LM commits its running step; a second SIGTERM to the driver is passed on (the
run stops at once); and the driver exits only after its runs, so that a rerun never finds a
second trainer in a run directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import sigint_as_in_a_terminal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A run as an LM's pretraining behaves: the first SIGTERM ends it after its running step (a
# second), committed; a second SIGTERM ends it at once.
CHILD = """
import os, signal, sys, time
signals = []
def on_term(*_):
    signals.append(1)
    if len(signals) > 1:
        open({done!r}, "w").write("at once")
        os._exit(130)
signal.signal(signal.SIGTERM, on_term)
open({pid!r}, "w").write(str(os.getpid()))
while not signals:
    time.sleep(0.02)
time.sleep(1.0)
open({done!r}, "w").write("committed")
sys.exit(130)
"""


def as_in_a_terminal():
    """``preexec_fn`` of the driver: Ctrl-C and a hang-up as in a terminal's foreground job (a
    background or ``nohup`` test run hands its children SIGINT and SIGHUP ignored, and a driver
    leaves an ignored signal ignored)."""
    sigint_as_in_a_terminal()
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


# How each driver starts one run of ``argv`` (``CHILD``), as its main does.
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
    "cpu_lms_check_call": "from experiments import cpu_lms; cpu_lms.check_call(argv)",
}

# How the driver is stopped, what its run then does, and the driver's exit status.
STOPS = {
    "sigterm": ([signal.SIGTERM], "committed", 143),
    "sighup": ([signal.SIGHUP], "committed", 129),
    "ctrl_c_to_the_group": (["group", signal.SIGINT], "committed", -signal.SIGINT),
    "sigterm_twice": ([signal.SIGTERM, signal.SIGTERM], "at once", 143),
}


@pytest.mark.parametrize("stop", sorted(STOPS))
@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_a_stopped_driver_stops_its_run_once_and_waits_for_it(tmp_path, driver, stop):
    pid_file, done_file = tmp_path / "child.pid", tmp_path / "child.done"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(pid=str(pid_file), done=str(done_file)))
    (tmp_path / "sweep").mkdir()
    start = DRIVERS[driver].format(sweep=str(tmp_path / "sweep"), log=str(tmp_path / "lm.log"))
    runner = subprocess.Popen(
        [sys.executable, "-c", f"import sys; argv = [sys.executable, {str(script)!r}]; {start}"],
        cwd=REPO,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
        preexec_fn=as_in_a_terminal,
    )
    child = None
    try:
        for _ in range(300):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        assert pid_file.exists(), "the driver did not start its run"
        child = int(pid_file.read_text())
        signals, expected, status = STOPS[stop]
        for how in signals:
            if how == "group":
                continue
            if signals[0] == "group":
                os.killpg(runner.pid, how)
            else:
                runner.send_signal(how)
            time.sleep(0.3)
        returncode = runner.wait(timeout=60)
        assert done_file.read_text() == expected  # the run ended as one or two SIGTERMs end it
        assert returncode == status
        with pytest.raises(ProcessLookupError):  # ended, and reaped by the driver
            os.kill(child, 0)
    finally:
        for pid in (runner.pid, child):
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.mark.parametrize("end", ["normal", "exception", "sigterm"])
def test_the_block_stops_its_runs_and_leaves_the_processs_own_handlers(tmp_path, end):
    """In-process, as the tests call the drivers: however the block ends, a run still running gets
    one SIGTERM and is waited for, a SIGTERM within the block ends it with status 143, and every
    handler is the process's own again afterwards."""
    from experiments import child_runs

    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {s: signal.getsignal(s) for s in handled}
    if before[signal.SIGTERM] is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    pid_file, done_file = tmp_path / "child.pid", tmp_path / "child.done"
    (tmp_path / "child.py").write_text(CHILD.format(pid=str(pid_file), done=str(done_file)))
    raised = {"normal": None, "exception": RuntimeError, "sigterm": SystemExit}[end]
    with pytest.raises(raised) if raised else contextlib.nullcontext() as caught:
        with child_runs() as start:
            start([sys.executable, str(tmp_path / "child.py")], log_file=str(tmp_path / "logs" / "child.log"))
            while not (pid_file.exists() and pid_file.read_text()):
                time.sleep(0.05)
            if end == "exception":
                raise RuntimeError("a driver's error")
            if end == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
    if end == "sigterm":
        assert caught.value.code == 143
    assert done_file.read_text() == "committed"  # one SIGTERM, waited for
    assert {s: signal.getsignal(s) for s in handled} == before
    assert (tmp_path / "logs" / "child.log").read_text().startswith("=== ")
