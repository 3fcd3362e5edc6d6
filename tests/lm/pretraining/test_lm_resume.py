"""LM pretraining resumes exactly: a run stopped after a checkpoint and resumed ends bit-equal
to the uninterrupted run, for each LM kind (its own file, so that xdist runs it beside the
heavier tests of test_lm_training.py)."""

import json
import os
import signal

import numpy as np
import pytest
import tensorflow as tf
from test_lm_training import KINDS, cycle_sentences, make_corpus, trainer, write_sentences

from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.lm.pretraining import run as run_module
from taglm_tf.lm.pretraining.config import LMTrainConfig, LSTMLMConfig, PretrainConfig
from taglm_tf.lm.pretraining.run import pretrain
from taglm_tf.lm.pretraining.trainer import LMTrainer
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import Interrupted
from taglm_tf.utils.provenance import git_commit, platform


@pytest.mark.parametrize("kind", KINDS)
def test_resumed_training_equals_the_uninterrupted_run(tmp_path, kind, monkeypatch):
    """Stopped after a checkpoint and resumed, a run ends with the weights and optimizer state
    of one that never stopped: the rows' carried LSTM states, the packer's rows mid-sentence,
    the dropout masks and the sampled candidates all continue. Resumed the approximate way
    (zero states, data from the newest chunk), it does not."""
    files = [
        write_sentences(tmp_path / f"s{k}.txt", cycle_sentences(n, seed=k)) for k, n in enumerate((30, 14))
    ]
    corpus = make_corpus(kind, files, shuffle=True, seed=1, num_epochs=None, shuffle_chunk=5, interleave=True)

    def run(name, steps):
        lm = trainer(
            kind,
            tf.distribute.get_strategy(),
            tmp_path / name,
            batch_size=3,
            num_steps=4,
            reset_id=-1,
            dropout=0.3,
            train_steps=steps,
            checkpoint_every=4,
        )
        lm.restore()
        lm.fit(lm_data.distributed_dataset(lm.strategy, corpus, 3, 4, lm.start_position))
        return [v.numpy() for v in lm.model.weights + lm.optimizer.variables]

    full = run("full", 9)
    run("part", 5)
    saved = tf.train.load_checkpoint(str(tmp_path / "part" / "checkpoints" / "ckpt-5"))
    assert (saved.get_tensor("data_state/.ATTRIBUTES/VARIABLE_VALUE")[:3, 4] > 0).any()  # rows mid-sentence
    assert np.abs(saved.get_tensor("lstm_state/0/.ATTRIBUTES/VARIABLE_VALUE")).min() > 0  # [3, 12] carried
    resumed = run("part", 9)
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(b, a)

    if kind == "lstm":  # the same for both kinds; once is enough to show the check bites
        run("approximate", 5)
        monkeypatch.setattr(LMTrainer, "exact_resume", property(lambda self: False))
        approximate = run("approximate", 9)
        assert not all(np.allclose(a, b) for a, b in zip(full, approximate))


def test_a_fresh_run_does_not_read_what_a_killed_start_left(tmp_path):
    """A start killed before its commit (``config.json``) left the ``vocab.txt`` and
    ``vocab.txt.counts`` of another corpus. A new run into that directory, with or without
    ``--resume``, builds its vocabulary from its own corpus (none of its words ``<UNK>``) and
    writes it over them; with ``--vocab_file`` (no counts) the stale counts go too."""
    lines = ["the cat sat on the mat .", "a dog ate the bone .", "the cat ate ."]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    stale = LMVocabulary.build([["Kestrel", "Norvia", "Tiberon"]] * 3)

    def start(name, resume=False, vocab_file=None):
        model_dir = tmp_path / name
        model_dir.mkdir()
        stale.save(str(model_dir / "vocab.txt"))
        config = PretrainConfig(
            model_dir=str(model_dir),
            train_files=str(tmp_path / "train.txt"),
            vocab_file=vocab_file,
            model=LSTMLMConfig(embedding_dim=4, num_cells=6, projection_dim=3, num_layers=1, num_sampled=2),
            train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=2, checkpoint_every=2, log_every=2),
        )
        result = pretrain(config, resume=resume, strategy=tf.distribute.get_strategy())
        return result, model_dir

    expected = LMVocabulary.build(line.split() for line in lines)
    for name, resume in (("fresh", False), ("resumed", True)):
        result, model_dir = start(name, resume)
        saved = LMVocabulary.load(str(model_dir / "vocab.txt"))
        assert (saved.words, saved.counts) == (expected.words, expected.counts)
        assert result["vocab_size"] == expected.size and saved.counts[saved.unk] == 0
    given = tmp_path / "given.txt"
    given.write_text("\n".join(expected.words[::-1]) + "\n")
    _, model_dir = start("given", vocab_file=str(given))
    assert LMVocabulary.load(str(model_dir / "vocab.txt")).words == expected.words[::-1]
    assert not (model_dir / "vocab.txt.counts").exists()


def test_sigterm_stops_pretraining_as_ctrl_c_does_and_the_run_resumes(tmp_path, monkeypatch):
    """SIGTERM after the first checkpoint: one line naming the step and the checkpoint that
    ``--resume`` continues from; the resumed run finishes."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    (tmp_path / "train.txt").write_text("the cat sat on the mat .\na dog ate the bone .\n" * 5)
    config = PretrainConfig(
        model_dir=str(tmp_path / "lm"),
        train_files=str(tmp_path / "train.txt"),
        model=LSTMLMConfig(embedding_dim=4, num_cells=6, projection_dim=3, num_layers=1, num_sampled=2),
        train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=4, checkpoint_every=2, log_every=2),
    )
    checkpoint = LMTrainer._checkpoint

    def terminated_after_the_first(self, evaluate, states):
        checkpoint(self, evaluate, states)
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # never stop the test process
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(LMTrainer, "_checkpoint", terminated_after_the_first)
    with pytest.raises(Interrupted) as raised:
        pretrain(config, strategy=tf.distribute.get_strategy())
    assert str(raised.value) == (
        "interrupted after step 2; rerun with --resume to continue from step 2 (the last checkpoint)"
    )
    monkeypatch.undo()
    monkeypatch.setattr(run_module, "platform", lambda: {"cpu_model": "resumed here"})
    assert pretrain(config, resume=True, strategy=tf.distribute.get_strategy())["step"] == 4
    starts = json.loads((tmp_path / "lm" / "config.json").read_text())["starts"]
    assert [s["platform"]["cpu_model"] for s in starts] == [platform()["cpu_model"], "resumed here"]
    assert all(s["git_commit"] == git_commit() and s["at"].endswith("Z") for s in starts)


@pytest.mark.parametrize("stop_step", [3, 4])
def test_sigterm_within_a_unit_commits_the_steps_trained_and_the_resume_is_exact(
    tmp_path, monkeypatch, stop_step
):
    """SIGTERM during step 3 of a unit that ends at step 4: the run commits step 3 without the
    held-out evaluation, says so in one line, and the resumed run ends bit-equal to one never
    stopped. During step 4 itself: the unit ends as planned, held-out evaluation included."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("the test runner handles SIGTERM itself")
    (tmp_path / "train.txt").write_text("the cat sat on the mat .\na dog ate the bone .\n" * 5)
    (tmp_path / "heldout.txt").write_text("the dog sat on the bone .\n")

    def config(name):
        return PretrainConfig(
            model_dir=str(tmp_path / name),
            train_files=str(tmp_path / "train.txt"),
            heldout_files=str(tmp_path / "heldout.txt"),
            model=LSTMLMConfig(
                embedding_dim=4, num_cells=6, projection_dim=3, num_layers=1, num_sampled=2, dropout=0.3
            ),
            train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=6, checkpoint_every=4, log_every=2),
        )

    def weights(name, step):
        saved = tf.train.load_checkpoint(str(tmp_path / name / "checkpoints" / f"ckpt-{step}"))
        names = sorted(n for n in saved.get_variable_to_shape_map() if n.startswith(("model/", "optimizer/")))
        return [saved.get_tensor(n) for n in names]

    pretrain(config("full"), strategy=tf.distribute.get_strategy())
    step, evaluated = LMTrainer.train_step, []

    def terminated_during(self, batch, states):
        out = step(self, batch, states)
        if self.step == stop_step:
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    def evaluate(model):
        evaluated.append(1)
        return {"perplexity": 1.0, "tokens": 1.0}

    monkeypatch.setattr(LMTrainer, "train_step", terminated_during)
    monkeypatch.setattr(run_module, "heldout_evaluator", lambda *a: evaluate)
    with pytest.raises(Interrupted) as raised:
        pretrain(config("part"), strategy=tf.distribute.get_strategy())
    assert str(raised.value) == (
        f"interrupted after step {stop_step}; rerun with --resume to continue from step {stop_step} "
        "(the last checkpoint)"
    )
    assert len(evaluated) == (stop_step == 4)
    monkeypatch.undo()
    assert pretrain(config("part"), resume=True, strategy=tf.distribute.get_strategy())["step"] == 6
    for a, b in zip(weights("full", 6), weights("part", 6), strict=True):
        np.testing.assert_array_equal(b, a)


def test_the_last_steps_before_the_end_of_the_data_are_checkpointed(tmp_path):
    """When the data ends between two checkpoint steps, its last steps are checkpointed, also
    right after a log step (what a resume and the frozen-LM loader read is the run's last step)."""
    path = write_sentences(tmp_path / "train.txt", cycle_sentences(23, seed=0))
    corpus = make_corpus("lstm", [path], num_epochs=1)
    windows = len(list(lm_data.window_dataset(corpus, 4, 5)))
    lm = trainer("lstm", tf.distribute.get_strategy(), tmp_path / "run", batch_size=4, log_every=windows)
    lm.fit(lm_data.distributed_dataset(lm.strategy, corpus, 4, 5))
    assert lm.step == windows and lm.loop.last_commit() == windows
