"""Multi-seed sweeps: where seeds live, which are finished, their results and summary.

A sweep directory holds ``seed_<k>/`` (one model dir per seed, as ``experiments.ner`` writes
it), ``seed_<k>.log`` and ``sweep.json`` (per-seed scores, mean ± sample std, the setting).
Scores are the task's metric (:attr:`taglm_tf.tasks.Task.metric`: chunk F1, or accuracy for
token labels), stored under ``test_<metric>`` and ``dev_<metric>`` as in ``results.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Sequence

from taglm_tf import run_dir as run_dir_files
from taglm_tf.reports import chunk_outcomes
from taglm_tf.reports.stats import mean_std
from taglm_tf.tasks import TASKS
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic
from taglm_tf.utils.provenance import short, short_commit

SWEEP_FILE = "sweep.json"
UPDATED_KEY = "updated_at"  # when sweep.json was written
_SEED_DIR = re.compile(r"^seed_(\d+)$")


@dataclasses.dataclass
class RunResult:
    """The numbers of one finished run (one ``results.json``); ``test_score`` and ``dev_score``
    are in percent, of the task's ``metric`` (``f1`` or ``accuracy``)."""

    path: str
    seed: int | None
    test_score: float
    dev_score: float
    epochs: int | None = None
    wall_seconds: float | None = None
    lm_perplexity: object = None  # a number, or {"forward": .., "backward": ..}
    config: dict = dataclasses.field(default_factory=dict)
    history: list = dataclasses.field(default_factory=list)
    test_per_type: dict = dataclasses.field(default_factory=dict)  # conlleval F1 per type
    metric: str = "f1"
    # What its test chunks became, when the run directory has run_dir.CHUNK_OUTCOMES.
    test_outcomes: chunk_outcomes.ChunkOutcomes | None = None

    def score(self, key: str) -> float:
        """The score stored under ``key`` (``test_f1``, ``dev_accuracy``) in ``results.json``.

        Raises:
            InputError: the run is scored by another metric.
        """
        split, _, metric = key.partition("_")
        if metric != self.metric or split not in ("test", "dev"):
            raise InputError(
                f"has no {key}: its task is scored by {self.metric} (test_{self.metric}, dev_{self.metric})",
                self.path,
            )
        return self.test_score if split == "test" else self.dev_score


def seed_dir(sweep_dir: str, seed: int) -> str:
    return os.path.join(sweep_dir, f"seed_{seed}")


def log_path(sweep_dir: str, seed: int) -> str:
    return os.path.join(sweep_dir, f"seed_{seed}.log")


def is_finished(run_dir: str) -> bool:
    return run_dir_files.is_finished(run_dir)


def seeds_to_run(sweep_dir: str, seeds: Sequence[int]) -> list[int]:
    """The seeds without a ``results.json`` (new ones and interrupted ones)."""
    return [s for s in seeds if not is_finished(seed_dir(sweep_dir, s))]


def load_run(path: str) -> RunResult:
    """Read a model dir (or its ``results.json``), with the chunk outcomes recorded beside it if any."""
    results_path = path if path.endswith(".json") else os.path.join(path, run_dir_files.RESULTS)
    results = run_dir_files.read_json(results_path)
    run_dir_files.check_format(results, results_path)
    task = TASKS.get(results.get("task"))
    metric = task.metric if task else "f1"
    test_key, dev_key = f"test_{metric}", f"dev_{metric}"
    if test_key not in results or dev_key not in results:
        raise InputError(f"not a results.json (no {test_key}/{dev_key})", results_path)
    run_dir = os.path.dirname(results_path)
    config = results.get("config") or {}
    if os.path.isfile(os.path.join(run_dir, run_dir_files.CONFIG)):
        config = {**config, **run_dir_files.read_config(run_dir)}
    seed = results.get("seed", config.get("train", {}).get("seed"))
    per_type = ((results.get("scores") or {}).get("test") or {}).get("per_type") or {}
    outcomes = os.path.join(run_dir, run_dir_files.CHUNK_OUTCOMES)
    return RunResult(
        run_dir,
        seed,
        float(results[test_key]),
        float(results[dev_key]),
        results.get("epochs"),
        results.get("wall_seconds"),
        results.get("lm_perplexity"),
        config,
        results.get("history") or [],
        {k: float(v) for k, v in per_type.items()},
        metric,
        chunk_outcomes.read_outcomes(outcomes) if os.path.isfile(outcomes) else None,
    )


def seed_dirs(sweep_dir: str) -> list[tuple]:
    """``[(seed, path)]`` of the ``seed_<k>`` directories, by seed."""
    if not os.path.isdir(sweep_dir):
        return []
    found = [
        (int(m.group(1)), os.path.join(sweep_dir, name))
        for name in os.listdir(sweep_dir)
        if (m := _SEED_DIR.match(name)) and os.path.isdir(os.path.join(sweep_dir, name))
    ]
    return sorted(found)


def collect_sweep(sweep_dir: str) -> list[RunResult]:
    """The finished runs of a sweep, by seed."""
    return [load_run(path) for _, path in seed_dirs(sweep_dir) if is_finished(path)]


def unfinished(path: str) -> list[str]:
    """Started but unfinished model dirs at ``path`` (itself, or the seeds of a sweep)."""
    dirs = [p for _, p in seed_dirs(path)] if is_sweep(path) else [path]
    return [d for d in dirs if os.path.isfile(os.path.join(d, run_dir_files.CONFIG)) and not is_finished(d)]


def is_sweep(path: str) -> bool:
    return os.path.isfile(os.path.join(path, SWEEP_FILE)) or bool(seed_dirs(path))


def load_runs(path: str) -> list[RunResult]:
    """The runs behind ``path``: a sweep dir, a model dir or a ``results.json``."""
    if os.path.isfile(path) or is_finished(path):
        return [load_run(path)]
    if os.path.isdir(path) and (is_sweep(path) or unfinished(path)):
        return collect_sweep(path)
    raise InputError("neither a sweep directory nor a finished run (no results.json)", path)


def load_pool(spec: str) -> list[RunResult]:
    """The finished runs behind ``spec``, comma-separated paths (:func:`load_runs`) pooled as one
    sample; a run reached by two of them counts once.

    Raises:
        InputError: ``spec`` holds no finished run, or one seed twice (:func:`check_one_per_seed`).
    """
    runs = {os.path.realpath(r.path): r for path in spec.split(",") if path for r in load_runs(path)}
    if not runs:
        raise InputError("holds no finished runs", spec)
    check_one_per_seed(list(runs.values()), spec)
    return list(runs.values())


def load_arms(a: str, b: str) -> tuple[list[RunResult], list[RunResult]]:
    """The runs of two samples to compare (:func:`load_pool` of each), which must be other runs.

    Raises:
        InputError: as :func:`load_pool`, or a run (or a copy of it: the same seed, scores and
            time) is in both.
    """
    runs_a, runs_b = load_pool(a), load_pool(b)
    in_a = {run_identity(r): r.path for r in runs_a}
    for run in runs_b:
        if run_identity(run) in in_a:
            raise InputError(
                f"{run.path} is {in_a[run_identity(run)]} or a copy of it, in both A ({a}) and B ({b}): "
                "compare two sets of other runs"
            )
    return runs_a, runs_b


def run_identity(run: RunResult) -> tuple:
    """What a run and its copies share and two trainings never do (its seed, scores and training
    time to the microsecond); the path where a run records no time."""
    if run.wall_seconds is None:
        return ("path", os.path.realpath(run.path))
    return (run.seed, run.test_score, run.dev_score, run.wall_seconds)


def check_one_per_seed(runs: Sequence[RunResult], where: str) -> None:
    """Refuse a sample of ``runs`` that holds one seed twice (or one run twice, when it has no
    seed): a run and its copy, such as a resumed or moved run directory, are one sample, and two
    settings that ran the same seeds are two samples.

    Raises:
        InputError: naming both runs and ``where``.
    """
    seen: dict[object, str] = {}
    for run in runs:
        key = os.path.realpath(run.path) if run.seed is None else run.seed
        if key in seen:
            what = "the same run" if run.seed is None else f"seed {run.seed}"
            raise InputError(
                f"{what} twice ({seen[key]} and {run.path}): each seed is one sample, so pool runs of other seeds",
                where,
            )
        seen[key] = run.path


def sweep_label(path: str) -> str | None:
    """The label stored in a sweep's ``sweep.json``, if any."""
    sweep_file = os.path.join(path, SWEEP_FILE)
    return run_dir_files.read_json(sweep_file).get("label") if os.path.isfile(sweep_file) else None


def stat(values: Sequence[float]) -> dict:
    """``{"mean", "std", "n"}`` with the sample std (ddof=1; None below two values)."""
    if not values:
        return {"mean": None, "std": None, "n": 0}
    mean, std = mean_std(values)
    return {"mean": mean, "std": std, "n": len(values)}


def format_stat(s: dict, digits: int = 2) -> str:
    """``91.93 ± 0.19 (n=10)``; ``91.93 (n=1)``; ``—`` when empty."""
    if not s or not s.get("n"):
        return "—"
    text = f"{s['mean']:.{digits}f}"
    if s.get("std") is not None:
        text += f" ± {s['std']:.{digits}f}"
    return f"{text} (n={s['n']})"


def describe_seeds(seeds: Sequence[int | None]) -> str:
    known = sorted(s for s in seeds if s is not None)
    if not known:
        return f"{len(seeds)} run(s)"
    if len(known) > 2 and known == list(range(known[0], known[-1] + 1)):
        return f"seeds {known[0]}–{known[-1]}"
    return ("seed " if len(known) == 1 else "seeds ") + ", ".join(map(str, known))


def describe_embeddings(path: str | None) -> str:
    if not path:
        return "no pre-trained vectors"
    name = os.path.basename(path).lower()
    if "glove.6b.50d" in name:
        return "GloVe 6B 50d"
    if "senna" in path.lower():
        return "Senna 50d"
    return os.path.basename(path)


_LM_KEY = re.compile(r"(^|_)(lm|lms|bilm)(_|$)|language_model")
# How LM features are stored, checked or found, not which LMs: never part of a run's LM setting.
# (The last is taglm_tf.lm.frozen.loading.RELATIVE_KEY, spelled out so reports need no TensorFlow import.)
_NOT_LM_CHOICE = {"lm_cache_dir", "lm_cache_dtype", "lm_fingerprints", "lm_specs_relative_to_model_dir"}


def lm_settings(config: dict, prefix: str = "") -> dict:
    """String-valued LM settings anywhere in ``config`` (keys like ``forward_lm``, ``lm.backward``)."""
    found = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if key in _NOT_LM_CHOICE:
            continue
        if isinstance(value, dict):
            found.update(lm_settings(value, f"{name}."))
        elif isinstance(value, str) and value and any(_LM_KEY.search(part) for part in name.split(".")):
            found[name] = value
    return found


def _short_path(value: str) -> str:
    """``fwd_cpu`` for ``/lms/fwd_cpu``; ``cnn_s/ckpt-*`` for an lm_1b spec ``lm1b:cnn_s/ckpt-*,cnn_s/vocab.txt``."""
    parts = [p for p in value.split(",", 1)[0].rstrip("/").split("/") if p]
    if len(parts) > 1 and ("*" in parts[-1] or parts[-1].startswith(("ckpt", "model", "weights"))):
        return "/".join(parts[-2:])
    return parts[-1] if parts else value


def _direction(key: str) -> str:
    """``fwd``, ``bwd`` or the key itself, for an LM setting's key such as ``forward_lm``."""
    low = key.lower()
    if "forward" in low or "fwd" in low:
        return "fwd"
    return "bwd" if ("backward" in low or "bwd" in low) else key


def describe_lms(config: dict) -> str:
    """``fwd: X; bwd: Y`` from the config's LM settings, or ``none``."""
    items = [f"{_direction(key)}: {_short_path(value)}" for key, value in sorted(lm_settings(config).items())]
    return "; ".join(items) if items else "none"


def describe_lm_builds(config: dict) -> str | None:
    """``bwd a1a21b1b0e3d, fwd 98faf01efe3f``: each LM's fingerprint as the run recorded it
    (``lm_fingerprints``, the sha256 digest its LM caches are keyed by,
    :mod:`taglm_tf.lm.frozen.loading`), shortened as :func:`taglm_tf.utils.provenance.short`;
    ``None`` when the run recorded no fingerprints.

    LMs trained from the same files and commit on two CPU models are other bits (their
    floating-point reductions differ), so a folder name alone does not say which LMs a run read.
    """
    prints = config.get("lm_fingerprints") or {}
    if not prints:
        return None
    return ", ".join(f"{_direction(key)} {short(str(value))}" for key, value in sorted(prints.items()))


def describe_commits(runs: Sequence[RunResult]) -> str:
    """``6d0c19d1a2b3, 839c7be4d5e6-dirty``: the code commits the runs started at (``git_commit``
    of their ``config.json``) as :func:`taglm_tf.utils.provenance.short_commit` shows them (README
    FAQ on older ``-dirty`` records), each once, in the runs' order; ``—`` when none recorded one."""
    commits = (run.config.get(run_dir_files.COMMIT_KEY) for run in runs)
    return ", ".join(dict.fromkeys(short_commit(str(c)) for c in commits if c)) or "—"


def lm_reads(config: dict) -> dict[str, tuple[str, str | None]]:
    """``{direction: (LM, build)}`` for each LM a run read: ``fwd``/``bwd``, the LM's short name
    as :func:`describe_lms` gives it, and its recorded fingerprint shortened as
    :func:`describe_lm_builds` gives it (``None`` when the run recorded none)."""
    builds = {
        _direction(key): short(str(value)) for key, value in (config.get("lm_fingerprints") or {}).items()
    }
    return {
        _direction(key): (_short_path(value), builds.get(_direction(key)))
        for key, value in lm_settings(config).items()
    }


PAPER_SCHEDULE = {"patience": 5, "anneal_epochs": 5, "anneal_steps": 2}


def describe_schedule(train: dict | None) -> str:
    """``paper schedule`` or the budget actually used, e.g. ``≤ 6 + 1×2 epochs``."""
    train = train or {}
    constant = train.get("max_constant_epochs", 50)
    if constant >= 50 and all(train.get(k, v) == v for k, v in PAPER_SCHEDULE.items()):
        return "paper schedule"
    return f"≤ {constant} + {train.get('anneal_steps', 2)}×{train.get('anneal_epochs', 5)} epochs"


def setting_of(config: dict) -> dict:
    """The setting a report states beside a number: data, embeddings, LMs, schedule."""
    task = TASKS.get(config.get("task"))
    sampled = (
        task.dev_sample_size
        if task and task.dev_sampled and not (config.get("files") or {}).get("dev")
        else None
    )
    return {
        "train_with_dev": bool(config.get("train_with_dev", False)),
        "dev_sample": sampled,
        "train_fraction": config.get("train_fraction", 1.0),
        "embeddings": describe_embeddings(config.get("embeddings")),
        "lms": describe_lms(config),
        "lm_builds": describe_lm_builds(config),
        "schedule": describe_schedule(config.get("train")),
    }


def describe_data(setting: dict) -> str:
    """``train+dev, GloVe 6B 50d``: training data and word embeddings."""
    if setting.get("train_with_dev"):
        data = "train+dev"
    elif setting.get("dev_sample"):  # CoNLL-2000: the dev set is sampled out of train (paper §3)
        data = f"train − {setting['dev_sample']:,} dev sentences"
    else:
        data = "train"
    fraction = setting.get("train_fraction", 1.0)
    if fraction not in (None, 1.0, 1):
        data += f" ({fraction:.0%} sample)" if fraction >= 0.01 else f" ({fraction:g} sample)"
    return f"{data}, {setting.get('embeddings')}"


def describe_lm_setting(setting: dict) -> str:
    """``fwd: X; bwd: Y (builds bwd a1a21b1b0e3d, fwd 98faf01efe3f)``, or ``none``."""
    builds = setting.get("lm_builds")
    return f"{setting.get('lms')}" + (f" (builds {builds})" if builds else "")


def describe_setting(setting: dict) -> str:
    text = f"{describe_data(setting)}, LMs: {describe_lm_setting(setting)}"
    return text + (f", {setting['schedule']}" if setting.get("schedule") else "")


def summarize(runs: Sequence[RunResult]) -> dict:
    """Per-run scores and mean ± std of the test and dev scores (keys ``test_<metric>``,
    ``dev_<metric>``, ``metric``), with the (first run's) setting.

    Raises:
        InputError: the runs are scored by different metrics.
    """
    settings = [setting_of(r.config) for r in runs]
    metrics = sorted({r.metric for r in runs})
    if len(metrics) > 1:
        raise InputError(
            f"runs scored by different metrics ({', '.join(metrics)}) cannot be summarized together",
            runs[0].path,
        )
    test, dev = (f"{split}_{metrics[0] if metrics else 'f1'}" for split in ("test", "dev"))
    return {
        "metric": metrics[0] if metrics else "f1",
        "runs": [
            {
                "seed": r.seed,
                "dir": r.path,
                test: r.test_score,
                dev: r.dev_score,
                "epochs": r.epochs,
                "wall_seconds": r.wall_seconds,
                "lm_perplexity": r.lm_perplexity,
            }
            for r in runs
        ],
        test: stat([r.test_score for r in runs]),
        dev: stat([r.dev_score for r in runs]),
        "n": len(runs),
        "seeds": describe_seeds([r.seed for r in runs]),
        "setting": settings[0] if settings else None,
        "mixed_settings": any(s != settings[0] for s in settings),
    }


def sweep_summary(
    sweep_dir: str,
    task: str,
    flagfile: str,
    label: str,
    extra_args: Sequence[str] = (),
    failed: Sequence[dict] = (),
) -> dict:
    """The content of ``sweep.json`` for the finished seeds of ``sweep_dir``."""
    summary = summarize(collect_sweep(sweep_dir))
    for run in summary["runs"]:
        run["dir"] = os.path.relpath(run["dir"], sweep_dir)
    return {
        "label": label,
        "task": task,
        "flagfile": flagfile,
        "extra_args": list(extra_args),
        **summary,
        "failed": list(failed),
        UPDATED_KEY: time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def same_summary(a: dict, b: dict) -> bool:
    """Whether two ``sweep.json`` contents agree in everything but when they were written."""
    return {k: v for k, v in a.items() if k != UPDATED_KEY} == {
        k: v for k, v in b.items() if k != UPDATED_KEY
    }


def write_sweep(sweep_dir: str, summary: dict) -> str:
    path = os.path.join(sweep_dir, SWEEP_FILE)
    write_text_atomic(path, json.dumps(summary, indent=1))
    return path


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        with open(a, "rb") as f, open(b, "rb") as g:
            return f.read() == g.read()
    except OSError:
        return False


def check_same_sweep(sweep_dir: str, task: str, flagfile: str, extra_args: Sequence[str]) -> None:
    """Refuse to resume a sweep that was started with another task, flagfile or extra flags. A
    flagfile named another way (``./x.cfg``, an absolute path, a copy in another checkout) is the
    same when it is the same file or has the same bytes."""
    sweep_file = os.path.join(sweep_dir, SWEEP_FILE)
    if not os.path.isfile(sweep_file):
        return
    old = run_dir_files.read_json(sweep_file)
    now = {"task": task, "flagfile": flagfile, "extra_args": list(extra_args)}
    diff = [k for k, v in now.items() if old.get(k, v) != v]
    if "flagfile" in diff and _same_file(old["flagfile"], flagfile):
        diff.remove("flagfile")
    if diff:
        raise InputError(
            f"was started with other {', '.join(diff)} "
            f"({', '.join(f'{k}={old.get(k)!r}' for k in diff)}); use a new --sweep_dir",
            sweep_dir,
        )
