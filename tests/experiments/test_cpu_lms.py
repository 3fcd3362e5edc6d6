"""``make cpu-lms``: which steps a rerun skips, and that the tagger flagfiles read the LMs where
it writes them."""

from __future__ import annotations

import glob
import json
import os

import pytest

from experiments import cpu_lms

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _checkpoint(train_dir, step):
    os.makedirs(os.path.join(train_dir, "checkpoints"), exist_ok=True)
    with open(os.path.join(train_dir, "checkpoints", "checkpoint"), "w") as f:
        f.write(
            f'model_checkpoint_path: "ckpt-{step}"\nall_model_checkpoint_paths: "ckpt-{step - 500}"\n'
            f'all_model_checkpoint_paths: "ckpt-{step}"\n'
        )


@pytest.fixture
def python_flag(monkeypatch):
    monkeypatch.setattr(cpu_lms, "FLAGS", type("Flags", (), {"python": "PY"})())


def test_checkpoint_step_reads_the_latest(tmp_path):
    assert cpu_lms.checkpoint_step(str(tmp_path)) is None
    _checkpoint(str(tmp_path), 3500)
    assert cpu_lms.checkpoint_step(str(tmp_path)) == 3500


def test_a_rerun_trains_only_the_unfinished_lms(tmp_path, python_flag):
    runs, lms = str(tmp_path / "train"), str(tmp_path / "lms")
    _checkpoint(os.path.join(runs, "cnn_lstm_s_forward"), 4000)  # done
    _checkpoint(os.path.join(runs, "cnn_lstm_s_backward"), 3500)  # interrupted
    todo = cpu_lms.train_commands(cpu_lms.CPU_LMS, runs, lms)
    assert [lm.name for lm, _, _ in todo] == [
        "cnn_lstm_s_backward",
        "backward_512_256_cpu",
        "forward_512_256_cpu",
        "forward_512_256_conll_only_cpu",
        "backward_512_256_conll_only_cpu",
        "cnn_lstm_s_forward_conll",
        "backward_512_256_conll_cpu",
    ]
    (_, backward, log), (_, word, _) = todo[:2]
    assert backward == [
        "PY",
        "-m",
        "experiments.pretrain_lm",
        "--flagfile=experiments/flags/lm_backward_cnn_lstm_cpu.cfg",
        f"--model_dir={runs}/cnn_lstm_s_backward",
        "--train_steps=4000",
        "--epochs=0",
        "--resume",
    ]
    assert log == os.path.join(runs, "cnn_lstm_s_backward.log")
    assert f"--model_dir={lms}/backward_512_256_cpu" in word and "--train_steps=9000" in word


def test_an_lm_built_elsewhere_and_linked_in_is_neither_trained_nor_exported_again(
    tmp_path, monkeypatch, python_flag
):
    runs, lms = str(tmp_path / "train"), str(tmp_path / "lms")  # no training runs here
    for name, step in (
        ("cnn_lstm_s_forward", 4000),
        ("backward_512_256_cpu", 9000),
        ("cnn_lstm_s_backward", 3500),
    ):
        os.makedirs(os.path.join(lms, name))
        with open(os.path.join(lms, name, "perplexity.json"), "w") as f:
            json.dump({"checkpoint": f"x/checkpoints/ckpt-{step}", "perplexity": 280.0}, f)
    todo = cpu_lms.train_commands(cpu_lms.CPU_LMS[:3], runs, lms)
    assert [lm.name for lm, _, _ in todo] == ["cnn_lstm_s_backward"]  # its export is of an earlier step
    calls = []
    monkeypatch.setattr(cpu_lms, "check_call", calls.append)
    for lm in cpu_lms.CPU_LMS[:3]:
        cpu_lms.evaluate_and_export(lm, runs, lms)
    assert [argv[2] for argv in calls] == ["experiments.eval_lm", "lm_1b_export.from_pretrained"]
    assert f"--model_dir={runs}/cnn_lstm_s_backward" in calls[0]


def test_every_lm_builds_its_own_vocabulary_so_all_train_side_by_side(monkeypatch):
    """No CPU LM reads another's vocabulary (which would have to wait for it): the in-domain LMs
    build the news LMs' vocabularies from the news alone (``--conll_in_vocab=false``)."""
    monkeypatch.chdir(REPO)
    assert not [lm.name for lm in cpu_lms.CPU_LMS if cpu_lms.flagfile_settings(lm.flagfile, ("vocab_file",))]
    conll = [lm for lm in cpu_lms.CPU_LMS if lm.name.endswith(("_conll", "_conll_cpu"))]
    assert len(conll) == 2
    for lm in conll:
        assert cpu_lms.flagfile_settings(lm.flagfile, ("conll_in_vocab",)) == {"conll_in_vocab": "false"}


def test_the_conll_only_lms_train_the_steps_their_flagfile_gives(monkeypatch):
    monkeypatch.chdir(REPO)
    conll_only = [lm for lm in cpu_lms.CPU_LMS if "conll_only" in lm.name]
    assert len(conll_only) == 2
    for lm in conll_only:
        steps = cpu_lms.flagfile_settings(lm.flagfile, ("train_steps",))["train_steps"]
        assert int(steps) == lm.train_steps == cpu_lms.CONLL_ONLY_STEPS, lm.name


def test_a_built_lm_is_one_whose_record_names_its_runs_latest_checkpoint(tmp_path):
    runs, lms = str(tmp_path / "train"), str(tmp_path / "lms")
    word = next(lm for lm in cpu_lms.CPU_LMS if lm.name == "backward_512_256_cpu")  # trained in lms
    assert not cpu_lms.built(word, runs, lms)
    _checkpoint(os.path.join(lms, word.name), 9000)
    with open(os.path.join(lms, word.name, "perplexity.json"), "w") as f:
        json.dump({"checkpoint": f"{lms}/{word.name}/checkpoints/ckpt-9000", "perplexity": 254.6}, f)
    assert cpu_lms.built(word, runs, lms)
    _checkpoint(os.path.join(lms, word.name), 9500)  # taken further by hand: measured again
    assert not cpu_lms.built(word, runs, lms)


def test_a_perplexity_record_counts_only_for_the_final_checkpoint(tmp_path):
    path = tmp_path / "perplexity.json"
    assert cpu_lms.recorded(str(path), 4000) is None
    path.write_text(json.dumps({"checkpoint": "runs/x/checkpoints/ckpt-3500", "perplexity": 300.0}))
    assert cpu_lms.recorded(str(path), 4000) is None
    path.write_text(json.dumps({"checkpoint": "runs/x/checkpoints/ckpt-4000", "perplexity": 280.0}))
    assert cpu_lms.recorded(str(path), 4000)["perplexity"] == 280.0


def test_the_tagger_flagfiles_read_the_lms_where_cpu_lms_writes_them(monkeypatch):
    monkeypatch.chdir(REPO)  # the flagfiles' paths, as the tools read them from the repository root
    written = {lm.spec("runs/lms") for lm in cpu_lms.CPU_LMS}
    used = set()
    for path in glob.glob(os.path.join("experiments", "flags", "*_cpu.cfg")):
        used |= {spec for spec in cpu_lms.flagfile_lm_specs(path).values() if "runs/lms/" in spec}
    lm1b = {spec for spec in used if spec.startswith("lm1b:")}
    assert len(lm1b) == 3 and lm1b <= written  # the CNN-LSTM S pair, and the in-domain forward LM
    assert {
        "lstm_lm:runs/lms/forward_512_256_cpu",
        "lstm_lm:runs/lms/backward_512_256_cpu",
        "lstm_lm:runs/lms/backward_512_256_conll_cpu",
    } <= used
    assert used <= written  # every CPU flagfile's LM is one that `make cpu-lms --only` can build
    for lm in cpu_lms.CPU_LMS:
        assert os.path.exists(os.path.join(REPO, lm.flagfile)), lm.flagfile


def test_the_summary_says_whether_each_lm_is_the_reports_build_and_records_fingerprints(
    tmp_path, monkeypatch, capsys
):
    import types

    from taglm_tf.lm.frozen import loading

    same = cpu_lms.CpuLM("same", "f.cfg", 10, 100.0, False, fingerprint="0123456789ab")
    other = cpu_lms.CpuLM("other", "g.cfg", 10, None, False, fingerprint="0123456789ab")
    built = {"same": "0123456789ab" + "0" * 52, "other": "fedcba987654" + "0" * 52}
    for lm in (same, other):
        (tmp_path / lm.name).mkdir()
        (tmp_path / lm.name / "perplexity.json").write_text(json.dumps({"perplexity": 101.0}))
    (tmp_path / "fingerprints.json").write_text(json.dumps({"kept": "1" * 64}))
    monkeypatch.setattr(
        loading,
        "load_embedder",
        lambda spec: types.SimpleNamespace(fingerprint=built[spec.rsplit("/", 1)[1]]),
    )
    cpu_lms.summary([same, other], str(tmp_path))
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["same"][1:6] == ["101.00", "100.00", "+1.0%", "0123456789ab", "yes"]
    assert rows["other"][1:6] == ["101.00", "—", "—", "fedcba987654", "NO"]
    recorded = json.loads((tmp_path / "fingerprints.json").read_text())
    assert recorded == {"kept": "1" * 64, **built}
