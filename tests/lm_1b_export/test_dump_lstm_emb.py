"""dump_lstm_emb against the original-graph oracle, run one token per session.run."""

import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from lm_1b_export.dump_lstm_emb import dump, read_sentences
from taglm_tf.lm.lm1b.model import LM1BModel
from taglm_tf.utils.errors import InputError
from tools.lm1b import make_synthetic as ms
from tools.lm1b.reference import ReferenceLM

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINES = [
    "the cat sat on the mat .",
    "zyzzyva blorft qwxj .",  # OOV words
    "東京 café Zürich Ünïcödé-Straße",  # non-ASCII, known and OOV
    "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch " + "a" + "ü" * 30,  # > 48 bytes
    "dog",  # one token
    " ".join(["the", "cat", "and", "a", "dog", "ran", "to", "the", "park", "."] * 4),  # 40 tokens
]


def relative_error(actual, expected):
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("lm_1b_tiny"))
    ms.write_synthetic_release(out, size="tiny", seed=1)
    return out


@pytest.fixture(scope="module")
def expected(release):
    sentences = [line.split() for line in LINES]
    with ReferenceLM(
        os.path.join(release, ms.GRAPH_NAME),
        os.path.join(release, "ckpt-*"),
        os.path.join(release, ms.VOCAB_NAME),
    ) as lm:
        return [lm.dump_lstm_emb(tokens) for tokens in sentences]


@pytest.fixture
def input_file(tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return str(path)


def cli(release, input_file, output_file, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lm_1b_export.dump_lstm_emb",
            f"--ckpt={release}/ckpt-*",
            f"--vocab_file={release}/{ms.VOCAB_NAME}",
            f"--input_file={input_file}",
            f"--output_file={output_file}",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_reproduces_the_original_graph(release, expected, input_file, tmp_path):
    out = tmp_path / "out.hdf5"
    result = cli(release, input_file, out, "--batch_size=4")
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert sorted(f.keys(), key=int) == [str(i) for i in range(len(LINES))]
        for i, reference in enumerate(expected):
            data = f[str(i)][:]
            assert data.dtype == np.float32 and data.shape == (3, len(LINES[i].split()), 16)
            assert relative_error(data, reference) <= 1e-5, i


@pytest.mark.parametrize("batch_size,chunk", [(1, 2048), (3, 2), (64, 5)])
def test_batching_does_not_change_outputs(release, expected, input_file, tmp_path, batch_size, chunk):
    embedder = LM1BModel.from_checkpoint(f"{release}/ckpt-*", f"{release}/{ms.VOCAB_NAME}")
    out = str(tmp_path / "out.hdf5")
    dump(embedder, read_sentences(input_file), out, batch_size, chunk, verbose=False)
    with h5py.File(out, "r") as f:
        for i, reference in enumerate(expected):
            assert relative_error(f[str(i)][:], reference) <= 1e-5


def copy_release(release, tmp_path):
    target = tmp_path / "release"
    shutil.copytree(release, target)
    return str(target)


def assert_fails_cleanly(result, out, *needles):
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ")
    for needle in needles:
        assert needle in message, message
    assert not os.path.exists(out) and not [p for p in os.listdir(os.path.dirname(out)) if ".tmp-" in p]


def test_missing_shard(release, input_file, tmp_path):
    copy = copy_release(release, tmp_path)
    os.remove(os.path.join(copy, "ckpt-lstm"))
    out = str(tmp_path / "out.hdf5")
    assert_fails_cleanly(cli(copy, input_file, out), out, "lstm/lstm_0")


def test_duplicated_shard(release, input_file, tmp_path):
    copy = copy_release(release, tmp_path)
    shutil.copy(os.path.join(copy, "ckpt-lstm"), os.path.join(copy, "ckpt-lstm.1"))
    out = str(tmp_path / "out.hdf5")
    assert_fails_cleanly(cli(copy, input_file, out), out)


def test_vocab_without_free_bytes(release, input_file, tmp_path):
    copy = copy_release(release, tmp_path)
    with open(os.path.join(copy, ms.VOCAB_NAME), "ab") as f:
        # One word using every byte but the newline (whitespace inside a word survives strip()).
        f.write(b"a" + bytes(b for b in range(256) if b != 10) + b"a\n")
    out = str(tmp_path / "out.hdf5")
    assert_fails_cleanly(cli(copy, input_file, out), out, ms.VOCAB_NAME)


def test_empty_input_line(release, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("the cat\n\nsat\n")
    out = str(tmp_path / "out.hdf5")
    assert_fails_cleanly(cli(release, bad, out), out, f"{bad}:2", "empty line")


def test_read_sentences_rejects_bad_utf8(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok line\ncaf\xe9\n")
    with pytest.raises(InputError) as e:
        read_sentences(str(bad))
    assert e.value.line == 2


def test_reference_without_softmax_files(release, expected, tmp_path):
    copy = copy_release(release, tmp_path)
    for k in range(9):
        os.remove(os.path.join(copy, f"ckpt-softmax{k}"))
    with ReferenceLM(
        os.path.join(copy, ms.GRAPH_NAME),
        os.path.join(copy, "ckpt-*"),
        os.path.join(copy, ms.VOCAB_NAME),
        restore_softmax=False,
    ) as lm:
        np.testing.assert_array_equal(lm.dump_lstm_emb(LINES[0].split()), expected[0])


# ---------------------------------------------------------------- <S>, BOM, CR, Unicode spaces

# lm_1b_eval adds "<S> " only when sentence.find('<S>') != 0, then splits the UTF-8 bytes.
BOS_LINES = ["<S> the cat sat", "<S>the cat", "the <S> cat", "a\u00a0b the\u3000cat\u2009. x\u0085y", "<S>"]
BOS_TOKENS = [
    ["<S>", "the", "cat", "sat"],
    ["<S>the", "cat"],
    ["the", "<S>", "cat"],
    ["a\u00a0b", "the\u3000cat\u2009.", "x\u0085y"],
    ["<S>"],
]


@pytest.fixture(scope="module")
def bos_reference(release):
    with ReferenceLM(
        os.path.join(release, ms.GRAPH_NAME),
        os.path.join(release, "ckpt-*"),
        os.path.join(release, ms.VOCAB_NAME),
    ) as lm:
        return [lm.dump_lstm_emb_line(line) for line in BOS_LINES]


def test_reference_adds_bos_like_lm_1b_eval(bos_reference):
    assert [added for _, added in bos_reference] == [False, False, True, True, False]
    assert [steps.shape[1] for steps, _ in bos_reference] == [4, 2, 4, 4, 1]


def test_bos_rule_bom_cr_and_unicode_spaces(release, bos_reference, tmp_path):
    path = tmp_path / "odd.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r".join(BOS_LINES).encode("utf-8") + b"\r")
    sentences = read_sentences(str(path))
    assert sentences == BOS_TOKENS
    embedder = LM1BModel.from_checkpoint(f"{release}/ckpt-*", f"{release}/{ms.VOCAB_NAME}")
    out = str(tmp_path / "out.hdf5")
    dump(embedder, sentences, out, batch_size=3, chunk=2048, verbose=False)
    with h5py.File(out, "r") as f:
        for i, (steps, added) in enumerate(bos_reference):
            data = f[str(i)][:]
            # One row per word of the line; the added <S> step has no row.
            assert data.shape == (3, len(BOS_TOKENS[i]), 16)
            assert relative_error(data, steps[:, 1:] if added else steps) <= 1e-5, i


def test_in_graph_tokens_follow_the_same_bos_rule(release):
    import tensorflow as tf

    from taglm_tf.lm.frozen.lm1b_embedder import LM1BEmbedder
    from taglm_tf.lm.lm1b.model import first_token_step

    embedder = LM1BModel.from_checkpoint(f"{release}/ckpt-*", f"{release}/{ms.VOCAB_NAME}")
    width = max(len(t) for t in BOS_TOKENS)
    tokens = tf.constant([t + [""] * (width - len(t)) for t in BOS_TOKENS])
    assert first_token_step(tokens).numpy().tolist() == [0, 0, 1, 1, 0]
    in_graph = LM1BEmbedder(embedder, "fp").embed_tokens(tokens).numpy()
    for row, (sentence, layers) in enumerate(zip(BOS_TOKENS, embedder.embed_sentences(BOS_TOKENS))):
        np.testing.assert_allclose(in_graph[row, : len(sentence)], layers[-1], rtol=1e-5, atol=1e-6)
        assert not in_graph[row, len(sentence) :].any()
