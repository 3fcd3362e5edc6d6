"""Where seqeval agrees with conlleval, and the IOBES case where it does not (README FAQ)."""

import random
import warnings

import pytest
from seqeval.metrics import f1_score

from taglm_tf.data.tag_schemes import convert
from taglm_tf.scoring.conlleval import evaluate_tag_sequences

TYPES = ["PER", "LOC"]


def random_iob2(rng, n):
    tags = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            tags.append("O")
        elif r < 0.75 or not tags or tags[-1] == "O":
            tags.append("B-" + rng.choice(TYPES))
        else:
            tags.append("I-" + tags[-1][2:])
    return tags


def seqeval_f1(gold, pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return 100 * f1_score(gold, pred)


@pytest.mark.parametrize("scheme", ["iob1", "iob2"])
def test_seqeval_default_mode_agrees_on_well_formed_iob(scheme):
    rng = random.Random(7)
    gold = [convert(random_iob2(rng, rng.randint(1, 12)), scheme) for _ in range(300)]
    pred = [convert(random_iob2(rng, len(g)), scheme) for g in gold]
    assert seqeval_f1(gold, pred) == pytest.approx(evaluate_tag_sequences(gold, pred).overall.f1, abs=1e-9)


def test_iobes_single_tags_differ():
    """conlleval (any version up to 2004-01-26) reads S-LOC S-LOC as one chunk; seqeval as two."""
    gold, pred = [["B-LOC", "E-LOC"]], [["S-LOC", "S-LOC"]]
    assert evaluate_tag_sequences(gold, pred).overall.f1 == 100.0
    assert seqeval_f1(gold, pred) == 0.0
