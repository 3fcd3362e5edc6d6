"""A missing task file says how to point at the data."""
import pytest

from taglm_tf.errors import InputError
from taglm_tf.tasks import NER, load_splits, sample_paths


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
