"""The task registry: everything that differs between tagging tasks, owned in one place.

A :class:`Task` names its corpus (format, files, dev sample), its labels (chunks written in a
tag scheme, or one label per token), how those labels are trained, decoded, exported and scored,
the paper's model settings for it, and the words its model card uses. Drivers, the tagging API,
export, model cards, sweeps and reports read :data:`TASKS`; none of them branches on a task
name. Adding a task is one entry here plus its flagfiles and tests.

The module imports no TensorFlow, so reports and tools can use it cheaply.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import ClassVar, NamedTuple

import numpy as np

from taglm_tf.data import brat, conll, tag_schemes
from taglm_tf.data.paths import check_data_file, resolve_data_path
from taglm_tf.scoring import brat_eval, conlleval
from taglm_tf.utils.errors import InputError

# How each metric is named in progress lines and reports.
METRIC_TITLES = {"f1": "F1", "accuracy": "accuracy"}


@dataclasses.dataclass(frozen=True)
class Scores:
    """A tagger's scores on one split, in percent (0-100).

    Attributes:
        metric: the name of :attr:`value` (``"f1"`` or ``"accuracy"``): the number that drives
            the training schedule and that reports compare.
        value: the score itself.
        details: every overall score by name, :attr:`metric` included (``f1``, ``precision``,
            ``recall`` for chunks; ``accuracy`` for token labels), as ``results.json`` stores them.
        per_type: chunk F1 per chunk type, or accuracy per gold label.
    """

    metric: str
    value: float
    details: Mapping[str, float]
    per_type: Mapping[str, float]


@dataclasses.dataclass(frozen=True)
class SpanLabels:
    """Labels that are chunks (spans) written in a tag scheme, scored by conlleval's chunk F1.

    Attributes:
        scheme: the scheme of the corpus files and of the tags a user gets back (``iob1``,
            ``iob2``).
        train_scheme: the scheme the model learns; IOBES, as in the paper (§3).
    """

    scheme: str
    train_scheme: str = "iobes"
    metric: ClassVar[str] = "f1"

    def for_training(self, tags: Sequence[str]) -> list[str]:
        """``tags`` in :attr:`train_scheme`."""
        return tag_schemes.convert(tags, self.train_scheme)

    def check_output_scheme(self, scheme: str | None) -> None:
        """Every scheme (:data:`taglm_tf.data.tag_schemes.SCHEMES`) can write chunks."""

    def spans(self, tags: Sequence[str]) -> list[tag_schemes.Chunk]:
        """The chunks of ``tags``."""
        return tag_schemes.tags_to_chunks(tags)

    def score(self, gold: Sequence[conll.Sentence], predicted: Sequence[Sequence[str]]) -> Scores:
        """conlleval's chunk scores of ``predicted`` tags (in :attr:`scheme`) against ``gold``."""
        result = conlleval.evaluate_lines(conlleval.split_lines(conll.format_predictions(gold, predicted)))
        overall = result.overall
        return Scores(
            "f1",
            overall.f1,
            {"f1": overall.f1, "precision": overall.precision, "recall": overall.recall},
            {t: c.f1 for t, c in result.per_type.items()},
        )


@dataclasses.dataclass(frozen=True)
class TokenLabels:
    """One label per token (POS tags, say): any non-empty label, learnt and returned as it is,
    scored by token accuracy. Such a task has no spans and no tag scheme."""

    scheme: ClassVar[str | None] = None
    train_scheme: ClassVar[str | None] = None
    metric: ClassVar[str] = "accuracy"

    def for_training(self, tags: Sequence[str]) -> list[str]:
        return list(tags)

    def check_output_scheme(self, scheme: str | None) -> None:
        """Refuse a tag scheme for the output: token labels have none."""
        if scheme is not None:
            raise InputError(
                f"this task tags tokens with labels, not chunks: no tag scheme such as {scheme!r} applies"
            )

    def spans(self, tags: Sequence[str]) -> list[tag_schemes.Chunk]:
        return []

    def score(self, gold: Sequence[conll.Sentence], predicted: Sequence[Sequence[str]]) -> Scores:
        """Token accuracy of ``predicted`` labels against ``gold``, overall and per gold label."""
        right: dict[str, int] = {}
        total: dict[str, int] = {}
        for sentence, labels in zip(gold, predicted, strict=True):
            for want, got in zip(sentence.tags, labels, strict=True):
                total[want] = total.get(want, 0) + 1
                right[want] = right.get(want, 0) + (want == got)
        accuracy = 100.0 * sum(right.values()) / max(sum(total.values()), 1)
        return Scores(
            "accuracy",
            accuracy,
            {"accuracy": accuracy},
            {label: 100.0 * right[label] / n for label, n in sorted(total.items())},
        )


Labels = SpanLabels | TokenLabels


@dataclasses.dataclass(frozen=True)
class Task:
    """A tagging task: its corpus, its labels and the paper's settings for it.

    Attributes:
        name: the name runs record in ``config.json`` and CLIs accept (``--task``).
        fmt: the column layout of its files; ``fmt.tag_scheme`` (or ``None`` for token labels)
            decides :attr:`labels`.
        subdir: the corpus directory under the data directory.
        train_file, dev_file, test_file: file names in ``subdir``; ``dev_file=None`` samples
            :attr:`dev_sample_size` training sentences as dev (CoNLL-2000, paper §3).
        model_defaults: the paper's tagger settings where they differ from
            :class:`taglm_tf.models.config.TaggerConfig`'s defaults (the NER model).
        entity_word: the JSON key of the spans in tagging output (``entities``, ``chunks``, ``keyphrases``);
            ``None`` for token labels.
        use: what a model of the task is for, for its model card.
    """

    name: str
    fmt: conll.CorpusFormat | None  # None: not a CoNLL column corpus (see BratTask)
    subdir: str
    train_file: str
    dev_file: str | None
    test_file: str
    use: str
    model_defaults: Mapping[str, object] = dataclasses.field(default_factory=dict)
    dev_sample_size: int = 1000
    entity_word: str | None = "entities"

    @property
    def labels(self) -> Labels:
        """:class:`SpanLabels` in the files' scheme, or :class:`TokenLabels`."""
        return SpanLabels(self.fmt.tag_scheme) if self.fmt.tag_scheme else TokenLabels()

    @property
    def metric(self) -> str:
        """The score that drives the schedule and that reports compare: ``f1`` or ``accuracy``."""
        return self.labels.metric

    def result_key(self, split: str) -> str:
        """The key of ``split``'s score in ``results.json`` and ``sweep.json``: ``test_f1``,
        ``dev_accuracy``."""
        return f"{split}_{self.metric}"

    @property
    def dev_sampled(self) -> bool:
        """True when dev is a sample of the training file (no dev file of its own)."""
        return self.dev_file is None

    @property
    def scheme(self) -> str | None:
        """The tag scheme of gold data and of tagging output; ``None`` for token labels."""
        return self.labels.scheme

    def read(self, path: str) -> list[conll.Sentence]:
        """The sentences of one split's file (tags in :attr:`scheme`).

        Raises:
            InputError: a bad file, naming it and the line.
        """
        return conll.read_conll(path, self.fmt)

    def score(self, gold: Sequence[conll.Sentence], predicted: Sequence[Sequence[str]]) -> Scores:
        """The task's scores of ``predicted`` tags (in :attr:`scheme`) against ``gold`` (sentences
        as :meth:`read` gives them)."""
        return self.labels.score(gold, predicted)


@dataclasses.dataclass(frozen=True)
class BratTask(Task):
    """A task whose splits are folders of BRAT ``.txt``/``.ann`` pairs (:mod:`taglm_tf.data.brat`).

    Training sees the annotations as one layer of IOB2 chunks over the project's tokenization
    (:func:`taglm_tf.data.brat.one_layer`: overlapping, discontinuous and mid-token annotations
    are left out). Scoring is the ScienceIE definition instead (:mod:`taglm_tf.scoring.brat_eval`):
    exact character spans and types against every annotation of the original ``.ann`` files, so
    what the one layer leaves out shows as lost recall.
    """

    @property
    def labels(self) -> SpanLabels:
        return SpanLabels("iob2")

    def read(self, path: str) -> list[conll.Sentence]:
        sentences, _ = brat.tagged_sentences(brat.read_folder(path), "iob2")
        return sentences

    def score(self, gold: Sequence[conll.Sentence], predicted: Sequence[Sequence[str]]) -> Scores:
        spans: dict[str, dict[tuple, str]] = {}
        for sentence, tags in zip(gold, predicted, strict=True):
            found = spans.setdefault(sentence.document, {})
            for a in brat.annotations_from_tags([sentence], [tags]):
                found.setdefault(a.fragments, a.type)
        pairs = [
            (brat_eval.span_types(os.path.splitext(document)[0] + ".ann"), found)
            for document, found in spans.items()
        ]
        per_type, overall = brat_eval.score_files(pairs)
        return Scores(
            "f1",
            overall.f1,
            {"f1": overall.f1, "precision": overall.precision, "recall": overall.recall},
            {t: c.f1 for t, c in per_type.items()},
        )


NER = Task(
    "ner",
    conll.CONLL2003,
    "conll2003",
    "eng.train",
    "eng.testa",
    "eng.testb",
    use=(
        "Named-entity recognition in English news text, with the CoNLL-2003 types PER, LOC, "
        "ORG and MISC (IOB1 tags), on text tokenized as CoNLL-2003 is (`--input_format=raw` "
        "and the Python API tokenize raw text that way)."
    ),
)
_CONLL2000_MODEL = dict(
    char_encoder="cnn",
    char_dim=30,
    char_units=30,
    char_width=3,
    char_dropout=0.5,
    rnn_cell="lstm",
    rnn_units=200,
    rnn_input_dropout=0.5,
    output_dropout=0.5,
)
CHUNKING = Task(
    "chunking",
    conll.CONLL2000,
    "conll2000",
    "train.txt",
    None,
    "test.txt",
    use=(
        "Syntactic chunking (NP, VP, PP, ...) of English text, CoNLL-2000 style (IOB2 "
        "tags), on text tokenized as the Penn Treebank is."
    ),
    model_defaults=_CONLL2000_MODEL,
    entity_word="chunks",
)
# Not in the paper: part-of-speech tags of the same WSJ sentences, one label per token. The
# shared task generated this column with the Brill tagger, so accuracy here is agreement with
# that tagger, not with the Treebank's hand-made tags. The chunking model's settings are used.
POS = Task(
    "pos",
    conll.CONLL2000_POS,
    "conll2000",
    "train.txt",
    None,
    "test.txt",
    use=(
        "Part-of-speech tagging of English text with the Penn Treebank tag set, as the "
        "CoNLL-2000 files carry it (tags assigned by the Brill tagger), on text tokenized as "
        "the Penn Treebank is."
    ),
    model_defaults=_CONLL2000_MODEL,
    entity_word=None,
)
# Paper §3.2: keyphrases of scientific paragraphs (SemEval 2017 Task 10), with the NER model.
SCIENCEIE = BratTask(
    "scienceie",
    None,
    "scienceie",
    "train",
    "dev",
    "test",
    use=(
        "Keyphrase extraction from English scientific text (ScienceIE types Material, Process "
        "and Task), one layer of non-overlapping keyphrases, on raw text tokenized by the "
        "project's tokenizer."
    ),
    entity_word="keyphrases",
)
TASKS: dict[str, Task] = {t.name: t for t in (NER, CHUNKING, POS, SCIENCEIE)}


def task_named(name, source: str) -> Task:
    """The task called ``name`` (as a run's ``config.json`` records it); an :class:`InputError`
    naming ``source`` for an unknown one."""
    if name not in TASKS:
        raise InputError(f"config.json names unknown task {name!r}", source)
    return TASKS[name]


class Splits(NamedTuple):
    """The sentences of a task's train, dev and test splits."""

    train: list[conll.Sentence]
    dev: list[conll.Sentence]
    test: list[conll.Sentence]


SAMPLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resources")
SAMPLE_FILES = {"train": "ner_sample.train", "dev": "ner_sample.dev", "test": "ner_sample.test"}


def task_paths(task: Task, data_dir: str, overrides: dict | None = None) -> dict:
    """Paths of train/dev/test; ``overrides`` maps a split to a user file (relative paths are
    tried as given, then under ``data_dir``)."""
    base = os.path.join(data_dir, task.subdir)
    names = {"train": task.train_file, "dev": task.dev_file, "test": task.test_file}
    paths = {k: os.path.join(base, v) for k, v in names.items() if v}
    for split, path in (overrides or {}).items():
        if path:
            paths[split] = resolve_data_path(path, data_dir)
    return paths


def sample_paths() -> dict:
    """The synthetic CoNLL-2003-format sample shipped with the package (for demos and tests)."""
    return {k: os.path.join(SAMPLE_DIR, v) for k, v in SAMPLE_FILES.items()}


def sample_dev(train: list[conll.Sentence], size: int, seed: int):
    """Hold out ``size`` train sentences (fixed seed) as dev; returns (train, dev) in file order."""
    if size >= len(train):
        raise InputError(f"cannot sample {size} dev sentences from {len(train)} training sentences")
    held = set(np.random.default_rng(seed).choice(len(train), size, replace=False).tolist())
    return ([s for i, s in enumerate(train) if i not in held], [s for i, s in enumerate(train) if i in held])


def check_files_exist(paths: dict, data_dir: str) -> None:
    """An :class:`InputError` naming ``$TAGLM_DATA_DIR`` and ``--data_dir`` for the first of
    ``paths`` (split -> file) that is not a file."""
    for split, path in paths.items():
        check_data_file(path, data_dir, split, f"--{split}_file")


def load_splits(
    task: Task,
    data_dir: str,
    train_with_dev: bool = False,
    dev_seed: int = 0,
    train_fraction: float = 1.0,
    fraction_seed: int = 0,
    files: dict | None = None,
) -> Splits:
    """Read train/dev/test in the files' own tag scheme.

    Args:
        train_with_dev: add the dev sentences to training (the paper's final NER models). Dev is
            still scored each epoch to drive the schedule, so its score is then optimistic.
        dev_seed: seed of the dev sample when the task has no dev file.
        train_fraction: keep a seeded random fraction of the training sentences (e.g. 0.01).
        files: optional per-split file overrides (see :func:`task_paths`).
    """
    paths = task_paths(task, data_dir, files)
    check_files_exist(paths, data_dir)
    train = task.read(paths["train"])
    if "dev" in paths:
        dev = task.read(paths["dev"])
    else:
        train, dev = sample_dev(train, task.dev_sample_size, dev_seed)
    test = task.read(paths["test"])
    if train_fraction < 1.0:
        keep = max(1, int(round(train_fraction * len(train))))
        chosen = sorted(np.random.default_rng(fraction_seed).choice(len(train), keep, replace=False))
        train = [train[i] for i in chosen]
    if train_with_dev:
        train = train + dev
    return Splits(train, dev, test)
