"""Tests for taglm_tf.data.pipeline (batching, tf.data input), vocab and resources."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest

from taglm_tf.data.conll import Sentence
from taglm_tf.data.featurizer import Featurizer, normalize_word_list
from taglm_tf.data.pipeline import TaggingData, batch_order, encode_tags
from taglm_tf.data.resources import Resources, build_resources
from taglm_tf.data.vocab import (
    PAD,
    UNK,
    Vocabulary,
    build_vocabulary,
    count_items,
    load_vocabularies,
    save_vocabularies,
)
from taglm_tf.utils.errors import InputError

# ---------------------------------------------------------------- batch_order

LENGTHS = np.random.default_rng(123).integers(1, 60, size=1003)


def _flat(batches):
    return np.concatenate(batches).tolist()


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7, 32, 2000])
def test_batch_order_covers_every_sentence_once(shuffle, batch_size):
    batches = batch_order(LENGTHS, batch_size, shuffle, seed=3, epoch=2)
    assert sorted(_flat(batches)) == list(range(len(LENGTHS)))
    assert all(0 < len(b) <= batch_size for b in batches)
    assert len(batches) >= -(-len(LENGTHS) // batch_size)


def test_batch_order_deterministic_per_seed_and_epoch():
    def order(seed, epoch):
        return [b.tolist() for b in batch_order(LENGTHS, 16, True, seed=seed, epoch=epoch)]

    assert order(0, 0) == order(0, 0)
    assert order(5, 3) == order(5, 3)
    assert order(0, 0) != order(0, 1)
    assert order(0, 0) != order(1, 0)
    assert order(0, 1) != order(1, 0)
    assert order(0, 0) != [b.tolist() for b in batch_order(LENGTHS, 16, False)]


def test_batch_order_without_shuffle_sorted_by_length():
    batches = batch_order(LENGTHS, 10, shuffle=False)
    flat = _flat(batches)
    lengths = LENGTHS[flat]
    assert np.all(np.diff(lengths) <= 0)
    # ties keep file order (stable)
    for length in set(lengths.tolist()):
        same = [i for i in flat if LENGTHS[i] == length]
        assert same == sorted(same)
    assert [len(b) for b in batches] == [10] * 100 + [3]
    assert batch_order(LENGTHS, 10, shuffle=False, seed=9, epoch=4)[0].tolist() == batches[0].tolist()


def test_batch_order_shuffled_batches_are_length_bucketed():
    batches = batch_order(LENGTHS, 8, True, seed=0, epoch=0)
    assert all(np.all(np.diff(LENGTHS[b]) <= 0) for b in batches)
    # bucketing makes batches far more uniform than random batches would be
    spread = np.mean([LENGTHS[b].max() - LENGTHS[b].min() for b in batches])
    assert spread < 10


def test_batch_order_tiny_inputs():
    assert batch_order([], 4, False) == []
    assert batch_order([], 4, True) == []
    assert [b.tolist() for b in batch_order([3], 4, True)] == [[0]]


# ---------------------------------------------------------------- TaggingData

SENTENCES = [
    Sentence(("EU", "rejects", "German", "call"), ("S-ORG", "O", "S-MISC", "O"), line=3),
    Sentence(("Peter", "Blackburn"), ("B-PER", "E-PER"), line=9),
    Sentence(("BRUSSELS", "1996-08-22"), ("S-LOC", "O"), line=13),
    Sentence(("The",), ("O",), line=17),
    Sentence(
        ("The", "European", "Commission", "said", "on", "Thursday", "it", "the"),
        ("O", "B-ORG", "E-ORG", "O", "O", "O", "O", "O"),
        line=20,
    ),
]


@pytest.fixture(scope="module")
def resources():
    return build_resources(SENTENCES)


@pytest.fixture(scope="module")
def featurizer(resources):
    return resources.featurizer()


def _collect(ds):
    return [{k: v.numpy() for k, v in batch.items()} for batch in ds]


def _spell(chars, row):
    return "".join(chars.items[c] for c in row if c != 0)


@pytest.mark.parametrize("shuffle", [False, True])
def test_dataset_batches(resources, featurizer, shuffle):
    data = TaggingData(SENTENCES, featurizer, resources.tags, source="train.txt")
    assert data.num_tokens == 17
    batches = _collect(data.dataset(batch_size=2, shuffle=shuffle, seed=1, epoch=0))
    assert sorted(i for b in batches for i in b["index"].tolist()) == list(range(len(SENTENCES)))
    for b in batches:
        assert set(b) == {"word_ids", "char_ids", "char_index", "tags", "index"}
        assert b["index"].dtype == np.int64 and b["tags"].dtype == np.int32
        width = max(len(SENTENCES[i]) for i in b["index"])
        assert b["word_ids"].shape == b["tags"].shape == b["char_index"].shape == (len(b["index"]), width)
        for row, i in enumerate(b["index"]):
            s = SENTENCES[i]
            n = len(s)
            normalized = normalize_word_list(list(s.tokens))
            assert b["word_ids"][row, :n].tolist() == [resources.words.id(w) for w in normalized]
            assert b["tags"][row, :n].tolist() == [resources.tags.id(t) for t in s.tags]
            assert not b["word_ids"][row, n:].any() and not b["tags"][row, n:].any()
            spelled = [_spell(resources.chars, b["char_ids"][k]) for k in b["char_index"][row]]
            assert spelled == list(s.tokens) + [""] * (width - n)
    if not shuffle:
        assert [b["index"].tolist() for b in batches] == [[4, 0], [1, 2], [3]]


def test_dataset_epochs(resources, featurizer):
    data = TaggingData(SENTENCES * 20, featurizer, resources.tags)

    def order(epoch):
        return [
            i
            for b in _collect(data.dataset(4, shuffle=True, seed=0, epoch=epoch))
            for i in b["index"].tolist()
        ]

    assert order(0) == order(0)
    assert order(0) != order(1)
    assert sorted(order(1)) == list(range(100))


def test_dataset_without_tags(featurizer):
    data = TaggingData(SENTENCES, featurizer)
    assert data.tag_ids is None
    for b in _collect(data.dataset(3)):
        assert not b["tags"].any()
        assert (b["word_ids"] > 0).sum() == sum(len(SENTENCES[i]) for i in b["index"])


def test_dataset_features_source(resources, featurizer):
    calls = []

    def features(indices, width):
        calls.append((indices.tolist(), width))
        out = np.zeros((len(indices), width, 3), np.float32)
        for row, i in enumerate(indices):
            for t in range(len(SENTENCES[i])):
                out[row, t] = [i, t, 1.0]
        return out

    data = TaggingData(SENTENCES, featurizer, resources.tags, features=features)
    batches = _collect(data.dataset(2))
    assert sorted(calls) == sorted((b["index"].tolist(), b["tags"].shape[1]) for b in batches)
    for b in batches:
        f = b["features"]
        assert f.dtype == np.float32 and f.shape == b["tags"].shape + (3,)
        for row, i in enumerate(b["index"]):
            n = len(SENTENCES[i])
            assert f[row, :n, 0].tolist() == [i] * n
            assert f[row, :n, 1].tolist() == list(range(n))
            assert not f[row, n:].any()


def test_unknown_tag_names_file_and_line(resources, featurizer):
    sentences = SENTENCES + [Sentence(("a", "b"), ("O", "S-WEIRD"), line=42)]
    with pytest.raises(InputError) as info:
        TaggingData(sentences, featurizer, resources.tags, source="data/eng.testa")
    err = info.value
    assert err.path == "data/eng.testa" and err.line == 42
    assert "'S-WEIRD'" in str(err) and str(err).startswith("data/eng.testa:42: ")
    with pytest.raises(InputError) as info:
        encode_tags(sentences, resources.tags)
    assert info.value.path is None and info.value.line == 42


def test_encode_tags(resources):
    encoded = encode_tags(SENTENCES[:2], resources.tags)
    assert [e.dtype for e in encoded] == [np.int32, np.int32]
    assert [resources.tags.items[i] for i in encoded[1]] == ["B-PER", "E-PER"]
    assert all(i > 0 for e in encoded for i in e)  # 0 is padding


# ---------------------------------------------------------------- Vocabulary


def test_vocabulary_basics():
    v = Vocabulary(["b", "a", UNK, "c", PAD])
    assert v.items == [PAD, UNK, "b", "a", "c"] and len(v) == 5
    assert v.id(PAD) == 0 and v.id(UNK) == 1 and v.id("a") == 3 and v.id("zzz") == 1
    assert "a" in v and "zzz" not in v
    tags = Vocabulary(["O", "S-PER"], with_unk=False)
    assert tags.items == [PAD, "O", "S-PER"] and tags.id("S-PER") == 2
    with pytest.raises(KeyError):
        tags.id("B-PER")
    with pytest.raises(ValueError):
        Vocabulary(["a", "b", "a"])


def test_build_vocabulary_order_and_min_count():
    counts = count_items([["b", "a", "c", "b"], ["a", "d", "b"]])
    assert counts == collections.Counter({"b": 3, "a": 2, "c": 1, "d": 1})
    v = build_vocabulary(counts)
    assert v.items[2:] == ["b", "a", "c", "d"]  # by frequency, then by string
    v = build_vocabulary(counts, min_count=2, extra=["z", "c", "a", "z"])
    assert v.items[2:] == ["b", "a", "z", "c"]
    chars = count_items(["ab", "ba", "a"])  # strings count characters
    assert chars == collections.Counter({"a": 3, "b": 2})


@pytest.mark.parametrize("with_unk", [True, False])
def test_vocabulary_json_round_trip(tmp_path, with_unk):
    vocabs = {
        "words": Vocabulary(["the", "école", "東京", "0000"]),
        "tags": Vocabulary(["O", "S-PER"], with_unk=with_unk),
    }
    path = tmp_path / "vocab.json"
    save_vocabularies(str(path), vocabs)
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temp file left
    json.loads(path.read_text(encoding="utf-8"))
    loaded = load_vocabularies(str(path))
    assert set(loaded) == {"words", "tags"}
    for k, v in vocabs.items():
        assert loaded[k].items == v.items and loaded[k].with_unk == v.with_unk
        assert Vocabulary.from_json(v.to_json()).items == v.items


def test_vocabulary_file_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(InputError) as info:
        load_vocabularies(str(missing))
    assert info.value.path == str(missing)
    for name, data in [
        ("truncated.json", b'{"words": {"items": ["a"'),
        ("latin1.json", b'{"words": {"items": ["caf\xe9"], "with_unk": true}}'),
        ("empty.json", b""),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError) as info:
            load_vocabularies(str(path))
        assert info.value.path == str(path)
        assert "cannot read vocabularies" in str(info.value)


@pytest.mark.parametrize("content", ['{"words": {"itemz": []}}', "[1, 2]", '{"words": 3}'])
def test_vocabulary_file_wrong_structure(tmp_path, content):
    path = tmp_path / "vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_vocabularies(str(path))
    assert info.value.path == str(path)


def test_vocabulary_file_duplicate_entries(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('{"words": {"items": ["a", "a"], "with_unk": true}}', encoding="utf-8")
    with pytest.raises(ValueError):  # InputError would be nicer; ValueError at least
        load_vocabularies(str(path))


# ---------------------------------------------------------------- build_resources

TRAIN = [
    Sentence(("EU", "rejects", "German", "EU", "1996"), ("S-ORG", "O", "S-MISC", "S-ORG", "O")),
    Sentence(("Smith", "eu"), ("S-PER", "O")),
]
OTHER = [
    Sentence(("Paris", "Blackburn", "EU", "Zürich", "1997"), ("S-LOC", "S-PER", "S-ORG", "S-LOC", "S-DATE"))
]
EMB = {
    "eu": [1, 2],
    "german": [3, 4],
    "0000": [5, 6],
    "paris": [7, 8],
    "zürich": [9, 10],
    "unused": [11, 12],
    "rejects": [0.5, 0.25],
}


@pytest.fixture
def emb_file(tmp_path):
    path = tmp_path / "emb.txt"
    path.write_text("".join(f"{w} {v[0]} {v[1]}\n" for w, v in EMB.items()), encoding="utf-8")
    return str(path)


def test_build_resources_with_embeddings(emb_file):
    res = build_resources(TRAIN, OTHER, embeddings_path=emb_file, word_dim=2, seed=0)
    # train words by frequency (eu x3 after normalisation), then other-split words with vectors
    assert res.words.items == [PAD, UNK, "eu", "0000", "german", "rejects", "smith", "paris", "zürich"]
    assert "blackburn" not in res.words and "unused" not in res.words
    assert res.chars.items[2:5] == ["e", "9", "E"]  # raw (not lowercased) chars, by frequency
    train_chars = {c for s in TRAIN for t in s.tokens for c in t}
    assert set(res.chars.items[2:]) == train_chars  # e.g. no "P"/"ü" from the other split
    assert res.tags.items == [PAD, "O", "S-MISC", "S-ORG", "S-PER"] and not res.tags.with_unk
    m = res.word_vectors
    assert m.shape == (9, 2) and m.dtype == np.float32
    assert res.pretrained_found == 6
    np.testing.assert_array_equal(m[0], 0.0)
    for w, v in EMB.items():
        if w in res.words:
            np.testing.assert_array_equal(m[res.words.id(w)], np.asarray(v, np.float32))
    assert set(res.vocabularies()) == {"words", "chars", "tags"}
    assert isinstance(res, Resources) and isinstance(res.featurizer(), Featurizer)


def test_build_resources_deterministic(emb_file):
    a = build_resources(TRAIN, OTHER, embeddings_path=emb_file, word_dim=2, seed=4)
    b = build_resources(TRAIN, OTHER, embeddings_path=emb_file, word_dim=2, seed=4)
    assert a.words.items == b.words.items
    np.testing.assert_array_equal(a.word_vectors, b.word_vectors)


def test_build_resources_without_embeddings():
    res = build_resources(TRAIN, OTHER)
    assert res.word_vectors is None and res.pretrained_found == 0
    assert res.words.items[2:] == ["eu", "0000", "german", "rejects", "smith"]  # other split ignored


def test_build_resources_wrong_dimension(emb_file):
    with pytest.raises(InputError) as info:  # a user's flags: one error line, not a traceback
        build_resources(TRAIN, OTHER, embeddings_path=emb_file, word_dim=50)
    assert str(info.value) == f"{emb_file}: has 2-d vectors, but --word_dim is 50"


def test_build_resources_bad_embedding_file(tmp_path):
    path = tmp_path / "emb.txt"
    path.write_text("eu 1 2\ngerman 3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        build_resources(TRAIN, embeddings_path=str(path), word_dim=2)
    assert info.value.path == str(path) and info.value.line == 2


def test_featurizer_from_resources_matches_vocab(emb_file):
    res = build_resources(TRAIN, OTHER, embeddings_path=emb_file, word_dim=2)
    data = TaggingData(OTHER, res.featurizer())  # other-split words with vectors are known
    [batch] = [{k: v.numpy() for k, v in b.items()} for b in data.dataset(4)]
    assert batch["word_ids"][0].tolist() == [
        res.words.id("paris"),
        1,
        res.words.id("eu"),
        res.words.id("zürich"),
        res.words.id("0000"),
    ]


def test_dataset_frees_its_data_once_dropped(featurizer):
    # TF 2.15's from_generator keeps its py_funcs for the life of the process; the batches and
    # the data they index must not be held through them (the tagging CLI makes a dataset per
    # chunk: its memory grew with the input).
    import gc
    import weakref

    refs = []
    for _ in range(3):
        data = TaggingData(SENTENCES, featurizer)
        ds = data.dataset(2)
        assert sum(len(b["index"]) for b in _collect(ds)) == len(SENTENCES)
        assert sum(len(b["index"]) for b in _collect(ds)) == len(SENTENCES)  # a second pass works
        refs.append(weakref.ref(data))
        del data, ds
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
