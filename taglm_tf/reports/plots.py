"""PNG plots for the report: dev F1 per epoch (TensorBoard logs), test F1 against LM perplexity,
and TagLM's NER gain against the fraction of training data.

matplotlib is optional: without it :func:`make_plots` returns a note instead of images.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence

from taglm_tf.reports import paper_tables, sweeps
from taglm_tf.reports.run_groups import DataSizePoint, Group, by_label, data_size_points, perplexities
from taglm_tf.reports.stats import mean_ci
from taglm_tf.utils.fileio import atomic_path

PPL_PLOT = "test_f1_vs_lm_perplexity.png"
DATA_SIZE_PLOT = "ner_gain_vs_training_fraction.png"
# The names this module writes; only these are removed when a report no longer draws them.
_OWN_PLOT = re.compile(
    r"^dev_f1_[A-Za-z0-9_.-]+_[0-9a-f]{8}\.png$|^("
    + re.escape(PPL_PLOT)
    + "|"
    + re.escape(DATA_SIZE_PLOT)
    + ")$"
)


def tensorboard_scalars(log_dir: str, tag: str) -> list[tuple[int, float]]:
    """``[(step, value)]`` of a scalar written by TF2 ``tf.summary.scalar``; the last write per step wins."""
    # tensorboard's reader loads only when a report reads logs (optional on the current stack).
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    if not os.path.isdir(log_dir):
        return []
    acc = event_accumulator.EventAccumulator(log_dir, size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    if tag not in acc.Tags().get(event_accumulator.TENSORS, []):
        return []
    values = {}
    for event in sorted(acc.Tensors(tag), key=lambda e: e.wall_time):
        values[event.step] = float(tensor_util.make_ndarray(event.tensor_proto))
    return sorted(values.items())


def dev_f1_curve(run) -> tuple[list[tuple[int, float]], str]:
    """The dev score (F1, or accuracy for token labels: ``run.metric``) per epoch from the run's
    TensorBoard logs, else from results.json's history."""
    curve = tensorboard_scalars(os.path.join(run.path, "tensorboard"), f"dev/{run.metric}")
    if curve:
        return curve, "tensorboard"
    key = f"dev_{run.metric}"
    history = [(h["epoch"], h[key]) for h in run.history if "epoch" in h and key in h]
    return history, "results.json history" if history else "none"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "run"


def _pyplot():
    try:  # matplotlib is optional: without it the report has no plots
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")  # must precede the pyplot import
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")


def plot_dev_curves(plt, group: Group, path: str) -> bool:
    """One line per run; False when no run has a dev F1 curve."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    drawn = 0
    for run in group.runs:
        curve, _ = dev_f1_curve(run)
        if curve:
            ax.plot(
                [s for s, _ in curve],
                [v for _, v in curve],
                marker=".",
                label=f"seed {run.seed}" if run.seed is not None else os.path.basename(run.path),
            )
            drawn += 1
    if drawn:
        ax.set(
            xlabel="epoch", ylabel="dev F1", title=f"{group.label}: dev F1 per epoch\n{group.setting_text}"
        )
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        _save(fig, path)
    plt.close(fig)
    return bool(drawn)


def ppl_points(groups: Sequence[Group]) -> list[tuple[str, float, float]]:
    """``(label, perplexity, test F1)`` per run scored by F1 with an LM perplexity (forward, else
    backward); runs of a task scored by accuracy (POS) are left out, their score is no F1."""
    points = []
    for g in groups:
        for run in g.runs:
            fwd, bwd = perplexities(run.lm_perplexity)
            ppl = fwd if fwd is not None else bwd
            if ppl is not None and run.metric == "f1":
                points.append((g.label, ppl, run.test_score))
    return points


_MARKERS = ("o", "s", "^", "D", "v", "P")


def plot_f1_vs_ppl(plt, points, path: str) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, label in enumerate(sorted({p[0] for p in points})):
        mine = [p for p in points if p[0] == label]
        # Matplotlib cycles 10 colours; a marker per round of them keeps every label apart.
        marker = _MARKERS[i // 10 % len(_MARKERS)]
        ax.scatter([p[1] for p in mine], [p[2] for p in mine], label=label, marker=marker)
    ax.set(
        xlabel="LM perplexity recorded by eval_lm (forward LM; backward if no forward)",
        ylabel="test F1",
        title="Test F1 against LM perplexity",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _save(fig, path)
    plt.close(fig)


def plot_data_size(plt, points: Sequence[DataSizePoint], path: str) -> None:
    """TagLM − baseline test F1 against the fraction of training data (log x): ours as the mean of
    per-seed differences with 95% t intervals (hollow, without a bar: one seed), one line per
    schedule and TagLM LMs, side by side; the paper's points."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    series = sorted({_series(p) for p in points})
    for k, key in enumerate(series):
        mine = sorted((p for p in points if _series(p) == key), key=lambda p: p.fraction)
        shift = 1.07 ** (k - (len(series) - 1) / 2)  # side by side on the log axis
        stats = [mean_ci(p.differences) for p in mine]
        xs, ys = [p.fraction * 100 * shift for p in mine], [m for m, _ in stats]
        line = ax.plot(
            xs,
            ys,
            "-",
            label=f"ours, {key[0]}; LMs: {key[1]} (seeds: {', '.join(str(len(p.pairs)) for p in mine)})",
        )[0]
        for x, (mean, half) in zip(xs, stats):
            if half is None:
                ax.plot([x], [mean], "o", mfc="none", color=line.get_color())
            else:
                ax.errorbar([x], [mean], yerr=[half], fmt="o", capsize=4, color=line.get_color())
    paper = paper_tables.paper_data_size_points()
    ax.plot(
        [f * 100 for f, _ in paper],
        [d for _, d in paper],
        "s--",
        color="gray",
        label="paper (CNN-BIG-LSTM + LSTM-2048-512; 100%: train+dev)",
    )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xticks([1, 10, 100], ["1%", "10%", "100%"])
    ax.set(
        xlabel="CoNLL 2003 training sentences used",
        ylabel="TagLM − baseline test F1",
        title="NER: TagLM's gain against the amount of labelled data\n"
        "(mean of per-seed differences, 95% t interval)",
    )
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.set_xlim(0.7, 140)
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # below: never over a point
    _save(fig, path)
    plt.close(fig)


def _series(point: DataSizePoint) -> tuple:
    """One line per schedule and TagLM LMs, builds included: another build is another line."""
    return (point.base.setting.get("schedule") or "", sweeps.describe_lm_setting(point.variant.setting))


def make_plots(groups: Sequence[Group], plots_dir: str, report_dir: str) -> list[str]:
    """Write the PNGs; return the Markdown lines (images or notes) for the report.

    A group's dev F1 plot is named by its label and a digest of its setting, so it keeps its
    name when other groups come or go. Plots this module wrote for an earlier report and does
    not draw now are removed, so ``plots_dir`` holds exactly what the report shows; other files
    in it are left alone.
    """
    plt = _pyplot()
    if plt is None:
        return ["*Plots skipped: matplotlib is not installed (`pip install matplotlib`).*"]
    os.makedirs(plots_dir, exist_ok=True)
    written = set()
    lines = ["### Dev F1 per epoch", ""]
    for g in sorted(groups, key=lambda g: (g.label, g.setting_text)):
        digest = hashlib.sha256(g.setting_text.encode("utf-8")).hexdigest()[:8]
        path = os.path.join(plots_dir, f"dev_f1_{_slug(g.label)}_{digest}.png")
        if plot_dev_curves(plt, g, path):
            written.add(os.path.basename(path))
            lines += [_image(f"dev F1 per epoch, {g.label}, {g.setting_text}", path, report_dir), ""]
        else:
            lines += [f"*{g.label}: no dev F1 per epoch in the TensorBoard logs or results.*", ""]
    lines += ["### Test F1 against LM perplexity", ""]
    points = ppl_points(groups)
    if points:
        path = os.path.join(plots_dir, PPL_PLOT)
        plot_f1_vs_ppl(plt, points, path)
        written.add(PPL_PLOT)
        lines.append(_image("test F1 against LM perplexity", path, report_dir))
    else:
        lines.append("*Skipped: no run records an `lm_perplexity` in its results.json.*")
    points = data_size_points(by_label(groups))
    if points:
        path = os.path.join(plots_dir, DATA_SIZE_PLOT)
        plot_data_size(plt, points, path)
        written.add(DATA_SIZE_PLOT)
        lines += [
            "",
            "### NER: TagLM's gain against the fraction of training data",
            "",
            _image("TagLM − baseline NER test F1 against the fraction of training data", path, report_dir),
        ]
    remove_stale_plots(plots_dir, written)
    return lines


def remove_stale_plots(plots_dir: str, keep) -> list[str]:
    """Delete the PNGs named like this module's plots that are not in ``keep``; returns their names."""
    stale = sorted(n for n in os.listdir(plots_dir) if _OWN_PLOT.match(n) and n not in keep)
    for name in stale:
        os.remove(os.path.join(plots_dir, name))
    return stale


def _image(caption: str, path: str, report_dir: str) -> str:
    rel = os.path.relpath(path, report_dir or ".").replace(os.sep, "/")
    return f"![{caption}]({rel.replace(' ', '%20')})"
