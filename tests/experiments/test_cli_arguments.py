"""The command line of every entry point (``taglm_tf.utils.cli.run``): flagfiles are read as every text
input (a BOM, CR line ends), and what the tool cannot take (a stray argument, an unknown flag) is
one ``error:`` line with exit status 1, not absl's help text or a traceback."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from absl import flags

from taglm_tf.utils import cli
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_flagfiles_are_read_as_every_text_input(tmp_path, newline):
    """A leading BOM and LF, CRLF or CR line ends, in a flagfile and in one it includes; absl's
    comments and nesting unchanged; invalid UTF-8 names the file and line."""
    inner = tmp_path / "inner.cfg"
    inner.write_bytes(BOM + newline.join([b"# a comment", b"--count=3", b""]))
    outer = tmp_path / "outer.cfg"
    outer.write_bytes(
        BOM + newline.join([b"--name=caf\xc3\xa9", b"// another", f"--flagfile={inner}".encode(), b""])
    )
    fv = flags.FlagValues()
    flags.DEFINE_string("name", None, "", flag_values=fv)
    flags.DEFINE_integer("count", 0, "", flag_values=fv)
    cli.read_flagfiles_as_text_input()
    assert fv(["prog", f"--flagfile={outer}"]) == ["prog"]
    assert (fv.name, fv.count) == ("café", 3)
    inner.write_bytes(b"--count=3\n--name=caf\xe9\n")
    with pytest.raises(InputError) as error:
        flags.FlagValues()(["prog", f"--flagfile={inner}"])
    assert (error.value.path, error.value.line) == (str(inner), 2)


def _run(module, *args):
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    return done.returncode, done.stdout, done.stderr.strip().splitlines()


def test_what_a_tool_cannot_take_is_one_error_line(tmp_path):
    """A flagfile with a BOM is read (its first flag is not an unexpected argument), and a stray
    argument (main raising flags.Error, app.UsageError, or the shared check) or an unknown flag
    is one line and exit status 1 (each kind of main once)."""
    bom = tmp_path / "bom.cfg"
    bom.write_bytes(BOM + f"--task=ner\n--model_dir={tmp_path / 'run'}\n--data_dir={tmp_path}\n".encode())
    (tmp_path / "tag.cfg").write_bytes(BOM + b"--output_scheme=iobes\n")
    cases = {
        ("experiments.train_tagger", f"--flagfile={bom}"): (
            f"error: {tmp_path}/conll2003/eng.train: no such train file (data directory: {tmp_path}); set "
            "$TAGLM_DATA_DIR or pass --data_dir=DIR to point at the data, or --train_file=FILE for this file"
        ),
        ("experiments.train_tagger", f"--flagfile={bom}", "stray"): "error: unexpected arguments: stray",
        ("experiments.train_tagger", f"--flagfile={tmp_path / 'tag.cfg'}", f"--flagfile={bom}"): (
            "error: Unknown command line flag 'output_scheme'. Did you mean: output_dropout ?"
        ),
        ("lm_1b_export.export", "--ckpt=c", "--vocab_file=v", f"--output_dir={tmp_path / 'out'}", "a", "b"): (
            "error: unexpected arguments: a b"
        ),
        ("benchmarks.tokenizer_conll", "stray"): "error: unexpected arguments: stray",
    }
    with ThreadPoolExecutor(3) as pool:
        results = dict(zip(cases, pool.map(lambda args: _run(*args), cases)))
    for args, expected in cases.items():
        code, stdout, stderr = results[args]
        assert (code, stdout, stderr) == (1, "", [expected]), args
    assert not (tmp_path / "run").exists() and not (tmp_path / "out").exists()
