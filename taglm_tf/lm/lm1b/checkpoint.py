"""Read the released lm_1b (CNN-BIG-LSTM) V1 checkpoint shards into numpy arrays.

The release stores 112 whole (unpartitioned) tensors in 12 V1 tensor-slice files (``ckpt-*``);
most matrices are split into shards ``W_0 .. W_{S-1}`` that are reassembled here
(docs/lm_1b.md §2). Every size is inferred from the checkpoint and validated from the
shape map before any large tensor is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.lm.fingerprints import hash_tensors
from taglm_tf.utils.errors import InputError

Pattern = str | os.PathLike | Sequence[str | os.PathLike]


@dataclasses.dataclass(frozen=True)
class LM1BDims:
    """Sizes of an lm_1b checkpoint (the release values in brackets)."""

    char_vocab_size: int  # rows of the char table [256]
    char_dim: int  # E [16]
    conv_widths: tuple[int, ...]  # [1, 2, 3, 4, 5, 6, 7, 7]
    conv_filters: tuple[int, ...]  # [32, ..., 2048]
    num_highway: int  # [2]
    highway_dim: int  # H = sum(conv_filters) [4096]
    projection_dim: int  # P [1024]
    num_lstm_layers: int  # [2]
    lstm_cells: int  # N [8192]
    softmax_rows: int  # Vpad [800000]; 0 when the softmax was not read
    num_shards: int  # S [8]


@dataclasses.dataclass
class HighwayWeights:
    """One highway layer ``char_embedding/dense_d`` of lm_1b, float32 (docs/lm_1b.md §2, §5).

    The kernels are the shards ``gate/W_0 .. W_{S-1}`` and ``tr/W_0 .. W_{S-1}`` ([H/S, H] each
    in the release) concatenated by rows; the biases are ``gate/b`` and ``tr/b``, stored as
    [1, H]. The graph's -2.0 gate offset is a constant, not a tensor (``Highway(gate_offset)``).
    """

    gate_kernel: np.ndarray  # [H, H]
    gate_bias: np.ndarray  # [H]
    transform_kernel: np.ndarray  # [H, H]
    transform_bias: np.ndarray  # [H]


@dataclasses.dataclass
class LSTMPWeights:
    """One LSTMP layer ``lstm/lstm_L`` of lm_1b, float32 (docs/lm_1b.md §2, §6).

    ``kernel`` is the shards ``W_0 .. W_{S-1}`` concatenated by rows ([2P, 4N] in the release,
    where every layer input is P wide); its columns are four blocks of N, for the gates i, j,
    f, o. ``bias`` is ``B``; the peepholes are ``W_I_diag``, ``W_F_diag``, ``W_O_diag``;
    ``projection`` is ``W_P_0 .. W_P_{S-1}`` by rows and has no bias. The forget bias 1.0 is
    not stored.
    """

    kernel: np.ndarray  # [in + P, 4N]: rows for x first, then for h_prev
    bias: np.ndarray  # [4N]
    w_i_diag: np.ndarray  # [N]
    w_f_diag: np.ndarray  # [N]
    w_o_diag: np.ndarray  # [N]
    projection: np.ndarray  # [N, P]


@dataclasses.dataclass
class LM1BWeights:
    """All lm_1b weights, reassembled; biases flattened to 1-D, conv kernels to [w, E, n]."""

    dims: LM1BDims
    global_step: int
    char_embedding: np.ndarray  # [C, E]
    conv_kernels: list[np.ndarray]  # [w_k, E, n_k]
    conv_biases: list[np.ndarray]  # [n_k]
    highway: list[HighwayWeights]
    projection_kernel: np.ndarray  # [H, P]
    projection_bias: np.ndarray  # [P]
    lstm: list[LSTMPWeights]
    softmax_kernel: np.ndarray | None = None  # [Vpad, P], row v = word id v
    softmax_bias: np.ndarray | None = None  # [Vpad]


def release_file_of(name: str) -> str:
    """The release file that holds tensor ``name`` (for error messages)."""
    if name.startswith("char_embedding/"):
        return "ckpt-char-embedding"
    if name.startswith("lstm/"):
        return "ckpt-lstm"
    match = re.fullmatch(r"softmax/W_(\d+)", name)
    if match:
        return f"ckpt-softmax{match.group(1)}"
    return "ckpt-softmax8" if name == "softmax/b" else "ckpt-base"


def expand_pattern(pattern: Pattern) -> list[str]:
    """The checkpoint files named by a glob, a single file or a list of files.

    Raises:
        InputError: a directory, a glob matching nothing, or a listed file that does not exist.
    """
    if isinstance(pattern, (list, tuple)):
        files = [os.fspath(p) for p in pattern]
        for f in files:
            if not tf.io.gfile.exists(f):
                raise InputError("checkpoint file does not exist", path=f)
        return sorted(set(files))
    pattern = os.fspath(pattern)
    if tf.io.gfile.isdir(pattern):
        raise InputError("is a directory; pass a file or a glob such as DIR/ckpt-*", path=pattern)
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise InputError("no checkpoint files match this pattern", path=pattern)
    return files


def describe_pattern(pattern: Pattern) -> str:
    """``pattern`` as text for messages: a glob or file as given, a list joined by ``", "``."""
    if isinstance(pattern, (list, tuple)):
        return ", ".join(os.fspath(p) for p in pattern)
    return os.fspath(pattern)


class ShardSet:
    """The tensors of a set of V1 checkpoint files: where each one lives, read on demand.

    Args:
        pattern: a glob (``DIR/ckpt-*``), a single file, or a list of files.

    Raises:
        InputError: no files, an unreadable file, or a tensor stored in two files.
    """

    def __init__(self, pattern: Pattern):
        self.pattern = describe_pattern(pattern)
        self.files = expand_pattern(pattern)
        self.file_of: dict[str, str] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, tf.DType] = {}
        self._readers = {f: self._open(f) for f in self.files}
        for f, reader in self._readers.items():
            self._index(f, reader)

    def _open(self, path: str):
        try:
            return tf.train.load_checkpoint(path)
        except tf.errors.OpError as e:
            if "Overlapping slices" in str(e):
                raise InputError(
                    "a tensor occurs twice (overlapping slices) in this file", path=path
                ) from None
            raise InputError(f"not a readable V1 checkpoint file ({e.message.strip()})", path=path) from None

    def _index(self, path: str, reader) -> None:
        dtypes = reader.get_variable_to_dtype_map()
        for name, shape in reader.get_variable_to_shape_map().items():
            if name in self.file_of:
                raise InputError(
                    f"tensor {name!r} occurs in two files, {self.file_of[name]} and {path}; each "
                    f"tensor must be in exactly one file matched by the pattern (a shard copied twice?)",
                    path=self.pattern,
                )
            self.file_of[name], self.shapes[name], self.dtypes[name] = path, tuple(shape), dtypes[name]

    def fail(self, name: str, problem: str) -> InputError:
        """An error (returned, for the caller to raise) naming ``name``, the file that holds it
        (or the release file it belongs in) and the pattern."""
        where = self.file_of.get(name, f"no file (expected in {release_file_of(name)})")
        return InputError(f"tensor {name!r} in {where}: {problem}", path=self.pattern)

    def _check_present(self, name: str) -> None:
        if name not in self.shapes:
            raise InputError(
                f"missing tensor {name!r} (expected in {release_file_of(name)})", path=self.pattern
            )

    def shape(self, name: str, rank: int, dtype=tf.float32) -> tuple[int, ...]:
        """The shape of ``name`` after checking that it exists with this rank and dtype."""
        self._check_present(name)
        dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
        if self.dtypes[name] not in dtypes:
            raise self.fail(
                name,
                f"unexpected dtype {self.dtypes[name].name}, expected {'/'.join(d.name for d in dtypes)}",
            )
        shape = self.shapes[name]
        if len(shape) != rank:
            raise self.fail(name, f"shape {list(shape)} has rank {len(shape)}, expected rank {rank}")
        return shape

    def expect(self, name: str, shape: Sequence[int]) -> None:
        """Check that ``name`` is a float32 tensor of exactly ``shape``."""
        actual = self.shape(name, len(shape))
        if actual != tuple(shape):
            raise self.fail(name, f"shape {list(actual)}, expected {list(shape)}")

    def read(self, name: str) -> np.ndarray:
        """The value of tensor ``name`` as stored (dtype and shape unchanged).

        Raises:
            InputError: no file holds ``name``, or TF cannot read it.
        """
        self._check_present(name)
        try:
            return self._readers[self.file_of[name]].get_tensor(name)
        except tf.errors.OpError as e:  # e.g. a partitioned (sliced) variable, a truncated file
            raise self.fail(name, f"cannot be read ({e.message.strip()})") from None

    def indices(self, regex: str) -> list[int]:
        """Sorted distinct integers captured by ``regex`` (one group) over all tensor names."""
        found = {int(m.group(1)) for m in map(re.compile(regex).fullmatch, self.shapes) if m}
        return sorted(found)


def read_lm1b_checkpoint(pattern: Pattern, include_softmax: bool = True) -> LM1BWeights:
    """Read, validate and reassemble an lm_1b checkpoint.

    Args:
        pattern: a glob such as ``DIR/ckpt-*`` (quote it in shells), a single V1 file, or a list
            of files. Each tensor must occur in exactly one file.
        include_softmax: also read ``softmax/W_*`` and ``softmax/b`` (3.2 GB for the release);
            when False they are neither required nor read.

    Returns:
        The weights; every shape relation of docs/lm_1b.md §2 is checked first, so errors
        come before any large read.

    Raises:
        InputError: no files, a duplicated shard, a missing tensor, or a wrong shape or dtype;
            the message names the tensor and the file pattern.
    """
    shards = ShardSet(pattern)
    dims = _plan(shards, include_softmax)
    return _load(shards, dims, include_softmax)


def checkpoint_fingerprint(pattern: Pattern) -> str:
    """A cheap content hash of a checkpoint, for cache keys.

    It covers every tensor's name, dtype and shape, plus the full values of each tensor with at
    most ``taglm_tf.lm.fingerprints.FINGERPRINT_MAX_ELEMENTS`` elements (char table, biases, peepholes, small conv banks,
    global_step). Large matrices are not read, so two checkpoints that differ only inside them
    collide; trained checkpoints also differ in their biases. File names, sizes, mtimes and the
    split of tensors across files do not enter the hash.

    Args:
        pattern: as for :func:`read_lm1b_checkpoint`.

    Returns:
        A sha256 hex digest.
    """
    shards = ShardSet(pattern)
    digest = hashlib.sha256(b"taglm_tf lm1b fingerprint v1\n")

    def value_bytes(name):
        value = np.asarray(shards.read(name))
        return value.astype(value.dtype.newbyteorder("<")).tobytes()

    hash_tensors(
        digest,
        sorted(shards.shapes.items()),
        lambda name, shape: f"{name}\0{shards.dtypes[name].name}\0{list(shape)}\n",
        value_bytes,
    )
    return digest.hexdigest()


def _count(shards: ShardSet, regex: str) -> int:
    """1 + the largest index captured by ``regex``; gaps are reported later as missing tensors."""
    found = shards.indices(regex)
    return found[-1] + 1 if found else 0


def _expect_rows(shards: ShardSet, prefix: str, num_shards: int, rows: int, cols: int) -> None:
    """``prefix_0 .. prefix_{S-1}`` are [r_s, cols] matrices whose rows add up to ``rows``."""
    total = 0
    for s in range(num_shards):
        name = f"{prefix}_{s}"
        shape = shards.shape(name, 2)
        if shape[1] != cols:
            raise shards.fail(name, f"shape {list(shape)}, expected {cols} columns")
        total += shape[0]
    if total != rows:
        raise InputError(
            f"shards {prefix}_0..{num_shards - 1} have {total} rows in all, expected {rows}",
            path=shards.pattern,
        )


def _plan(shards: ShardSet, include_softmax: bool) -> LM1BDims:
    chars, char_dim = shards.shape("char_embedding/W", 2)
    widths, filters = _plan_convs(shards, char_dim)
    highway_dim = sum(filters)
    groups = "char_embedding|lstm|softmax" if include_softmax else "char_embedding|lstm"
    num_shards = max(1, _count(shards, rf"(?:{groups})/(?:.*/)?W_(\d+)"))
    num_highway = _count(shards, r"char_embedding/dense_(\d+)/.*")
    for d in range(num_highway):
        for part in ("gate", "tr"):
            prefix = f"char_embedding/dense_{d}/{part}"
            _expect_rows(shards, f"{prefix}/W", num_shards, highway_dim, highway_dim)
            shards.expect(f"{prefix}/b", [1, highway_dim])
    proj_dim = shards.shape("char_embedding/proj/W_0", 2)[1]
    _expect_rows(shards, "char_embedding/proj/W", num_shards, highway_dim, proj_dim)
    shards.expect("char_embedding/proj/b", [1, proj_dim])
    num_lstm, cells = _plan_lstm(shards, num_shards, proj_dim)
    rows = _plan_softmax(shards, num_shards, proj_dim) if include_softmax else 0
    shards.shape("global_step", 0, dtype=(tf.int32, tf.int64))
    return LM1BDims(
        chars,
        char_dim,
        widths,
        filters,
        num_highway,
        highway_dim,
        proj_dim,
        num_lstm,
        cells,
        rows,
        num_shards,
    )


def _plan_convs(shards: ShardSet, char_dim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    widths, filters = [], []
    for k in range(max(1, _count(shards, r"char_embedding/cnn_(\d+)/.*"))):
        name = f"char_embedding/cnn_{k}/kernel"
        width, dim, one, count = shards.shape(name, 4)
        if dim != char_dim or one != 1 or width < 1:
            raise shards.fail(name, f"shape {[width, dim, one, count]}, expected [w, {char_dim}, 1, n]")
        shards.expect(f"char_embedding/cnn_{k}/b", [1, 1, 1, count])
        widths.append(width)
        filters.append(count)
    return tuple(widths), tuple(filters)


def _plan_lstm(shards: ShardSet, num_shards: int, proj_dim: int) -> tuple[int, int]:
    cells = shards.shape("lstm/lstm_0/W_F_diag", 1)[0]
    num_layers = _count(shards, r"lstm/lstm_(\d+)/.*")
    for layer in range(num_layers):
        prefix = f"lstm/lstm_{layer}"
        # Every layer's input (char projection or the previous layer's h) has proj_dim values.
        _expect_rows(shards, f"{prefix}/W", num_shards, 2 * proj_dim, 4 * cells)
        shards.expect(f"{prefix}/B", [4 * cells])
        for diag in ("W_I_diag", "W_F_diag", "W_O_diag"):
            shards.expect(f"{prefix}/{diag}", [cells])
        _expect_rows(shards, f"{prefix}/W_P", num_shards, cells, proj_dim)
    return num_layers, cells


def _plan_softmax(shards: ShardSet, num_shards: int, proj_dim: int) -> int:
    rows = shards.shape("softmax/W_0", 2)[0]
    for s in range(num_shards):
        shards.expect(f"softmax/W_{s}", [rows, proj_dim])
    shards.expect("softmax/b", [num_shards * rows])
    return num_shards * rows


def _read_rows(shards: ShardSet, prefix: str, num_shards: int) -> np.ndarray:
    """Concatenate ``prefix_0..`` along axis 0 into one preallocated array (no second copy)."""
    names = [f"{prefix}_{s}" for s in range(num_shards)]
    rows = sum(shards.shapes[n][0] for n in names)
    out = np.empty((rows, shards.shapes[names[0]][1]), np.float32)
    start = 0
    for name in names:
        part = shards.read(name)
        out[start : start + len(part)] = part
        start += len(part)
    return out


def _read_softmax(shards: ShardSet, num_shards: int) -> np.ndarray:
    """concat(W_0..W_{S-1}, axis=1) reshaped to [S*R, P]: row v is row v // S of shard v % S."""
    rows, proj_dim = shards.shapes["softmax/W_0"]
    out = np.empty((num_shards * rows, proj_dim), np.float32)
    for s in range(num_shards):
        out[s::num_shards] = shards.read(f"softmax/W_{s}")
    return out


def _load(shards: ShardSet, dims: LM1BDims, include_softmax: bool) -> LM1BWeights:
    s = dims.num_shards
    cnn = [f"char_embedding/cnn_{k}" for k in range(len(dims.conv_widths))]
    highway = [
        HighwayWeights(
            _read_rows(shards, f"{p}/gate/W", s),
            shards.read(f"{p}/gate/b")[0],
            _read_rows(shards, f"{p}/tr/W", s),
            shards.read(f"{p}/tr/b")[0],
        )
        for p in (f"char_embedding/dense_{d}" for d in range(dims.num_highway))
    ]
    weights = LM1BWeights(
        dims=dims,
        global_step=int(shards.read("global_step")),
        char_embedding=shards.read("char_embedding/W"),
        conv_kernels=[shards.read(f"{c}/kernel")[:, :, 0, :] for c in cnn],
        conv_biases=[shards.read(f"{c}/b").reshape(-1) for c in cnn],
        highway=highway,
        projection_kernel=_read_rows(shards, "char_embedding/proj/W", s),
        projection_bias=shards.read("char_embedding/proj/b")[0],
        lstm=[_load_lstm(shards, f"lstm/lstm_{layer}", s) for layer in range(dims.num_lstm_layers)],
    )
    if include_softmax:
        weights.softmax_kernel = _read_softmax(shards, s)
        weights.softmax_bias = shards.read("softmax/b")
    return weights


def _load_lstm(shards: ShardSet, prefix: str, num_shards: int) -> LSTMPWeights:
    return LSTMPWeights(
        kernel=_read_rows(shards, f"{prefix}/W", num_shards),
        bias=shards.read(f"{prefix}/B"),
        w_i_diag=shards.read(f"{prefix}/W_I_diag"),
        w_f_diag=shards.read(f"{prefix}/W_F_diag"),
        w_o_diag=shards.read(f"{prefix}/W_O_diag"),
        projection=_read_rows(shards, f"{prefix}/W_P", num_shards),
    )
