"""LM data: shard reading, lm_1b-style window packing, reversal, shuffling/resume positions and
per-replica rows."""

import gzip
import lzma

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder
from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.lm.pretraining.corpus import LMCorpus, Position, pack_windows
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import InputError

LINES = ["a b c d", "", "b c", "d a b c d a b", "c"]


def write(path, lines, opener=open):
    with opener(str(path), "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return str(path)


@pytest.fixture
def vocab():
    return LMVocabulary(["<S>", "</S>", "<UNK>", "a", "b", "c", "d"])


def test_pack_windows_is_lm1b_get_batch():
    s1, s2, s3 = [0, 3, 4, 1], [0, 5, 1], [0, 6, 7, 8, 1]
    windows = list(
        pack_windows(
            iter([(np.array(s), Position(0, 0, i)) for i, s in enumerate((s1, s2, s3))]),
            batch_size=2,
            num_steps=3,
        )
    )
    assert len(windows) == 2
    w1, w2 = windows
    np.testing.assert_array_equal(w1["inputs"], [[0, 3, 4], [0, 5, 0]])
    np.testing.assert_array_equal(w1["targets"], [[3, 4, 1], [5, 1, 6]])
    np.testing.assert_array_equal(w1["weights"], np.ones((2, 3)))
    # row 1 continues sentence 3 where it stopped; row 0 has no data left
    np.testing.assert_array_equal(w2["inputs"], [[0, 0, 0], [6, 7, 8]])
    np.testing.assert_array_equal(w2["targets"], [[0, 0, 0], [7, 8, 1]])
    np.testing.assert_array_equal(w2["weights"], [[0, 0, 0], [1, 1, 1]])
    assert w2["position"].tolist() == [0, 0, 2]


def test_files_plain_gz_xz_and_blank_lines(tmp_path, vocab):
    plain = write(tmp_path / "s.txt", LINES)
    for path in (
        plain,
        write(tmp_path / "s.gz", LINES, gzip.open),
        write(tmp_path / "s.xz", LINES, lzma.open),
    ):
        sentences = [ids.tolist() for ids, _ in LMCorpus([path], vocab).sentences()]
        assert sentences[:2] == [[0, 3, 4, 5, 6, 1], [0, 4, 5, 1]]
        assert len(sentences) == 4


def test_backward_reads_reversed_sentences(tmp_path, vocab):
    path = write(tmp_path / "s.txt", ["a b c d"])
    forward, backward = (
        next(iter(lm_data.window_dataset(LMCorpus([path], vocab, d), 1, 6))) for d in ("forward", "backward")
    )
    a, b, c, d = 3, 4, 5, 6
    assert forward["inputs"].numpy().tolist() == [[0, a, b, c, d, 0]]
    assert forward["targets"].numpy().tolist() == [[a, b, c, d, 1, 0]]
    assert backward["inputs"].numpy().tolist() == [[0, d, c, b, a, 0]]
    assert backward["targets"].numpy().tolist() == [[d, c, b, a, 1, 0]]
    assert backward["weights"].numpy().tolist() == [[1, 1, 1, 1, 1, 0]]


def test_bad_files(tmp_path, vocab):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a b\nc \xff d\n")
    with pytest.raises(InputError, match=r"bad.txt:2: not valid UTF-8"):
        list(LMCorpus([str(bad)], vocab).sentences())
    with pytest.raises(InputError, match="matches no file"):
        lm_data.expand_files(str(tmp_path / "nothing-*.txt"))
    with pytest.raises(InputError, match="no such file"):
        lm_data.expand_files(f"{bad},{tmp_path / 'missing.txt'}")


def test_expand_files_sorted_and_deduplicated(tmp_path):
    paths = [write(tmp_path / f"s{i}.txt", ["a"]) for i in (2, 1)]
    assert lm_data.expand_files(f"{tmp_path}/s*.txt,{paths[0]}") == sorted(paths)


@pytest.fixture
def shards(tmp_path):
    words = "a b c d".split()
    rng = np.random.default_rng(0)
    return [
        write(
            tmp_path / f"shard{f}.txt",
            [" ".join(rng.choice(words, rng.integers(1, 5))) + f" {f}{i}" for i in range(25)],
        )
        for f in range(3)
    ]


def test_shuffled_stream_is_seeded_and_reshuffled_per_epoch(shards, vocab):
    def stream(seed):
        corpus = LMCorpus(shards, vocab, shuffle=True, seed=seed, num_epochs=2, shuffle_chunk=10)
        return [(tuple(ids), pos) for ids, pos in corpus.sentences()]

    first = stream(1)
    assert first == stream(1) and first != stream(2)
    assert len(first) == 150
    epoch0, epoch1 = first[:75], first[75:]
    assert [s for s, _ in epoch0] != [s for s, _ in epoch1]  # shuffled differently in each epoch
    assert sorted(s for s, _ in epoch0) == sorted(s for s, _ in epoch1)  # same sentences


def test_restart_from_a_position_replays_its_chunk(shards, vocab):
    corpus = LMCorpus(shards, vocab, shuffle=True, seed=3, num_epochs=2, shuffle_chunk=10)
    stream = [(ids.tolist(), pos) for ids, pos in corpus.sentences()]
    positions = sorted({pos for _, pos in stream})
    assert len(positions) == 2 * 3 * 3  # epochs x files x chunks of 10 lines (25 lines per shard)
    for position in positions:
        first = next(i for i, (_, pos) in enumerate(stream) if pos == position)
        resumed = [(ids.tolist(), pos) for ids, pos in corpus.sentences(position)]
        assert resumed == stream[first:]


def test_replica_rows_of_the_global_window(shards, vocab):
    corpus = LMCorpus(shards, vocab, num_epochs=1)
    global_windows = list(lm_data.window_dataset(corpus, 4, 5).as_numpy_iterator())

    def elements(pipelines, pipeline_id):
        context = tf.distribute.InputContext(pipelines, pipeline_id, num_replicas_in_sync=2)
        return list(lm_data.replica_dataset(corpus, 2, 5, context).as_numpy_iterator())

    one_pipeline, two_pipelines = elements(1, 0), [elements(2, 0), elements(2, 1)]
    assert len(one_pipeline) == 2 * len(global_windows)
    for t, window in enumerate(global_windows):
        for replica in range(2):
            for key in ("inputs", "targets", "weights"):
                rows = window[key][2 * replica : 2 * replica + 2]
                np.testing.assert_array_equal(one_pipeline[2 * t + replica][key], rows)
                np.testing.assert_array_equal(two_pipelines[replica][t][key], rows)
            assert one_pipeline[2 * t + replica]["position"].tolist() == window["position"].tolist()


def test_mirrored_replicas_get_their_rows(shards, vocab):
    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.skip("needs two logical CPUs (tests/conftest.py)")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    corpus = LMCorpus(shards, vocab, num_epochs=1)
    global_windows = list(lm_data.window_dataset(corpus, 6, 4).as_numpy_iterator())
    distributed = list(lm_data.distributed_dataset(strategy, corpus, 3, 4))
    for window, batch in zip(global_windows, distributed, strict=True):
        local = [t.numpy() for t in strategy.experimental_local_results(batch["inputs"])]
        np.testing.assert_array_equal(np.concatenate(local), window["inputs"])


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_char_windows_carry_the_real_spelling_of_each_input(tmp_path, vocab, direction):
    chars = LM1BCharEncoder(vocab.words, max_word_length=8)
    path = write(tmp_path / "s.txt", ["a zebra b", "Zürich c"])
    corpus = LMCorpus([path], vocab, direction, chars=chars)
    windows = list(lm_data.window_dataset(corpus, 1, 4).as_numpy_iterator())
    inputs = np.concatenate([w["inputs"][0] for w in windows])
    read = np.concatenate([w["input_chars"][0] for w in windows])
    weights = np.concatenate([w["weights"][0] for w in windows])
    words = [["a", "zebra", "b"], ["Zürich", "c"]]
    expected = [t for s in words for t in ["<S>"] + (s[::-1] if direction == "backward" else s)]
    n = len(expected)
    assert weights[:n].tolist() == [1.0] * n and not weights[n:].any()
    assert [vocab.id_to_word(i) for i in inputs[:n]] == [w if w in vocab else "<UNK>" for w in expected]
    np.testing.assert_array_equal(read[:n], chars.encode_words(expected))  # "zebra", not "<UNK>"
    assert not read[n:].any()


# ---------------------------------------------------------------- interleaved sources


def _sources(tmp_path, sizes=(300, 120, 30)):
    """One file per source; a sentence names its source and line: ``s<k> w<i>``."""
    words = [f"s{k}" for k in range(len(sizes))] + [f"w{i}" for i in range(max(sizes))]
    vocab = LMVocabulary(["<S>", "</S>", "<UNK>"] + words)
    files = [
        write(tmp_path / f"source{k}.txt", [f"s{k} w{i}" for i in range(n)] + ([""] if k else []))
        for k, n in enumerate(sizes)
    ]
    return files, vocab


def _stream(corpus, start=Position()):
    return [
        (corpus.vocab.id_to_word(int(ids[1])), int(ids[2]), tuple(pos))
        for ids, pos in corpus.sentences(start)
    ]


def test_interleaving_mixes_every_source_through_the_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(lm_data, "INTERLEAVE_BLOCK", 10)  # 45 blocks for these 450 sentences
    files, vocab = _sources(tmp_path)
    corpus = LMCorpus(files, vocab, shuffle=True, seed=5, num_epochs=2, shuffle_chunk=50, interleave=True)
    assert corpus.sentence_counts() == [300, 120, 30]
    stream = _stream(corpus)
    epochs = [[s[:2] for s in stream if s[2][0] == e] for e in (0, 1)]
    expected = sorted(
        (f"s{k}", vocab.word_to_id(f"w{i}")) for k, n in enumerate((300, 120, 30)) for i in range(n)
    )
    assert sorted(epochs[0]) == expected and sorted(epochs[1]) == expected  # each sentence once per epoch
    assert epochs[0] != epochs[1]  # each epoch draws its own mix
    for half in (epochs[0][:225], epochs[0][225:]):  # sequential reading puts s2 in one half only
        assert {source for source, _ in half} == {"s0", "s1", "s2"}

    def switches(sources):
        return sum(a != b for a, b in zip(sources, sources[1:]))

    sequential = _stream(LMCorpus(files, vocab, shuffle=True, seed=5, num_epochs=1, shuffle_chunk=50))
    assert switches([s[0] for s in sequential]) == 2  # without interleaving: one source after another
    assert switches([source for source, _ in epochs[0]]) > 20  # sentences of sources shuffled together


def test_interleaved_stream_resumes_exactly_from_any_chunk(tmp_path):
    files, vocab = _sources(tmp_path)
    corpus = LMCorpus(files, vocab, shuffle=True, seed=2, num_epochs=2, shuffle_chunk=40, interleave=True)
    full = _stream(corpus)
    assert [s[2] for s in full][:1] == [(0, 0, 0)]
    for start in {(0, 3, 0)} | {full[-1][2]}:
        first = next(i for i, s in enumerate(full) if s[2] == start)
        assert _stream(corpus, Position(*start)) == full[first:]
    assert (
        _stream(LMCorpus(files, vocab, shuffle=True, seed=2, num_epochs=2, shuffle_chunk=40, interleave=True))
        == full
    )  # a function of files and seed only


@pytest.mark.parametrize("interleave", [True, False])
def test_windows_resumed_from_any_window_equal_the_uninterrupted_stream(tmp_path, monkeypatch, interleave):
    """The packer state a window carries (``resume``) rebuilds every row mid-sentence: the windows
    after it, chars included, are exactly those of the uninterrupted stream, across chunks,
    files and epochs."""
    monkeypatch.setattr(lm_data, "INTERLEAVE_BLOCK", 5)
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    vocab = LMVocabulary(["<S>", "</S>", "<UNK>"] + words)
    files = [
        write(
            tmp_path / f"source{k}.txt", [" ".join(rng.choice(words, rng.integers(1, 13))) for _ in range(n)]
        )
        for k, n in enumerate((40, 25, 9))
    ]
    corpus = LMCorpus(
        files,
        vocab,
        "backward",
        shuffle=True,
        seed=3,
        num_epochs=2,
        shuffle_chunk=7,
        interleave=interleave,
        chars=LM1BCharEncoder(vocab.words, 6),
    )
    full = list(pack_windows(corpus.sentences(), 3, 4, corpus.max_word_length))
    assert len(full) > 60 and len({tuple(w["position"]) for w in full}) > 8
    assert any((w["resume"][:3, 4] > 0).all() for w in full)  # all rows mid-sentence somewhere
    for i, window in enumerate(full[:-1]):
        state = window["resume"]
        resumed = pack_windows(
            corpus.sentences(lm_data.resume_anchor(state)), 3, 4, corpus.max_word_length, state
        )
        for expected, got in zip(full[i + 1 : i + 4], resumed):  # the next 3 (all of them: below)
            for key in expected:
                np.testing.assert_array_equal(got[key], expected[key], err_msg=f"window {i} + 1: {key}")
    via_tf_data = list(lm_data.window_dataset(corpus, 3, 4, full[20]["resume"]).as_numpy_iterator())
    for expected, got in zip(full[21:], via_tf_data, strict=True):
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key])

    with pytest.raises(InputError, match="does not fit 2 rows"):
        next(pack_windows(iter(()), 2, 4, 0, full[0]["resume"]))
    other = LMCorpus(
        files[:2],
        vocab,
        "backward",
        shuffle=True,
        seed=3,
        num_epochs=2,
        shuffle_chunk=7,
        interleave=interleave,
    )
    late = full[-2]["resume"]
    with pytest.raises(InputError, match="no longer holds"):
        next(pack_windows(other.sentences(lm_data.resume_anchor(late)), 3, 4, 0, late))
