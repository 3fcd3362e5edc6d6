"""CoNLL tagging text as LM training text: the words one sentence per line, test sets refused."""

import gzip
import os

import pytest
from absl import flags

from experiments import lm_flags
from taglm_tf.data import conll
from taglm_tf.lm.pretraining.config import PretrainConfig
from taglm_tf.lm.pretraining.conll_text import TEXT_DIR, is_test_file, write_conll_text
from taglm_tf.lm.pretraining.run import check_config, prepare_vocab, training_files
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


def test_a_vocabulary_without_the_conll_text_is_the_corpus_alone(tmp_path):
    """``conll_in_vocab=False``: the words, order and counts an LM of ``train_files`` alone has,
    however often the CoNLL text is read; with it (the default), the CoNLL words count too."""
    text = tmp_path / "news.txt"
    text.write_text("the EU said the\nthe rest\n")
    train = sample_paths()["train"]
    alone = PretrainConfig(model_dir=str(tmp_path / "alone"), train_files=str(text))
    corpus_vocab = prepare_vocab(alone, training_files(alone)[0])
    for weight in (1, 5):
        both = PretrainConfig(
            model_dir=str(tmp_path / f"both{weight}"),
            train_files=str(text),
            conll_files=train,
            conll_weight=weight,
            conll_in_vocab=False,
        )
        vocab = prepare_vocab(both, training_files(both)[0])
        assert vocab.words == corpus_vocab.words and vocab.counts == corpus_vocab.counts
    counted = PretrainConfig(model_dir=str(tmp_path / "counted"), train_files=str(text), conll_files=train)
    assert len(prepare_vocab(counted, training_files(counted)[0]).words) > len(corpus_vocab.words)


@pytest.mark.parametrize(
    "settings,message",
    [
        (dict(train_files="news.txt"), "needs --conll_train_files"),
        (dict(train_files="", conll_files="eng.train"), "builds the vocabulary from --train_files"),
        (
            dict(train_files="news.txt", conll_files="eng.train", vocab_file="v.txt"),
            "no effect with --vocab_file",
        ),
    ],
)
def test_conll_in_vocab_false_is_refused_where_it_could_not_act(tmp_path, settings, message):
    config = PretrainConfig(model_dir=str(tmp_path / "run"), conll_in_vocab=False, **settings)
    with pytest.raises(InputError, match=message):
        check_config(config, resume=False)
    assert not os.path.exists(tmp_path / "run")


COMMENT = "# id 7f3a domain=en\n"


@pytest.mark.parametrize(
    "folder,name,text",
    [
        ("data", "eng.train", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"),  # named as the shared task
        ("conll2003", "mine.txt", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"),  # in the family's folder
        ("data", "mine.conll", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"),  # 4 columns
        ("data", "train.txt", CONLL2000),
        ("data", "mine.conll", CONLL2000),  # 3 columns
    ],
)
def test_a_line_training_refuses_is_refused_here_too(tmp_path, folder, name, text):
    """A comment line in a CoNLL-2003 (or CoNLL-2000) file, first or after a sentence, is not
    LM text: as training's reader, the LM text writer refuses the file, naming it and the
    comment's line (or, for a first line with its own column count, the next line, whose count
    differs from that of line 1)."""
    fmt = conll.CONLL2003 if "rejects" in text else conll.CONLL2000
    (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / folder / name
    for content, line in ((COMMENT + text, 1), (text + "\n" + COMMENT + text, len(text.splitlines()) + 2)):
        path.write_text(content)
        with pytest.raises(InputError) as training:
            conll.read_conll(str(path), fmt)
        assert (training.value.path, training.value.line) == (str(path), line)
        with pytest.raises(InputError) as here:
            write_conll_text([str(path)], str(tmp_path / "run"))
        assert here.value.path == str(path)
        assert here.value.line == line or (
            here.value.line == line + 1 and f"as on line {line}," in str(here.value)
        )
    assert os.listdir(tmp_path / "run" / TEXT_DIR) == []
    path.write_text(text)
    (written,) = write_conll_text([str(path)], str(tmp_path / "run"))
    with open(written, encoding="utf-8") as f:
        assert f.read().split("\n")[0] == ("EU rejects" if fmt is conll.CONLL2003 else "He reckons")
