"""taglm_tf.run_dir: the files of a run, their format version and the resume check."""

import json
import os

import pytest

from taglm_tf import run_dir
from taglm_tf.utils import provenance
from taglm_tf.utils.errors import InputError


def test_config_is_stamped_and_read_back(tmp_path):
    written = run_dir.write_config(str(tmp_path / "run"), {"task": "ner", "model": {"rnn_units": 8}})
    on_disk = json.loads((tmp_path / "run" / "config.json").read_text())
    assert on_disk == written and written["format_version"] == run_dir.FORMAT_VERSION
    assert written["git_commit"] and run_dir.started_at_commit(str(tmp_path / "run")) == written["git_commit"]
    assert run_dir.read_config(str(tmp_path / "run")) == written
    assert written["platform"] == provenance.platform() and written["platform"]["cpus"] >= 1
    kept = run_dir.write_config(
        str(tmp_path / "run"), {**written, "git_commit": "abc", "platform": {"cpus": 1}}
    )
    assert kept["git_commit"] == "abc"  # a config that names its commit keeps it
    assert kept["platform"] == {"cpus": 1}  # and the platform that started the run


def test_results_mark_a_finished_run(tmp_path):
    assert run_dir.read_results(str(tmp_path)) is None and not run_dir.is_finished(str(tmp_path))
    run_dir.write_results(str(tmp_path), {"test_f1": 90.5})
    assert run_dir.is_finished(str(tmp_path))
    assert run_dir.read_results(str(tmp_path)) == {"test_f1": 90.5, "format_version": run_dir.FORMAT_VERSION}


@pytest.mark.parametrize("name", ["config.json", "results.json"])
def test_another_format_version_is_refused_in_one_line(tmp_path, name):
    (tmp_path / name).write_text(json.dumps({"task": "ner", "format_version": 2}))
    read = run_dir.read_config if name == "config.json" else run_dir.read_results
    with pytest.raises(InputError) as e:
        read(str(tmp_path))
    assert str(e.value) == (
        f"{tmp_path / name}: run directory format 2; this version of taglm_tf reads "
        f"format {run_dir.FORMAT_VERSION} (retrain, or use the release that wrote it)"
    )


def test_a_file_without_a_version_reads_as_version_1(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"task": "ner"}))
    assert run_dir.read_config(str(tmp_path)) == {"task": "ner"}


@pytest.mark.parametrize(
    "content, message", [(None, "no config.json here"), ("{", "cannot read"), ("[1]", "not a JSON object")]
)
def test_unreadable_config(tmp_path, content, message):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(InputError, match=message):
        run_dir.read_config(str(tmp_path))


def test_resume_check_names_every_changed_flag(tmp_path):
    saved = {"seed": 1, "rnn_units": [8, 8], "lr": 0.001, "only_saved": 1}
    run_dir.refuse_changed_settings(saved, {"seed": 1, "rnn_units": (8, 8), "only_given": 2}, str(tmp_path))
    with pytest.raises(InputError) as e:
        run_dir.refuse_changed_settings(saved, {"seed": 2, "lr": 0.01}, str(tmp_path))
    assert str(e.value) == (
        f"{tmp_path / 'config.json'}: --resume with settings other than the run's: "
        "--lr (0.001 saved, 0.01 given), --seed (1 saved, 2 given); drop these flags to "
        "continue the run, or use a new --model_dir"
    )


def test_interrupt_line():
    assert (
        run_dir.interrupted("in epoch 3", "continue from the end of epoch 2")
        == "interrupted in epoch 3; rerun with --resume to continue from the end of epoch 2"
    )


def test_a_record_is_the_runs_config_and_results_byte_for_byte(tmp_path):
    run = str(tmp_path / "run")
    run_dir.write_config(run, {"seed": 3, "lm_fingerprints": {"forward_lm": "ab" * 32}})
    run_dir.write_results(run, {"test_f1": 71.5, "history": [{"epoch": 1, "dev_f1": 70.0}]})
    for big in ("checkpoints", "best"):
        os.makedirs(os.path.join(run, big))
    record = str(tmp_path / "record" / "seed_3")
    run_dir.copy_record(run, record)
    assert sorted(os.listdir(record)) == [run_dir.CONFIG, run_dir.RESULTS]
    for name in (run_dir.CONFIG, run_dir.RESULTS):
        with open(os.path.join(run, name), "rb") as a, open(os.path.join(record, name), "rb") as b:
            assert a.read() == b.read()
    back = str(tmp_path / "restored")
    run_dir.copy_record(record, back)  # and back: a finished run for the reports
    assert run_dir.is_finished(back) and run_dir.read_results(back)["test_f1"] == 71.5


def test_a_record_carries_its_chunk_outcomes_both_ways_and_writes_results_last(tmp_path, monkeypatch):
    run = str(tmp_path / "run")
    run_dir.write_config(run, {"seed": 1})
    run_dir.write_results(run, {"test_f1": 80.0})
    with open(os.path.join(run, run_dir.TEST_PREDICTIONS), "w") as f:
        f.write("a NN B-NP B-NP\n")  # predictions are not part of a record
    with open(os.path.join(run, run_dir.CHUNK_OUTCOMES), "w") as f:
        f.write('{"gold": {}, "predicted": {}}')
    written = []
    real_write = run_dir.write_text_atomic
    monkeypatch.setattr(
        run_dir, "write_text_atomic", lambda p, t: (written.append(os.path.basename(p)), real_write(p, t))
    )
    record = str(tmp_path / "record")
    run_dir.copy_record(run, record)
    assert written == [run_dir.CONFIG, run_dir.CHUNK_OUTCOMES, run_dir.RESULTS]
    back = str(tmp_path / "restored")
    run_dir.copy_record(record, back)
    assert sorted(os.listdir(back)) == sorted([run_dir.CONFIG, run_dir.CHUNK_OUTCOMES, run_dir.RESULTS])
    for name in os.listdir(back):
        with open(os.path.join(run, name), "rb") as a, open(os.path.join(back, name), "rb") as b:
            assert a.read() == b.read()
    # A record written without outcomes leaves the destination's as they are.
    os.remove(os.path.join(run, run_dir.CHUNK_OUTCOMES))
    run_dir.write_record(back, run_dir.read_record(run))
    assert os.path.isfile(os.path.join(back, run_dir.CHUNK_OUTCOMES))


def test_an_unfinished_run_has_no_record(tmp_path):
    run = str(tmp_path / "run")
    run_dir.write_config(run, {"seed": 1})
    with pytest.raises(InputError, match="no results.json: not a finished run"):
        run_dir.copy_record(run, str(tmp_path / "record"))
    assert not os.path.exists(tmp_path / "record")


def test_best_constant_epoch_ignores_annealing_and_keeps_the_first_of_ties():
    history = [
        {"epoch": 1, "lr": 1e-3, "dev_accuracy": 90.0},
        {"epoch": 2, "lr": 1e-3, "dev_accuracy": 92.0},
        {"epoch": 3, "lr": 1e-3, "dev_accuracy": 92.0},
        {"epoch": 4, "lr": 1e-4, "dev_accuracy": 99.0},
    ]
    assert run_dir.best_constant_epoch(history, "accuracy")["epoch"] == 2
    assert run_dir.best_constant_epoch([], "f1") is None
