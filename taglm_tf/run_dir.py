"""A training run's directory: the files that connect training, tagging, export, model cards and
reports, their names, and how they are read, written and checked. TensorFlow-free.

A tagger run (:mod:`taglm_tf.training.experiment`) holds :data:`CONFIG` (its settings, written when the
run really starts), ``vocab.json``, :data:`STATE` (the trainer's commit point after each epoch),
``checkpoints/``, ``best/``, ``tensorboard/``, ``model.keras``, ``{dev,test}_predictions.txt``,
the model card, and :data:`RESULTS` (written last: a run that has it is finished); its record,
the small JSON files reports read, can be kept apart from it (:func:`copy_record`). An LM run
(:mod:`taglm_tf.lm.pretraining.run`) holds :data:`CONFIG`, ``vocab.txt``, ``checkpoints/`` and
:data:`LM_RESULTS`.

Every ``config.json`` and ``results.json`` records :data:`FORMAT_VERSION`, and reading one of
another version fails with one line naming both versions. Version 1 is the first to record it;
a file without the field was written in version 1's layout, so it reads as version 1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic
from taglm_tf.utils.provenance import git_commit, platform

CONFIG, RESULTS, STATE, LM_RESULTS = "config.json", "results.json", "state.json", "train_result.json"
# A finished tagger run's model and vocabularies (taglm_tf.models.saving writes and reads them).
MODEL_FILE, VOCAB_FILE = "model.keras", "vocab.json"
# A split's predictions, conlleval's input (taglm_tf.data.conll.format_predictions).
PREDICTIONS = "{split}_predictions.txt"
TEST_PREDICTIONS = PREDICTIONS.format(split="test")
# What the test chunks became (taglm_tf.reports.chunk_outcomes), counted from TEST_PREDICTIONS when
# the run finishes; part of the record, which has no predictions.
CHUNK_OUTCOMES = "test_chunk_outcomes.json"
# The files of a record, in the order they are written: RESULTS last.
RECORD_FILES = (CONFIG, CHUNK_OUTCOMES, RESULTS)
FORMAT_VERSION = 1
FORMAT_KEY, COMMIT_KEY, PLATFORM_KEY = "format_version", "git_commit", "platform"


def read_json(path: str) -> dict:
    """A JSON object from ``path``; an :class:`InputError` naming it when it is missing, is not
    JSON, or is not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read: {e}", path) from None
    if not isinstance(record, dict):
        raise InputError("not a JSON object", path)
    return record


def check_tagger_dir(model_dir: str) -> None:
    """Refuse ``model_dir`` unless it holds what loading a trained tagger reads
    (:data:`MODEL_FILE`, :data:`VOCAB_FILE`, :data:`CONFIG`); the files' contents are not read.

    Raises:
        InputError: naming ``model_dir``: a file; no such folder; a SavedModel export (which
            ``tf.saved_model.load`` serves; the tagger's tools load the run it came from); or a
            file missing, with the subfolders that hold a model, if any (``runs/demo`` for
            ``runs/demo/tagger``).
    """
    if os.path.isfile(model_dir):
        raise InputError(
            f"a file, not a run folder (its folder: {os.path.dirname(model_dir) or '.'})", model_dir
        )
    if not os.path.isdir(model_dir):
        raise InputError("no such folder", model_dir)
    missing = [
        name for name in (MODEL_FILE, VOCAB_FILE, CONFIG) if not os.path.isfile(os.path.join(model_dir, name))
    ]
    if not missing:
        return
    if os.path.isfile(os.path.join(model_dir, "saved_model.pb")):
        raise InputError(
            "a SavedModel export: serve it with tf.saved_model.load; the tools read the training "
            "run it was exported from",
            model_dir,
        )
    below = sorted(
        name for name in os.listdir(model_dir) if os.path.isfile(os.path.join(model_dir, name, MODEL_FILE))
    )
    hint = f" (a model is in {', '.join(os.path.join(model_dir, name) for name in below)})" if below else ""
    raise InputError(f"no {missing[0]} here; is this a finished training run?{hint}", model_dir)


def check_format(record: Mapping[str, Any], path: str) -> None:
    """Refuse a ``config.json`` or ``results.json`` of another format version."""
    version = record.get(FORMAT_KEY, 1)
    if version != FORMAT_VERSION:
        raise InputError(
            f"run directory format {version}; this version of taglm_tf reads format "
            f"{FORMAT_VERSION} (retrain, or use the release that wrote it)",
            path,
        )


def read_config(run_dir: str) -> dict:
    """The run's ``config.json``, checked (:func:`check_format`).

    Raises:
        InputError: there is none (naming ``run_dir``), or it cannot be read or is of another format.
    """
    path = os.path.join(run_dir, CONFIG)
    if not os.path.exists(path):
        raise InputError(f"no {CONFIG} here", run_dir)
    record = read_json(path)
    check_format(record, path)
    return record


def write_config(run_dir: str, config: Mapping[str, Any]) -> dict:
    """Write ``config`` as the run's ``config.json`` (atomically, creating ``run_dir``), stamped
    with the format version and, unless it has them, the code's commit and the platform that
    starts the run (:func:`taglm_tf.utils.provenance.git_commit`,
    :func:`~taglm_tf.utils.provenance.platform`); returns what was written."""
    record = {COMMIT_KEY: git_commit(), PLATFORM_KEY: platform(), **config, FORMAT_KEY: FORMAT_VERSION}
    os.makedirs(run_dir, exist_ok=True)
    write_text_atomic(os.path.join(run_dir, CONFIG), json.dumps(record, indent=1, sort_keys=True))
    return record


def started_at_commit(run_dir: str) -> str:
    """The commit that started the run (its ``config.json`` stamp), or ``unknown``."""
    return read_config(run_dir).get(COMMIT_KEY, "unknown")


def is_finished(run_dir: str) -> bool:
    """True when a tagger run has written its results (the last file of a run)."""
    return os.path.isfile(os.path.join(run_dir, RESULTS))


def read_results(run_dir: str) -> dict | None:
    """A finished tagger run's results, checked (:func:`check_format`); ``None`` when unfinished."""
    path = os.path.join(run_dir, RESULTS)
    if not os.path.exists(path):
        return None
    record = read_json(path)
    check_format(record, path)
    return record


def write_results(run_dir: str, record: Mapping[str, Any], results: str = RESULTS) -> dict:
    """Write the run's results (atomically) into ``results`` (:data:`RESULTS` for a tagger,
    :data:`LM_RESULTS` for an LM), stamped with the format version; returns them."""
    record = {**record, FORMAT_KEY: FORMAT_VERSION}
    write_text_atomic(os.path.join(run_dir, results), json.dumps(record, indent=1))
    return record


def read_record(source: str) -> dict[str, str]:
    """The record of the finished tagger run ``source``, ``{file name: text}``: its
    :data:`CONFIG` and :data:`RESULTS` (settings, commit, LM fingerprints, every score and the
    per-epoch history: a few kB, what reports read) and, when it has one, its
    :data:`CHUNK_OUTCOMES`.

    Raises:
        InputError: ``source`` is not a finished run, or a file is of another format version.
    """
    if read_results(source) is None:
        raise InputError(f"no {RESULTS}: not a finished run", source)
    record = {}
    for name in RECORD_FILES:
        path = os.path.join(source, name)
        if name != CHUNK_OUTCOMES or os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    record[name] = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(f"cannot read it: {e}", path) from None
    return record


def write_record(destination: str, record: Mapping[str, str]) -> None:
    """Write a record's files (``{file name: text}``, as :func:`read_record` gives them) into
    ``destination`` (created), each atomically and :data:`RESULTS` last, so a destination that
    has it holds the whole record: an older :data:`RESULTS` there is removed first, so that a
    stop halfway never leaves new files beside old results. A file the record lacks is left as
    it is."""
    os.makedirs(destination, exist_ok=True)
    if os.path.exists(os.path.join(destination, RESULTS)):
        os.remove(os.path.join(destination, RESULTS))
    for name in sorted(record, key=lambda n: n == RESULTS):
        write_text_atomic(os.path.join(destination, name), record[name])


def copy_record(source: str, destination: str) -> None:
    """Copy a finished tagger run's record (:func:`read_record`) from run directory ``source``
    into ``destination`` (:func:`write_record`). Copying a record back into an empty run
    directory makes a finished run for the reports (it has no weights and no predictions: it
    cannot tag or export, and its chunk outcomes are the recorded ones).

    Raises:
        InputError: as :func:`read_record`.
    """
    write_record(destination, read_record(source))


def best_constant_epoch(history: list[dict], metric: str) -> dict | None:
    """The ``history`` entry (``results.json``'s per-epoch records) of the best ``dev_<metric>``
    at the first learning rate, the epoch annealing starts from (the first of equal scores), or
    None for an empty history."""
    constant = [h for h in history if h.get("lr") == history[0].get("lr")] if history else []
    return max(constant, key=lambda h: h[f"dev_{metric}"]) if constant else None


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(value))


def changed_settings(saved: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """``--flag (SAVED saved, GIVEN given)`` for each flag in both mappings whose values differ,
    sorted by flag. A flag the saved run did not record is not compared."""
    changes = []
    for flag in sorted(set(saved) & set(given)):
        old, new = _plain(saved[flag]), _plain(given[flag])
        if old != new:
            changes.append(f"--{flag} ({json.dumps(old)} saved, {json.dumps(new)} given)")
    return changes


def refuse_changed_settings(saved: Mapping[str, Any], given: Mapping[str, Any], run_dir: str) -> None:
    """The resume check shared by the tagger and LM drivers: each maps its saved and given
    configurations to ``{flag name: value}`` (leaving out what is safe to change), and a
    difference is an :class:`InputError` naming the run's ``config.json`` and every changed flag."""
    changes = changed_settings(saved, given)
    if changes:
        raise InputError(
            "--resume with settings other than the run's: "
            + ", ".join(changes)
            + "; drop these flags to continue the run, or use a new --model_dir",
            os.path.join(run_dir, CONFIG),
        )


def interrupted(where: str, then: str) -> str:
    """The one line a driver prints on Ctrl-C: where it stopped and what ``--resume`` does."""
    return f"interrupted {where}; rerun with --resume to {then}"
