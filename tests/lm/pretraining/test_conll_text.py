"""CoNLL tagging text as LM training text: the words one sentence per line, test sets refused."""

import gzip
import os

import pytest
from absl import flags

from experiments import lm_flags
from taglm_tf.data import conll
from taglm_tf.lm.pretraining.conll_text import TEXT_DIR, is_test_file, write_conll_text
from taglm_tf.lm.pretraining.run import PretrainConfig, training_files
from taglm_tf.tasks import sample_paths
from taglm_tf.utils.errors import InputError

CONLL2000 = "He PRP B-NP\nreckons VBZ B-VP\n\nthe DT B-NP\ncurrent JJ I-NP\n"


def test_each_sentence_becomes_a_line_of_its_words(tmp_path):
    train = sample_paths()["train"]
    gz = tmp_path / "train.txt.gz"  # CoNLL-2000 columns, compressed
    gz.write_bytes(gzip.compress(CONLL2000.encode()))
    written = write_conll_text([train, str(gz)], str(tmp_path / "run"))
    assert written == [
        str(tmp_path / "run" / TEXT_DIR / (os.path.basename(train) + ".txt")),
        str(tmp_path / "run" / TEXT_DIR / "train.txt.gz.txt"),
    ]
    with open(written[0], encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines == [" ".join(s.tokens) for s in conll.read_conll(train, conll.CONLL2003)]
    assert "-DOCSTART-" not in " ".join(lines)
    with open(written[1], encoding="utf-8") as f:
        assert f.read() == "He reckons\nthe current\n"


@pytest.mark.parametrize("name", ["eng.testb", "deu.testb", "test.txt", "eng.testb.gz", "test.txt.xz"])
def test_test_sets_are_refused(tmp_path, name):
    assert is_test_file(f"/data/{name}")
    (tmp_path / name).write_text(CONLL2000)
    with pytest.raises(InputError, match="is a test set") as e:
        write_conll_text([str(tmp_path / name)], str(tmp_path / "run"))
    assert name in str(e.value)
    assert not os.listdir(tmp_path / "run" / TEXT_DIR)


def test_dev_and_train_files_are_not_test_sets():
    assert not any(is_test_file(n) for n in ("eng.train", "eng.testa", "train.txt", "eng.testb.txt"))


def test_an_empty_file_leaves_no_text(tmp_path):
    (tmp_path / "eng.train").write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(InputError, match="no sentences") as e:
        write_conll_text([str(tmp_path / "eng.train")], str(tmp_path / "run"))
    assert "eng.train" in str(e.value)
    assert os.listdir(tmp_path / "run" / TEXT_DIR) == []


def test_flags_to_training_files(tmp_path):
    text = tmp_path / "news.txt"
    text.write_text("a b c\n")
    fv = flags.FlagValues()
    lm_flags.define_pretrain_flags(fv)
    train = sample_paths()["train"]
    fv(["prog", f"--model_dir={tmp_path / 'run'}", f"--conll_train_files={train}"])
    config = lm_flags.pretrain_config_from_flags(fv)
    assert config.train_files == "" and config.conll_files == train
    files, _ = training_files(config)
    assert files == [str(tmp_path / "run" / TEXT_DIR / (os.path.basename(train) + ".txt"))]
    both = PretrainConfig(model_dir=str(tmp_path / "run"), train_files=str(text), conll_files=train)
    assert training_files(both)[0] == [str(text)] + files
    with pytest.raises(InputError, match="no training files"):
        training_files(PretrainConfig(model_dir=str(tmp_path / "run"), train_files=""))
    fv(
        [
            "prog",
            f"--model_dir={tmp_path / 'run'}",
            f"--conll_train_files={train}",
            "--conll_weight=3",
            f"--train_files={text}",
        ]
    )
    weighted = lm_flags.pretrain_config_from_flags(fv)
    assert weighted.conll_weight == 3 and training_files(weighted)[0] == [str(text)] + files * 3
