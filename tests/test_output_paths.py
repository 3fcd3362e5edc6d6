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
    with pytest.raises(InputError, match=r"--output_file matches an input \(.*ckpt-\*\)"):  # a new shard
        check_output_path(str(tmp_path / "ckpt-new"), [str(tmp_path / "ckpt-*")], "--output_file")
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


def test_a_file_of_an_input_folder_and_a_folder_holding_an_input_are_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "vocab.txt").write_text("<S>\n")
    with pytest.raises(InputError, match=r"--output is a file of an input folder .*run\)"):
        check_output_path(str(tmp_path / "run" / "vocab.txt"), [str(tmp_path / "run")], "--output")
    check_output_path(str(tmp_path / "run" / "eval.json"), [str(tmp_path / "run")], "--output")  # a new file
    with pytest.raises(InputError, match=r"--model_dir holds an input .*vocab.txt"):
        check_output_path(str(tmp_path), [str(tmp_path / "run" / "vocab.txt")], "--model_dir", folder=True)
    with pytest.raises(InputError, match="--output_dir: exists and is not empty; give a new folder"):
        check_output_path(str(tmp_path / "run"), (), "--output_dir", folder=True, new=True)
    (tmp_path / "empty").mkdir()
    check_output_path(str(tmp_path / "empty"), (), "--output_dir", folder=True, new=True)


def test_inputs_are_read_as_the_tools_read_them(tmp_path, monkeypatch):
    """Positional arguments, ``LABEL=PATH`` values and paths relative to the data directory
    are inputs too."""
    from absl import flags

    from taglm_tf.utils import cli

    data = tmp_path / "data"
    (data / "conll2003").mkdir(parents=True)
    (data / "conll2003" / "eng.train").write_text("EU NNP I-NP I-ORG\n")
    (tmp_path / "r.json").write_text("{}")
    fv = flags.FlagValues()
    flags.DEFINE_string("train_files", None, "", flag_values=fv)
    flags.DEFINE_string("runs", None, "", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "", flag_values=fv)
    monkeypatch.setattr(cli, "_OUTPUT_FLAGS", {})
    cli.define_output_flag("output", None, "", inputs=("train_files", "runs"), flag_values=fv)
    cases = {
        "data_relative": (
            [f"--data_dir={data}", "--train_files=conll2003/eng.train"],
            data / "conll2003" / "eng.train",
            (),
        ),
        "label": ([f"--runs=x={tmp_path / 'r.json'}"], tmp_path / "r.json", ()),
        "positional": ([], tmp_path / "r.json", (str(tmp_path / "r.json"),)),
    }
    for args, target, argv in cases.values():
        fv.unparse_flags()
        fv(["prog", *args, f"--output={target}"])
        with pytest.raises(InputError, match="--output is also an input"):
            cli.check_output_flags(fv, argv)
    monkeypatch.setenv("TAGLM_DATA_DIR", str(data))
    fv.unparse_flags()
    fv(["prog", "--train_files=conll2003/eng.train", f"--output={data / 'conll2003' / 'eng.train'}"])
    with pytest.raises(InputError, match="--output is also an input"):
        cli.check_output_flags(fv)


@pytest.fixture(scope="module")
def tools_writing_over_inputs(tmp_path_factory):
    """Each tool given an output that would destroy one of its inputs, run concurrently (each
    start-up imports TensorFlow): ``{case: (command, the input, its bytes before)}``."""
    import fake_runs

    tmp = tmp_path_factory.mktemp("outputs")
    sweep = fake_runs.write_sweep(str(tmp / "sweep"), "ner_baseline", [(90.0, 91.0), (90.5, 91.5)])
    predictions = tmp / "sweep" / "seed_1" / "test_predictions.txt"
    predictions.write_text("EU NNP I-ORG I-ORG\n")
    (tmp / "lm").mkdir()
    (tmp / "lm" / "vocab.txt").write_text("<S>\n</S>\n<UNK>\nthe\n")
    (tmp / "in.txt").write_text("the cat\n")
    (tmp / "dev.conll").write_text("EU NNP I-NP I-ORG\n")
    (tmp / "release").mkdir()
    (tmp / "release" / "notes.txt").write_text("keep me\n")
    cases = {
        "report_sweep_json": (
            ["experiments.report", f"--runs={sweep}", f"--output={sweep}/sweep.json"],
            f"{sweep}/sweep.json",
        ),
        "report_positional": (
            ["experiments.report", f"--output={sweep}/seed_1/results.json", f"{sweep}/seed_1/results.json"],
            f"{sweep}/seed_1/results.json",
        ),
        "report_label": (
            [
                "experiments.report",
                f"--runs=x={sweep}/seed_2/results.json",
                f"--output={sweep}/seed_2/results.json",
            ],
            f"{sweep}/seed_2/results.json",
        ),
        "seen_entities": (
            ["experiments.seen_entities", f"--base={sweep}", f"--variant={sweep}", f"--output={predictions}"],
            str(predictions),
        ),
        "eval_lm": (
            [
                "experiments.eval_lm",
                f"--model_dir={tmp / 'lm'}",
                f"--eval_files={tmp / 'in.txt'}",
                f"--output={tmp / 'lm' / 'vocab.txt'}",
            ],
            str(tmp / "lm" / "vocab.txt"),
        ),
        "tokenizer_benchmark": (
            ["benchmarks.tokenizer_conll", f"--file={tmp / 'dev.conll'}", f"--output={tmp / 'dev.conll'}"],
            str(tmp / "dev.conll"),
        ),
        "lm1b_export_existing_folder": (
            [
                "lm_1b_export.export",
                f"--ckpt={tmp}/ckpt-*",
                f"--vocab_file={tmp / 'lm' / 'vocab.txt'}",
                f"--output_dir={tmp / 'release'}",
            ],
            str(tmp / "release" / "notes.txt"),
        ),
        "train_tagger_model_dir_is_a_file": (
            ["experiments.train_tagger", "--task=ner", f"--model_dir={tmp / 'in.txt'}"],
            str(tmp / "in.txt"),
        ),
        "train_tagger_model_dir_under_a_file": (
            ["experiments.train_tagger", "--task=ner", f"--model_dir={tmp / 'in.txt' / 'run'}"],
            str(tmp / "in.txt"),
        ),
        "run_seeds_sweep_dir_is_a_file": (
            [
                "experiments.run_seeds",
                "--task=ner",
                "--flagfile=experiments/flags/ner_baseline_cpu.cfg",
                f"--sweep_dir={tmp / 'in.txt'}",
            ],
            str(tmp / "in.txt"),
        ),
        "pretrain_lm_model_dir_is_a_file": (
            [
                "experiments.pretrain_lm",
                f"--train_files={tmp / 'in.txt'}",
                f"--model_dir={tmp / 'dev.conll'}",
            ],
            str(tmp / "dev.conll"),
        ),
    }
    before = {name: open(path, "rb").read() for name, (_, path) in cases.items()}
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, (argv, _) in cases.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        results[name] = (proc.returncode, err, open(cases[name][1], "rb").read() == before[name])
    return results


@pytest.mark.parametrize(
    "case,message",
    [
        ("report_sweep_json", "--output is a file of an input folder"),
        ("report_positional", "--output is also an input"),
        ("report_label", "--output is also an input"),
        ("seen_entities", "--output is a file of an input folder"),
        ("eval_lm", "--output is a file of an input folder"),
        ("tokenizer_benchmark", "--output is also an input"),
        ("lm1b_export_existing_folder", "--output_dir: exists and is not empty; give a new folder"),
        ("train_tagger_model_dir_is_a_file", "--model_dir: is a file, not a folder"),
        ("train_tagger_model_dir_under_a_file", "is not a folder"),
        ("run_seeds_sweep_dir_is_a_file", "--sweep_dir: is a file, not a folder"),
        ("pretrain_lm_model_dir_is_a_file", "--model_dir: is a file, not a folder"),
    ],
)
def test_every_tool_refuses_an_output_over_its_inputs_before_any_work(
    tools_writing_over_inputs, case, message
):
    code, err, untouched = tools_writing_over_inputs[case]
    assert code == 1 and untouched, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err, err


@pytest.mark.parametrize("exchange", [True, False])
def test_an_atomic_folder_replaces_a_folder_in_one_step(tmp_path, monkeypatch, exchange):
    """``atomic_path(replace_folder=True)`` puts the new folder in place of a non-empty one and
    removes the old, by an exchange or (where the file system has none) by renaming it aside;
    an aside a killed writer left is removed by the next write; a failed block changes nothing."""
    from taglm_tf.utils import fileio
    from taglm_tf.utils.fileio import atomic_path

    if not exchange:
        monkeypatch.setattr(fileio, "_exchange", lambda a, b: False)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (tmp_path / f"out.old-{fileio._HOST}-{dead}").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a").write_text("old")
    (tmp_path / "out" / "b").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(str(tmp_path / "out"), replace_folder=True) as tmp:
            os.mkdir(tmp)
            open(os.path.join(tmp, "a"), "w").write("new")
            raise RuntimeError
    assert os.listdir(tmp_path) == ["out"] and sorted(os.listdir(tmp_path / "out")) == ["a", "b"]
    with atomic_path(str(tmp_path / "out"), replace_folder=True) as tmp:
        os.mkdir(tmp)
        open(os.path.join(tmp, "a"), "w").write("new")
    assert os.listdir(tmp_path) == ["out"] and os.listdir(tmp_path / "out") == ["a"]
    assert (tmp_path / "out" / "a").read_text() == "new"


def test_an_atomic_write_through_a_link_replaces_what_it_names(tmp_path):
    """An output that is a symbolic link (to a file, to a folder, through a chain, or dangling)
    is written where the link points, and the link stays; a failed write leaves both as they
    were; a loop of links is refused."""
    from taglm_tf.utils.fileio import atomic_path, write_text_atomic

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "out.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to(tmp_path / "data" / "out.txt")
    (tmp_path / "chain.txt").symlink_to(tmp_path / "link.txt")
    with pytest.raises(RuntimeError):
        with atomic_path(str(tmp_path / "chain.txt")) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError
    assert (tmp_path / "data" / "out.txt").read_text() == "old"
    write_text_atomic(str(tmp_path / "chain.txt"), "new")
    assert (tmp_path / "chain.txt").is_symlink() and (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "data" / "out.txt").read_text() == "new"
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "data" / "later.txt")
    write_text_atomic(str(tmp_path / "dangling.txt"), "made")
    assert (tmp_path / "dangling.txt").is_symlink() and (
        tmp_path / "data" / "later.txt"
    ).read_text() == "made"
    (tmp_path / "data" / "folder").mkdir()
    (tmp_path / "data" / "folder" / "old").write_text("x")
    (tmp_path / "folder_link").symlink_to(tmp_path / "data" / "folder")
    with atomic_path(str(tmp_path / "folder_link"), replace_folder=True) as tmp:
        os.mkdir(tmp)
        open(os.path.join(tmp, "new"), "w").write("y")
    assert (tmp_path / "folder_link").is_symlink() and os.listdir(tmp_path / "data" / "folder") == ["new"]
    assert sorted(os.listdir(tmp_path)) == ["chain.txt", "dangling.txt", "data", "folder_link", "link.txt"]
    assert sorted(os.listdir(tmp_path / "data")) == ["folder", "later.txt", "out.txt"]
    # a ".." after a link leaves the folder the link names, as the system resolves it: the input
    # beside the link is neither refused nor written, the file the path names is
    (tmp_path / "input.txt").write_text("input")
    beside = str(tmp_path / "folder_link" / ".." / "input.txt")
    check_output_path(beside, [str(tmp_path / "input.txt")])
    write_text_atomic(beside, "out")
    assert (tmp_path / "input.txt").read_text() == "input" and (
        tmp_path / "data" / "input.txt"
    ).read_text() == "out"
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    for write in (
        lambda: check_output_path(str(tmp_path / "loop_a")),
        lambda: write_text_atomic(str(tmp_path / "loop_a"), "x"),
    ):
        with pytest.raises(InputError, match="loop_a: a loop of symbolic links: no file to write$"):
            write()
    assert (tmp_path / "loop_a").is_symlink()


def test_a_scratch_folder_is_removed_whatever_happens(tmp_path):
    from taglm_tf.utils.fileio import scratch_folder

    with pytest.raises(RuntimeError):
        with scratch_folder(str(tmp_path / "ckpt-base")) as tmp:
            open(os.path.join(tmp, "part"), "w").write("x")
            raise RuntimeError
    with scratch_folder(str(tmp_path / "ckpt-base")) as tmp:
        assert os.listdir(tmp) == [] and os.path.basename(tmp).startswith("ckpt-base.tmp-")
    assert os.listdir(tmp_path) == []


def test_resume_without_a_run_starts_one_and_says_so(tmp_path, capsys):
    from taglm_tf.utils.fileio import check_run_dir

    assert check_run_dir(str(tmp_path / "typo"), "state.json", resume=True) is False
    assert (
        capsys.readouterr().err == f"{tmp_path / 'typo'}: nothing saved to resume here; starting a new run\n"
    )
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "state.json").write_text("{}")
    assert check_run_dir(str(tmp_path / "run"), "state.json", resume=True) is True
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("foreign", ["folder", "file"])
def test_make_demo_replaces_only_a_folder_it_made(tmp_path, foreign):
    """``tools/demo.sh`` starts from an empty DEMO_DIR: it removes its own earlier demo, but a
    DEMO_DIR it did not write (a typo such as DEMO_DIR=runs) is refused before anything runs."""
    demo_dir = tmp_path / "runs"
    if foreign == "folder":
        demo_dir.mkdir()
        (demo_dir / "weeks_of_runs").write_text("keep")
    else:
        demo_dir.write_text("keep")
    env = {**os.environ, "BIN": str(tmp_path / "no_venv"), "DEMO_DIR": str(demo_dir)}
    result = subprocess.run(["sh", "tools/demo.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.splitlines()[-1] == (
        f"error: {demo_dir}: not made by make demo (or by one older than its mark), and not empty: "
        "give DEMO_DIR=another folder "
        "(or remove it yourself)"
    )
    assert "keep" in ((demo_dir / "weeks_of_runs") if foreign == "folder" else demo_dir).read_text()
    own = tmp_path / "demo"  # an earlier demo's folder is replaced (here the LMs then fail: no venv)
    own.mkdir()
    (own / ".made-by-make-demo").touch()
    (own / "stale").touch()
    result = subprocess.run(
        ["sh", "tools/demo.sh"], cwd=REPO, env={**env, "DEMO_DIR": str(own)}, capture_output=True, text=True
    )
    assert result.returncode == 1 and "LM pretraining failed" in result.stderr
    assert sorted(os.listdir(own)) == [".made-by-make-demo", "lm_backward.log", "lm_forward.log"]
