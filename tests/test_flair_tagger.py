"""``benchmarks/flair_tagger.py``'s plain-Python parts, checked in our venv (no flair) against
the library they stand in for: the CoNLL reader, IOB1 chunks, the word vocabulary and its
vectors, the timing statistics and the machine record; and its one-line errors."""

import ast
import gzip
import json
import lzma
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import common, flair_tagger
from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.resources import build_resources
from taglm_tf.models.config import TaggerConfig
from taglm_tf.tasks import TASKS, sample_paths
from taglm_tf.training.config import TrainConfig
from taglm_tf.utils import provenance

SAMPLES = sample_paths()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("split", sorted(SAMPLES))
def test_conll_reading_and_chunks_match_the_library(split):
    ours = conll.read_conll(SAMPLES[split], conll.CONLL2003)
    theirs = flair_tagger.read_conll(SAMPLES[split])
    assert [(list(s.tokens), list(s.tags)) for s in ours] == theirs
    for tokens, tags in theirs:
        expected = [(c.start, c.end, c.type) for c in tag_schemes.tags_to_chunks(tags)]
        assert flair_tagger.iob_spans(tags) == expected, tokens


def test_iob1_chunk_rules():
    tags = ["I-PER", "I-PER", "B-PER", "I-PER", "O", "I-LOC", "I-ORG", "B-MISC", "I-MISC"]
    assert flair_tagger.iob_spans(tags) == [
        (0, 2, "PER"),
        (2, 4, "PER"),
        (5, 6, "LOC"),
        (6, 7, "ORG"),
        (7, 9, "MISC"),
    ]
    for bad in ("PER", "X-PER", "B-"):
        with pytest.raises(ValueError, match="not an IOB tag"):
            flair_tagger.iob_spans(["O", bad])


def test_a_short_token_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("EU NNP I-NP I-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.conll:2: a token line needs a word and a tag"):
        flair_tagger.read_conll(str(path))


def write_glove(path, rows: dict) -> None:
    text = "".join(f"{w} " + " ".join(f"{x:g}" for x in v) + "\n" for w, v in rows.items())
    opener = lzma.open if path.suffix == ".xz" else gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(text)


@pytest.mark.parametrize("suffix", [".txt", ".xz", ".gz"])
def test_word_table_is_our_vocabulary_with_the_same_vectors(tmp_path, suffix):
    train = conll.read_conll(SAMPLES["train"], conll.CONLL2003)
    other = conll.read_conll(SAMPLES["dev"], conll.CONLL2003) + conll.read_conll(
        SAMPLES["test"], conll.CONLL2003
    )
    rng = np.random.default_rng(0)
    # Some training words, some dev/test-only words (in with a vector, out without), a digit word.
    words = ["the", "kestrel", "0000", "quist"] + sorted({t.lower() for s in other for t in s.tokens})[:40]
    glove = tmp_path / f"glove{suffix}"
    write_glove(glove, {w: rng.uniform(-1, 1, 4).round(3) for w in words})

    resources = build_resources(train, other, str(glove), word_dim=4)
    vocab, matrix, found = flair_tagger.word_table(
        [s.tokens for s in train], [s.tokens for s in other], str(glove), 4, seed=0
    )
    assert set(vocab) == set(resources.words.items[2:])  # ours: <pad>, <unk> first
    assert matrix.shape == (len(vocab) + 1, 4) and not matrix[-1].any()
    assert found == resources.pretrained_found
    table = flair_tagger.read_vectors(str(glove), set(words), 4)
    for word in table:
        if word in vocab:
            np.testing.assert_array_equal(
                matrix[vocab[word]], resources.word_vectors[resources.words.id(word)]
            )


def test_a_vector_of_the_wrong_size_names_file_and_line(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.1 0.2\nof 0.3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glove.txt:2: 1 values for a 2-d vector"):
        flair_tagger.read_vectors(str(glove), {"the", "of"}, 2)
    assert list(flair_tagger.read_vectors(str(glove), {"the"}, 2)) == ["the"]  # unwanted lines unparsed


def test_normalize_is_our_lookup_key():
    assert flair_tagger.normalize("EU-2003") == "eu-0000"


def test_timing_statistics_are_those_of_benchmarks_common():
    seconds = [2.0, 1.0, 4.0, 1.0, 2.0, 8.0, 1.0]

    def measure(it):
        return lambda: {"tokens": 8, "seconds": next(it)}

    ours = common.repeat(measure(iter(seconds)), min_passes=5, min_seconds=15.0)
    assert flair_tagger.repeat(measure(iter(seconds)), min_passes=5, min_seconds=15.0) == ours


def test_machine_record_is_that_of_benchmarks_common():
    info = flair_tagger.cpu_info()
    ours = provenance.platform()
    assert (info["cpu_model"], info["cpu_flags"]) == (ours["cpu_model"], ours["cpu_flags"])


def test_batches_shuffle_every_sentence_once_per_epoch():
    order = flair_tagger.batches(10, 4, seed=1)
    epoch = [next(order) for _ in range(3)]
    assert [len(b) for b in epoch] == [4, 4, 2]
    assert sorted(i for b in epoch for i in b) == list(range(10))
    assert epoch != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_argument_errors():
    with pytest.raises(SystemExit):
        flair_tagger.parse_args(["--train_batches=0"])
    with pytest.raises(SystemExit):
        flair_tagger.parse_args(["--min_seconds=-1"])
    assert flair_tagger.parse_args([]).batch_size == 32


def test_without_flair_the_script_says_how_to_get_it(tmp_path):
    # Our venv has no flair: the script stops at its first flair import, with one line.
    done = subprocess.run(
        [sys.executable, flair_tagger.__file__, f"--data_dir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "make flair-venv" in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""


def test_missing_data_is_one_error_naming_the_data_directory(tmp_path):
    with pytest.raises(flair_tagger.DataError, match=f"eng.train not found \\(data directory {tmp_path}"):
        flair_tagger.load_corpus(str(tmp_path), "embeddings/glove.6B.50d.txt.xz", seed=1)


def test_a_bad_output_is_one_error_before_any_work(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "conll2003").mkdir(parents=True)
    (data / "conll2003" / "eng.train").write_text("EU B-ORG\n")
    cases = {
        str(tmp_path): "is a folder, not a file",
        str(tmp_path / "missing" / "r.json"): "its folder does not exist",
        str(data / "conll2003" / "eng.train"): "inside the data directory",
        str(data / "r.json"): "inside the data directory",
    }
    for output, message in cases.items():
        assert flair_tagger.main([f"--data_dir={data}", f"--output={output}"]) == 1
        err = capsys.readouterr().err
        assert (
            err.startswith(f"error: {output}: --output: ") and message in err and len(err.splitlines()) == 1
        )
    assert (data / "conll2003" / "eng.train").read_text() == "EU B-ORG\n"


def test_the_script_imports_only_flair_torch_numpy_and_the_standard_library():
    # It runs in the flair venv, where neither the project nor TensorFlow is installed.
    tree = ast.parse(open(flair_tagger.__file__, encoding="utf-8").read())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in names}
    assert {"flair", "torch", "numpy"} <= roots
    assert roots - {"flair", "torch", "numpy", "__future__"} <= sys.stdlib_module_names


def test_flairs_settings_are_our_ner_models():
    ours, train = TaggerConfig(**TASKS["ner"].model_defaults), TrainConfig()
    settings = flair_tagger.SETTINGS
    assert (settings["char_dim"], settings["char_units"], settings["word_dim"]) == (
        ours.char_dim,
        ours.char_units,
        ours.word_dim,
    )
    assert (settings["rnn_cell"].lower(), settings["rnn_units"], settings["dropout"]) == (
        ours.rnn_cell,
        ours.rnn_units,
        ours.rnn_input_dropout,
    )
    assert (settings["learning_rate"], settings["clip_norm"]) == (train.learning_rate, train.clip_norm)
    assert flair_tagger.parse_args([]).batch_size == train.batch_size
    assert flair_tagger.parse_args([]).eval_batch_size == train.eval_batch_size


FLAIR_PYTHON = os.path.join(REPO, ".venv-flair", "bin", "python")


@pytest.mark.skipif(not os.path.exists(FLAIR_PYTHON), reason="no flair venv (make flair-venv)")
def test_the_script_runs_in_the_flair_venv(tmp_path):
    data = tmp_path / "data"
    (data / "conll2003").mkdir(parents=True)
    (data / "embeddings").mkdir()
    for split, name in (("train", "eng.train"), ("dev", "eng.testa"), ("test", "eng.testb")):
        shutil.copy(SAMPLES[split], data / "conll2003" / name)
    write_glove(data / "embeddings" / "glove.6B.50d.txt.xz", {"the": np.full(50, 0.5), "bank": np.ones(50)})
    output = tmp_path / "flair.json"
    args = [
        "--warmup_batches=1",
        "--train_batches=2",
        "--dev_sentences=20",
        "--min_passes=2",
        "--min_seconds=0",
    ]
    done = subprocess.run(
        [
            FLAIR_PYTHON,
            "benchmarks/flair_tagger.py",
            f"--data_dir={data}",
            f"--output={output}",
            "--threads=1",
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(output.read_text())
    assert json.loads(done.stdout) == result
    assert result["inference"]["passes"] == 2 and result["dev_sentences"] == 20
    assert result["train"]["tokens"] > 0 and result["train"]["tokens_per_sec"] > 0
    assert result["threads"]["intra_op"] == 1 and result["flair"] == "0.15.1"
    assert result["vocabulary"]["from_glove"] == 2
