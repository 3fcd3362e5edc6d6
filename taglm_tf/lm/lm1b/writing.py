"""Write lm_1b-shaped weights in the release layout: V1 ``ckpt-*`` files, vocabulary, direction.

The inverse of :func:`~taglm_tf.lm.lm1b.checkpoint.read_lm1b_checkpoint` (docs/lm_1b.md §2,
§1): ``ckpt-base`` (``global_step``), ``ckpt-char-embedding`` (char table, conv banks
``[w, E, 1, n]`` with ``[1, 1, 1, n]`` biases, highway ``dense_d/{gate,tr}/{W_s,b}``, ``proj``),
``ckpt-lstm`` (``lstm/lstm_L/{W_s, B, W_{I,F,O}_diag, W_P_s}``), ``ckpt-softmax0..S-1`` (one
``softmax/W_s`` each, rows interleaved: row v of the softmax is row v // S of shard v % S) and
``ckpt-softmax{S}`` (``softmax/b``). Matrices are split by rows into S shards (8 in the release).

A backward LM is marked by ``direction.json`` beside the shards (``{"direction": "backward"}``);
the release has none and is forward. :func:`read_direction` reads it. ``perplexity.json``, if
present, is the LM's held-out perplexity record (an ``experiments.eval_lm`` result naming the
checkpoint the weights came from).

:func:`write_release` writes the folder whole and then puts it in place in one step, replacing
an earlier release of its own there as a whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.lm.lm1b.checkpoint import LM1BWeights, Pattern, checkpoint_fingerprint, expand_pattern
from taglm_tf.lm.vocab import DIRECTIONS, MAX_TERM_ID
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path, output_target, scratch_folder

NUM_SHARDS = 8
DIRECTION_FILE = "direction.json"
# The LM's held-out perplexity record (an ``experiments.eval_lm`` result), written with the release.
PERPLEXITY_FILE = "perplexity.json"
# Bias of the softmax rows added to reach a multiple of the shard count: they enter lm_1b's
# normaliser (LM1BSoftmax), so they must get probability 0.
PADDING_BIAS = -1e30


def write_v1_file(path: str, tensors: Sequence[tuple[str, np.ndarray]]) -> None:
    """Write ``(name, value)`` tensors into one TF V1 (tensor-slice) file at exactly ``path``,
    as the release's files are (a V1 ``Saver`` in a private graph; no state file). The file
    appears complete or not at all, and a kill leaves only a ``STEM.tmp-HOST-PID`` folder that
    the next write of ``path`` removes (:func:`taglm_tf.utils.fileio.scratch_folder`)."""
    graph = tf.Graph()
    with graph.as_default():
        feeds, var_list = [], {}
        for i, (name, value) in enumerate(tensors):
            value = np.asarray(value)
            feed = tf.compat.v1.placeholder(value.dtype, value.shape)
            var = tf.compat.v1.Variable(feed, name=f"v{i}", use_resource=False, trainable=False)
            var_list[name] = var
            feeds.append((var.initializer, feed, value))
        saver = tf.compat.v1.train.Saver(
            var_list=var_list, sharded=False, write_version=tf.compat.v1.train.SaverDef.V1
        )
    # The V1 writer picks its own temporary names beside the file: write in a folder of our own,
    # named by fileio's rule, so that a kill inside Saver.save leaves nothing for good.
    path = output_target(path)  # the scratch folder is made beside what the rename replaces
    with scratch_folder(path) as tmp_dir, tf.compat.v1.Session(graph=graph) as sess:
        for init, feed, value in feeds:
            sess.run(init, {feed: value})
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel("ERROR")  # Saver.save's 6-line "V1 format is deprecated" banner: V1 is the point
        try:
            saver.save(sess, os.path.join(tmp_dir, "ckpt"), write_meta_graph=False, write_state=False)
        finally:
            logger.setLevel(level)
        produced = os.listdir(tmp_dir)
        if produced != ["ckpt"]:
            raise RuntimeError(f"V1 saver wrote {produced!r}, expected one file 'ckpt'")
        os.replace(os.path.join(tmp_dir, "ckpt"), path)


def _row_shards(prefix: str, matrix: np.ndarray, num_shards: int) -> list[tuple[str, np.ndarray]]:
    return [(f"{prefix}_{s}", part) for s, part in enumerate(np.array_split(matrix, num_shards, axis=0))]


def release_tensors(
    weights: LM1BWeights, num_shards: int = NUM_SHARDS
) -> dict[str, list[tuple[str, np.ndarray]]]:
    """File name -> ``(tensor name, value)`` of the release layout (module docstring).

    Without a softmax in ``weights`` the ``ckpt-softmax*`` files are left out. The softmax is
    padded with zero rows (bias :data:`PADDING_BIAS`) to a multiple of ``num_shards`` rows.
    """
    f32 = lambda a: np.ascontiguousarray(a, np.float32)  # noqa: E731
    char = [("char_embedding/W", f32(weights.char_embedding))]
    for k, (kernel, bias) in enumerate(zip(weights.conv_kernels, weights.conv_biases)):
        char += [
            (f"char_embedding/cnn_{k}/kernel", f32(kernel)[:, :, None, :]),
            (f"char_embedding/cnn_{k}/b", f32(bias).reshape(1, 1, 1, -1)),
        ]
    for d, hw in enumerate(weights.highway):
        scope = f"char_embedding/dense_{d}"
        char += _row_shards(f"{scope}/gate/W", f32(hw.gate_kernel), num_shards)
        char.append((f"{scope}/gate/b", f32(hw.gate_bias)[None]))
        char += _row_shards(f"{scope}/tr/W", f32(hw.transform_kernel), num_shards)
        char.append((f"{scope}/tr/b", f32(hw.transform_bias)[None]))
    char += _row_shards("char_embedding/proj/W", f32(weights.projection_kernel), num_shards)
    char.append(("char_embedding/proj/b", f32(weights.projection_bias)[None]))
    lstm = []
    for layer, w in enumerate(weights.lstm):
        scope = f"lstm/lstm_{layer}"
        lstm += _row_shards(f"{scope}/W", f32(w.kernel), num_shards)
        lstm += [
            (f"{scope}/B", f32(w.bias)),
            (f"{scope}/W_F_diag", f32(w.w_f_diag)),
            (f"{scope}/W_I_diag", f32(w.w_i_diag)),
            (f"{scope}/W_O_diag", f32(w.w_o_diag)),
        ]
        lstm += _row_shards(f"{scope}/W_P", f32(w.projection), num_shards)
    files = {
        "ckpt-base": [("global_step", np.asarray(weights.global_step, np.int64))],
        "ckpt-char-embedding": char,
        "ckpt-lstm": lstm,
    }
    if weights.softmax_kernel is not None:
        rows = -(-len(weights.softmax_kernel) // num_shards) * num_shards
        kernel = np.zeros((rows, weights.softmax_kernel.shape[1]), np.float32)
        kernel[: len(weights.softmax_kernel)] = weights.softmax_kernel
        bias = np.full(rows, PADDING_BIAS, np.float32)
        bias[: len(weights.softmax_bias)] = weights.softmax_bias
        for s in range(num_shards):
            files[f"ckpt-softmax{s}"] = [(f"softmax/W_{s}", np.ascontiguousarray(kernel[s::num_shards]))]
        files[f"ckpt-softmax{num_shards}"] = [("softmax/b", bias)]
    return files


def write_vocab(path: str, words: Sequence[str]) -> None:
    """One word per line in id order, UTF-8, then ``!!!MAXTERMID`` (as ``vocab-2016-09-10.txt``)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(w + "\n" for w in words) + MAX_TERM_ID + "\n")


def release_names(vocab_name: str = "vocab.txt", also: Iterable[str] = ()) -> re.Pattern:
    """The names a release folder written by :func:`write_release` may hold: its files
    (``ckpt-*``, the vocabulary, ``direction.json``, ``perplexity.json``, and the names in
    ``also``) and the temporaries of a killed writer (the ``.tmp-XXXX`` folders of earlier
    versions among them)."""
    files = "|".join(re.escape(name) for name in (vocab_name, DIRECTION_FILE, PERPLEXITY_FILE, *also))
    return re.compile(rf"(ckpt-(base|char-embedding|lstm|softmax[0-9]+)|{files})(\.(tmp|old)-.*)?|\.tmp-.*")


def check_release_dir(output_dir: str, vocab_name: str = "vocab.txt", also: Iterable[str] = ()) -> None:
    """Refuse ``output_dir`` before any work unless it is missing, empty or a release folder
    that :func:`write_release` wrote (it holds nothing else; :func:`release_names`): the whole
    folder is replaced.

    Raises:
        InputError: naming the folder and up to three of its other entries.
    """
    if not os.path.isdir(output_dir):
        return
    names = release_names(vocab_name, also)
    others = sorted(name for name in os.listdir(output_dir) if not names.fullmatch(name))
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise InputError(
            f"holds files that are not part of an lm_1b release written by this tool ({shown}); "
            "a new release replaces the whole folder, so choose a new or empty folder",
            output_dir,
        )


def write_release(
    output_dir: str,
    weights: LM1BWeights,
    words: Sequence[str],
    direction: str = "forward",
    vocab_name: str = "vocab.txt",
    num_shards: int = NUM_SHARDS,
    perplexity: dict | None = None,
) -> dict[str, str]:
    """Write ``weights`` and the vocabulary ``words`` (id order) into ``output_dir`` in the
    release layout, with ``direction.json`` for a backward LM and ``perplexity.json`` holding
    ``perplexity`` (the LM's held-out perplexity record) if given; returns {file name: path}.

    The folder is written whole, then put in place in one step (:func:`taglm_tf.utils.fileio.atomic_path`):
    an existing release folder (:func:`check_release_dir`) is replaced as a whole, so a reader
    or a kill sees the old release whole or the new one whole, never a mix (e.g. an old
    ``perplexity.json`` beside new weights).

    Raises:
        ValueError: an unknown ``direction``.
        InputError: ``output_dir`` holds other files (:func:`check_release_dir`).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    check_release_dir(output_dir, vocab_name)
    files = release_tensors(weights, num_shards)
    with atomic_path(output_dir, replace_folder=True) as tmp:
        os.mkdir(tmp)
        for name, tensors in files.items():
            write_v1_file(os.path.join(tmp, name), tensors)
        write_vocab(os.path.join(tmp, vocab_name), words)
        notes = {DIRECTION_FILE: {"direction": direction} if direction == "backward" else None}
        notes[PERPLEXITY_FILE] = perplexity
        for name, record in notes.items():
            if record is not None:
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                    json.dump(record, f, indent=1)
        written = sorted(os.listdir(tmp))
    return {name: os.path.join(output_dir, name) for name in written}


def release_fingerprint(pattern: Pattern) -> str:
    """The fingerprint of an LM in the release layout, which the tagger's runs and LM caches
    record: :func:`~taglm_tf.lm.lm1b.checkpoint.checkpoint_fingerprint` of ``pattern``, plus the
    direction for a backward LM (a forward one, such as Google's release, keeps the plain
    checkpoint fingerprint), so features computed reading one way are never taken for the other.
    A sha256 hex digest."""
    fingerprint = checkpoint_fingerprint(pattern)
    if read_direction(pattern) == "forward":
        return fingerprint
    return hashlib.sha256(f"{fingerprint}\nbackward".encode()).hexdigest()


def read_direction(pattern: Pattern) -> str:
    """``forward`` or ``backward``: what ``direction.json`` beside the first checkpoint file of
    ``pattern`` says; ``forward`` without one (Google's release).

    Raises:
        InputError: the file is not ``{"direction": "forward" | "backward"}``.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(expand_pattern(pattern)[0])), DIRECTION_FILE)
    if not os.path.exists(path):
        return "forward"
    try:
        with open(path, encoding="utf-8") as f:
            direction = json.load(f).get("direction")
    except (OSError, ValueError, AttributeError) as e:
        raise InputError(f"cannot read the LM direction ({e})", path) from None
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}", path)
    return direction
