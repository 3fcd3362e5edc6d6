"""Tests for taglm_tf.data.conll (readers/writers) and taglm_tf.tasks.load_splits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from taglm_tf import tasks
from taglm_tf.data import conll, paths
from taglm_tf.data.conll import CONLL2000, CONLL2003, CorpusFormat, Sentence
from taglm_tf.data.tag_schemes import convert, tags_to_chunks
from taglm_tf.scoring import conlleval
from taglm_tf.utils.errors import InputError

try:
    from data_paths import real_data_dir, real_file
except ImportError:  # tests/ became a package
    from tests.data_paths import real_data_dir, real_file

# ---------------------------------------------------------------- real files

REAL_COUNTS = {  # file -> (format, sentences, tokens), from the data's PROVENANCE.md
    "conll2003/eng.train": (CONLL2003, 14_041, 203_621),
    "conll2003/eng.testa": (CONLL2003, 3_250, 51_362),
    "conll2003/eng.testb": (CONLL2003, 3_453, 46_435),
    "conll2000/train.txt": (CONLL2000, 8_936, 211_727),
    "conll2000/test.txt": (CONLL2000, 2_012, 47_377),
}

_CACHE: dict[tuple, list[Sentence]] = {}
_READ_CONLL = conll.read_conll  # the real reader, even while tests monkeypatch conll.read_conll


def _read_cached(path, fmt):
    key = (str(Path(path).resolve()), fmt)
    if key not in _CACHE:
        _CACHE[key] = _READ_CONLL(path, fmt)
    return list(_CACHE[key])


@pytest.fixture(scope="module")
def real_sentences():
    def get(name: str) -> list[Sentence]:
        path = real_file(*name.split("/"))
        if path is None:
            pytest.skip(f"real data file {name} not found")
        return _read_cached(path, REAL_COUNTS[name][0])

    return get


@pytest.mark.parametrize("name", sorted(REAL_COUNTS))
def test_real_file_counts(real_sentences, name):
    fmt, n_sentences, n_tokens = REAL_COUNTS[name]
    sentences = real_sentences(name)
    assert len(sentences) == n_sentences
    assert sum(len(s) for s in sentences) == n_tokens
    for s in sentences:
        assert len(s.tokens) == len(s.tags) == len(s.columns) > 0
        assert all(len(c) == fmt.num_columns - 2 for c in s.columns)
        assert conll.DOCSTART not in s.tokens
    lines = [s.line for s in sentences]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)


def test_real_file_first_sentences(real_sentences):
    ner = real_sentences("conll2003/eng.train")[0]
    assert ner.line == 3  # after "-DOCSTART- -X- O O" and a blank line
    assert ner.tokens[:3] == ("EU", "rejects", "German")
    assert ner.tags[:3] == ("I-ORG", "O", "I-MISC")
    assert ner.columns[0] == ("NNP", "I-NP")
    chunking = real_sentences("conll2000/train.txt")[0]
    assert chunking.line == 1
    assert chunking.tokens[:2] == ("Confidence", "in")
    assert chunking.columns[0] == ("NN",) and chunking.tags[:2] == ("B-NP", "B-PP")


def test_sentence_line_points_at_first_token(real_sentences):
    path = real_file("conll2003", "eng.testb")
    if path is None:
        pytest.skip("eng.testb not found")
    lines = path.read_text(encoding="utf-8").split("\n")
    for s in real_sentences("conll2003/eng.testb")[::97]:
        fields = lines[s.line - 1].split()
        assert fields[0] == s.tokens[0] and fields[-1] == s.tags[0]
        assert lines[s.line - 2].strip() == ""  # a sentence starts after a blank line


# ---------------------------------------------------------------- bad input


def _write(tmp_path, text, name="bad.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


GOOD_NER = "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n"


def _raises_at(path, fmt, line, *message_parts):
    with pytest.raises(InputError) as info:
        conll.read_conll(path, fmt)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    text = str(err)
    assert text.startswith(f"{path}:{line}: " if line is not None else f"{path}: ")
    for part in message_parts:
        assert part in text
    return err


def test_wrong_column_count(tmp_path):
    path = _write(tmp_path, GOOD_NER + "Peter NNP I-PER\nBlackburn NNP I-NP I-PER\n")
    _raises_at(path, CONLL2003, 6, "expected 4 columns", "found 3", "'Peter NNP I-PER'")


def test_wrong_column_count_too_many(tmp_path):
    path = _write(tmp_path, "Confidence NN B-NP\nin IN B-PP extra\n")
    _raises_at(path, CONLL2000, 2, "expected 3 columns", "found 4")


def test_ner_file_read_as_chunking_fails_on_first_token(tmp_path):
    path = _write(tmp_path, GOOD_NER)
    _raises_at(path, CONLL2000, 3, "expected 3 columns")


def test_non_utf8_bytes(tmp_path):
    data = GOOD_NER.encode() + b"Caf\xe9 NNP I-NP I-ORG\n"
    path = _write(tmp_path, data)
    _raises_at(path, CONLL2003, 6, "UTF-8")


def test_non_utf8_bytes_crlf(tmp_path):
    data = b"a NN B-NP\r\nb NN I-NP\r\n\r\n\xff NN B-NP\r\n"
    path = _write(tmp_path, data)
    _raises_at(path, CONLL2000, 4, "UTF-8")


@pytest.mark.parametrize("tag", ["X-PER", "B-", "S-PER", "E-PER", "PER", "i-PER", "O-PER"])
def test_invalid_iob1_tag(tmp_path, tag):
    path = _write(tmp_path, GOOD_NER + f"Peter NNP I-NP {tag}\n")
    _raises_at(path, CONLL2003, 6, "invalid IOB1 tag", repr(tag))


def test_invalid_tag_empty_prefix(tmp_path):
    path = _write(tmp_path, GOOD_NER + "Peter NNP I-NP -PER\n")
    _raises_at(path, CONLL2003, 6, "invalid IOB1 tag")


def test_invalid_iob2_tag(tmp_path):
    path = _write(tmp_path, "a NN B-NP\nb NN S-NP\n")
    _raises_at(path, CONLL2000, 2, "invalid IOB2 tag", "'S-NP'")


def test_hyphenated_tag_types_are_valid(tmp_path):
    path = _write(tmp_path, "a NN B-NP-SBJ\nb NN I-NP-SBJ\n")
    [s] = conll.read_conll(path, CONLL2000)
    assert s.tags == ("B-NP-SBJ", "I-NP-SBJ")


@pytest.mark.parametrize(
    "text", ["", "\n\n  \n", "-DOCSTART- -X- O O\n", "-DOCSTART- -X- O O\n\n-DOCSTART- -X- -X- O\n\n"]
)
def test_no_sentences(tmp_path, text):
    path = _write(tmp_path, text)
    _raises_at(path, CONLL2003, None, "no sentences")


def test_missing_file(tmp_path):
    path = tmp_path / "nope" / "eng.train"
    _raises_at(path, CONLL2003, None, "no such file")


def test_directory_is_not_a_file(tmp_path):
    _raises_at(tmp_path, CONLL2003, None, "no such file")


def test_str_and_pathlike_paths(tmp_path):
    path = _write(tmp_path, GOOD_NER)
    assert conll.read_conll(str(path), CONLL2003) == conll.read_conll(path, CONLL2003)


# ---------------------------------------------------------------- layout variants


def test_crlf_equals_lf(tmp_path):
    text = GOOD_NER + "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n\n"
    lf = conll.read_conll(_write(tmp_path, text, "lf.txt"), CONLL2003)
    crlf = conll.read_conll(_write(tmp_path, text.replace("\n", "\r\n"), "crlf.txt"), CONLL2003)
    assert crlf == lf
    assert [s.tokens for s in crlf] == [("EU", "rejects"), ("Peter", "Blackburn")]
    assert [s.tags for s in crlf] == [("I-ORG", "O"), ("I-PER", "I-PER")]
    assert all(not t.endswith("\r") for s in crlf for t in s.tags + s.tokens)


def test_real_file_as_crlf(tmp_path, real_sentences):
    src = real_file("conll2000", "test.txt")
    if src is None:
        pytest.skip("conll2000/test.txt not found")
    path = _write(tmp_path, src.read_bytes().replace(b"\n", b"\r\n"), "test_crlf.txt")
    assert conll.read_conll(path, CONLL2000) == real_sentences("conll2000/test.txt")


def test_layout_variants(tmp_path):
    # no final newline, several blank lines, whitespace-only line, -DOCSTART- with no blank
    # line after it, tabs and repeated spaces between columns
    text = "a NN B-NP\n\n\n   \nb\tNN  B-NP\nc NN I-NP\n-DOCSTART- -X- O\nd NN B-VP\ne NN O"
    sentences = conll.read_conll(_write(tmp_path, text), CONLL2000)
    assert [s.tokens for s in sentences] == [("a",), ("b", "c"), ("d", "e")]
    assert [s.line for s in sentences] == [1, 5, 8]
    assert sentences[1].columns == (("NN",), ("NN",))


def test_non_ascii_tokens(tmp_path):
    path = _write(tmp_path, "Zürich NNP I-NP I-LOC\n東京 NNP I-NP I-LOC\n")
    [s] = conll.read_conll(path, CONLL2003)
    assert s.tokens == ("Zürich", "東京")


def test_convert_tags(tmp_path):
    path = _write(tmp_path, "a NN I-NP I-PER\nb NN I-NP B-PER\nc NN O O\nd NN I-NP I-LOC\n")
    sentences = conll.read_conll(path, CONLL2003)
    [iobes] = conll.convert_tags(sentences, "iobes")
    assert iobes.tags == ("S-PER", "S-PER", "O", "S-LOC")
    assert iobes.tokens == sentences[0].tokens and iobes.columns == sentences[0].columns
    assert iobes.line == 1 and sentences[0].tags[0] == "I-PER"  # input unchanged
    with pytest.raises(ValueError):
        conll.convert_tags(sentences, "bio")


# ---------------------------------------------------------------- predictions


def test_format_predictions_round_trip(tmp_path, real_sentences):
    gold = real_sentences("conll2003/eng.testa")
    predicted = [convert(s.tags, "iob2") for s in gold]
    predicted[0] = ["O"] * len(gold[0])
    text = conll.format_predictions(gold, predicted)
    path = tmp_path / "pred.txt"
    path.write_text(text, encoding="utf-8")
    # token, POS, chunk, gold, predicted: the predicted tags are now the last column
    back = conll.read_conll(path, CorpusFormat("pred", 5, "iob2"))
    for g, b, p in zip(gold, back, predicted, strict=True):
        assert b.tokens == g.tokens
        assert b.tags == tuple(p)
        assert b.columns == tuple(c + (t,) for c, t in zip(g.columns, g.tags))
    read = conll.read_predictions(str(path))
    assert [(r.tokens, r.gold, r.predicted) for r in read] == [
        (g.tokens, g.tags, tuple(p)) for g, p in zip(gold, predicted, strict=True)
    ]
    # and conlleval reads it: every gold entity is found except those of sentence 0
    result = conlleval.evaluate_file(path)
    assert result.tokens == 51_362
    assert result.overall.found_gold == 5_942
    assert result.overall.correct == 5_942 - len(tags_to_chunks(gold[0].tags))


def test_a_bad_predictions_file_names_its_line(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("New NNP I-LOC I-LOC\nYork I-LOC\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.txt:2: expected a token, a gold tag and a predicted tag"):
        conll.read_predictions(str(path))
    path.write_text("\n-DOCSTART- -X- O O\n", encoding="utf-8")
    with pytest.raises(InputError, match="no sentences"):
        conll.read_predictions(str(path))


def test_format_predictions_small():
    sentences = [
        Sentence(("EU", "rejects"), ("B-ORG", "O"), (("NNP",), ("VBZ",)), 1),
        Sentence(("Peter",), ("B-PER",), (), 4),
    ]
    text = conll.format_predictions(sentences, [["B-ORG", "B-MISC"], ("O",)])
    assert text == "EU NNP B-ORG B-ORG\nrejects VBZ O B-MISC\n\nPeter B-PER O\n\n"
    assert conll.format_predictions([], []) == ""


def test_format_predictions_length_mismatch():
    s = Sentence(("a", "b"), ("O", "O"), line=17)
    with pytest.raises(ValueError, match="line 17.*1 predicted tags for 2 tokens"):
        conll.format_predictions([s], [["O"]])


def test_format_predictions_sentence_count_mismatch():
    s = Sentence(("a",), ("O",), line=1)
    with pytest.raises(ValueError):
        conll.format_predictions([s, s], [["O"]])


# ---------------------------------------------------------------- text for tagging


def test_read_tokenized_text():
    stream = io.BytesIO(b"EU rejects  German call\n\n   \nPeter\tBlackburn\r\nlast line")
    sentences = list(conll.read_tokenized_text(stream))
    assert [s.tokens for s in sentences] == [
        ("EU", "rejects", "German", "call"),
        (),
        (),
        ("Peter", "Blackburn"),
        ("last", "line"),
    ]
    assert [s.line for s in sentences] == [1, 2, 3, 4, 5]  # one sentence per line, empty for a blank one
    assert all(s.tags == ("O",) * len(s) and s.columns == () for s in sentences)
    text = conll.format_predictions(
        sentences, [["B-ORG", "O", "B-MISC", "O"], [], [], ["B-PER", "I-PER"], ["O", "O"]]
    )
    assert text.splitlines()[0] == "EU O B-ORG"


@pytest.mark.parametrize("reader", [conll.read_tokenized_text, conll.read_unlabeled_conll])
def test_readers_for_tagging_are_lazy(reader):
    """No tokens for an input without tokens (empty sentences for the lines of text input), and
    a bad line fails only when it is reached, after the sentences before it."""
    assert all(not s.tokens for s in reader(io.BytesIO(b"\n  \n")))
    sentences = reader(iter([b"EU rejects\n", b"\n", b"caf\xe9\n"]), source="input.txt")
    assert next(sentences).tokens[0] == "EU"
    with pytest.raises(InputError, match="input.txt:3: not valid UTF-8"):
        list(sentences)


def test_read_unlabeled_conll():
    stream = io.BytesIO(
        b"-DOCSTART- -X- -X- O\n\nEU NNP I-NP\nrejects VBZ I-VP\n\n\n"
        b"Peter NNP I-NP\n-DOCSTART- -X- -X- O\nAlone\nword\n"
    )
    sentences = list(conll.read_unlabeled_conll(stream))
    assert [s.tokens for s in sentences] == [("EU", "rejects"), ("Peter",), ("Alone", "word")]
    assert [s.line for s in sentences] == [3, 7, 9]
    assert sentences[0].columns == (("NNP", "I-NP"), ("VBZ", "I-VP"))
    assert sentences[2].columns == ((), ())
    assert all(s.tags == ("O",) * len(s) for s in sentences)


COMMENTED = b"EU NNP I-NP I-ORG\nrejects VBZ I-VP O\n# id 7f3a domain=en\n"


@pytest.mark.parametrize(
    "text,fmt,where,message",
    [
        (COMMENTED, CONLL2003, 3, "invalid IOB1 tag 'domain=en'"),
        (b"EU\n# id 7f3a domain=en\n", CONLL2003, 2, "expected 1 columns, as on line 1, found 4"),
        (b"He PRP B-NP\n# sent 3\n", CONLL2000, 2, "invalid IOB2 tag '3'"),
        (b"He PRP\nsaid VBD B-VP\n", None, 2, "expected 2 columns, as on line 1, found 3"),
        (
            b"-DOCSTART- -X- O\nHe PRP\n\n-DOCSTART- -X- O\nsaid\nit VBD\n",
            None,
            6,
            "expected 1 columns, as on line 5, found 2",
        ),
        (  # a comment line first sets the count: named as the likelier culprit
            b"# id 7f3a\nJohn NNP I-NP I-PER\n",
            CONLL2003,
            2,
            "expected 3 columns, as on line 1, found 4: 'John NNP I-NP I-PER' "
            "(line 1 starts with '#': CoNLL input has no comment lines)",
        ),
    ],
)
def test_unlabeled_conll_refuses_lines_that_do_not_fit(text, fmt, where, message):
    with pytest.raises(InputError) as info:
        list(conll.read_unlabeled_conll(io.BytesIO(text), "in.conll", fmt))
    assert (info.value.path, info.value.line) == ("in.conll", where)
    assert message in info.value.message


def test_a_comment_line_is_refused_for_tagging_as_for_training(tmp_path):
    path = tmp_path / "eng.conll"
    path.write_bytes(COMMENTED)
    with pytest.raises(InputError) as training:
        conll.read_conll(str(path), CONLL2003)
    with pytest.raises(InputError) as tagging:
        list(conll.read_unlabeled_conll(io.BytesIO(COMMENTED), str(path), CONLL2003))
    assert str(tagging.value) == str(training.value) == f"{path}:3: invalid IOB1 tag 'domain=en'"
    # Without the model's format the line has the file's field count: only the format tells.
    assert [s.tokens for s in conll.read_unlabeled_conll(io.BytesIO(COMMENTED))] == [("EU", "rejects", "#")]


def test_unlabeled_conll_keeps_the_hash_tokens_of_conll2000():
    text = b"# # B-NP\n3 CD I-NP\n\n$ $ B-NP\n"
    sentences = list(conll.read_unlabeled_conll(io.BytesIO(text), "in.conll", conll.CONLL2000))
    assert [s.tokens for s in sentences] == [("#", "3"), ("$",)]


@pytest.mark.parametrize("token", ["a\tb", "a b", "", "a\nb", "a\rb"])
def test_conll_lines_refuses_a_field_that_would_not_read_back_as_one(token):
    sentence = conll.Sentence(("EU", token), ("O", "O"), line=7)
    with pytest.raises(InputError, match=r"token 2 of the sentence at line 7\) cannot be one CoNLL column"):
        list(conll.conll_lines([sentence], [["O", "O"]]))
    column = conll.Sentence(("EU", "x"), ("O", "O"), ((token,), ("NN",)), line=7)
    with pytest.raises(InputError, match="token 1 of the sentence at line 7"):
        list(conll.conll_lines([column], [["O", "O"]]))


def test_conll_lines_keeps_other_unicode_spaces_inside_a_token():
    sentence = conll.Sentence(("1\u00a0200", "x\u000by"), ("O", "O"))
    lines = list(conll.conll_lines([sentence], [["O", "B-MISC"]]))
    assert lines == ["1\u00a0200 O", "x\u000by B-MISC", ""]


def test_read_unlabeled_conll_real_file_ignores_gold(real_sentences):
    path = real_file("conll2003", "eng.testb")
    if path is None:
        pytest.skip("eng.testb not found")
    with open(path, "rb") as f:
        unlabeled = list(conll.read_unlabeled_conll(f, source=str(path)))
    gold = real_sentences("conll2003/eng.testb")
    assert [s.tokens for s in unlabeled] == [s.tokens for s in gold]
    assert [s.line for s in unlabeled] == [s.line for s in gold]
    # the gold tag stays among the kept columns
    assert all(
        u.columns == tuple(c + (t,) for c, t in zip(g.columns, g.tags))
        for u, g in zip(unlabeled[:50], gold[:50])
    )


# ---------------------------------------------------------------- tasks.load_splits


@pytest.fixture
def cached_reads(monkeypatch):
    """load_splits on the real files, reading each file once per test session."""
    monkeypatch.setattr(conll, "read_conll", _read_cached)


def _data_dir_for(*parts):
    base = real_data_dir()
    if base is None or real_file(*parts) is None:
        pytest.skip("real data not found")
    return str(base)


def _lines(sentences):
    return [s.line for s in sentences]


def test_chunking_dev_sample(cached_reads):
    data_dir = _data_dir_for("conll2000", "train.txt")
    full = _read_cached(real_file("conll2000", "train.txt"), CONLL2000)
    splits = tasks.load_splits(tasks.CHUNKING, data_dir)
    assert len(splits.dev) == 1000 and len(splits.train) == 8936 - 1000
    assert len(splits.test) == 2012
    train_lines, dev_lines = _lines(splits.train), _lines(splits.dev)
    assert not set(train_lines) & set(dev_lines)
    assert sorted(train_lines + dev_lines) == _lines(full)
    assert train_lines == sorted(train_lines) and dev_lines == sorted(dev_lines)  # file order
    again = tasks.load_splits(tasks.CHUNKING, data_dir, dev_seed=0)
    assert _lines(again.dev) == dev_lines and _lines(again.train) == train_lines
    other = tasks.load_splits(tasks.CHUNKING, data_dir, dev_seed=1)
    assert len(other.dev) == 1000 and _lines(other.dev) != dev_lines


def test_chunking_train_with_dev(cached_reads):
    data_dir = _data_dir_for("conll2000", "train.txt")
    splits = tasks.load_splits(tasks.CHUNKING, data_dir, train_with_dev=True)
    assert len(splits.dev) == 1000 and len(splits.train) == 8936
    assert splits.train[-1000:] == splits.dev


def test_ner_splits(cached_reads):
    data_dir = _data_dir_for("conll2003", "eng.train")
    splits = tasks.load_splits(tasks.NER, data_dir)
    assert [len(s) for s in splits] == [14_041, 3_250, 3_453]
    with_dev = tasks.load_splits(tasks.NER, data_dir, train_with_dev=True)
    assert len(with_dev.train) == 14_041 + 3_250
    assert with_dev.train[:14_041] == splits.train and with_dev.train[14_041:] == splits.dev
    assert with_dev.dev == splits.dev and with_dev.test == splits.test


def test_train_fraction(cached_reads):
    data_dir = _data_dir_for("conll2000", "train.txt")
    full = tasks.load_splits(tasks.CHUNKING, data_dir)
    small = tasks.load_splits(tasks.CHUNKING, data_dir, train_fraction=0.01)
    assert len(small.train) == round(0.01 * 7936) == 79
    assert _lines(small.dev) == _lines(full.dev) and len(small.test) == 2012
    lines = _lines(small.train)
    assert lines == sorted(lines) and set(lines) <= set(_lines(full.train))
    again = tasks.load_splits(tasks.CHUNKING, data_dir, train_fraction=0.01)
    assert _lines(again.train) == lines
    other = tasks.load_splits(tasks.CHUNKING, data_dir, train_fraction=0.01, fraction_seed=1)
    assert len(other.train) == 79 and _lines(other.train) != lines
    # with dev added: the fraction is taken first, then the whole dev set is appended
    both = tasks.load_splits(tasks.CHUNKING, data_dir, train_fraction=0.01, train_with_dev=True)
    assert _lines(both.train) == lines + _lines(full.dev)


def test_train_fraction_ner(cached_reads):
    data_dir = _data_dir_for("conll2003", "eng.train")
    small = tasks.load_splits(tasks.NER, data_dir, train_fraction=0.01)
    assert len(small.train) == round(0.01 * 14_041) == 140
    tiny = tasks.load_splits(tasks.NER, data_dir, train_fraction=1e-9)
    assert len(tiny.train) == 1


def test_sample_dev_too_large():
    sentences = [Sentence(("a",), ("O",), line=i) for i in range(5)]
    with pytest.raises(InputError, match="cannot sample 5 dev sentences from 5"):
        tasks.sample_dev(sentences, 5, seed=0)
    train, dev = tasks.sample_dev(sentences, 4, seed=0)
    assert len(train) == 1 and len(dev) == 4


def test_task_paths_and_missing_data_dir(tmp_path):
    paths = tasks.task_paths(tasks.CHUNKING, "/d")
    assert paths == {"train": "/d/conll2000/train.txt", "test": "/d/conll2000/test.txt"}
    assert tasks.task_paths(tasks.NER, "/d")["dev"] == "/d/conll2003/eng.testa"
    with pytest.raises(InputError) as info:
        tasks.load_splits(tasks.NER, str(tmp_path))
    assert info.value.path == str(tmp_path / "conll2003" / "eng.train")


def test_default_data_dir(monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV, "/somewhere")
    assert paths.default_data_dir() == "/somewhere"
    monkeypatch.delenv(paths.DATA_DIR_ENV)
    assert paths.default_data_dir() == "data"


# ---------------------------------------------------------------- BOM, line ends, separators

NER_LINES = [
    "-DOCSTART- -X- -X- O",
    "",
    "EU NNP I-NP I-ORG",
    "rejects VBZ I-VP O",
    "",
    "Peter NNP I-NP I-PER",
    "Blackburn NNP I-NP I-PER",
    "",
]


def _summary(sentences):
    return [(s.tokens, s.tags, s.columns, s.line) for s in sentences]


@pytest.mark.parametrize("bom,ending", [(True, "\n"), (False, "\r"), (True, "\r"), (True, "\r\n")])
def test_bom_and_line_ends_give_the_same_sentences(tmp_path, bom, ending):
    plain = conll.read_conll(_write(tmp_path, "\n".join(NER_LINES), "plain.txt"), CONLL2003)
    assert _summary(plain) == [
        (("EU", "rejects"), ("I-ORG", "O"), (("NNP", "I-NP"), ("VBZ", "I-VP")), 3),
        (("Peter", "Blackburn"), ("I-PER", "I-PER"), (("NNP", "I-NP"), ("NNP", "I-NP")), 6),
    ]
    text = ("\ufeff" if bom else "") + ending.join(NER_LINES)
    assert _summary(conll.read_conll(_write(tmp_path, text), CONLL2003)) == _summary(plain)


def test_unicode_spaces_belong_to_the_token(tmp_path):
    lines = [
        "1\u00a0200 CD I-NP O",
        "a\u2009b\u3000c NN I-NP O",
        "x\u0085y\u2028z\u2029w NN I-NP O",
        "v\x0bw\x0cu NN I-NP O",
        "",
        "tab\tNN\tI-NP\tI-LOC",
    ]
    sentences = conll.read_conll(_write(tmp_path, "\n".join(lines) + "\n"), CONLL2003)
    assert _summary(sentences) == [
        (
            ("1\u00a0200", "a\u2009b\u3000c", "x\u0085y\u2028z\u2029w", "v\x0bw\x0cu"),
            ("O",) * 4,
            (("CD", "I-NP"),) + (("NN", "I-NP"),) * 3,
            1,
        ),
        (("tab",), ("I-LOC",), (("NN", "I-NP"),), 6),
    ]


def test_errors_name_the_line_of_cr_only_and_bom_files(tmp_path):
    text = "\ufeff" + "\r".join(NER_LINES[:4] + ["Peter\u00a0NNP I-NP I-PER"]) + "\r"
    _raises_at(_write(tmp_path, text), CONLL2003, 5, "expected 4 columns", "found 3")
