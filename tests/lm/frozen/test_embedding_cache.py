"""The LM-embedding cache: round trip, dtypes, memory mapping, and refusal of stale caches."""

import numpy as np
import pytest

from taglm_tf.lm.frozen.cache import EmbeddingCache, sentences_fingerprint, write_cache
from taglm_tf.utils.errors import InputError

SENTENCES = [["EU", "rejects", "German", "call"], ["Peter"], ["a", "b", "c"], ["ü", "東京"]]
DIM = 5


def fake_embed(batch):
    """Deterministic per-token vectors that depend on the token and its position."""
    out = []
    for tokens in batch:
        rows = [
            [(sum(map(ord, t)) % 97) / 7.0 + p + d / 10.0 for d in range(DIM)] for p, t in enumerate(tokens)
        ]
        out.append(np.array(rows, np.float32).reshape(len(tokens), DIM))
    return out


def build(path, dtype="float32", sentences=SENTENCES, chunk=3):
    write_cache(
        str(path),
        fake_embed,
        sentences,
        dim=DIM,
        lm_fingerprint="lm-A",
        layer="lstm_1",
        dtype=dtype,
        chunk=chunk,
    )


@pytest.mark.parametrize("in_memory", [False, True])
def test_round_trip_float32_is_exact(tmp_path, in_memory):
    build(tmp_path / "c.h5")
    cache = EmbeddingCache(str(tmp_path / "c.h5"), in_memory=in_memory)
    expected = fake_embed(SENTENCES)
    assert len(cache) == len(SENTENCES)
    for i, vectors in enumerate(expected):
        np.testing.assert_array_equal(cache.sentence(i), vectors)
    padded = cache.features(np.array([2, 0]), width=6)
    assert padded.shape == (2, 6, DIM)
    np.testing.assert_array_equal(padded[0, :3], expected[2])
    assert not padded[0, 3:].any()


def test_float16_is_within_half_precision(tmp_path):
    build(tmp_path / "c.h5", dtype="float16")
    cache = EmbeddingCache(str(tmp_path / "c.h5"))
    assert cache.meta["dtype"] == "float16"
    for i, vectors in enumerate(fake_embed(SENTENCES)):
        np.testing.assert_allclose(cache.sentence(i), vectors, rtol=1e-3)


def test_metadata_and_fingerprints(tmp_path):
    build(tmp_path / "c.h5")
    meta = EmbeddingCache(str(tmp_path / "c.h5")).meta
    assert meta["lm_fingerprint"] == "lm-A" and meta["layer"] == "lstm_1"
    assert meta["dataset_fingerprint"] == sentences_fingerprint(SENTENCES)
    assert sentences_fingerprint([["a b"]]) != sentences_fingerprint([["a", "b"]])


@pytest.mark.parametrize(
    "key,value",
    [
        ("lm_fingerprint", "lm-B"),
        ("layer", "lstm_0"),
        ("dataset_fingerprint", sentences_fingerprint([["x"]])),
    ],
)
def test_stale_cache_is_refused(tmp_path, key, value):
    build(tmp_path / "c.h5")
    with pytest.raises(InputError, match=f"stale or mismatched cache: {key}"):
        EmbeddingCache(str(tmp_path / "c.h5"), expect={key: value})


def test_failed_write_leaves_no_file(tmp_path):
    def broken(batch):
        raise RuntimeError("LM crashed")

    with pytest.raises(RuntimeError):
        write_cache(str(tmp_path / "c.h5"), broken, SENTENCES, dim=DIM, lm_fingerprint="x", layer="l")
    assert list(tmp_path.iterdir()) == []


def test_wrong_shape_from_embedder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="sentence 0"):
        write_cache(
            str(tmp_path / "c.h5"),
            lambda b: [np.zeros((1, DIM))] * len(b),
            SENTENCES,
            dim=DIM,
            lm_fingerprint="x",
            layer="l",
        )
    assert not (tmp_path / "c.h5").exists()


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        EmbeddingCache(str(tmp_path / "none.h5"))
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="not a readable embedding cache"):
        EmbeddingCache(str(tmp_path / "bad.h5"))
