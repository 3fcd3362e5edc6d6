"""What the test chunks become: each gold chunk's outcome among the predicted chunks, and where
each predicted chunk comes from among the gold ones, counted per type for one run's predictions.

Chunks are those of the project's tag schemes (:func:`taglm_tf.data.tag_schemes.tags_to_chunks`),
read one sentence at a time from a predictions file: token spans ``[start, end)`` with a type.
Two chunks of a sentence **overlap** when they share at least one token. The chunks of one side
(gold or predicted) never overlap each other, so at most one chunk of the other side has a
chunk's exact span, and each gold chunk of type T has exactly one outcome:

- ``correct``: a predicted chunk has its span and type T;
- ``wrong_type[U]``: a predicted chunk has its span, with type U ≠ T;
- ``boundary``: no predicted chunk has its span, but at least one overlaps it;
- ``missed``: no predicted chunk overlaps it.

Each predicted chunk of type U has the mirror outcome: ``correct``, ``wrong_type[T]`` (the gold
chunk with its span has type T), ``boundary``, or ``spurious`` (no gold chunk overlaps it).

So, per type, both sides' ``correct`` are conlleval's correct chunks of that type; the gold
outcomes of T add up to conlleval's gold chunks of T (recall = correct / their sum), the
predicted outcomes of U to its guessed chunks of U (precision = correct / their sum); and gold T
predicted as U are as many as predicted U from gold T. This holds for IOB1 and IOB2 tags (what
the tagger's predictions files hold: each task's own scheme), where the schemes' chunks are
conlleval's, in files whose ``-DOCSTART-`` lines, if any, are tagged ``O``: they end a sentence
here, and conlleval scores them as tokens. For IOBES the chunks are read as IOBES means them,
where conlleval, which has no rule for ``S-``, reads ``S-A S-A`` as one chunk.

The outcomes are this project's own split of conlleval's errors. Note that ``boundary`` takes
no account of types: a chunk overlapped only by chunks of other types is a ``boundary`` one.

A run's counts are recorded beside its ``results.json`` as :data:`taglm_tf.run_dir.CHUNK_OUTCOMES`
(:func:`to_json`, :func:`read_outcomes`), so reports need no predictions file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence

from taglm_tf import run_dir
from taglm_tf.data.conll import PredictedSentence, read_predictions
from taglm_tf.data.tag_schemes import Chunk, tags_to_chunks
from taglm_tf.utils.errors import InputError

SIDES = ("gold", "predicted")
# What a chunk of each side is called when no chunk of the other side overlaps it.
UNMATCHED = {"gold": "missed", "predicted": "spurious"}


@dataclasses.dataclass
class TypeOutcomes:
    """How the chunks of one side and one type fared (see the module docstring); counts of
    chunks. ``unmatched`` is ``missed`` for gold chunks and ``spurious`` for predicted ones;
    ``wrong_type`` maps the other side's type to a count."""

    correct: int = 0
    wrong_type: dict[str, int] = dataclasses.field(default_factory=dict)
    boundary: int = 0
    unmatched: int = 0

    @property
    def total(self) -> int:
        """All chunks of this side and type (conlleval's gold or guessed count)."""
        return self.correct + sum(self.wrong_type.values()) + self.boundary + self.unmatched


@dataclasses.dataclass
class ChunkOutcomes:
    """Per-type outcomes of the gold chunks and of the predicted chunks of one or more sentences."""

    gold: dict[str, TypeOutcomes] = dataclasses.field(default_factory=dict)
    predicted: dict[str, TypeOutcomes] = dataclasses.field(default_factory=dict)

    def side(self, name: str) -> dict[str, TypeOutcomes]:
        """The counts of side ``name``, ``gold`` or ``predicted``."""
        return {"gold": self.gold, "predicted": self.predicted}[name]


def _add_outcomes(chunks: Sequence[Chunk], others: Sequence[Chunk], into: dict[str, TypeOutcomes]) -> None:
    """Count the outcome of each of ``chunks`` against the other side's ``others``."""
    other_type = {(start, end): type_ for type_, start, end in others}
    for type_, start, end in chunks:
        counts = into.setdefault(type_, TypeOutcomes())
        if (start, end) in other_type:
            match = other_type[start, end]
            if match == type_:
                counts.correct += 1
            else:
                counts.wrong_type[match] = counts.wrong_type.get(match, 0) + 1
        elif any(s < end and start < e for _, s, e in others):
            counts.boundary += 1
        else:
            counts.unmatched += 1


def add_sentence(gold_tags: Sequence[str], predicted_tags: Sequence[str], into: ChunkOutcomes) -> None:
    """Add the outcomes of one sentence's chunks (its gold and predicted tags, in any of the
    schemes :func:`~taglm_tf.data.tag_schemes.tags_to_chunks` reads) to ``into``."""
    gold, predicted = tags_to_chunks(gold_tags), tags_to_chunks(predicted_tags)
    _add_outcomes(gold, predicted, into.gold)
    _add_outcomes(predicted, gold, into.predicted)


def count_outcomes(sentences: Iterable[PredictedSentence]) -> ChunkOutcomes:
    """The outcomes of the chunks of ``sentences``."""
    outcomes = ChunkOutcomes()
    for s in sentences:
        add_sentence(s.gold, s.predicted, outcomes)
    return outcomes


def file_outcomes(predictions_file: str) -> ChunkOutcomes:
    """The outcomes of a predictions file's chunks (``test_predictions.txt``: token first,
    gold and predicted tag last).

    Raises:
        InputError: the file is missing, unreadable or malformed (file and line named; see
            :func:`taglm_tf.data.conll.read_predictions`).
    """
    return count_outcomes(read_predictions(predictions_file))


def to_json(outcomes: ChunkOutcomes) -> str:
    """The counts as the JSON text of :data:`taglm_tf.run_dir.CHUNK_OUTCOMES`: the run
    directory format version, then per side and type ``correct``, ``wrong_type`` (other
    type -> count), ``boundary`` and ``missed`` or ``spurious``."""
    record = {
        side: {
            t: {
                "correct": c.correct,
                "wrong_type": dict(sorted(c.wrong_type.items())),
                "boundary": c.boundary,
                UNMATCHED[side]: c.unmatched,
            }
            for t, c in sorted(outcomes.side(side).items())
        }
        for side in SIDES
    }
    return json.dumps({run_dir.FORMAT_KEY: run_dir.FORMAT_VERSION, **record}, indent=1)


def _count(value, what: str, path: str) -> int:
    """``value`` if it is a count; else an :class:`InputError` naming ``what`` and ``path``."""
    if type(value) is not int or value < 0:
        raise InputError(f"{what}: expected a count (an integer ≥ 0), found {value!r}", path)
    return value


def _type_outcomes(entry, side: str, type_: str, path: str) -> TypeOutcomes:
    """One side's and type's entry of a record (:func:`to_json`), checked."""
    where = f"{side} {type_}"
    keys = {"correct", "wrong_type", "boundary", UNMATCHED[side]}
    if not isinstance(entry, Mapping) or set(entry) != keys or not isinstance(entry["wrong_type"], Mapping):
        raise InputError(f"{where}: expected the keys {', '.join(sorted(keys))}", path)
    return TypeOutcomes(
        _count(entry["correct"], f"{where} correct", path),
        {u: _count(n, f"{where} wrong_type {u}", path) for u, n in entry["wrong_type"].items()},
        _count(entry["boundary"], f"{where} boundary", path),
        _count(entry[UNMATCHED[side]], f"{where} {UNMATCHED[side]}", path),
    )


def read_outcomes(path: str) -> ChunkOutcomes:
    """The counts :func:`to_json` wrote to ``path``.

    Raises:
        InputError: naming ``path``: missing, not JSON, of another format version, or not
            counts per side and type.
    """
    record = run_dir.read_json(path)
    run_dir.check_format(record, path)
    sides = {}
    for side in SIDES:
        types = record.get(side)
        if not isinstance(types, Mapping):
            raise InputError(f"no {side!r} counts per type", path)
        sides[side] = {t: _type_outcomes(entry, side, t, path) for t, entry in types.items()}
    return ChunkOutcomes(**sides)
