"""A missing task file says how to point at the data."""

import pytest

from taglm_tf.tasks import NER, load_splits, sample_paths
from taglm_tf.utils.errors import InputError


def test_missing_data_file_names_the_env_variable_and_flags(tmp_path):
    with pytest.raises(InputError) as e:
        load_splits(NER, str(tmp_path / "nodata"))
    message = str(e.value)
    assert message.startswith(f"{tmp_path}/nodata/conll2003/eng.train: no such train file")
    assert "$TAGLM_DATA_DIR" in message and "--data_dir=DIR" in message and "--train_file=FILE" in message
    assert f"data directory: {tmp_path}/nodata" in message


def test_missing_override_names_its_split(tmp_path):
    files = dict(sample_paths(), test=str(tmp_path / "gone.txt"))
    with pytest.raises(InputError, match=r"gone.txt: no such test file .*--test_file=FILE"):
        load_splits(NER, str(tmp_path), files=files)


def test_both_arms_of_a_seed_train_on_the_same_fraction(tmp_path):
    """--train_fraction draws its subset from the seed alone: a baseline and a TagLM run of one
    seed see the same sentences (so the report may pair them); another seed sees others."""
    import dataclasses

    from conftest import tiny_config
    from taglm_tf.training.experiment import experiment_splits

    base = dataclasses.replace(tiny_config(tmp_path / "base", seed=5), train_fraction=0.3)
    taglm = dataclasses.replace(
        base, model_dir=str(tmp_path / "taglm"), forward_lm="lstm_lm:fwd", backward_lm="lstm_lm:bwd"
    )
    full = experiment_splits(dataclasses.replace(base, train_fraction=1.0)).train
    chosen = experiment_splits(base).train
    assert 0 < len(chosen) == round(0.3 * len(full)) and all(s in full for s in chosen)
    assert experiment_splits(taglm).train == chosen
    other = dataclasses.replace(base, train=dataclasses.replace(base.train, seed=6))
    assert experiment_splits(other).train != chosen
