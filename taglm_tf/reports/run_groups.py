"""Runs gathered for a report: each input path labelled, runs pooled by (label, setting)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from taglm_tf.reports import paper_tables, sweeps
from taglm_tf.utils.errors import InputError


@dataclasses.dataclass
class Group:
    """The runs of one experiment label in one setting."""

    label: str
    setting: dict
    runs: list[sweeps.RunResult] = dataclasses.field(default_factory=list)

    @property
    def setting_text(self) -> str:
        return sweeps.describe_setting(self.setting)

    def stat(self, split: str = "test") -> dict:
        """Mean ± std of the runs' ``split`` (``test``, ``dev``) scores."""
        return sweeps.stat([r.test_score if split == "test" else r.dev_score for r in self.runs])

    def describe(self) -> str:
        """``train, GloVe 6B 50d, LMs: none, seeds 1–3``."""
        return f"{self.setting_text}, {sweeps.describe_seeds([r.seed for r in self.runs])}"


def parse_spec(spec: str) -> tuple[str | None, str]:
    """``LABEL=PATH`` or ``PATH``."""
    if "=" in spec and not os.path.exists(spec):
        label, path = spec.split("=", 1)
        return label or None, path
    return None, spec


def infer_label(path: str, known: Sequence[str]) -> str:
    """The sweep's stored label, else the longest known label the directory name starts with."""
    stored = sweeps.sweep_label(path) if os.path.isdir(path) else None
    if stored:
        return stored
    run_dir = os.path.dirname(path) if os.path.isfile(path) else path
    name = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    matches = [k for k in known if name == k or name.startswith((k + "_", k + "-", k + "."))]
    return max(matches, key=len) if matches else name


def load_groups(specs: Sequence[str], known: Sequence[str]) -> tuple[list[Group], list[str]]:
    """Read every input, label its runs, pool them by (label, setting); a run given twice counts
    once, and a copy of a run (:func:`sweeps.run_identity`) or a group with one seed twice is
    refused (:func:`sweeps.check_one_per_seed`).

    Returns the groups and the started but unfinished run dirs (not counted).
    """
    groups: dict[tuple, Group] = {}
    seen, skipped = set(), []
    copies: dict[tuple, str] = {}  # run_identity -> the first path
    for spec in specs:
        label, path = parse_spec(spec)
        if not os.path.exists(path):
            raise InputError("no such run or sweep directory", path)
        label = label or infer_label(path, known)
        skipped += [] if os.path.isfile(path) else sweeps.unfinished(path)
        for run in sweeps.load_runs(path):
            if os.path.realpath(run.path) in seen:
                continue
            seen.add(os.path.realpath(run.path))
            if (copied := copies.setdefault(sweeps.run_identity(run), run.path)) != run.path:
                raise InputError(
                    f"a copy of {copied} (the same seed, scores and training time): give one of them",
                    run.path,
                )
            setting = sweeps.setting_of(run.config)
            key = (label, sweeps.describe_setting(setting))
            groups.setdefault(key, Group(label, setting)).runs.append(run)
    for (label, setting), group in groups.items():
        sweeps.check_one_per_seed(group.runs, f"{label} ({setting})")
        group.runs.sort(key=lambda r: (r.seed is None, r.seed or 0, r.path))
    return list(groups.values()), skipped


def by_label(groups: Sequence[Group]) -> dict[str, list[Group]]:
    out: dict[str, list[Group]] = {}
    for g in groups:
        out.setdefault(g.label, []).append(g)
    return out


def comparable(a: Group, b: Group, same_lms: bool = False) -> bool:
    """Same data, embeddings and schedule (and LMs by name, with ``same_lms``; their builds may
    differ, and the report shows both): only the experiment (LMs, architecture) differs."""
    keys = ("train_with_dev", "train_fraction", "embeddings", "schedule") + (("lms",) if same_lms else ())
    return all(a.setting.get(k) == b.setting.get(k) for k in keys)


def shared_builds(a: Group, b: Group) -> str:
    """How the LMs that both groups read (same direction, same name) compare: ``"same"`` when
    each is the same recorded build in both (also when they share none), ``"unrecorded"`` when a
    run of either recorded no fingerprint for one of them (the builds cannot be told apart), else
    ``"other"``. Both groups' runs read one set of LMs (it is part of the setting they are pooled
    by)."""
    reads_a, reads_b = (sweeps.lm_reads(g.runs[0].config) if g.runs else {} for g in (a, b))
    shared = [d for d in reads_a.keys() & reads_b.keys() if reads_a[d][0] == reads_b[d][0]]
    if any(reads_a[d][1] is None or reads_b[d][1] is None for d in shared):
        return "unrecorded"
    return "same" if all(reads_a[d] == reads_b[d] for d in shared) else "other"


def comparable_groups(
    groups: dict[str, list[Group]], base: str, variant: str, same_lms: bool = False
) -> list[tuple[Group, Group]]:
    """Every ``(base group, variant group)`` of the two labels that ran in the same setting. A
    variant group pairs with the base groups that read the same builds of the LMs both read
    where there are any (:func:`shared_builds`), else with the others."""
    pairs = [
        (a, b, shared_builds(a, b) == "same")
        for a in groups.get(base, [])
        for b in groups.get(variant, [])
        if comparable(a, b, same_lms)
    ]
    has_own_build = {id(b) for _, b, own in pairs if own}
    return [(a, b) for a, b, own in pairs if own or id(b) not in has_own_build]


def paired_runs(base: Group, variant: Group) -> list[tuple[int, sweeps.RunResult, sweeps.RunResult]]:
    """``(seed, base run, variant run)`` for each seed both groups ran, by seed (a group holds
    one run per seed: :func:`load_groups`)."""
    base_by_seed = {r.seed: r for r in base.runs if r.seed is not None}
    pairs = [(r.seed, base_by_seed[r.seed], r) for r in variant.runs if r.seed in base_by_seed]
    return sorted(pairs, key=lambda pair: pair[0])


def seed_pairs(base: Group, variant: Group) -> list[tuple[int, float, float]]:
    """``(seed, base test F1, variant test F1)`` of :func:`paired_runs`."""
    return [(seed, a.test_score, b.test_score) for seed, a, b in paired_runs(base, variant)]


@dataclasses.dataclass(frozen=True)
class DataSizePoint:
    """TagLM against the baseline at one fraction of the training data, paired by seed."""

    fraction: float
    paper_delta: float | None
    base: Group
    variant: Group
    pairs: tuple[tuple[int, float, float], ...]  # (seed, base F1, variant F1)

    @property
    def differences(self) -> list[float]:
        return [v - b for _, b, v in self.pairs]


def data_size_points(groups: dict[str, list[Group]]) -> list[DataSizePoint]:
    """One point per label pair of ``paper_tables.DATA_SIZE`` and comparable setting pair with
    at least one seed in both arms, by the fraction of training data the runs record."""
    points = []
    for _, base, variant in paper_tables.DATA_SIZE:
        delta = paper_tables.paper_delta(base, variant)
        for a, b in comparable_groups(groups, base, variant):
            pairs = tuple(seed_pairs(a, b))
            if pairs:  # the fraction the runs record, which the two groups share
                points.append(DataSizePoint(float(a.setting.get("train_fraction", 1.0)), delta, a, b, pairs))
    return sorted(points, key=lambda p: p.fraction)


def perplexities(value) -> tuple[float | None, float | None]:
    """``(fwd, bwd)`` from a run's ``lm_perplexity``: a number (forward) or a dict."""
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, dict):

        def pick(*keys):
            found = [value[k] for k in keys if isinstance(value.get(k), (int, float))]
            return float(found[0]) if found else None

        return pick("forward", "fwd"), pick("backward", "bwd")
    return None, None


def mean_perplexities(group: Group) -> tuple[float | None, float | None]:
    pairs = [perplexities(r.lm_perplexity) for r in group.runs]
    means = []
    for i in (0, 1):
        values = [p[i] for p in pairs if p[i] is not None]
        means.append(sum(values) / len(values) if values else None)
    return means[0], means[1]
