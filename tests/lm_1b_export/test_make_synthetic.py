"""Tests of the synthetic lm_1b release (make_synthetic) and of the graph oracle (reference).

One tiny release is written per module. The checks cover the file layout and V1 format (docs/lm_1b.md §1-2,
§8.4), the variable table (§2.1), the vocabulary (§5.1, §6), the graph interface (§4), and an
independent numpy re-computation of the forward math (§5) from the checkpoint tensors.
"""

import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.utils.errors import InputError
from tools.lm1b import make_synthetic as ms
from tools.lm1b.reference import ReferenceLM

E, COUNTS, WIDTHS, P, N = 4, (1, 1, 2, 2, 4, 6, 8, 8), (1, 2, 3, 4, 5, 6, 7, 7), 16, 64
H = sum(COUNTS)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CKPT_NAMES = ["ckpt-base", "ckpt-char-embedding", "ckpt-lstm"] + ["ckpt-softmax%d" % i for i in range(9)]
SENTENCES = [
    "the cat sat on the mat .".split(),
    ["zyzzyva", "blorft", "."],  # OOV words
    ["東京", "café", "Zürich", "Ünïcödé-Straße"],  # non-ASCII, known and OOV
    ["Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", "a" + "ü" * 30],  # > 48 bytes
    ["dog"],  # one token
]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Directory holding the tiny release (seed 0)."""
    out = str(tmp_path_factory.mktemp("lm_1b_tiny"))
    written = ms.write_synthetic_release(out, size="tiny", seed=0)
    assert sorted(written) == sorted(CKPT_NAMES + [ms.VOCAB_NAME, ms.GRAPH_NAME])
    return out


@pytest.fixture(scope="module")
def lm(release):
    """The oracle on the tiny release."""
    with ReferenceLM(
        os.path.join(release, ms.GRAPH_NAME),
        os.path.join(release, "ckpt-*"),
        os.path.join(release, ms.VOCAB_NAME),
    ) as model:
        yield model


@pytest.fixture(scope="module")
def weights(release):
    """All checkpoint tensors, read through the glob."""
    reader = tf.train.load_checkpoint(os.path.join(release, "ckpt-*"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def expected_files(vpad):
    """docs/lm_1b.md §2 with the tiny dims: file -> {name: shape}, written out independently."""
    char = {"char_embedding/W": [256, E]}
    for k, (w, n) in enumerate(zip(WIDTHS, COUNTS)):
        char["char_embedding/cnn_%d/kernel" % k] = [w, E, 1, n]
        char["char_embedding/cnn_%d/b" % k] = [1, 1, 1, n]
    for layer in (0, 1):
        for part in ("gate", "tr"):
            scope = "char_embedding/dense_%d/%s" % (layer, part)
            char.update({"%s/W_%d" % (scope, s): [H // 8, H] for s in range(8)})
            char[scope + "/b"] = [1, H]
    char.update({"char_embedding/proj/W_%d" % s: [H // 8, P] for s in range(8)})
    char["char_embedding/proj/b"] = [1, P]
    lstm = {}
    for layer in (0, 1):
        scope = "lstm/lstm_%d/" % layer
        lstm.update({scope + "W_%d" % s: [2 * P // 8, 4 * N] for s in range(8)})
        lstm.update({scope + "W_P_%d" % s: [N // 8, P] for s in range(8)})
        lstm.update({scope + name: [N] for name in ("W_F_diag", "W_I_diag", "W_O_diag")})
        lstm[scope + "B"] = [4 * N]
    files = {"ckpt-base": {"global_step": []}, "ckpt-char-embedding": char, "ckpt-lstm": lstm}
    files.update({"ckpt-softmax%d" % s: {"softmax/W_%d" % s: [vpad // 8, P]} for s in range(8)})
    files["ckpt-softmax8"] = {"softmax/b": [vpad]}
    return files


# ------------------------------------------------------------------------------------------
# Files and checkpoint format
# ------------------------------------------------------------------------------------------


def test_tiny_dims():
    d = ms.TINY
    assert (d.char_dim, d.filter_counts, d.highway, d.proj, d.cells) == (E, COUNTS, H, P, N)
    assert 100 <= d.vocab_size < d.vocab_pad and d.vocab_pad % 8 == 0


def test_release_has_exactly_the_release_files(release):
    assert sorted(os.listdir(release)) == sorted(CKPT_NAMES + [ms.VOCAB_NAME, ms.GRAPH_NAME])


def test_glob_lists_all_112_variables(release):
    listed = dict(tf.train.list_variables(os.path.join(release, "ckpt-*")))
    expected = {k: v for f in expected_files(ms.TINY.vocab_pad).values() for k, v in f.items()}
    assert len(expected) == 112
    assert listed == expected


def test_each_file_holds_its_spec_variables(release):
    for file_name, variables in expected_files(ms.TINY.vocab_pad).items():
        reader = tf.train.load_checkpoint(os.path.join(release, file_name))  # the file alone
        assert reader.get_variable_to_shape_map() == variables, file_name
    base = tf.train.load_checkpoint(os.path.join(release, "ckpt-base"))
    assert base.get_variable_to_dtype_map()["global_step"] == tf.int64
    assert base.get_tensor("global_step") == 14108582


def test_files_are_v1_tensor_slice_tables(release):
    # V1: one SSTable per file, no .index/.data companions, no `checkpoint` state file.
    assert not [f for f in os.listdir(release) if ".index" in f or ".data" in f]
    for name in CKPT_NAMES:
        with open(os.path.join(release, name), "rb") as f:
            f.seek(-8, os.SEEK_END)
            assert f.read() == bytes.fromhex("57fb808b247547db"), name  # table magic number


def test_duplicated_shard_fails_with_overlapping_slices(release, tmp_path):
    # Like users who downloaded ckpt-lstm twice: TF says
    # "Overlapping slices: existing slice = -, new slice = -" (1-D tensors print "-").
    dup = str(tmp_path / "dup")
    shutil.copytree(release, dup)
    shutil.copy(os.path.join(dup, "ckpt-lstm"), os.path.join(dup, "ckpt-lstm.1"))
    pattern = os.path.join(dup, "ckpt-*")
    with pytest.raises(tf.errors.OpError, match="Overlapping slices"):
        tf.train.load_checkpoint(pattern)
    with pytest.raises(tf.errors.InternalError, match="Overlapping slices"):
        ReferenceLM(os.path.join(dup, ms.GRAPH_NAME), pattern, os.path.join(dup, ms.VOCAB_NAME))


def test_cli_no_softmax(tmp_path):
    out = str(tmp_path / "nosm")
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert ms.main(["--output_dir=%s" % out, "--seed=3", "--no_softmax"]) == 0
    assert "NOT written" in buf.getvalue()
    assert sorted(os.listdir(out)) == sorted(CKPT_NAMES[:3] + [ms.VOCAB_NAME, ms.GRAPH_NAME])
    assert len(tf.train.list_variables(os.path.join(out, "ckpt-*"))) == 103


def test_a_release_is_replaced_whole(tmp_path):
    """Writing again into a release replaces it as a whole (no stale softmax shards beside a
    release without them); killed half-way, the folder holds the old release whole; a folder
    holding other files is refused before any work."""
    out = tmp_path / "rel"
    ms.write_synthetic_release(str(out), seed=1)
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = subprocess.run(
        [sys.executable, os.path.join(REPO, "tests", "exit_at_call.py")]
        + ["taglm_tf.lm.lm1b.writing:write_v1_file", "3", "after", "tools.lm1b.make_synthetic"]
        + [f"--output_dir={out}", "--seed=2", "--no_softmax"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    ms.write_synthetic_release(str(out), seed=2, include_softmax=False)
    assert sorted(os.listdir(out)) == sorted(CKPT_NAMES[:3] + [ms.VOCAB_NAME, ms.GRAPH_NAME])
    assert os.listdir(tmp_path) == ["rel"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"not part of an lm_1b release .*\(notes.txt\)"):
        ms.write_synthetic_release(str(out), seed=3)
    with pytest.raises(SystemExit), redirect_stderr(io.StringIO()) as err:
        ms.main([f"--output_dir={out}"])
    assert "notes.txt" in err.getvalue() and (out / "notes.txt").exists()


def test_values_depend_only_on_seed_and_name(release):
    spec = ms.release_variables(ms.TINY)["ckpt-lstm"][8]
    assert spec.name == "lstm/lstm_0/B"
    stored = tf.train.load_checkpoint(os.path.join(release, "ckpt-lstm")).get_tensor(spec.name)
    np.testing.assert_array_equal(stored, ms.variable_value(spec, seed=0))
    assert not np.array_equal(stored, ms.variable_value(spec, seed=1))
    assert stored[2 * N : 3 * N].mean() < stored[: 2 * N].mean() - 0.5  # forget-block offset


def test_full_size_layout_without_writing_weights(tmp_path):
    files = ms.release_variables(ms.FULL)
    specs = [s for group in files.values() for s in group]
    assert len(specs) == 112
    floats = [s for s in specs if s.dtype == "float32"]
    assert (
        sum(int(np.prod(s.shape)) for s in floats) == 1042864896
    )  # the release parameter count (docs/lm_1b.md §2)
    assert files["ckpt-softmax8"][0].shape == (800000,)
    path = str(tmp_path / ms.VOCAB_NAME)
    ms.write_vocab(path, ms.FULL)
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"" and lines[-2] == b"!!!MAXTERMID"
    words = lines[:-2]
    assert len(words) == len(set(words)) == 793471 and words[:3] == [b"<S>", b"</S>", b"<UNK>"]


# ------------------------------------------------------------------------------------------
# Vocabulary
# ------------------------------------------------------------------------------------------


def test_vocab_format_and_free_bytes(release):
    with open(os.path.join(release, ms.VOCAB_NAME), "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").split("\n")  # valid UTF-8 throughout
    assert lines[-1] == "" and lines[-2] == "!!!MAXTERMID"
    words = lines[:-2]
    assert words[:3] == ["<S>", "</S>", "<UNK>"] and len(words) == ms.TINY.vocab_size
    assert "!!!MAXTERMID" not in words and len(set(words)) == len(words)
    assert all(w == w.strip() and w for w in words)
    assert {"東京", "café", "über", "."} <= set(words)
    assert max(len(w.encode("utf-8")) for w in words) > 48
    used = set(b"".join(w.encode("utf-8") for w in words))
    free = [b for b in range(256) if b not in used]
    assert free[:5] == [0, 1, 2, 3, 4]  # the five specials bos, eos, bow, eow, pad


def test_oracle_char_encoding(lm):
    assert (lm.chars.bos, lm.chars.eos, lm.chars.bow, lm.chars.eow, lm.chars.pad) == (0, 1, 2, 3, 4)
    np.testing.assert_array_equal(lm.word_char_ids("<S>")[:6], [2, 60, 83, 62, 3, 4])
    long_word = "a" + "ü" * 30
    ids = lm.word_char_ids(long_word)
    assert ids[0] == 2 and ids[49] == 3 and list(ids[1:49]) == list(long_word.encode()[:48])
    assert lm.word_id("東京") != lm.word_id("zyzzyva") == lm.vocab.unk == 2
    assert (lm.vocab.bos, lm.vocab.eos) == (0, 1)


# ------------------------------------------------------------------------------------------
# Graph interface and behaviour
# ------------------------------------------------------------------------------------------


def test_graph_interface(lm):
    g = lm.graph
    shapes = {
        "inputs_in:0": ([1, 1], tf.int32),
        "char_inputs_in:0": ([1, 1, 50], tf.int32),
        "targets_in:0": ([1, 1], tf.int32),
        "target_weights_in:0": ([1, 1], tf.float32),
        "all_embs_out:0": ([1, P], tf.float32),
        "lstm/lstm_0/control_dependency:0": ([1, P], tf.float32),
        "lstm/lstm_1/control_dependency:0": ([1, P], tf.float32),
        "softmax_out:0": ([1, ms.TINY.vocab_pad], tf.float32),
        "log_perplexity_out:0": ([], tf.float32),
        "Reshape_3:0": ([ms.TINY.vocab_pad, P], tf.float32),
        "Variable:0": ([1, N + P], tf.float32),
        "Variable_1:0": ([1, N + P], tf.float32),
    }
    for name, (shape, dtype) in shapes.items():
        t = g.get_tensor_by_name(name)
        assert (t.shape.as_list(), t.dtype.base_dtype) == (shape, dtype), name
    for name in ("Variable", "Variable_1", "global_step", "softmax/W_0"):
        assert g.get_operation_by_name(name).type == "VariableV2"  # ref variables, as in 2016
    assert g.get_operation_by_name("states_init").type == "NoOp"
    assert g.get_operation_by_name("char_embedding/EmbeddingLookupUnique/Unique").type == "Unique"
    types = {op.type for op in g.get_operations()}
    assert not types & {"While", "Enter", "BlockLSTM", "LSTMBlockCell", "VarHandleOp"}
    saved = lm.session.run("save/RestoreV2/tensor_names:0")
    assert len(saved) == 112 and b"Variable" not in saved and b"Variable_1" not in saved


def test_dump_lstm_emb_shapes_and_values(lm):
    for tokens in SENTENCES:
        out = lm.dump_lstm_emb(tokens)
        assert out.shape == (3, len(tokens), P) and out.dtype == np.float32
        assert np.all(np.isfinite(out))
        assert np.all(out.std(axis=2) > 1e-2), tokens  # no collapsed rows
        assert np.abs(out[1:]).max() < 5.0  # LSTM outputs are bounded by tanh and W_P
    first = lm.dump_lstm_emb(SENTENCES[0])
    assert not np.allclose(first[:, 1], first[:, 2])  # different words, different rows
    np.testing.assert_array_equal(first[0, 0], first[0, 4])  # "the" twice: same char embedding
    assert not np.allclose(first[1:, 0], first[1:, 4])  # ... but a different LSTM context


def test_state_reset_gives_identical_runs(lm):
    a = lm.dump_lstm_emb(SENTENCES[2])
    lm.dump_lstm_emb(SENTENCES[0])
    b = lm.dump_lstm_emb(SENTENCES[2])
    np.testing.assert_array_equal(a, b)


def test_fetch_only_advances_the_fetched_layers(lm):
    lm.reset()
    lm.step(lm.vocab.bos, lm.word_char_ids("<S>"), ["all_embs_out:0"])
    s0, s1 = lm.session.run(["Variable:0", "Variable_1:0"])
    assert not s0.any() and not s1.any()
    lm.step(lm.vocab.bos, lm.word_char_ids("<S>"), ["lstm/lstm_0/control_dependency:0"])
    s0, s1 = lm.session.run(["Variable:0", "Variable_1:0"])
    assert s0.any() and not s1.any()


def test_softmax_steps(lm):
    tokens = ["the", "cat", "zyzzyva"]
    probs, log_perp = lm.softmax_steps(tokens)
    assert probs.shape == (4, ms.TINY.vocab_pad) and log_perp.shape == (4,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    targets = [lm.word_id("the"), lm.word_id("cat"), lm.vocab.unk, lm.vocab.eos]
    np.testing.assert_allclose(log_perp, -np.log(probs[np.arange(4), targets]) / (1 + 1e-4), rtol=1e-4)
    assert probs[:, ms.TINY.vocab_size :].sum() > 0  # padding rows enter the normaliser
    assert probs.max() < 0.9  # not degenerate
    eval_probs, _ = lm.softmax_steps(tokens, bos_chars="eval")
    assert not np.allclose(eval_probs[0], probs[0])  # the two <S> encodings differ (§5.1)


# ------------------------------------------------------------------------------------------
# Independent numpy forward pass (docs/lm_1b.md §3-7) against the graph
# ------------------------------------------------------------------------------------------


def np_char_ids(word: str) -> np.ndarray:
    """docs/lm_1b.md §3 with the specials of the tiny vocab (bow=2, eow=3, pad=4)."""
    body = list(word.encode("utf-8")[:48])
    return np.array([2] + body + [3] + [4] * (48 - len(body)), np.int64)


def shards(w, prefix, axis=0):
    """concat(prefix_0..prefix_7) along ``axis``, in float64."""
    return np.concatenate([w["%s_%d" % (prefix, s)] for s in range(8)], axis).astype(np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_embedding(w, char_ids):
    """Char CNN, 2 highway layers and projection for one word -> [P]."""
    emb = w["char_embedding/W"].astype(np.float64)[char_ids]  # [50, E]
    feats = []
    for k, width in enumerate(WIDTHS):
        kernel = w["char_embedding/cnn_%d/kernel" % k].astype(np.float64)
        windows = np.stack([emb[t : t + width].reshape(-1) for t in range(50 - width + 1)])
        conv = windows @ kernel.reshape(width * E, -1) + w["char_embedding/cnn_%d/b" % k][0, 0]
        feats.append(np.maximum(conv, 0.0).max(axis=0))
    x = np.concatenate(feats)
    for layer in (0, 1):
        scope = "char_embedding/dense_%d" % layer
        gate = sigmoid(x @ shards(w, scope + "/gate/W") + w[scope + "/gate/b"][0] - 2.0)
        tr = np.maximum(x @ shards(w, scope + "/tr/W") + w[scope + "/tr/b"][0], 0.0)
        x = gate * tr + (1.0 - gate) * x
    return x @ shards(w, "char_embedding/proj/W") + w["char_embedding/proj/b"][0]


def np_lstm(w, layer, x, c_prev, h_prev):
    """One LSTMP step (i, j, f, o; forget +1; peepholes; projection) -> (c, h)."""
    s = "lstm/lstm_%d/" % layer
    z = np.concatenate([x, h_prev]) @ shards(w, s + "W") + w[s + "B"]
    i, j, f, o = np.split(z, 4)
    c = sigmoid(f + 1.0 + w[s + "W_F_diag"] * c_prev) * c_prev + sigmoid(
        i + w[s + "W_I_diag"] * c_prev
    ) * np.tanh(j)
    m = sigmoid(o + w[s + "W_O_diag"] * c) * np.tanh(c)
    return c, m @ shards(w, s + "W_P")


@pytest.mark.parametrize("token", ["Zürich", "x" + "é" * 30], ids=["known", "oov_cut_mid_char"])
def test_graph_matches_numpy_forward(lm, weights, token):
    if token != "Zürich":  # OOV, and the 48-byte cut splits a 2-byte character
        assert lm.word_id(token) == lm.vocab.unk
        with pytest.raises(UnicodeDecodeError):
            token.encode("utf-8")[:48].decode("utf-8")
    np.testing.assert_array_equal(lm.word_char_ids(token), np_char_ids(token))
    vpad = ms.TINY.vocab_pad
    softmax_w = shards(weights, "softmax/W", axis=1).reshape(vpad, P)
    # Interleaved rows: row v is row v // 8 of shard v % 8.
    np.testing.assert_array_equal(softmax_w[8 * 3 + 5], weights["softmax/W_5"][3])
    np.testing.assert_array_equal(lm.softmax_matrix(), softmax_w.astype(np.float32))
    states = [(np.zeros(N), np.zeros(P)), (np.zeros(N), np.zeros(P))]
    target = lm.word_id("dog")
    lm.reset()
    fetches = [
        "all_embs_out:0",
        "lstm/lstm_0/control_dependency:0",
        "lstm/lstm_1/control_dependency:0",
        "softmax_out:0",
        "log_perplexity_out:0",
    ]
    for word_id, word in ((lm.vocab.bos, "<S>"), (lm.word_id(token), token)):
        got = lm.step(word_id, np_char_ids(word), fetches, target_id=target, weight=1.0)
        x = np_embedding(weights, np_char_ids(word))
        want = [x]
        for layer in (0, 1):
            states[layer] = np_lstm(weights, layer, x, *states[layer])
            x = states[layer][1]
            want.append(x)
        for g, wv in zip(got[:3], want):
            np.testing.assert_allclose(g[0], wv, rtol=1e-5, atol=1e-5 * np.abs(wv).max())
        logits = softmax_w @ x + weights["softmax/b"]
        log_probs = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
        np.testing.assert_allclose(np.log(got[3][0]), log_probs, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got[4], -log_probs[target] / (1 + 1e-4), rtol=1e-5)
    c_h = np.concatenate(states[1])
    np.testing.assert_allclose(lm.session.run("Variable_1:0")[0], c_h, rtol=1e-5, atol=1e-6)
