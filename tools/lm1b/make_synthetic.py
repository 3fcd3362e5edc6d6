r"""Write a synthetic lm_1b release: same file names, format, variable names and graph interface.

The real lm_1b release (``graph-2016-09-10.pbtxt``, 12 ``ckpt-*`` files, ``vocab-2016-09-10.txt``)
cannot be downloaded here. This module writes a stand-in with random weights that follows
``docs/lm_1b.md``:

* 12 TF **V1** (tensor-slice) checkpoint files with exactly the release names and the variable
  names, shapes, ranks and file mapping of docs/lm_1b.md §2;
* a vocabulary file shaped like the real one (``<S>``, ``</S>``, ``<UNK>`` first, UTF-8 words,
  ``!!!MAXTERMID`` last, bytes 0..4 unused so they become the special char ids);
* a GraphDef in protobuf text format that computes docs/lm_1b.md §3-7 with raw TF ops at batch 1 x 1 step,
  with the release's endpoint names (``inputs_in``, ``all_embs_out``, ``Variable``,
  ``states_init``, ``save/Const``, ``save/restore_all``, ...). ``tools.lm1b.reference`` runs it
  as the "original graph" oracle.

``size="tiny"`` gives a model small enough for unit tests; ``size="full"`` has the real dimensions
(about 4.2 GB of checkpoints, or about 0.9 GB with ``include_softmax=False``).

Usage::

    python -m tools.lm1b.make_synthetic --output_dir=DIR [--size=tiny|full] [--seed=N] \
        [--no_softmax]
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import argparse
import dataclasses
import os
import sys
import zlib
from collections.abc import Sequence

import numpy as np
from google.protobuf import text_format

from taglm_tf.lm.vocab import MAX_TERM_ID
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path, check_output_path

# ---------------------------------------------------------------------------------------------
# Release layout
# ---------------------------------------------------------------------------------------------

VOCAB_NAME = "vocab-2016-09-10.txt"
GRAPH_NAME = "graph-2016-09-10.pbtxt"
CKPT_GLOB = "ckpt-*"
NUM_SHARDS = 8
MAX_WORD_LEN = 50
NUM_CHARS = 256
GLOBAL_STEP = 14108582
HIGHWAY_GATE_OFFSET = -2.0
FORGET_BIAS = 1.0
LOG_PERP_EPSILON = 1e-4
BANK_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 7)
CKPT_FILES = ("ckpt-base", "ckpt-char-embedding", "ckpt-lstm") + tuple(
    "ckpt-softmax%d" % s for s in range(NUM_SHARDS + 1)
)


@dataclasses.dataclass(frozen=True)
class Dims:
    """Model dimensions. ``highway`` (H) is the sum of the CNN filter counts."""

    char_dim: int  # E
    filter_counts: tuple[int, ...]
    proj: int  # P
    cells: int  # N
    vocab_size: int  # words after dropping !!!MAXTERMID
    vocab_pad: int  # softmax rows, a multiple of 8, > vocab_size

    @property
    def highway(self) -> int:
        """H: total CNN features = highway width."""
        return sum(self.filter_counts)

    @property
    def banks(self) -> list[tuple[int, int]]:
        """(width, filter count) per CNN bank."""
        return list(zip(BANK_WIDTHS, self.filter_counts))


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

SPECIAL_WORDS = ("<S>", "</S>", "<UNK>")

# Hand-picked words for the tiny vocabulary (also included in the full one): frequent English
# tokens, punctuation, numbers, non-ASCII words, and words longer than 48 UTF-8 bytes (one of them
# is cut in the middle of a 2-byte character by the 48-byte rule).
_ASCII_WORDS = tuple(
    (
        "the , . of and to a in \" 's that for is on was with he it as said at by from his '' `` "
        "be has are have but not this who they had I which will : or one after new year -- ( ) "
        "The A In It But U.S. Mr. York cat dog sat mat quickly market percent million "
        "1 10 2016 $ % & ... ' n't don't e-mail 3.5 @ # * / [ ] { } ~ ^ _ | + = < > ; ? ! \\"
    ).split()
)
_NON_ASCII_WORDS = (
    "café",
    "über",
    "naïve",
    "Zürich",
    "São",
    "Paulo",
    "東京",
    "€",
    "—",
    "Ünïcödé",
    "Москва",
    "日本語",
)
_LONG_WORDS = (
    "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",  # 58 bytes
    "http://www.example.com/news/2016/09/10/a-very-long-story.html",  # 61 bytes
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv",  # exactly 48 bytes
    "a" + "ü" * 30,  # 61 bytes; the 48-byte cut splits a ü
)
TINY_WORDS = SPECIAL_WORDS + _ASCII_WORDS + _NON_ASCII_WORDS + _LONG_WORDS
assert len(set(TINY_WORDS)) == len(TINY_WORDS), "duplicate tiny vocab word"

TINY = Dims(
    char_dim=4,
    filter_counts=(1, 1, 2, 2, 4, 6, 8, 8),
    proj=16,
    cells=64,
    vocab_size=len(TINY_WORDS),
    vocab_pad=NUM_SHARDS * (len(TINY_WORDS) // NUM_SHARDS + 1),
)
FULL = Dims(
    char_dim=16,
    filter_counts=(32, 32, 64, 128, 256, 512, 1024, 2048),
    proj=1024,
    cells=8192,
    vocab_size=793471,
    vocab_pad=800000,
)
SIZES = {"tiny": TINY, "full": FULL}


def vocab_words(dims: Dims) -> list[str]:
    """The vocabulary (without !!!MAXTERMID): the tiny words, then ``w000123``-style fillers."""
    words = list(TINY_WORDS[: dims.vocab_size])
    words.extend("w%06d" % i for i in range(dims.vocab_size - len(words)))
    return words


def write_vocab(path: str, dims: Dims) -> None:
    """Write one token per line, UTF-8, with a final ``!!!MAXTERMID`` line."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocab_words(dims)))
        f.write("\n%s\n" % MAX_TERM_ID)


# ---------------------------------------------------------------------------------------------
# Variables: names, shapes, files, random values
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VarSpec:
    """One checkpointed tensor; values are ``mean + std * normal`` (or the global step).

    ``block_means`` (optional) splits the last axis into equal blocks and adds one offset per
    block, e.g. to give the LSTM bias a different mean in its forget-gate block.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    mean: float = 0.0
    std: float = 0.0
    block_means: tuple[float, ...] = ()


def _sharded(prefix: str, rows: int, cols: int, std: float) -> list[VarSpec]:
    """``prefix_0`` .. ``prefix_7``: the 8 row shards of a [rows, cols] matrix."""
    assert rows % NUM_SHARDS == 0, (prefix, rows)
    return [VarSpec("%s_%d" % (prefix, s), (rows // NUM_SHARDS, cols), std=std) for s in range(NUM_SHARDS)]


def _char_specs(d: Dims) -> list[VarSpec]:
    """The 62 tensors of ckpt-char-embedding."""
    h = d.highway
    specs = [VarSpec("char_embedding/W", (NUM_CHARS, d.char_dim), std=1.0)]
    for k, (w, n) in enumerate(d.banks):
        specs.append(
            VarSpec(
                "char_embedding/cnn_%d/kernel" % k, (w, d.char_dim, 1, n), std=1.0 / np.sqrt(w * d.char_dim)
            )
        )
        specs.append(VarSpec("char_embedding/cnn_%d/b" % k, (1, 1, 1, n), std=0.1))
    for layer in range(2):
        scope = "char_embedding/dense_%d" % layer
        specs += _sharded(scope + "/gate/W", h, h, std=1.0 / np.sqrt(h))
        specs.append(VarSpec(scope + "/gate/b", (1, h), mean=1.0, std=1.0))
        specs += _sharded(scope + "/tr/W", h, h, std=1.0 / np.sqrt(h))
        specs.append(VarSpec(scope + "/tr/b", (1, h), std=0.1))
    specs += _sharded("char_embedding/proj/W", h, d.proj, std=1.0 / np.sqrt(h))
    specs.append(VarSpec("char_embedding/proj/b", (1, d.proj), std=0.1))
    return specs


def _lstm_specs(d: Dims) -> list[VarSpec]:
    """The 40 tensors of ckpt-lstm (20 per layer)."""
    specs = []
    for layer in range(2):
        scope = "lstm/lstm_%d" % layer
        specs += _sharded(scope + "/W", 2 * d.proj, 4 * d.cells, std=1.0 / np.sqrt(2 * d.proj))
        # Blocks i, j, f, o: a negative forget-block mean offsets the graph's +1.0 so that cell
        # values stay O(1) over long inputs instead of integrating (checked at full size).
        specs.append(VarSpec(scope + "/B", (4 * d.cells,), std=0.5, block_means=(0.0, 0.0, -1.0, 0.0)))
        for peep in ("W_F_diag", "W_I_diag", "W_O_diag"):
            specs.append(VarSpec("%s/%s" % (scope, peep), (d.cells,), std=0.25))
        specs += _sharded(scope + "/W_P", d.cells, d.proj, std=2.0 / np.sqrt(d.cells))
    return specs


def release_variables(dims: Dims) -> dict[str, list[VarSpec]]:
    """File name -> the tensors it holds (docs/lm_1b.md §2), for all 12 release files."""
    files = {
        "ckpt-base": [VarSpec("global_step", (), dtype="int64")],
        "ckpt-char-embedding": _char_specs(dims),
        "ckpt-lstm": _lstm_specs(dims),
    }
    sm_std = 2.0 / np.sqrt(dims.proj)
    for s, spec in enumerate(_sharded("softmax/W", dims.vocab_pad, dims.proj, std=sm_std)):
        files["ckpt-softmax%d" % s] = [spec]
    files["ckpt-softmax%d" % NUM_SHARDS] = [VarSpec("softmax/b", (dims.vocab_pad,), std=1.0)]
    assert tuple(files) == CKPT_FILES
    return files


def variable_value(spec: VarSpec, seed: int) -> np.ndarray:
    """Deterministic value of one tensor: depends only on (seed, name), not on write order."""
    if spec.name == "global_step":
        return np.asarray(GLOBAL_STEP, dtype=np.int64)
    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode("utf-8"))])
    value = rng.standard_normal(spec.shape, dtype=np.float32)
    value *= np.float32(spec.std)
    value += np.float32(spec.mean)
    if spec.block_means:
        blocks = np.split(value, len(spec.block_means), axis=-1)  # views into ``value``
        for block, offset in zip(blocks, spec.block_means):
            block += np.float32(offset)
    return value


# ---------------------------------------------------------------------------------------------
# V1 checkpoint writing
# ---------------------------------------------------------------------------------------------


def _write_v1_file(path: str, specs: Sequence[VarSpec], seed: int) -> None:
    """Write ``specs`` into one V1 tensor-slice file at exactly ``path`` (no state file)."""
    from taglm_tf.lm.lm1b.writing import write_v1_file  # imports TensorFlow: only when writing

    write_v1_file(path, [(spec.name, variable_value(spec, seed)) for spec in specs])


# ---------------------------------------------------------------------------------------------
# Reference graph (docs/lm_1b.md §3-7) with raw TF ops and ref variables
# ---------------------------------------------------------------------------------------------


def _ref_var(tf, spec: VarSpec, trainable: bool = True):
    """A ref (VariableV2) variable whose op name is exactly ``spec.name``, zero-initialised."""
    scope, _, leaf = spec.name.rpartition("/")
    with tf.compat.v1.name_scope(scope + "/" if scope else None):
        var = tf.compat.v1.Variable(
            tf.zeros(spec.shape, dtype=spec.dtype), name=leaf, use_resource=False, trainable=trainable
        )
    assert var.op.name == spec.name, (var.op.name, spec.name)
    return var


def _concat_shards(tf, variables, prefix: str, name: str, axis: int = 0):
    """concat(prefix_0 .. prefix_7) along ``axis``."""
    return tf.concat([variables["%s_%d" % (prefix, s)] for s in range(NUM_SHARDS)], axis, name=name)


def _char_cnn(tf, v, d: Dims, char_ids):
    """docs/lm_1b.md §4-5: char ids [1,1,50] -> word embedding [1, P] (``all_embs_out``)."""
    with tf.compat.v1.name_scope("char_embedding/"):
        flat = tf.reshape(char_ids, [-1], name="flat_ids")
        with tf.compat.v1.name_scope("EmbeddingLookupUnique"):
            uniq, idx = tf.unique(flat, name="Unique")
            emb = tf.gather(tf.gather(v["char_embedding/W"], uniq), idx)
        image = tf.reshape(emb, [-1, MAX_WORD_LEN, d.char_dim, 1], name="image")
        features = []
        for k in range(len(d.banks)):
            conv = (
                tf.nn.conv2d(
                    image, v["char_embedding/cnn_%d/kernel" % k], [1, 1, 1, 1], "VALID", name="conv_%d" % k
                )
                + v["char_embedding/cnn_%d/b" % k]
            )
            pooled = tf.reduce_max(tf.nn.relu(conv), axis=[1, 2], name="max_%d" % k)
            features.append(pooled)
        x = tf.concat(features, 1, name="features")
    for layer in range(2):
        scope = "char_embedding/dense_%d" % layer
        with tf.compat.v1.name_scope(scope + "/"):
            gate_w = _concat_shards(tf, v, scope + "/gate/W", "gate_W")
            tr_w = _concat_shards(tf, v, scope + "/tr/W", "tr_W")
            gate = tf.sigmoid(
                tf.matmul(x, gate_w) + v[scope + "/gate/b"] + HIGHWAY_GATE_OFFSET, name="gate_sigmoid"
            )
            transform = tf.nn.relu(tf.matmul(x, tr_w) + v[scope + "/tr/b"], name="transform_relu")
            x = tf.add(gate * transform, (1.0 - gate) * x, name="highway")
    with tf.compat.v1.name_scope("char_embedding/proj/"):
        proj_w = _concat_shards(tf, v, "char_embedding/proj/W", "proj_W")
        emb = tf.matmul(x, proj_w) + v["char_embedding/proj/b"]
    return tf.identity(emb, name="all_embs_out")


def _lstm_layer(tf, v, d: Dims, layer: int, x, state_var):
    """docs/lm_1b.md §6: one LSTMP step; returns (output h, assign op writing concat(c, h))."""
    scope = "lstm/lstm_%d" % layer
    with tf.compat.v1.name_scope(scope + "/"):
        n = d.cells
        c_prev = tf.slice(state_var, [0, 0], [-1, n], name="c_prev")
        h_prev = tf.slice(state_var, [0, n], [-1, d.proj], name="h_prev")
        kernel = _concat_shards(tf, v, scope + "/W", "W_concat")
        z = tf.matmul(tf.concat([x, h_prev], 1, name="xh_concat"), kernel) + v[scope + "/B"]
        i, j, f, o = tf.split(z, 4, axis=1, name="gates")
        c = tf.sigmoid(f + FORGET_BIAS + v[scope + "/W_F_diag"] * c_prev) * c_prev + tf.sigmoid(
            i + v[scope + "/W_I_diag"] * c_prev
        ) * tf.tanh(j)
        m = tf.sigmoid(o + v[scope + "/W_O_diag"] * c) * tf.tanh(c)
        h = tf.matmul(m, _concat_shards(tf, v, scope + "/W_P", "W_P_concat"), name="h")
        new_state = tf.concat([c, h], 1, name="concat_2")
        assign = tf.compat.v1.assign(state_var, new_state, name="assign_state")
        with tf.control_dependencies([assign]):
            out = tf.identity(h, name="control_dependency")
    return out, assign


def _softmax_and_loss(tf, v, d: Dims, h, targets, weights):
    """docs/lm_1b.md §7: softmax over all padded rows and the weighted log-perplexity."""
    blocks = _concat_shards(tf, v, "softmax/W", "softmax_W_concat", axis=1)
    matrix = tf.reshape(blocks, [d.vocab_pad, d.proj], name="Reshape_3")
    logits = tf.add(tf.matmul(h, matrix, transpose_b=True), v["softmax/b"], name="logits")
    probs = tf.nn.softmax(logits, name="softmax_out")
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.reshape(targets, [-1]), logits=logits, name="xent"
    )
    w = tf.reshape(weights, [-1], name="flat_weights")
    log_perp = tf.math.divide(
        tf.reduce_sum(xent * w), tf.reduce_sum(w) + LOG_PERP_EPSILON, name="log_perplexity_out"
    )
    return matrix, probs, log_perp


def build_reference_graph(dims: Dims):
    """The inference graph (docs/lm_1b.md §3-8) at batch 1 x 1 step, in a fresh ``tf.Graph``."""
    import tensorflow as tf  # not at the top: the CLI imports this module before parsing its flags

    graph = tf.Graph()
    with graph.as_default():
        specs = [s for group in release_variables(dims).values() for s in group]
        v = {s.name: _ref_var(tf, s, trainable=s.name != "global_step") for s in specs}
        tf.compat.v1.placeholder(tf.int32, [1, 1], name="inputs_in")  # unused by the CNN model
        char_ids = tf.compat.v1.placeholder(tf.int32, [1, 1, MAX_WORD_LEN], name="char_inputs_in")
        targets = tf.compat.v1.placeholder(tf.int32, [1, 1], name="targets_in")
        weights = tf.compat.v1.placeholder(tf.float32, [1, 1], name="target_weights_in")
        width = dims.cells + dims.proj
        states = [
            tf.compat.v1.Variable(tf.zeros([1, width]), name=name, trainable=False, use_resource=False)
            for name in ("Variable", "Variable_1")
        ]
        assert [s.op.name for s in states] == ["Variable", "Variable_1"]
        tf.group(*[tf.compat.v1.assign(s, tf.zeros([1, width])) for s in states], name="states_init")
        x = _char_cnn(tf, v, dims, char_ids)
        for layer, state in enumerate(states):
            x, _ = _lstm_layer(tf, v, dims, layer, x, state)
        _softmax_and_loss(tf, v, dims, x, targets, weights)
        tf.compat.v1.train.Saver(
            var_list={s.name: v[s.name] for s in specs},
            sharded=False,
            write_version=tf.compat.v1.train.SaverDef.V1,
        )
        for name in (
            "Reshape_3",
            "softmax_out",
            "log_perplexity_out",
            "all_embs_out",
            "save/Const",
            "save/restore_all",
            "states_init",
        ):
            graph.get_operation_by_name(name)  # raises if TF renamed anything
    return graph


def write_graph_pbtxt(path: str, dims: Dims) -> None:
    """Serialise the reference GraphDef in protobuf text format."""

    graph_def = build_reference_graph(dims).as_graph_def()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(graph_def))


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def write_synthetic_release(
    output_dir: str, size: str = "tiny", seed: int = 0, include_softmax: bool = True
) -> dict[str, str]:
    """Write the release into ``output_dir``; returns {file name: path} of the files written.

    The folder is written whole and then put in place in one step, replacing an earlier
    synthetic release there as a whole (a folder holding other files is refused:
    :func:`~taglm_tf.lm.lm1b.writing.check_release_dir`), so a kill never leaves a mixed or
    partial release. With ``include_softmax=False`` the nine ``ckpt-softmax*`` files are not
    written; the pbtxt still expects them, so its ``save/restore_all`` then fails, but the
    checkpoint glob holds a consistent char-CNN + LSTM model.
    """
    from taglm_tf.lm.lm1b.writing import check_release_dir  # imports TensorFlow: only when writing

    dims = SIZES[size]
    check_release_dir(output_dir, VOCAB_NAME, also=(GRAPH_NAME,))
    names = []
    with atomic_path(output_dir, replace_folder=True) as tmp:
        os.mkdir(tmp)
        for file_name, specs in release_variables(dims).items():
            if include_softmax or not file_name.startswith("ckpt-softmax"):
                _write_v1_file(os.path.join(tmp, file_name), specs, seed)
                names.append(file_name)
        for file_name, writer in ((VOCAB_NAME, write_vocab), (GRAPH_NAME, write_graph_pbtxt)):
            writer(os.path.join(tmp, file_name), dims)
            names.append(file_name)
    return {name: os.path.join(output_dir, name) for name in names}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = cli.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--output_dir", required=True, help="directory to write the release files into")
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="tiny",
        help="'tiny': small dimensions for tests; 'full': the release's real shapes",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument(
        "--no_softmax", action="store_true", help="leave out ckpt-softmax0..8 (saves ~3.3 GB at full size)"
    )
    args = parser.parse_args(argv)
    try:  # before any work, as every tool of the project checks where it writes
        check_output_path(args.output_dir, (), "--output_dir", folder=True)
        # TensorFlow only now, so that --help, bad flags and a bad path exit before it loads
        from taglm_tf.lm.lm1b.writing import check_release_dir

        check_release_dir(args.output_dir, VOCAB_NAME, also=(GRAPH_NAME,))
    except InputError as e:
        parser.error(str(e))
    written = write_synthetic_release(
        args.output_dir, args.size, args.seed, include_softmax=not args.no_softmax
    )
    dims = SIZES[args.size]
    print(
        "Wrote %d files to %s (size=%s: E=%d H=%d P=%d N=%d vocab=%d softmax rows=%d)"
        % (
            len(written),
            args.output_dir,
            args.size,
            dims.char_dim,
            dims.highway,
            dims.proj,
            dims.cells,
            dims.vocab_size,
            dims.vocab_pad,
        )
    )
    if args.no_softmax:
        print(
            "--no_softmax: ckpt-softmax0..8 were NOT written; the graph's save/restore_all "
            "needs them and will fail, the ckpt-* glob holds only base, char-embedding, lstm."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
