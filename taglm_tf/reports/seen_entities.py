"""Test F1 on chunks seen and unseen in the training data, and on chunks the LM vocabulary lacks.

Where a tagger's gain comes from (or why there is none) shows better split by what the tagger
could have memorised: a test chunk is **seen** when its exact token sequence is a gold chunk, of
any type, in the training data, and **unseen** otherwise (the split of Augenstein et al. 2017,
"Generalisation in named entity recognition"). Given an LM's word vocabulary, chunks are also
split by whether one of their tokens is **outside it**: a word-level LM reads such a token as
``<UNK>``, which would leave the LM nothing to add for exactly the entities a tagger has not seen.

A predicted chunk is put in the class of its own token sequence, so each class has its own
precision, recall and F1; a correct chunk equals a gold one and so falls in the same class. The
counts of all classes of one split add up to conlleval's overall counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from taglm_tf.data.conll import PredictedSentence, read_predictions
from taglm_tf.data.tag_schemes import tags_to_chunks
from taglm_tf.scoring.conlleval import ChunkCounts
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

Surface = tuple[str, ...]


def chunk_surfaces(sentences: Iterable) -> set[Surface]:
    """The token sequences of the gold chunks of ``sentences`` (objects with ``tokens`` and ``tags``)."""
    return {tuple(s.tokens[c.start : c.end]) for s in sentences for c in tags_to_chunks(s.tags)}


def read_vocabulary(path: str) -> set[str]:
    """The words of a vocabulary file, the first field of each non-blank line (the LM vocabularies
    this project writes, and lm_1b's ``vocab-2016-09-10.txt``)."""
    words = {fields[0] for _, line in textio.read_lines(path) if (fields := textio.split_fields(line))}
    if not words:
        raise InputError("no words found (empty vocabulary file?)", path)
    return words


def seen_class(train_surfaces: set[Surface]) -> Callable[[Surface], str]:
    return lambda surface: "seen" if surface in train_surfaces else "unseen"


def vocabulary_class(vocabulary: set[str]) -> Callable[[Surface], str]:
    return lambda surface: (
        "in LM vocabulary" if all(w in vocabulary for w in surface) else "outside LM vocabulary"
    )


def class_counts(
    sentences: Sequence[PredictedSentence], classify: Callable[[Surface], str]
) -> dict[str, ChunkCounts]:
    """conlleval's :class:`ChunkCounts` per class of ``classify`` (a chunk's token sequence ->
    class name)."""
    counts: dict[str, ChunkCounts] = {}
    for s in sentences:
        gold = set(tags_to_chunks(s.gold))
        for chunk in gold:
            counts.setdefault(classify(s.tokens[chunk.start : chunk.end]), ChunkCounts()).found_gold += 1
        for chunk in tags_to_chunks(s.predicted):
            c = counts.setdefault(classify(s.tokens[chunk.start : chunk.end]), ChunkCounts())
            c.found_guessed += 1
            c.correct += chunk in gold
    return counts


def run_class_counts(
    predictions_file: str, classifiers: dict[str, Callable[[Surface], str]]
) -> dict[str, dict[str, ChunkCounts]]:
    """``{split name: {class: counts}}`` of one run's predictions file."""
    sentences = read_predictions(predictions_file)
    return {name: class_counts(sentences, classify) for name, classify in classifiers.items()}


def classifiers_for(
    train_sentences: Iterable, lm_vocabulary: set[str] | None = None
) -> dict[str, Callable[[Surface], str]]:
    """The splits to report: seen/unseen in training, and with ``lm_vocabulary`` in/outside it."""
    splits = {"training data": seen_class(chunk_surfaces(train_sentences))}
    if lm_vocabulary is not None:
        splits["LM vocabulary"] = vocabulary_class(lm_vocabulary)
    return splits


def token_rates(
    sentences: Sequence[PredictedSentence],
    train_sentences: Iterable,
    lm_vocabulary: set[str] | None = None,
    tagger_known: Callable[[str], bool] | None = None,
) -> dict[str, dict[str, float | int]]:
    """How much of a split is new to the tagger and to an LM, in % of its tokens, for all tokens
    and for those inside gold chunks: tokens absent from the training data, outside
    ``lm_vocabulary`` (a word LM's ``<UNK>``), and unknown to the tagger's word vocabulary
    (``tagger_known``: whether the tagger has a vector for a token, from training or embeddings).
    Each group also gives its token count under ``"tokens"``."""
    train_tokens = {t for s in train_sentences for t in s.tokens}
    tests = {"not in the training data": lambda t: t not in train_tokens}
    if lm_vocabulary is not None:
        tests["outside the LM vocabulary"] = lambda t: t not in lm_vocabulary
    if tagger_known is not None:
        tests["unknown to the tagger's words"] = lambda t: not tagger_known(t)
    groups = {
        "all tokens": [t for s in sentences for t in s.tokens],
        "tokens in gold chunks": [
            t for s in sentences for c in tags_to_chunks(s.gold) for t in s.tokens[c.start : c.end]
        ],
    }
    return {
        group: {
            "tokens": len(tokens),
            **{name: 100.0 * sum(map(test, tokens)) / max(len(tokens), 1) for name, test in tests.items()},
        }
        for group, tokens in groups.items()
    }
