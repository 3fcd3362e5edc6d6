"""tools.repredict: a finished run re-decoded as its training's final evaluation decoded it gives
its recorded prediction files back; a changed file is reported and exits 1."""

import pytest

from conftest import tiny_config
from taglm_tf.training.experiment import run_experiment
from tools import repredict


def test_a_finished_run_repredicts_its_own_files_and_a_changed_one_is_reported(tmp_path, capsys):
    run = tmp_path / "run"
    run_experiment(tiny_config(run))
    assert repredict.compare(str(run)) is True
    out = capsys.readouterr().out
    assert out.count("identical") == 2 and "dev_predictions.txt" in out and "test_predictions.txt" in out

    test = run / "test_predictions.txt"
    lines = test.read_text(encoding="utf-8").splitlines(keepends=True)
    test.write_text("".join(lines[:-3]), encoding="utf-8")  # three lines missing
    assert repredict.compare(str(run)) is False
    assert "3 of" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        repredict.main(["repredict", str(run)])
    assert stop.value.code == 1
