"""The two benchmark tasks: where their files are, their formats and the paper's settings."""
from __future__ import annotations

import dataclasses
import os
from typing import List, NamedTuple, Optional

import numpy as np

from taglm_tf.data import conll
from taglm_tf.data.paths import check_data_file, resolve_data_path
from taglm_tf.errors import InputError
from taglm_tf.models.tagger import TaggerConfig



@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """A CoNLL task: file layout under the data directory and the paper's model settings."""

    name: str
    fmt: conll.CorpusFormat
    subdir: str
    train_file: str
    dev_file: Optional[str]       # None: sample the dev set from train (CoNLL-2000, paper §3)
    test_file: str
    model: TaggerConfig
    dev_sample_size: int = 1000
    entity_word: str = "entities"


NER = TaskSpec("ner", conll.CONLL2003, "conll2003", "eng.train", "eng.testa", "eng.testb",
               TaggerConfig())
CHUNKING = TaskSpec(
    "chunking", conll.CONLL2000, "conll2000", "train.txt", None, "test.txt",
    TaggerConfig(char_encoder="cnn", char_dim=30, char_units=30, char_width=3, char_dropout=0.5,
                 rnn_cell="lstm", rnn_units=200, rnn_input_dropout=0.5, output_dropout=0.5),
    entity_word="chunks")
TASKS = {t.name: t for t in (NER, CHUNKING)}


class Splits(NamedTuple):
    """The sentences of a task's train, dev and test splits."""

    train: List[conll.Sentence]
    dev: List[conll.Sentence]
    test: List[conll.Sentence]


SAMPLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resources")
SAMPLE_FILES = {"train": "ner_sample.train", "dev": "ner_sample.dev", "test": "ner_sample.test"}


def task_paths(task: TaskSpec, data_dir: str, overrides: Optional[dict] = None) -> dict:
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


def sample_dev(train: List[conll.Sentence], size: int, seed: int):
    """Hold out ``size`` train sentences (fixed seed) as dev; returns (train, dev) in file order."""
    if size >= len(train):
        raise InputError(f"cannot sample {size} dev sentences from {len(train)} training sentences")
    held = set(np.random.default_rng(seed).choice(len(train), size, replace=False).tolist())
    return ([s for i, s in enumerate(train) if i not in held],
            [s for i, s in enumerate(train) if i in held])


def check_files_exist(paths: dict, data_dir: str) -> None:
    """An :class:`InputError` naming ``$TAGLM_DATA_DIR`` and ``--data_dir`` for the first of
    ``paths`` (split -> file) that is not a file."""
    for split, path in paths.items():
        check_data_file(path, data_dir, split, f"--{split}_file")


def load_splits(task: TaskSpec, data_dir: str, train_with_dev: bool = False, dev_seed: int = 0,
                train_fraction: float = 1.0, fraction_seed: int = 0,
                files: Optional[dict] = None) -> Splits:
    """Read train/dev/test in the files' own tag scheme.

    Args:
        train_with_dev: add the dev sentences to training (the paper's final NER models). Dev is
            still scored each epoch to drive the schedule, so its F1 is then optimistic.
        dev_seed: seed of the dev sample when the task has no dev file.
        train_fraction: keep a seeded random fraction of the training sentences (e.g. 0.01).
        files: optional per-split file overrides (see :func:`task_paths`).
    """
    paths = task_paths(task, data_dir, files)
    check_files_exist(paths, data_dir)
    train = conll.read_conll(paths["train"], task.fmt)
    if "dev" in paths:
        dev = conll.read_conll(paths["dev"], task.fmt)
    else:
        train, dev = sample_dev(train, task.dev_sample_size, dev_seed)
    test = conll.read_conll(paths["test"], task.fmt)
    if train_fraction < 1.0:
        keep = max(1, int(round(train_fraction * len(train))))
        chosen = sorted(np.random.default_rng(fraction_seed).choice(len(train), keep, replace=False))
        train = [train[i] for i in chosen]
    if train_with_dev:
        train = train + dev
    return Splits(train, dev, test)


def task_named(name, source: str) -> TaskSpec:
    """The task called ``name`` (as a run's ``config.json`` records it); an :class:`InputError`
    naming ``source`` for an unknown one."""
    if name not in TASKS:
        raise InputError(f"config.json names unknown task {name!r}", source)
    return TASKS[name]
