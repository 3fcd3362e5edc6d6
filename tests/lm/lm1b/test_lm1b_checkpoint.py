"""Reading, validating and reassembling lm_1b V1 checkpoints written by the test itself."""

import os
import shutil

import numpy as np
import pytest

from lm1b_fakes import WIDTHS, fake_tensors, release_file, sharded, write_release, write_v1
from lm1b_numpy import softmax_matrix
from taglm_tf.lm.lm1b import checkpoint as lm1b_checkpoint
from taglm_tf.lm.lm1b.checkpoint import checkpoint_fingerprint, read_lm1b_checkpoint
from taglm_tf.utils.errors import InputError

BASE = fake_tensors(seed=1)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return BASE, write_release(str(tmp_path_factory.mktemp("release")), BASE)


@pytest.fixture
def write_variant(tmp_path, release):
    """Copy the release, then rewrite only the files whose tensors change."""

    def write(change=None, drop=(), skip=()):
        directory = str(tmp_path / "ckpt")
        shutil.copytree(os.path.dirname(release[1]), directory)
        tensors = {**BASE, **(change or {})}
        for name in drop:
            del tensors[name]
        touched = {release_file(n) for n in list(change or {}) + list(drop)}
        for file_name in touched:
            group = {n: v for n, v in tensors.items() if release_file(n) == file_name}
            os.remove(os.path.join(directory, file_name))
            if group:
                write_v1(os.path.join(directory, file_name), group)
        for file_name in skip:
            os.remove(os.path.join(directory, file_name))
        return os.path.join(directory, "ckpt-*")

    return write


def test_dims_are_inferred(release):
    weights = read_lm1b_checkpoint(release[1])
    d = weights.dims
    assert (d.char_vocab_size, d.char_dim, d.conv_widths) == (256, 4, WIDTHS)
    assert d.conv_filters == (1, 1, 2, 2, 2, 2, 3, 3)
    assert (d.num_highway, d.highway_dim, d.projection_dim) == (2, 16, 8)
    assert (d.num_lstm_layers, d.lstm_cells, d.softmax_rows, d.num_shards) == (2, 16, 24, 8)
    assert weights.global_step == 1234


def test_shards_are_reassembled(release):
    t, pattern = release
    w = read_lm1b_checkpoint(pattern)

    def cat(prefix):
        return np.concatenate([t[f"{prefix}_{s}"] for s in range(8)], axis=0)

    np.testing.assert_array_equal(w.char_embedding, t["char_embedding/W"])
    np.testing.assert_array_equal(w.conv_kernels[6], t["char_embedding/cnn_6/kernel"][:, :, 0, :])
    np.testing.assert_array_equal(w.conv_biases[7], t["char_embedding/cnn_7/b"].reshape(-1))
    np.testing.assert_array_equal(w.highway[1].gate_kernel, cat("char_embedding/dense_1/gate/W"))
    np.testing.assert_array_equal(w.highway[0].transform_bias, t["char_embedding/dense_0/tr/b"][0])
    np.testing.assert_array_equal(w.projection_kernel, cat("char_embedding/proj/W"))
    np.testing.assert_array_equal(w.lstm[1].kernel, cat("lstm/lstm_1/W"))
    np.testing.assert_array_equal(w.lstm[0].projection, cat("lstm/lstm_0/W_P"))
    np.testing.assert_array_equal(w.lstm[1].w_o_diag, t["lstm/lstm_1/W_O_diag"])
    np.testing.assert_array_equal(w.softmax_kernel, softmax_matrix(t).astype(np.float32))
    np.testing.assert_array_equal(w.softmax_bias, t["softmax/b"])
    assert w.lstm[0].kernel.dtype == np.float32 and w.lstm[0].kernel.shape == (16, 64)


def test_softmax_rows_are_interleaved(write_variant):
    # Shard s, row r holds the value 100 * s + r; word v must get row v // 8 of shard v % 8.
    rows = np.arange(2, dtype=np.float32)[:, None]
    change = {f"softmax/W_{s}": np.full((2, 8), 100 * s, np.float32) + rows for s in range(8)}
    change["softmax/b"] = np.zeros(16, np.float32)
    weights = read_lm1b_checkpoint(write_variant(change))
    expected = [0, 100, 200, 300, 400, 500, 600, 700, 1, 101, 201, 301, 401, 501, 601, 701]
    assert weights.softmax_kernel[:, 0].tolist() == expected
    assert (weights.softmax_kernel == weights.softmax_kernel[:, :1]).all()


def test_uneven_shards_concatenate_in_order(write_variant):
    full = np.arange(16 * 64, dtype=np.float32).reshape(16, 64)
    parts = np.array_split(full, [3, 6, 8, 10, 12, 14, 15])  # first shards one row longer
    change = {f"lstm/lstm_0/W_{s}": part for s, part in enumerate(parts)}
    weights = read_lm1b_checkpoint(write_variant(change))
    np.testing.assert_array_equal(weights.lstm[0].kernel, full)


def test_without_softmax_no_softmax_tensor_is_needed_or_read(write_variant, monkeypatch):
    skip = [f"ckpt-softmax{s}" for s in range(9)]
    pattern = write_variant(skip=skip[:4])
    read = []
    original = lm1b_checkpoint.ShardSet.read
    monkeypatch.setattr(
        lm1b_checkpoint.ShardSet, "read", lambda self, name: read.append(name) or original(self, name)
    )
    weights = read_lm1b_checkpoint(pattern, include_softmax=False)
    assert weights.softmax_kernel is None and weights.dims.softmax_rows == 0
    assert read and not [name for name in read if name.startswith("softmax")]
    with pytest.raises(InputError, match=r"missing tensor 'softmax/W_0' \(expected in ckpt-softmax0\)"):
        read_lm1b_checkpoint(pattern, include_softmax=True)


def test_list_of_files_and_single_file(release):
    directory = os.path.dirname(release[1])
    files = [os.path.join(directory, f) for f in sorted(os.listdir(directory))]
    from_list = read_lm1b_checkpoint(files)
    np.testing.assert_array_equal(from_list.softmax_kernel, read_lm1b_checkpoint(release[1]).softmax_kernel)
    with pytest.raises(InputError, match="missing tensor 'lstm/lstm_0/W_F_diag'"):
        read_lm1b_checkpoint(os.path.join(directory, "ckpt-char-embedding"), include_softmax=False)


def test_missing_shard_file_names_the_tensor_and_pattern(write_variant):
    pattern = write_variant(skip=["ckpt-softmax3"])
    with pytest.raises(
        InputError, match=r"missing tensor 'softmax/W_3' \(expected in ckpt-softmax3\)"
    ) as error:
        read_lm1b_checkpoint(pattern)
    assert error.value.path == pattern and pattern in str(error.value)


@pytest.mark.parametrize(
    "drop",
    [
        "lstm/lstm_1/W_P_3",
        "char_embedding/cnn_4/b",
        "char_embedding/dense_1/tr/W_0",
        "lstm/lstm_0/B",
        "global_step",
    ],
)
def test_missing_tensor(write_variant, drop):
    with pytest.raises(InputError, match=f"missing tensor '{drop}'"):
        read_lm1b_checkpoint(write_variant(drop=[drop]))


@pytest.mark.parametrize(
    "name,value,message",
    [
        (
            "char_embedding/cnn_2/b",
            np.zeros((1, 1, 1, 3), np.float32),
            r"shape \[1, 1, 1, 3\], expected \[1, 1, 1, 2\]",
        ),
        ("char_embedding/cnn_5/kernel", np.zeros((6, 5, 1, 2), np.float32), r"expected \[w, 4, 1, n\]"),
        ("lstm/lstm_0/W_5", np.zeros((2, 60), np.float32), "expected 64 columns"),
        ("lstm/lstm_1/W_I_diag", np.zeros(15, np.float32), r"shape \[15\], expected \[16\]"),
        ("char_embedding/proj/b", np.zeros(8, np.float32), "rank 1, expected rank 2"),
        ("softmax/W_6", np.zeros((4, 8), np.float32), r"shape \[4, 8\], expected \[3, 8\]"),
        ("softmax/b", np.zeros(25, np.float32), r"expected \[24\]"),
    ],
)
def test_wrong_shape_names_the_tensor(write_variant, name, value, message):
    with pytest.raises(InputError, match=f"tensor '{name}' in .*{message}"):
        read_lm1b_checkpoint(write_variant({name: value}))


def test_wrong_total_rows(write_variant):
    change = sharded("char_embedding/dense_1/gate/W", np.zeros((24, 16), np.float32), 8)
    with pytest.raises(
        InputError, match=r"char_embedding/dense_1/gate/W_0..7 have 24 rows in all, expected 16"
    ):
        read_lm1b_checkpoint(write_variant(change))


@pytest.mark.parametrize(
    "name,value", [("lstm/lstm_0/B", np.zeros(64, np.float64)), ("global_step", np.float32(3.0))]
)
def test_unexpected_dtype(write_variant, name, value):
    with pytest.raises(InputError, match=f"tensor '{name}' in .*unexpected dtype {value.dtype.name}"):
        read_lm1b_checkpoint(write_variant({name: value}))


def test_duplicated_shard(write_variant):
    pattern = write_variant()
    directory = os.path.dirname(pattern)
    shutil.copy(os.path.join(directory, "ckpt-lstm"), os.path.join(directory, "ckpt-lstm.1"))
    with pytest.raises(InputError, match="occurs in two files") as error:
        read_lm1b_checkpoint(pattern)
    message = str(error.value)
    assert "'lstm/lstm_" in message and "ckpt-lstm.1" in message and pattern in message


def test_bad_patterns(tmp_path):
    with pytest.raises(InputError, match="no checkpoint files match"):
        read_lm1b_checkpoint(str(tmp_path / "nothing-*"))
    with pytest.raises(InputError, match="is a directory"):
        read_lm1b_checkpoint(str(tmp_path))
    with pytest.raises(InputError, match="does not exist"):
        read_lm1b_checkpoint([str(tmp_path / "ckpt-base")])
    (tmp_path / "ckpt-notes").write_text("not a checkpoint")
    with pytest.raises(InputError, match="not a readable V1 checkpoint") as error:
        read_lm1b_checkpoint(str(tmp_path / "ckpt-*"))
    assert error.value.path.endswith("ckpt-notes")


def test_fingerprint(tmp_path, release, write_variant):
    tensors, pattern = release
    copy = tmp_path / "copy"
    shutil.copytree(os.path.dirname(pattern), copy)
    files = sorted(str(p) for p in copy.iterdir())
    assert checkpoint_fingerprint(pattern) == checkpoint_fingerprint(files[::-1])
    merged = tmp_path / "merged"
    merged.mkdir()
    write_v1(str(merged / "all"), tensors)  # same tensors, one file
    assert checkpoint_fingerprint(str(merged / "all")) == checkpoint_fingerprint(pattern)
    changed = write_variant({"lstm/lstm_1/B": tensors["lstm/lstm_1/B"] + 1e-3})
    assert checkpoint_fingerprint(changed) != checkpoint_fingerprint(pattern)
    assert len(checkpoint_fingerprint(pattern)) == 64


def test_reading_an_absent_tensor_names_it(release):
    shards = lm1b_checkpoint.ShardSet(release[1])
    with pytest.raises(InputError, match=r"missing tensor 'lstm/lstm_9/B' \(expected in ckpt-lstm\)"):
        shards.read("lstm/lstm_9/B")
