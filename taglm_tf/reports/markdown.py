"""Markdown of the reproduction report: the paper's tables with our numbers in the same rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from taglm_tf import run_dir
from taglm_tf.reports import paper_tables, sweeps
from taglm_tf.reports.chunk_outcomes import UNMATCHED, TypeOutcomes
from taglm_tf.reports.run_groups import (
    Group,
    by_label,
    comparable_groups,
    data_size_points,
    mean_perplexities,
    paired_runs,
    seed_pairs,
    shared_builds,
)
from taglm_tf.reports.stats import mean_ci, mean_std, paired_ttest, welch_ttest
from taglm_tf.tasks import METRIC_TITLES
from taglm_tf.utils.markdown import table as markdown_table

DITTO = "″"


def paper_f1(row: paper_tables.PaperRow) -> str:
    if row.f1 is None:
        return "—"
    text = f"{row.f1:.2f}" + (f" ± {row.std:.2f}" if row.std is not None else "")
    return text + (f" ({row.note})" if row.note else "")


def _ppl(pair) -> str:
    if not pair or all(p is None for p in pair):
        return "N/A"
    return " / ".join("N/A" if p is None else f"{p:.1f}" for p in pair)


def table_rows(table: paper_tables.PaperTable, groups: dict[str, list[Group]]) -> list[list]:
    """One line per paper row and per setting we ran it in."""
    rows = []
    for prow in table.rows:
        paper = [prow.name, paper_f1(prow), prow.setting] + ([_ppl(prow.ppl)] if table.show_ppl else [])
        label = f"`{prow.label}`" if prow.label else "—"
        found = groups.get(prow.label, []) if prow.label else []
        if not found:
            ours = ["—" if not prow.label else "not run", "—"] + (["—"] if table.show_ppl else [])
            rows.append(paper + ours + [label])
        for i, g in enumerate(found):
            ours = [sweeps.format_stat(g.stat(table.split)), g.describe()]
            ours += [_ppl(mean_perplexities(g))] if table.show_ppl else []
            rows.append((paper if i == 0 else [DITTO] * len(paper)) + ours + [label])
    return rows


def render_table(table: paper_tables.PaperTable, groups: dict[str, list[Group]]) -> list[str]:
    header = ["Model", "Paper F1 ± std", "Paper setting"]
    header += ["Paper LM ppl fwd / bwd"] if table.show_ppl else []
    header += [f"Ours: {table.split} F1 ± std (n)", "Our setting"]
    header += ["Our LM ppl fwd / bwd"] if table.show_ppl else []
    header += ["Experiment"]
    lines = [f"## {table.title}", ""] + markdown_table(header, table_rows(table, groups))
    return lines + (["", table.caption] if table.caption else []) + [""]


def _welch_text(base: Sequence[float], variant: Sequence[float]) -> str:
    if len(base) < 2 or len(variant) < 2:
        return "needs ≥ 2 runs each"
    try:
        r = welch_ttest(variant, base)
    except ValueError as e:
        return str(e)
    return f"t = {r.t:.2f}, df = {r.df:.1f}, p = {r.p:.3g}"


def _paired_text(base: Group, variant: Group) -> str:
    """The paired t-test over the seeds both groups ran (variant − base)."""
    pairs = seed_pairs(base, variant)
    if len(pairs) < 2:
        return "needs ≥ 2 seeds in both"
    try:
        r = paired_ttest([v for _, _, v in pairs], [b for _, b, _ in pairs])
    except ValueError as e:
        return str(e)
    return f"t = {r.t:.2f}, df = {r.df}, p = {r.p:.3g} ({r.n} seeds)"


def comparable_pairs(groups: dict[str, list[Group]]) -> list[tuple]:
    """``(name, paper Δ as text, base group or None, variant group or None, the paper's split)``
    per paper comparison."""
    out = []
    for c in paper_tables.COMPARISONS:
        name = f"`{c.variant}` − `{c.base}`"
        paper = _delta(c.paper_delta) + (
            f" ({c.paper_split})" if c.paper_split != "test" and c.paper_delta else ""
        )
        pairs = comparable_groups(groups, c.base, c.variant, c.same_lms) or [(None, None)]
        out += [(name, paper, a, b, c.paper_split) for a, b in pairs]
    return out


def _delta(value) -> str:
    return "—" if value is None else f"{value:+.2f}"


BUILD_NOTES = {
    "other": "other builds of the LMs both read",
    "unrecorded": "an LM both read has no recorded build",
}


def comparison_rows(groups: dict[str, list[Group]]) -> list[list]:
    rows = []
    for name, delta, a, b, split in comparable_pairs(groups):
        if a is None:
            rows.append([name, delta, "not run", "—", "—", "—"])
            continue
        diff = b.stat()["mean"] - a.stat()["mean"]
        notes = [f"n={len(b.runs)} vs {len(a.runs)}"]
        if split == "dev" and all(x.dev_score is not None for x in (*a.runs, *b.runs)):
            # The paper's figure is on dev: ours there too, beside the test one.
            dev = statistics.mean(x.dev_score for x in b.runs) - statistics.mean(x.dev_score for x in a.runs)
            notes.append(f"dev: {dev:+.2f}")
        builds = shared_builds(a, b)
        if builds != "same":
            notes.append(BUILD_NOTES[builds])
        diff_text = f"{diff:+.2f} ({'; '.join(notes)})"
        rows.append(
            [
                name,
                delta,
                diff_text,
                _welch_text([x.test_score for x in a.runs], [x.test_score for x in b.runs]),
                _paired_text(a, b),
                f"{sweeps.describe_data(a.setting)}, {a.setting.get('schedule')}; "
                f"LMs: {sweeps.describe_lm_setting(a.setting)} → {sweeps.describe_lm_setting(b.setting)}",
            ]
        )
    return rows


def render_comparisons(groups: dict[str, list[Group]]) -> list[str]:
    header = [
        "Comparison",
        "Paper Δ F1",
        "Ours: Δ of mean test F1 (all runs)",
        "Welch t-test (two-sided)",
        "Paired t-test by seed (two-sided)",
        "Data, embeddings, schedule; LMs: base → variant",
    ]
    return (
        [
            "## Differences and significance",
            "",
            "Ours: difference of the mean test F1 of all runs of each arm, between runs with the "
            "same data, embeddings and schedule (and the same LMs where only the tagger differs); "
            "an LM that both arms read is the same build in both where such runs exist, else the "
            "row says it pairs other builds (or builds a run did not record); "
            "two-sided Welch t-test as in the paper (§3.1), and the paired t-test over the seeds "
            "both arms ran, whose mean difference can differ from the difference of means when "
            "an arm has more seeds.",
            "",
        ]
        + markdown_table(header, comparison_rows(groups))
        + [""]
    )


def data_size_rows(groups: dict[str, list[Group]]) -> list[list]:
    """One row per fraction of the training data: the paper's Δ, ours paired by seed."""
    rows = []
    for p in data_size_points(groups):
        diffs = p.differences
        mean, half = mean_ci(diffs)
        ci = "needs ≥ 2 seeds" if half is None else f"[{mean - half:+.2f}, {mean + half:+.2f}]"
        rows.append(
            [
                f"{p.fraction:.0%}",
                _delta(p.paper_delta),
                f"{mean:+.2f}",
                ci,
                _paired_text(p.base, p.variant),
                sweeps.describe_seeds([seed for seed, _, _ in p.pairs]),
                f"{sweeps.describe_data(p.base.setting)}, {p.base.setting.get('schedule')}; "
                f"TagLM's LMs: {sweeps.describe_lm_setting(p.variant.setting)}",
            ]
        )
    return rows


def render_data_size(groups: dict[str, list[Group]]) -> list[str]:
    rows = data_size_rows(groups)
    if not rows:
        return []
    header = [
        "Training data",
        "Paper Δ F1",
        "Ours: mean Δ test F1 by seed",
        "95% CI (Student t)",
        "Paired t-test by seed (two-sided)",
        "Seeds",
        "Data, embeddings, schedule; TagLM's LMs",
    ]
    return (
        [
            "## NER: TagLM's gain against the amount of labelled data",
            "",
            "§3.2 'Dataset size': TagLM − baseline test F1 of runs with the same seed, which train on "
            "the same sentences (`--train_fraction` draws them from the seed). The paper's points "
            'are 1% (+3.35) and 100% of train+dev (+1.06). The plot under "Plots" draws these '
            "rows, one line per schedule and LMs.",
            "",
        ]
        + markdown_table(header, rows)
        + [""]
    )


def per_type_rows(base: Group, variant: Group) -> list[list]:
    """One row per entity or chunk type scored in every run of both groups: means, Δ, Welch test."""
    runs = base.runs + variant.runs
    types = sorted(set.intersection(*(set(r.test_per_type) for r in runs))) if runs else []
    rows = []
    for t in types:
        a = [r.test_per_type[t] for r in base.runs]
        b = [r.test_per_type[t] for r in variant.runs]
        (ma, _), (mb, _) = mean_std(a), mean_std(b)
        rows.append([t, f"{ma:.2f}", f"{mb:.2f}", f"{mb - ma:+.2f}", _welch_text(a, b)])
    return rows


def render_per_type(groups: dict[str, list[Group]]) -> list[str]:
    """Test F1 per type (conlleval's per-type F1, mean over runs) for each comparison we ran."""
    lines = []
    for name, _, a, b, _ in comparable_pairs(groups):
        rows = per_type_rows(a, b) if a is not None else []
        if rows:
            lines += [
                f"### {name}: {a.describe()} → {b.describe()}",
                "",
                *markdown_table(
                    ["Type", "Base test F1", "Variant test F1", "Δ", "Welch t-test (two-sided)"], rows
                ),
                "",
            ]
    if not lines:
        return []
    return [
        "## Test F1 per type",
        "",
        "The task scorer's F1 per entity, chunk or keyphrase type on the test set (conlleval; "
        "ScienceIE's own scorer for ScienceIE), mean over the runs of each comparison above "
        "(runs whose results.json records per-type scores).",
        "",
    ] + lines


def outcome_pairs(groups: dict[str, list[Group]]) -> list[tuple[str, Group, Group, list]]:
    """``(name, base group, variant group, paired runs)`` per comparison whose runs all recorded
    their test chunk outcomes and share at least one seed (:func:`paired_runs`)."""
    out = []
    for name, _, a, b, _ in comparable_pairs(groups):
        if a is not None and all(r.test_outcomes is not None for r in a.runs + b.runs):
            pairs = paired_runs(a, b)
            out += [(name, a, b, pairs)] if pairs else []
    return out


def _arrow(base: Sequence[float], variant: Sequence[float]) -> str:
    """``base mean → variant mean``, or the one value every run of both arms has."""
    if len(set(base) | set(variant)) == 1:
        return str(base[0])
    return f"{statistics.fmean(base):.1f} → {statistics.fmean(variant):.1f}"


def _wrong_type_text(
    base: Sequence[TypeOutcomes], variant: Sequence[TypeOutcomes], name: str, side: str
) -> str:
    """Wrong-type chunks, base → variant, and the other type they are most often (over both
    arms; the first by name among equals), as gold type → predicted type."""
    text = _arrow([sum(o.wrong_type.values()) for o in base], [sum(o.wrong_type.values()) for o in variant])
    others = sorted({u for o in (*base, *variant) for u in o.wrong_type})
    if not others:
        return text
    means = {
        u: [statistics.fmean(o.wrong_type.get(u, 0) for o in arm) for arm in (base, variant)] for u in others
    }
    other = max(others, key=lambda u: sum(means[u]))
    types = f"{name}→{other}" if side == "gold" else f"{other}→{name}"
    return f"{text} ({types}: {means[other][0]:.1f} → {means[other][1]:.1f})"


def _paired_counts_text(base: Sequence[float], variant: Sequence[float]) -> str:
    """Mean variant − base by seed, with the paired t-test."""
    text = f"{statistics.fmean(variant) - statistics.fmean(base):+.1f}"
    if len(base) < 2:
        return f"{text} (needs ≥ 2 seeds for a test)"
    try:
        r = paired_ttest(variant, base)
    except ValueError as e:
        return f"{text} ({e})"
    return f"{text} (t = {r.t:.2f}, df = {r.df}, p = {r.p:.3g})"


def _field_text(base: Sequence[TypeOutcomes], variant: Sequence[TypeOutcomes], field: str) -> str:
    """The mean ``field`` count of each arm's runs, base → variant (:func:`_arrow`)."""
    return _arrow([getattr(o, field) for o in base], [getattr(o, field) for o in variant])


def outcome_rows(pairs: Sequence[tuple], side: str) -> list[list[str]]:
    """Per type of ``side`` (``gold``, ``predicted``), over the runs of :func:`outcome_pairs`:
    chunks, (gold side:) correct and its paired difference, then wrong type, boundary, and
    missed or spurious, each base → variant."""
    arms = [[pair[arm].test_outcomes.side(side) for pair in pairs] for arm in (1, 2)]
    rows = []
    for name in sorted({t for arm in arms for by_type in arm for t in by_type}):
        base, variant = ([by_type.get(name, TypeOutcomes()) for by_type in arm] for arm in arms)
        row = [name, _field_text(base, variant, "total")]
        if side == "gold":
            row += [
                _field_text(base, variant, "correct"),
                _paired_counts_text([o.correct for o in base], [o.correct for o in variant]),
            ]
        row += [_wrong_type_text(base, variant, name, side), _field_text(base, variant, "boundary")]
        rows.append(row + [_field_text(base, variant, "unmatched")])
    return rows


def render_outcomes(groups: dict[str, list[Group]]) -> list[str]:
    """What each type's test chunks became, per comparison whose runs recorded it."""
    found = outcome_pairs(groups)
    if not found:
        return []
    lines = [
        "## What the test chunks become",
        "",
        "Each gold chunk of the test set has one outcome in a run's predictions, and each "
        "predicted chunk one origin in the gold chunks (`taglm_tf.reports.chunk_outcomes`, "
        "counted from the run's `test_predictions.txt`, in the chunks "
        "conlleval counts; for ScienceIE these are the chunks of the one layer of tags its tagger learns, "
        "not the annotations its own scorer reads). Gold side: **Correct**, a predicted chunk "
        "with the same span and type (conlleval's correct chunks: recall = correct / gold "
        "chunks); **Wrong type**, a predicted chunk with the same span and another type, with "
        "the commonest pair of types, gold → predicted; **Boundary**, no predicted chunk with "
        "the same span, but one (of any type) sharing a token with it; **Missed**, no predicted "
        "chunk sharing a token with it. **Δ correct**: variant − base correct chunks, mean over seeds, with "
        "the two-sided paired t-test by seed. Predicted side, the mirror image: **Wrong type**, "
        "a gold chunk with the same span and another type (the pair again gold → predicted); "
        "**Boundary**; **Spurious**, no gold "
        "chunk sharing a token with it (precision = correct / predicted chunks, with correct as "
        "on the gold side). Cells are base → variant, means of per-run counts over the seeds "
        "both arms ran; a single number is the count of every run of both arms. Shown for the "
        "comparisons whose runs all recorded their chunk outcomes: "
        + ", ".join(
            f"{name} ({sweeps.describe_seeds([seed for seed, _, _ in pairs])})" for name, _, _, pairs in found
        )
        + ".",
        "",
    ]
    gold_header = ["Gold type", "Gold chunks", "Correct", "Δ correct (paired t-test)", "Wrong type"]
    predicted_header = ["Predicted type", "Predicted chunks", "Wrong type"]
    for name, a, b, pairs in found:
        lines += [f"### {name}: {a.describe()} → {b.describe()}", ""]
        for side, header in (("gold", gold_header), ("predicted", predicted_header)):
            header = header + ["Boundary", UNMATCHED[side].capitalize()]
            lines += markdown_table(header, outcome_rows(pairs, side)) + [""]
    return lines


def fitting_rows(groups: dict[str, list[Group]]) -> list[list]:
    """Per comparison whose runs all have histories: mean best constant-phase epoch, training
    loss at it and dev score at it, base → variant."""
    rows = []
    for name, _, a, b, _ in comparable_pairs(groups):
        if a is None:
            continue
        best = [[run_dir.best_constant_epoch(r.history, r.metric) for r in g.runs] for g in (a, b)]
        if not all(h is not None and "loss" in h for arm in best for h in arm):
            continue
        means = [
            [statistics.mean(h[key] for h in arm) for arm in best]
            for key in ("epoch", "loss", f"dev_{a.runs[0].metric}")
        ]
        rows.append(
            [
                name,
                *(f"{x:.1f} → {y:.1f}" if i != 1 else f"{x:.3f} → {y:.3f}" for i, (x, y) in enumerate(means)),
            ]
        )
    return rows


def render_fitting(groups: dict[str, list[Group]]) -> list[str]:
    rows = fitting_rows(groups)
    if not rows:
        return []
    return [
        "## How fast each arm fits",
        "",
        "Mean over runs, base → variant: the best dev epoch of the constant learning rate (annealing "
        "starts from it), the training loss in that epoch (the CRF's negative log-likelihood per "
        "sentence, averaged over the epoch) and the dev score there. A variant that peaks earlier "
        "at a lower training loss fits its training data faster than it generalizes.",
        "",
        *markdown_table(["Comparison", "Best epoch", "Training loss there", "Dev score there"], rows),
        "",
    ]


def render_runs(groups: Sequence[Group], known: Sequence[str]) -> list[str]:
    """Every group we read, with its metric (F1, or accuracy for token labels), test and dev
    scores, per-seed test scores, time and the code commits its runs started at; labels outside
    the tables marked."""
    rows = []
    for g in sorted(groups, key=lambda g: (g.label, g.setting_text)):
        per_seed = ", ".join(f"{r.test_score:.2f}" for r in g.runs)
        hours = [r.wall_seconds / 3600 for r in g.runs if r.wall_seconds]
        mean_h = f"{sum(hours) / len(hours):.2f}" if hours else "—"
        label = f"`{g.label}`" + ("" if g.label in known else " (not in the paper's tables)")
        metric = METRIC_TITLES[g.runs[0].metric] if g.runs else "—"
        rows.append(
            [
                label,
                g.describe(),
                metric,
                sweeps.format_stat(g.stat()),
                sweeps.format_stat(g.stat("dev")),
                per_seed,
                mean_h,
                sweeps.describe_commits(g.runs),
            ]
        )
    header = ["Experiment", "Setting", "Metric", "Test", "Dev", "Test per run", "Hours per run", "Code"]
    caption = (
        "Code: the commits the group's runs started at; `-dirty`: tracked files outside `results/` "
        'differed from it (README FAQ, "`-dirty` in older run records").'
    )
    return ["## All runs read", "", caption, ""] + markdown_table(header, rows) + [""]


def render_report(
    groups: Sequence[Group],
    inputs: Sequence[str],
    plot_lines: Sequence[str],
    unfinished: Sequence[str] = (),
    preamble: str = "",
) -> str:
    """The whole report as one Markdown string; ``preamble`` (Markdown) goes after the intro."""
    grouped = by_label(groups)
    lines = [
        "# TagLM reproduction report",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M %Z')} by `python -m experiments.report` from: "
        + ", ".join(f"`{p}`" for p in inputs)
        + ".",
        "",
        "F1 is conlleval's micro-averaged F1 on the test set (CoNLL 2003 eng.testb; CoNLL 2000 "
        'test.txt). Ours = mean ± sample std (ddof=1) over runs, n = number of runs; "not run" = '
        "no runs with that experiment label were given. Each row states the setting: training "
        "data, word embeddings, LMs and seeds. The paper trains final NER models on train+dev "
        "with Senna embeddings and reports 10 seeds per configuration.",
        "",
    ]
    lines += [preamble.strip(), ""] if preamble.strip() else []
    for table in paper_tables.TABLES:
        lines += render_table(table, grouped)
    lines += render_comparisons(grouped)
    lines += render_data_size(grouped)
    lines += render_per_type(grouped)
    lines += render_outcomes(grouped)
    lines += render_fitting(grouped)
    lines += render_runs(groups, paper_tables.known_labels())
    if unfinished:
        lines += [
            "Unfinished runs (no results.json yet; not counted): "
            + ", ".join(f"`{d}`" for d in unfinished)
            + ".",
            "",
        ]
    lines += ["## Plots", ""] + list(plot_lines) + [""]
    return "\n".join(lines)
