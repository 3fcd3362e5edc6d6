"""LM pretraining resumes exactly: a run stopped after a checkpoint and resumed ends bit-equal
to the uninterrupted run, for each LM kind (its own file, so that xdist runs it beside the
heavier tests of test_lm_training.py)."""

import numpy as np
import pytest
import tensorflow as tf
from test_lm_training import KINDS, cycle_sentences, make_corpus, trainer, write_sentences

from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.lm.pretraining.trainer import LMTrainer


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
