"""Tiny lm_1b-layout checkpoints and vocabularies written by the tests themselves."""

import os
import re
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

WIDTHS = (1, 2, 3, 4, 5, 6, 7, 7)


def fake_tensors(
    seed: int = 0,
    char_dim: int = 4,
    filters: Sequence[int] = (1, 1, 2, 2, 2, 2, 3, 3),
    num_highway: int = 2,
    proj: int = 8,
    cells: int = 16,
    layers: int = 2,
    softmax_rows_per_shard: int = 3,
    shards: int = 8,
) -> dict[str, np.ndarray]:
    """Random tensors with the release names and shape rules (docs/lm_1b.md §2)."""
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=0.5):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    h = sum(filters)
    t = {"global_step": np.int64(1234), "char_embedding/W": normal(256, char_dim, scale=1.0)}
    for k, (w, n) in enumerate(zip(WIDTHS, filters)):
        t[f"char_embedding/cnn_{k}/kernel"] = normal(w, char_dim, 1, n)
        t[f"char_embedding/cnn_{k}/b"] = normal(1, 1, 1, n, scale=0.1)
    for d in range(num_highway):
        for part in ("gate", "tr"):
            t.update(sharded(f"char_embedding/dense_{d}/{part}/W", normal(h, h), shards))
            t[f"char_embedding/dense_{d}/{part}/b"] = normal(1, h)
    t.update(sharded("char_embedding/proj/W", normal(h, proj), shards))
    t["char_embedding/proj/b"] = normal(1, proj, scale=0.1)
    for layer in range(layers):
        p = f"lstm/lstm_{layer}"
        t.update(sharded(f"{p}/W", normal(2 * proj, 4 * cells), shards))
        t[f"{p}/B"] = normal(4 * cells)
        for diag in ("W_I_diag", "W_F_diag", "W_O_diag"):
            t[f"{p}/{diag}"] = normal(cells)
        t.update(sharded(f"{p}/W_P", normal(cells, proj), shards))
    for s in range(shards):
        t[f"softmax/W_{s}"] = normal(softmax_rows_per_shard, proj, scale=1.0)
    t["softmax/b"] = normal(shards * softmax_rows_per_shard, scale=1.0)
    return t


def sharded(prefix: str, full: np.ndarray, shards: int) -> dict[str, np.ndarray]:
    """Split ``full`` into ``prefix_0..`` along axis 0."""
    return {f"{prefix}_{s}": part for s, part in enumerate(np.split(full, shards))}


def release_file(name: str) -> str:
    """File of the release layout (docs/lm_1b.md §2) for tensor ``name``."""
    if name.startswith("char_embedding/"):
        return "ckpt-char-embedding"
    if name.startswith("lstm/"):
        return "ckpt-lstm"
    if name == "softmax/b":
        return "ckpt-softmax8"
    if name.startswith("softmax/W_"):
        return "ckpt-softmax" + name.rsplit("_", 1)[1]
    return "ckpt-base"


def write_v1(path: str, tensors: dict[str, np.ndarray]) -> None:
    """One V1 tensor-slice file holding ``tensors``, written by a V1 Saver in its own graph."""
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(value, name=name) for name, value in tensors.items()]
        saver = tf.compat.v1.train.Saver(variables, write_version=tf.compat.v1.train.SaverDef.V1)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, path, write_meta_graph=False, write_state=False)


def write_release(directory: str, tensors: dict[str, np.ndarray], skip: Iterable[str] = ()) -> str:
    """Write ``tensors`` in the release's file layout; returns the glob ``directory/ckpt-*``."""
    os.makedirs(directory, exist_ok=True)
    files: dict[str, dict[str, np.ndarray]] = {}
    for name, value in tensors.items():
        files.setdefault(release_file(name), {})[name] = value
    for file_name, group in files.items():
        if file_name not in skip:
            write_v1(os.path.join(directory, file_name), group)
    return os.path.join(directory, "ckpt-*")


def write_vocab(path: str, words: Sequence[str], extra: bytes = b"") -> str:
    """A vocabulary file: ``words`` one per line (UTF-8), then raw ``extra`` bytes."""
    with open(path, "wb") as f:
        f.write("".join(w + "\n" for w in words).encode("utf-8") + extra)
    return path


VOCAB_WORDS = ["<S>", "</S>", "<UNK>", "the", "cat", "sat", "on", "mat", ".", "naïve", "!!!MAXTERMID"]


def weights_from_tensors(t: dict[str, np.ndarray]):
    """LM1BWeights assembled directly with numpy (independent of the checkpoint reader)."""
    from taglm_tf.lm.lm1b.checkpoint import HighwayWeights, LM1BDims, LM1BWeights, LSTMPWeights

    def cat(prefix):
        return np.concatenate([t[f"{prefix}_{s}"] for s in range(8)], axis=0)

    def count(pattern):
        return len([k for k in t if re.fullmatch(pattern, k)])

    kernels = [
        t[f"char_embedding/cnn_{k}/kernel"][:, :, 0, :]
        for k in range(count(r"char_embedding/cnn_\d+/kernel"))
    ]
    highway = []
    for d in range(count(r"char_embedding/dense_\d+/gate/b")):
        p = f"char_embedding/dense_{d}"
        highway.append(
            HighwayWeights(cat(f"{p}/gate/W"), t[f"{p}/gate/b"][0], cat(f"{p}/tr/W"), t[f"{p}/tr/b"][0])
        )
    lstm = []
    for n in range(count(r"lstm/lstm_\d+/B")):
        p = f"lstm/lstm_{n}"
        lstm.append(
            LSTMPWeights(
                cat(f"{p}/W"),
                t[f"{p}/B"],
                t[f"{p}/W_I_diag"],
                t[f"{p}/W_F_diag"],
                t[f"{p}/W_O_diag"],
                cat(f"{p}/W_P"),
            )
        )
    rows, proj = len(t["softmax/b"]), t["char_embedding/proj/b"].shape[1]
    filters = tuple(k.shape[2] for k in kernels)
    dims = LM1BDims(
        256,
        kernels[0].shape[1],
        tuple(k.shape[0] for k in kernels),
        filters,
        len(highway),
        sum(filters),
        proj,
        len(lstm),
        len(t["lstm/lstm_0/B"]) // 4,
        rows,
        8,
    )
    softmax = np.concatenate([t[f"softmax/W_{s}"] for s in range(8)], axis=1).reshape(rows, proj)
    return LM1BWeights(
        dims=dims,
        global_step=int(t["global_step"]),
        char_embedding=t["char_embedding/W"],
        conv_kernels=kernels,
        conv_biases=[t[f"char_embedding/cnn_{k}/b"].reshape(-1) for k in range(len(kernels))],
        highway=highway,
        projection_kernel=cat("char_embedding/proj/W"),
        projection_bias=t["char_embedding/proj/b"][0],
        lstm=lstm,
        softmax_kernel=softmax,
        softmax_bias=t["softmax/b"],
    )
