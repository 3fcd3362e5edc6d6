"""F1 on chunks seen / unseen in training and inside / outside an LM vocabulary: hand-counted
cases, conlleval's overall counts as the oracle for the sum of the classes, and the CLI's table."""

import json
import os
import subprocess
import sys

import pytest

import fake_runs
from experiments import seen_entities as cli
from taglm_tf.data import conll
from taglm_tf.data.conll import Sentence
from taglm_tf.reports import seen_entities, sweeps
from taglm_tf.reports.stats import welch_ttest
from taglm_tf.scoring import conlleval
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = [
    Sentence(("New", "York", "is", "big"), ("I-LOC", "I-LOC", "O", "O")),
    Sentence(("Smith", "spoke"), ("I-PER", "O")),
]
# token, POS, gold, predicted (IOB1, as the NER runs write them)
PREDICTIONS = """-DOCSTART- -X- O O

New NNP I-LOC I-LOC
York NNP I-LOC I-LOC
and CC O O
Paris NNP I-LOC O

Smith NNP I-PER I-PER
met VBD O O
Jones NNP I-PER I-ORG

Bank NNP I-ORG O
of IN I-ORG O
Paris NNP I-ORG I-LOC
"""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def test_counts_per_class_by_hand(tmp_path):
    sentences = conll.read_predictions(write(tmp_path / "p.txt", PREDICTIONS))
    assert [len(s.tokens) for s in sentences] == [4, 3, 3]
    counts = seen_entities.class_counts(
        sentences, seen_entities.seen_class(seen_entities.chunk_surfaces(TRAIN))
    )
    # seen: New York (right), Smith (right); unseen: Paris (missed), Jones (wrong type),
    # Bank of Paris (missed; "Paris" predicted as LOC instead).
    assert vars(counts["seen"]) == {"found_gold": 2, "found_guessed": 2, "correct": 2}
    assert vars(counts["unseen"]) == {"found_gold": 3, "found_guessed": 2, "correct": 0}
    assert counts["seen"].f1 == 100.0 and counts["unseen"].f1 == 0.0
    vocab = seen_entities.vocabulary_class({"New", "York", "Smith", "Bank", "of"})
    counts = seen_entities.class_counts(sentences, vocab)
    assert vars(counts["in LM vocabulary"]) == {"found_gold": 2, "found_guessed": 2, "correct": 2}
    assert vars(counts["outside LM vocabulary"]) == {"found_gold": 3, "found_guessed": 2, "correct": 0}


def test_token_rates_by_hand(tmp_path):
    sentences = conll.read_predictions(write(tmp_path / "p.txt", PREDICTIONS))
    rates = seen_entities.token_rates(
        sentences, TRAIN, {"New", "York", "and", "Paris"}, lambda t: t[0].isupper()
    )
    # 10 tokens; not in TRAIN: and, Paris, met, Jones, Bank, of, Paris; outside the LM
    # vocabulary: Smith, met, Jones, Bank, of; unknown to the tagger: and, met, of.
    assert rates["all tokens"] == {
        "tokens": 10,
        "not in the training data": 70.0,
        "outside the LM vocabulary": 50.0,
        "unknown to the tagger's words": 30.0,
    }
    # gold chunk tokens: New York, Paris, Smith, Jones, Bank of Paris (8).
    assert rates["tokens in gold chunks"] == {
        "tokens": 8,
        "not in the training data": 62.5,
        "outside the LM vocabulary": 50.0,
        "unknown to the tagger's words": 12.5,
    }
    assert list(seen_entities.token_rates(sentences, TRAIN)["all tokens"]) == [
        "tokens",
        "not in the training data",
    ]


def test_classes_add_up_to_conllevals_overall_counts(tmp_path):
    # Malformed predictions (I- after O of another type, a type change inside a chunk) included.
    text = (
        PREDICTIONS + "\nA NN O I-MISC\nB NN I-PER I-LOC\nC NN I-PER I-PER\nD NN O B-PER\nE NN B-PER I-PER\n"
    )
    path = write(tmp_path / "p.txt", text)
    overall = conlleval.evaluate_file(path).overall
    counts = seen_entities.class_counts(
        conll.read_predictions(path), seen_entities.seen_class(seen_entities.chunk_surfaces(TRAIN))
    )
    assert sum(c.found_gold for c in counts.values()) == overall.found_gold
    assert sum(c.found_guessed for c in counts.values()) == overall.found_guessed
    assert sum(c.correct for c in counts.values()) == overall.correct


def test_a_bad_vocabulary_names_the_file(tmp_path):
    with pytest.raises(InputError, match="no words"):
        seen_entities.read_vocabulary(write(tmp_path / "v.txt", "\n \n"))
    assert seen_entities.read_vocabulary(write(tmp_path / "v.txt", "<S>\nthe 120\n")) == {"<S>", "the"}


def sweep_with_predictions(root, label, gold_and_preds):
    """A fake sweep whose seed n scores ``gold_and_preds[n-1]`` (one sentence: token/gold/pred rows)."""
    fake_runs.write_sweep(str(root), label, [(90.0, 91.0)] * len(gold_and_preds))
    for seed, rows in enumerate(gold_and_preds, 1):
        write(
            root / f"seed_{seed}" / "test_predictions.txt", "".join(f"{w} NNP {g} {p}\n" for w, g, p in rows)
        )
    return str(root)


def test_the_vocabulary_of_a_normalizing_lm_is_refused(tmp_path):
    (tmp_path / "vocab.txt").write_text("<S>\n</S>\n<UNK>\nsmith\n")
    assert cli.lm_vocabulary(str(tmp_path / "vocab.txt")) == {"<S>", "</S>", "<UNK>", "smith"}
    (tmp_path / "config.json").write_text(json.dumps({"direction": "forward", "normalize_words": True}))
    with pytest.raises(InputError, match="--normalize_words"):
        cli.lm_vocabulary(str(tmp_path / "vocab.txt"))


def test_cli_table_and_welch_test(tmp_path):
    hit, miss = ("Smith", "I-PER", "I-PER"), ("Smith", "I-PER", "O")
    unseen_hit, unseen_miss = ("Jones", "I-PER", "I-PER"), ("Jones", "I-PER", "O")
    gap = ("x", "O", "O")
    base = sweep_with_predictions(
        tmp_path / "base", "ner_baseline", [[hit, gap, unseen_miss], [hit, gap, unseen_miss, gap, unseen_hit]]
    )
    variant = sweep_with_predictions(
        tmp_path / "variant", "ner_taglm", [[hit, gap, unseen_hit], [miss, gap, unseen_hit, gap, unseen_hit]]
    )
    classifiers = seen_entities.classifiers_for(TRAIN)
    base_runs, variant_runs = sweeps.load_arms(str(base), str(variant))
    rows = cli.comparison_rows(
        cli.group_counts(base_runs, classifiers, "test"), cli.group_counts(variant_runs, classifiers, "test")
    )
    unseen = next(r for r in rows if r["class"] == "unseen")
    # base: unseen F1 0 (0 of 1 found) and 66.67 (1 of 2); variant: 100 and 100.
    expected = welch_ttest([100.0, 100.0], [0.0, 200 / 3])
    assert unseen["gold"] == 1 and unseen["base"][0] == pytest.approx(100 / 3)
    assert unseen["welch"]["p"] == pytest.approx(expected.p)
    seen = next(r for r in rows if r["class"] == "seen")
    assert seen["variant"][0] == pytest.approx(50.0) and seen["base"] == (100.0, 0.0)

    data = tmp_path / "data"
    write_train = data / "conll2003"
    os.makedirs(write_train)
    write(write_train / "eng.train", "Smith NNP I-NP I-PER\nspoke VBD I-VP O\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.seen_entities",
            f"--base={base}",
            f"--variant={variant}",
            f"--data_dir={data}",
            f"--output={tmp_path / 'o.json'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "| training data | unseen | 1 | 33.33 ± 47.14 | 100.00 ± 0.00 | +66.67 |" in out.stdout
    # The first base run's tokens Smith, x, Jones: x and Jones are not in the training file.
    assert "| all tokens | 3 | 66.67 |" in out.stdout
    assert os.path.isfile(tmp_path / "o.json")
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.seen_entities",
            f"--base={base}",
            f"--variant={variant}",
            f"--data_dir={tmp_path}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert (
        bad.returncode == 1
        and bad.stderr.count("\n") == 1
        and "eng.train" in bad.stderr
        and "--data_dir" in bad.stderr
    )


def test_a_brat_task_counts_its_kept_training_keyphrases_as_seen(tmp_path):
    """``--task=scienceie`` reads the training folder as training does: one layer of keyphrases,
    so "carbon films" (kept) is seen and "carbon" (nested in it, left out) is not."""
    train = tmp_path / "data" / "scienceie" / "train"
    os.makedirs(train)
    write(train / "a.txt", "We grew carbon films.")
    write(train / "a.ann", "T1\tMaterial 8 20\tcarbon films\nT2\tMaterial 8 14\tcarbon\n")
    seen, unseen = ("carbon", "B-Material", "B-Material"), ("films", "B-Material", "O")
    rows = [("carbon", "B-Material", "B-Material"), ("films", "I-Material", "I-Material"), ("x", "O", "O")]
    base, variant = (
        sweep_with_predictions(tmp_path / name, f"scienceie_{name}", [[*rows, seen, ("y", "O", "O"), unseen]])
        for name in ("baseline", "taglm")
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.seen_entities",
            "--task=scienceie",
            f"--base={base}",
            f"--variant={variant}",
            f"--data_dir={tmp_path / 'data'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "| training data | seen | 1 | 100.00 | 100.00 | +0.00 |" in out.stdout
    assert "| training data | unseen | 2 | 66.67 | 66.67 | +0.00 |" in out.stdout
