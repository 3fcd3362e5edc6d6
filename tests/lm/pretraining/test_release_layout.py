"""A trained CNN-LSTM written in lm_1b's release layout loads through the lm_1b loader
(``LM1BModel.from_checkpoint``, the ``lm1b:`` LM spec) with the same embeddings and
log-probabilities, forward and backward."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import tensorflow as tf

import tiny_lms
from data_paths import REPO
from lm_1b_export import dump_lstm_emb
from taglm_tf.lm.frozen.loading import lm_perplexities, load_embedder
from taglm_tf.lm.lm1b.checkpoint import checkpoint_fingerprint, read_lm1b_checkpoint
from taglm_tf.lm.lm1b.model import LM1BModel
from taglm_tf.lm.lm1b.saving import export_lm1b, load_lm1b
from taglm_tf.lm.lm1b.writing import read_direction, release_fingerprint
from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel
from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig, LMTrainConfig, PretrainConfig
from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
from taglm_tf.lm.pretraining.run import pretrain
from taglm_tf.lm.pretraining.saving import perplexity_record, write_lm1b_release
from taglm_tf.lm.pretraining.trainer import LMTrainer
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import InputError

LINES = [
    "the cat sat on the mat .",
    "a dog ate the bone in Zürich .",
    "the cat ate .",
    "Peace talks resumed .",
]
SENTENCES = [
    ["the", "Kestrel", "cat", "sat", "."],
    ["Zürich", "dog"],
    ["a"],
]  # "Kestrel": not in the vocabulary


def train_tiny(tmp_path, direction, steps=4):
    (tmp_path / "train.txt").write_text("\n".join(LINES) + "\n")
    vocab = LMVocabulary.build(line.split() for line in LINES)
    config = LMTrainConfig(
        batch_size=2, num_steps=4, train_steps=steps, log_every=10**6, checkpoint_every=10**6
    )
    tf.keras.utils.set_random_seed(1)
    trainer = LMTrainer(
        tf.distribute.get_strategy(),
        lambda: CNNLSTMLanguageModel(
            vocab.size,
            char_dim=4,
            conv_widths=(1, 2, 3),
            conv_filters=(4, 4, 8),
            num_highway=2,
            num_cells=12,
            projection_dim=8,
            num_layers=2,
            num_sampled=5,
            reset_id=vocab.bos,
        ),
        config,
        str(tmp_path / "run"),
        log=lambda line: None,
    )
    corpus = lm_data.LMCorpus(
        [str(tmp_path / "train.txt")],
        vocab,
        direction,
        shuffle=True,
        num_epochs=None,
        chars=char_encoder_of(trainer.model, vocab),
    )
    trainer.fit(lm_data.distributed_dataset(trainer.strategy, corpus, 2, 4))
    assert trainer.step == steps
    return trainer.model, vocab, corpus.chars


def reference(model, vocab, encoder, sentence, direction):
    """The trainer's model reading ``<S>`` + the sentence in its direction: char embeddings, top
    outputs and next-word log-probabilities per token, re-aligned to the sentence's order."""
    words = ["<S>"] + (sentence[::-1] if direction == "backward" else sentence)
    chars = tf.constant([encoder.encode_words(words)])
    embedded = model.char_embedder(chars)[0, 1:].numpy()
    top = model(tf.constant([vocab.encode(words)]), chars)[0][0, 1:]
    log_probs = tf.nn.log_softmax(model.softmax(top)).numpy()
    top = top.numpy()
    if direction == "backward":
        embedded, top, log_probs = embedded[::-1], top[::-1], log_probs[::-1]
    return embedded, top, log_probs


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_written_release_loads_with_same_embeddings_and_log_probs(tmp_path, direction):
    model, vocab, encoder = train_tiny(tmp_path, direction)
    out = tmp_path / "release"
    written = write_lm1b_release(model, vocab, direction, str(out), global_step=4)
    assert sorted(os.listdir(out)) == sorted(
        ["ckpt-base", "ckpt-char-embedding", "ckpt-lstm", "vocab.txt"]
        + [f"ckpt-softmax{s}" for s in range(9)]
        + (["direction.json"] if direction == "backward" else [])
    )
    assert set(written) == set(os.listdir(out))
    assert read_direction(str(out / "ckpt-*")) == direction
    assert (release_fingerprint(str(out / "ckpt-*")) == checkpoint_fingerprint(str(out / "ckpt-*"))) == (
        direction == "forward"
    )
    weights = read_lm1b_checkpoint(str(out / "ckpt-*"))
    assert weights.dims.num_shards == 8 and weights.global_step == 4
    assert weights.dims.softmax_rows == 8 * -(-vocab.size // 8) > vocab.size  # padded to the shards

    embedder = LM1BModel.from_checkpoint(str(out / "ckpt-*"), str(out / "vocab.txt"), include_softmax=True)
    assert embedder.direction == direction
    assert (embedder.chars.bow_char, embedder.chars.pad_char) == (encoder.bow_char, encoder.pad_char)
    loaded = embedder.embed_sentences(SENTENCES)
    spec = load_embedder(f"lm1b:{out}/ckpt-*,{out}/vocab.txt")  # the tagger's route
    in_graph = spec.embed_tokens(tf.constant([s + [""] * (5 - len(s)) for s in SENTENCES]))
    for i, sentence in enumerate(SENTENCES):
        embedded, top, log_probs = reference(model, vocab, encoder, sentence, direction)
        assert np.abs(top).max() > 1e-3
        np.testing.assert_allclose(loaded[i][0], embedded, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded[i][-1], top, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(spec.embed_sentences([sentence])[0], top, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(in_graph[i, : len(sentence)].numpy(), top, rtol=1e-5, atol=1e-6)
        # the loader's softmax has padding rows, which must get no probability
        loader_log_probs = tf.nn.log_softmax(embedder.softmax(tf.constant(loaded[i][-1]))).numpy()
        np.testing.assert_allclose(loader_log_probs[:, : vocab.size], log_probs, rtol=1e-5, atol=1e-5)
        assert np.exp(loader_log_probs[:, vocab.size :]).max() == 0.0
    # the direction matters: read the other way, the outputs differ
    flipped = LM1BModel.from_checkpoint(
        str(out / "ckpt-*"),
        str(out / "vocab.txt"),
        direction="forward" if direction == "backward" else "backward",
    )
    assert not np.allclose(flipped.embed_sentences(SENTENCES[:1])[0][-1], loaded[0][-1], atol=1e-4)


def test_release_refuses_what_lm1b_cannot_compute(tmp_path):
    vocab = LMVocabulary.build([["a", "b"]])
    model = CNNLSTMLanguageModel(
        vocab.size,
        char_dim=2,
        conv_widths=(1,),
        conv_filters=(2,),
        num_highway=1,
        num_cells=4,
        projection_dim=2,
        num_layers=1,
        num_sampled=2,
        cell_clip=3.0,
    )
    model.build()
    with pytest.raises(InputError, match="cell_clip=3.0"):
        write_lm1b_release(model, vocab, "forward", str(tmp_path / "out"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "ckpt-base").write_text("")
    (tmp_path / "bad" / "direction.json").write_text(json.dumps({"direction": "sideways"}))
    with pytest.raises(InputError, match="sideways"):
        read_direction(str(tmp_path / "bad" / "ckpt-*"))


def test_from_pretrained_cli_writes_a_run_the_lm1b_spec_reads(tmp_path):
    """A backward CNN-LSTM run -> ``lm_1b_export.from_pretrained`` -> ``lm1b:`` spec: the same
    vectors as the run directory read through ``lstm_lm:``."""
    (tmp_path / "train.txt").write_text("\n".join(LINES) + "\n")
    run_dir, out = tmp_path / "run", tmp_path / "release"
    pretrain(
        PretrainConfig(
            model_dir=str(run_dir),
            train_files=str(tmp_path / "train.txt"),
            direction="backward",
            model=CNNLSTMLMConfig(
                char_dim=4,
                conv_widths=(1, 2),
                conv_filters=(4, 4),
                num_highway=1,
                num_cells=8,
                projection_dim=4,
                num_layers=1,
                num_sampled=4,
            ),
            train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=3, checkpoint_every=3, log_every=3),
        ),
        strategy=tf.distribute.get_strategy(),
    )
    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    (run_dir / "perplexity.json").write_text(json.dumps({"checkpoint": latest, "perplexity": 123.25}))
    (out).mkdir()
    (out / "perplexity.json").write_text(json.dumps({"checkpoint": "old", "perplexity": 9.0}))
    done = tiny_lms.export_release(run_dir, out)
    assert done.returncode == 0, done.stderr
    assert "deprecated" not in done.stderr  # V1 is the release's format: no 9 x 6-line TF banner
    assert "backward LM" in done.stdout and json.loads((out / "direction.json").read_text()) == {
        "direction": "backward"
    }
    assert read_lm1b_checkpoint(str(out / "ckpt-*"), include_softmax=False).global_step == 3
    # eval_lm's record of the exported checkpoint travels with it, into tagger runs' results.json
    assert "held-out perplexity 123.25" in done.stdout
    assert lm_perplexities({"backward_lm": f"lm1b:{out}/ckpt-*,{out}/vocab.txt"}) == {"backward": 123.25}
    (run_dir / "other.json").write_text(json.dumps({"checkpoint": f"{latest[:-2]}-1", "perplexity": 1.0}))
    with pytest.raises(InputError, match="not the exported"):
        perplexity_record(str(run_dir), latest, str(run_dir / "other.json"))
    (run_dir / "perplexity.json").unlink()
    assert perplexity_record(str(run_dir), latest) is None
    ours, theirs = load_embedder(f"lstm_lm:{run_dir}"), load_embedder(f"lm1b:{out}/ckpt-*,{out}/vocab.txt")
    expected = ours.embed_sentences(SENTENCES)
    for a, b in zip(expected, theirs.embed_sentences(SENTENCES)):
        assert np.abs(a).max() > 1e-4
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)

    # lm_1b_export's other tools read the written LM as they read Google's release
    embedder = LM1BModel.from_checkpoint(str(out / "ckpt-*"), str(out / "vocab.txt"))
    dump_lstm_emb.dump(embedder, SENTENCES, str(tmp_path / "emb.h5"), batch_size=2, chunk=2, verbose=False)
    with h5py.File(tmp_path / "emb.h5", "r") as f:
        for i, top in enumerate(expected):  # [layers: char embedding, LSTM 1, n, P]; the top one last
            assert f[str(i)].shape == (2, len(SENTENCES[i]), 4)
            np.testing.assert_allclose(f[str(i)][-1], top, rtol=1e-5, atol=1e-6)
    export_lm1b(str(out / "ckpt-*"), str(out / "vocab.txt"), str(tmp_path / "keras"))
    exported = load_lm1b(str(tmp_path / "keras"))
    assert exported.direction == "backward"
    for i, layers in enumerate(exported.embed_sentences(SENTENCES)):
        np.testing.assert_allclose(layers[-1], expected[i], rtol=1e-5, atol=1e-6)


def _folder(path):
    """{name: bytes, or None for a folder} of what ``path`` holds."""
    return {p.name: None if p.is_dir() else p.read_bytes() for p in sorted(path.iterdir())}


def test_a_killed_re_export_leaves_the_old_release_or_the_new_one_whole(tmp_path):
    """``from_pretrained`` into an existing release, killed (``os._exit``) after the first three
    shards, inside the V1 writer's save, just before and just after the folder is put in place:
    the folder holds the old release whole (weights, vocabulary and the perplexity record of
    its checkpoint) or the new one whole, never a mix; and the next export leaves nothing a
    killed one wrote. A folder holding other files is refused before any work."""
    (tmp_path / "train.txt").write_text("\n".join(LINES) + "\n")
    run_dir, out = tmp_path / "run", tmp_path / "release"
    model_config = CNNLSTMLMConfig(
        char_dim=4,
        conv_widths=(1, 2),
        conv_filters=(4, 4),
        num_highway=1,
        num_cells=8,
        projection_dim=4,
        num_layers=1,
        num_sampled=4,
    )
    pretrain(
        PretrainConfig(
            model_dir=str(run_dir),
            train_files=str(tmp_path / "train.txt"),
            model=model_config,
            train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=4, checkpoint_every=2, log_every=4),
        ),
        strategy=tf.distribute.get_strategy(),
    )
    checkpoints = str(run_dir / "checkpoints")
    old_ckpt, new_ckpt = f"{checkpoints}/ckpt-2", f"{checkpoints}/ckpt-4"
    (tmp_path / "old.json").write_text(json.dumps({"checkpoint": old_ckpt, "perplexity": 50.5}))
    (run_dir / "perplexity.json").write_text(json.dumps({"checkpoint": new_ckpt, "perplexity": 40.25}))

    def export(*flags, kill=None):
        command = [sys.executable]
        if kill:
            command += [str(REPO / "tests" / "exit_at_call.py"), *kill]
        command += ["-m"] * (not kill) + ["lm_1b_export.from_pretrained", f"--model_dir={run_dir}"]
        return subprocess.run(
            [*command, f"--output_dir={out}", *flags],
            cwd=str(REPO),
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )

    def described():
        """(global step of the weights, checkpoint perplexity.json names) of the release."""
        step = read_lm1b_checkpoint(str(out / "ckpt-*"), include_softmax=True).global_step
        record = (
            json.loads((out / "perplexity.json").read_text()) if (out / "perplexity.json").exists() else {}
        )
        return step, os.path.basename(record.get("checkpoint", ""))

    done = export(f"--checkpoint={old_ckpt}", f"--perplexity_json={tmp_path / 'old.json'}")
    assert done.returncode == 0, done.stderr
    assert described() == (2, "ckpt-2")
    (out / ".tmp-abc123").mkdir()  # what an earlier version's killed V1 writer left in the folder
    old = _folder(out)
    kills = [
        ("taglm_tf.lm.lm1b.writing:write_v1_file", "3", "after"),  # ckpt-base, -char-embedding, -lstm
        ("tensorflow:compat.v1.train.Saver.save", "5", "after"),  # inside the V1 writer
        ("taglm_tf.utils.fileio:_replace_folder", "1", "before"),
    ]
    for kill in kills:
        killed = export(kill=kill)
        assert killed.returncode == 9, (kill, killed.stderr)
        assert _folder(out) == old, kill
        assert described() == (2, "ckpt-2")
    killed = export(kill=("taglm_tf.utils.fileio:_replace_folder", "1", "after"))
    assert killed.returncode == 9, killed.stderr
    new = _folder(out)
    assert described() == (4, "ckpt-4") and new.keys() == old.keys() - {".tmp-abc123"}
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("release."))
    assert leftovers and all(".tmp-" in name for name in leftovers)  # the old release, moved aside

    done = export()
    assert done.returncode == 0, done.stderr
    assert "ckpt-4, held-out perplexity 40.25" in done.stdout
    assert _folder(out) == new  # written again from the same checkpoint: the same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json", "release", "run", "train.txt"]
    # a checkpoint without a perplexity record: the release has none, never the earlier one's
    done = export(f"--checkpoint={old_ckpt}")
    assert done.returncode == 0, done.stderr
    assert described() == (2, "") and "perplexity.json" not in os.listdir(out)

    (out / "notes.txt").write_text("mine")
    refused = export()
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"error: {out}: holds files that are not part of an lm_1b release written by this tool "
        "(notes.txt); a new release replaces the whole folder, so choose a new or empty folder"
    ]
    assert "notes.txt" in os.listdir(out)


def test_a_killed_v1_writer_leaves_nothing_for_good(tmp_path):
    """``write_v1_file`` killed inside the V1 saver leaves only its ``STEM.tmp-HOST-PID`` work
    folder, which the next write of that file removes."""
    script = (
        "import os, numpy as np, tensorflow as tf\n"
        "from taglm_tf.lm.lm1b import writing\n"
        "save = tf.compat.v1.train.Saver.save\n"
        "def killed(*args, **kwargs):\n"
        "    save(*args, **kwargs)\n"
        "    os._exit(9)\n"
        "tf.compat.v1.train.Saver.save = killed\n"
        f"writing.write_v1_file({str(tmp_path / 'ckpt-base')!r}, [('global_step', np.int64(7))])\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=str(REPO), capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    (left,) = os.listdir(tmp_path)
    assert left.startswith("ckpt-base.tmp-")
    from taglm_tf.lm.lm1b.writing import write_v1_file

    write_v1_file(str(tmp_path / "ckpt-base"), [("global_step", np.int64(8))])
    assert os.listdir(tmp_path) == ["ckpt-base"]
    assert tf.train.load_checkpoint(str(tmp_path / "ckpt-base")).get_tensor("global_step") == 8
