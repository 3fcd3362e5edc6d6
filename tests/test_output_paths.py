"""Every tool checks where it writes before it works: not over an input, into a folder that
exists and is writable; one error line, exit 1, the input untouched."""

import glob
import os
import re
import subprocess
import sys

import pytest

from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import check_output_path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_an_output_that_is_an_input_is_refused(tmp_path):
    (tmp_path / "in.txt").write_text("a b\n")
    (tmp_path / "ckpt-base").write_text("")
    with pytest.raises(InputError, match=r"--output_file is also an input .*in.txt"):
        check_output_path(
            str(tmp_path / "sub" / ".." / "in.txt"), [str(tmp_path / "in.txt")], "--output_file"
        )
    with pytest.raises(InputError, match="also an input"):  # an input given as a glob
        check_output_path(str(tmp_path / "ckpt-base"), [str(tmp_path / "ckpt-*")], "--output_file")
    check_output_path(str(tmp_path / "out.h5"), [str(tmp_path / "in.txt")], "--output_file")


def test_missing_folders_are_made_but_a_path_of_the_wrong_kind_is_refused(tmp_path):
    check_output_path(str(tmp_path / "missing" / "out.json"), (), "--output")
    check_output_path(str(tmp_path / "missing" / "deeper"), (), "--output_dir", folder=True)
    (tmp_path / "a_folder").mkdir()
    with pytest.raises(InputError, match="--output: is a folder, not a file"):
        check_output_path(str(tmp_path / "a_folder"), (), "--output")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InputError, match="--output_dir: is a file, not a folder"):
        check_output_path(str(tmp_path / "a_file"), (), "--output_dir", folder=True)
    with pytest.raises(InputError, match="a_file is not a folder"):  # a file where a folder should be
        check_output_path(str(tmp_path / "a_file" / "out.json"), (), "--output")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(InputError, match="cannot write in"):
        check_output_path(str(tmp_path / "ro" / "out.json"), (), "--output")


def test_dump_lstm_emb_refuses_to_write_over_its_input_before_any_work(tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("The cat sat .\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lm_1b_export.dump_lstm_emb",
            f"--ckpt={tmp_path}/ckpt-*",
            f"--vocab_file={tmp_path}/vocab.txt",
            f"--input_file={text}",
            f"--output_file={text}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and text.read_text() == "The cat sat .\n"
    assert done.stderr.strip().splitlines() == [
        f"error: {text}: --output_file is also an input ({text}): it would be overwritten; write the output elsewhere"
    ]
    (tmp_path / "R.md").mkdir()
    wrong = subprocess.run(
        [sys.executable, "-m", "experiments.report", f"--output={tmp_path}/R.md", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        wrong.returncode == 1
        and wrong.stderr.strip() == f"error: {tmp_path}/R.md: --output: is a folder, not a file"
    )


def test_every_output_flag_of_every_tool_is_checked():
    """No tool defines an output path with a plain string flag: each uses define_output_flag (or,
    with argparse, calls check_output_path itself)."""
    plain = re.compile(
        r'(DEFINE_string\(|define\.string\(|add_argument\()"-*(output\w*|export_dir|report|plots_dir)"'
    )
    found = [
        path
        for pattern in ("taglm_tf/**/*.py", "experiments/*.py", "lm_1b_export/*.py", "benchmarks/*.py")
        for path in glob.glob(os.path.join(REPO, pattern), recursive=True)
        if plain.search(open(path).read()) and "check_output_path(" not in open(path).read()
    ]
    assert found == []


def test_an_atomic_write_removes_what_a_killed_writer_left(tmp_path):
    """A killed export leaves EXPORT.tmp-HOST-PID (a loadable copy); the next write to that path
    removes it, and leaves the temporaries of a live process and of other hosts."""
    from taglm_tf.utils import fileio
    from taglm_tf.utils.fileio import atomic_path

    host = fileio._HOST
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / f"export.tmp-{host}-{dead}").mkdir()
        (tmp_path / f"export.tmp-{host}-{dead}" / "saved_model.pb").write_text("half")
        keep = [
            f"export.tmp-{host}-{live.pid}",
            f"export.tmp-otherhost-{dead}",
            "export.tmp-\u00b2",
            f"notes.tmp-{host}-{dead}.json",
        ]
        for name in keep[:3]:
            (tmp_path / name).mkdir()
        (tmp_path / keep[3]).write_text("{}")
        with atomic_path(str(tmp_path / "export")) as tmp:
            os.mkdir(tmp)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["export", *keep])
        with atomic_path(str(tmp_path / "notes.json")) as tmp:
            open(tmp, "w").write("{}")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["export", "notes.json", *keep[:3]])
    finally:
        live.kill()
