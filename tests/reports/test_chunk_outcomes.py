"""What the test chunks become: a brute-force oracle over every short IOB sequence, conlleval's
counts as the reference for correct chunks and for each side's totals, one case per outcome,
and the JSON record."""

import itertools
import json
import random

import pytest
from test_seen_entities import PREDICTIONS  # IOB1, as the NER runs write them; -DOCSTART- tagged O

from taglm_tf import run_dir
from taglm_tf.reports import chunk_outcomes
from taglm_tf.reports.chunk_outcomes import ChunkOutcomes, TypeOutcomes
from taglm_tf.scoring import conlleval
from taglm_tf.utils.errors import InputError

IOB = ["O", "B-A", "I-A", "B-B", "I-B"]  # IOB1 and IOB2 sequences over two types


def oracle_chunks(tags):
    """IOB chunks the textbook way, independent of conlleval's rules: a chunk of type X starts
    at any B-X or I-X that does not continue one, and goes on over the I-X that follow."""
    chunks, i = [], 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        j = i + 1
        while j < len(tags) and tags[j] == "I-" + tags[i][2:]:
            j += 1
        chunks.append((tags[i][2:], frozenset(range(i, j))))
        i = j
    return chunks


def oracle_side(chunks, others, unmatched):
    """``{type: {outcome: count}}`` from token sets: same set, or a shared token."""
    counts = {}
    for type_, tokens in chunks:
        same = [u for u, other in others if other == tokens]
        if same:
            outcome = "correct" if same[0] == type_ else f"wrong_type {same[0]}"
        elif any(tokens & other for _, other in others):
            outcome = "boundary"
        else:
            outcome = unmatched
        by_outcome = counts.setdefault(type_, {})
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    return counts


def as_dict(by_type):
    """``{type: {outcome: count}}`` of one side, counts of zero left out."""
    out = {}
    for t, c in by_type.items():
        found = {"correct": c.correct, "boundary": c.boundary, "unmatched": c.unmatched}
        found.update({f"wrong_type {u}": n for u, n in c.wrong_type.items()})
        out[t] = {k: n for k, n in found.items() if n}
    return out


def outcomes_of(gold, predicted):
    outcomes = ChunkOutcomes()
    chunk_outcomes.add_sentence(gold, predicted, outcomes)
    return outcomes


def short_pairs():
    """Every pair of IOB sequences of one length ≤ 3; for lengths 4 and 5, every sequence once
    as gold and once as prediction, against a sequence drawn at random (seeded)."""
    rng = random.Random(0)
    for n in (1, 2, 3):
        yield from itertools.product(itertools.product(IOB, repeat=n), repeat=2)
    for n in (4, 5):
        every = list(itertools.product(IOB, repeat=n))
        for seq in every:
            yield seq, rng.choice(every)
            yield rng.choice(every), seq


def test_every_short_iob_pair_against_the_brute_force_oracle():
    checked = 0
    for gold, predicted in short_pairs():
        g, p = oracle_chunks(gold), oracle_chunks(predicted)
        outcomes = outcomes_of(gold, predicted)
        assert as_dict(outcomes.gold) == oracle_side(g, p, "unmatched"), (gold, predicted)
        assert as_dict(outcomes.predicted) == oracle_side(p, g, "unmatched"), (gold, predicted)
        checked += 1
    assert checked == 5**2 + 25**2 + 125**2 + 2 * (5**4 + 5**5)


def assert_ties_to_conlleval(gold, predicted):
    outcomes = outcomes_of(gold, predicted)
    result = conlleval.evaluate_tag_sequences([gold], [predicted])
    assert set(outcomes.gold) | set(outcomes.predicted) == set(result.per_type), (gold, predicted)
    for t, c in result.per_type.items():
        g, p = outcomes.gold.get(t, TypeOutcomes()), outcomes.predicted.get(t, TypeOutcomes())
        assert (g.correct, p.correct, g.total, p.total) == (
            c.correct,
            c.correct,
            c.found_gold,
            c.found_guessed,
        ), (gold, predicted, t)
        for u, n in g.wrong_type.items():  # gold T as U = predicted U from gold T
            assert outcomes.predicted[u].wrong_type[t] == n


def test_counts_tie_to_conlleval_on_every_short_iob_pair():
    for gold, predicted in short_pairs():
        assert_ties_to_conlleval(gold, predicted)


def test_iobes_chunks_are_read_as_iobes_means_them():
    """Where conlleval (no rule for S-) reads S-A S-A E-A as one chunk, the counts see three."""
    tags = ["S-A", "S-A", "E-A"]
    assert conlleval.evaluate_tag_sequences([tags], [tags]).per_type["A"].found_gold == 1
    assert outcomes_of(tags, tags).gold == {"A": TypeOutcomes(correct=3)}
    assert outcomes_of(tags, ["B-A", "I-A", "E-A"]).gold == {"A": TypeOutcomes(boundary=3)}


@pytest.mark.parametrize(
    "gold, predicted, gold_counts, predicted_counts",
    [
        # same span, same type
        ("B-PER I-PER O", "B-PER I-PER O", {"PER": {"correct": 1}}, {"PER": {"correct": 1}}),
        # same span, another type
        ("I-ORG I-ORG", "I-LOC I-LOC", {"ORG": {"wrong_type LOC": 1}}, {"LOC": {"wrong_type ORG": 1}}),
        # a predicted chunk one token short: both sides off by a boundary
        ("I-ORG I-ORG I-ORG", "O I-ORG I-ORG", {"ORG": {"boundary": 1}}, {"ORG": {"boundary": 1}}),
        # one predicted chunk over two gold ones (of any type), with no exact span
        (
            "I-LOC O I-PER",
            "I-LOC I-LOC I-LOC",
            {"LOC": {"boundary": 1}, "PER": {"boundary": 1}},
            {"LOC": {"boundary": 1}},
        ),
        # IOB1: B- splits two chunks of one type; the prediction joins them
        ("I-LOC B-LOC", "I-LOC I-LOC", {"LOC": {"boundary": 2}}, {"LOC": {"boundary": 1}}),
        # no overlap at all
        ("I-MISC O O", "O O I-PER", {"MISC": {"unmatched": 1}}, {"PER": {"unmatched": 1}}),
        # an exact span wins over overlaps; another chunk is missed
        (
            "I-ORG I-ORG O I-PER",
            "I-LOC I-LOC O O",
            {"ORG": {"wrong_type LOC": 1}, "PER": {"unmatched": 1}},
            {"LOC": {"wrong_type ORG": 1}},
        ),
    ],
)
def test_each_outcome_by_hand(gold, predicted, gold_counts, predicted_counts):
    outcomes = outcomes_of(gold.split(), predicted.split())
    assert as_dict(outcomes.gold) == gold_counts
    assert as_dict(outcomes.predicted) == predicted_counts


def test_a_predictions_file_by_hand_and_its_json_record(tmp_path):
    path = tmp_path / "test_predictions.txt"
    path.write_text(PREDICTIONS, encoding="utf-8")
    outcomes = chunk_outcomes.file_outcomes(str(path))
    assert outcomes.gold == {
        "LOC": TypeOutcomes(correct=1, unmatched=1),
        "PER": TypeOutcomes(correct=1, wrong_type={"ORG": 1}),
        "ORG": TypeOutcomes(boundary=1),
    }
    assert outcomes.predicted == {
        "LOC": TypeOutcomes(correct=1, boundary=1),
        "PER": TypeOutcomes(correct=1),
        "ORG": TypeOutcomes(wrong_type={"PER": 1}),
    }
    record = json.loads(chunk_outcomes.to_json(outcomes))
    assert record["gold"]["LOC"] == {"correct": 1, "wrong_type": {}, "boundary": 0, "missed": 1}
    assert record["predicted"]["LOC"] == {"correct": 1, "wrong_type": {}, "boundary": 1, "spurious": 0}
    assert record[run_dir.FORMAT_KEY] == run_dir.FORMAT_VERSION
    saved = tmp_path / run_dir.CHUNK_OUTCOMES
    saved.write_text(chunk_outcomes.to_json(outcomes), encoding="utf-8")
    assert chunk_outcomes.read_outcomes(str(saved)) == outcomes


def test_a_bad_or_missing_predictions_file_is_one_error_naming_it(tmp_path):
    path = tmp_path / "test_predictions.txt"
    with pytest.raises(InputError, match="no such file") as missing:
        chunk_outcomes.file_outcomes(str(path))
    assert missing.value.path == str(path)
    path.write_text("New NNP I-LOC I-LOC\nYork I-LOC\n", encoding="utf-8")
    with pytest.raises(InputError) as bad:
        chunk_outcomes.file_outcomes(str(path))
    assert str(bad.value).startswith(f"{path}:2: expected a token, a gold tag and a predicted tag")


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "cannot read"),
        ('{"format_version": 2, "gold": {}, "predicted": {}}', "run directory format 2"),
        ('{"gold": {}}', "no 'predicted' counts per type"),
        ('{"gold": {"A": {"correct": 1}}, "predicted": {}}', "gold A: expected the keys"),
        (
            '{"gold": {}, "predicted": {"A": {"correct": -1, "wrong_type": {}, "boundary": 0, "spurious": 0}}}',
            "predicted A correct: expected a count",
        ),
        (
            '{"gold": {"A": {"correct": 0, "wrong_type": {"B": 1.5}, "boundary": 0, "missed": 0}}, "predicted": {}}',
            "gold A wrong_type B: expected a count",
        ),
    ],
)
def test_a_bad_record_is_one_error_naming_it(tmp_path, text, message):
    path = tmp_path / run_dir.CHUNK_OUTCOMES
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        chunk_outcomes.read_outcomes(str(path))
    assert error.value.path == str(path)
