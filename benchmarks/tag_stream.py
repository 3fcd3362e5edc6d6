r"""End-to-end speed and memory of the tagging CLI, streaming.

    python -m benchmarks.tag_stream --model_dir=runs/ner_bench \
        [--tokens=100000,1000000] [--single_runs=3] [--output=benchmarks/results/tag_stream.json]

Each size runs ``python -m taglm_tf.tag --model_dir=... --input=FILE --input_format=text --progress
> OUT`` as a subprocess on an input of at least that many tokens: the sentences of CoNLL-2003
``eng.train`` (``--corpus``, relative to ``--data_dir``), one per line, pre-tokenized (``text``
format, so no spaCy import or tokenizing in the times; the CLI's default is raw text), repeated; written to
a temporary file first. Recorded per size: wall seconds and tokens/s end to end (start-up,
reading, tagging, writing), the tagging rate after start-up (the CLI's last ``--progress``
line; it includes tracing the model's graph at the second batch), and the child's peak RSS
(``os.wait4``'s ``ru_maxrss``; Linux starts a child's from the RSS of the process that spawned
it, here about 460 MiB, so it is an upper bound of the child's own peak; the sampled ``VmHWM``
below is the child's own).
RSS should be flat from 100 k to 1 M tokens; every input starts with the corpus's longest
sentence (:func:`longest_first`), so each size meets the same largest batch. The output is checked to hold every sentence.
Within each run the child's RSS is also sampled (``/proc/PID/status``: ``VmRSS`` now, ``VmHWM``
its peak so far, every ``--rss_interval`` seconds, Linux only) beside the bytes of output
written so far; the CLI writes in input order, so that byte count gives the tokens tagged so
far. :func:`rss_by_tokens` turns the samples into RSS at every tenth of the input: whether
memory levels off, and where, in one run.

Each size runs ``--min_passes`` times and ``--min_seconds`` in all, or until its runs took
``--max_seconds`` (1 M tokens take minutes a run); end-to-end tokens/s are their median with
the slowest and fastest run. With ``--decoder`` the model's decoding alone
(:meth:`TaggerModule.tag <taglm_tf.serving.module.TaggerModule.tag>`, in this process, after the
CLI runs) is timed the same way on the first size's sentences, and each size records its
end-to-end rate over that (``vs_decoder``; the target: at least 0.8).

Single sentence (``--single_runs`` > 0): ``echo SENTENCE | python -m taglm_tf.tag`` end to end,
the median of the runs, next to the time of ``python -c "import taglm_tf.tag"`` alone (the
TensorFlow/tfa import share of the start-up).

The model: a trained NER baseline, e.g. one epoch of the paper's architecture (about 10 minutes
on 2 CPU cores; the speed does not depend on how well it is trained)::

    python -m experiments.ner --flagfile=experiments/flags/ner_baseline.cfg \
        --model_dir=runs/ner_bench --max_constant_epochs=1 --anneal_epochs=0

Run it on a quiet machine: the two cores are shared by everything.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence

from absl import app, flags

from benchmarks.common import repeat, report
from taglm_tf.data import conll
from taglm_tf.data.paths import default_data_dir, resolve_data_path
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENTENCE = "Anna Novak of Kestrel Bank met EU officials in Paris on Monday ."
# The CLI's --progress line (taglm_tf.tag.Progress: Keras' Progbar): sentences, tokens, tokens/s.
PROGRESS = re.compile(r"(\d+)/Unknown - .*? - tokens: ([\d.e+-]+) - tokens/s: ([\d.e+-]+)")


def tagging_seconds(stderr: str) -> float:
    """Seconds the CLI spent tagging, after start-up, from the last ``--progress`` line in its
    ``stderr``: tokens over tokens/s (Keras' bar shows whole seconds only).

    Raises:
        IndexError: no progress line; ZeroDivisionError: no tokens tagged.
    """
    _, tokens, rate = PROGRESS.findall(stderr)[-1]
    return float(tokens) / float(rate)


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("model_dir", None, "A trained tagger (see the module docstring).")
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data).")
    flags.DEFINE_string("corpus", "conll2003/eng.train", "CoNLL-2003 file whose sentences are repeated.")
    flags.DEFINE_list("tokens", ["100000", "1000000"], "Input sizes, in tokens (at least).")
    flags.DEFINE_integer("batch_size", 128, "--batch_size of the CLI.")
    flags.DEFINE_integer("single_runs", 3, "Single-sentence runs (median reported); 0: none.")
    flags.DEFINE_float("rss_interval", 0.25, "Seconds between samples of the child's RSS; 0: none.")
    flags.DEFINE_integer("min_passes", 5, "CLI runs per size, at least ...", lower_bound=1)
    flags.DEFINE_float("min_seconds", 30.0, "... and at least this many seconds of them ...")
    flags.DEFINE_float("max_seconds", 150.0, "... unless the runs of a size already took this long.")
    flags.DEFINE_boolean(
        "decoder", True, "Also time the model's decoding alone, in this process, on the first size's input."
    )
    define_output_flag("output", "benchmarks/results/tag_stream.json", "Where the JSON result goes.")
    flags.mark_flag_as_required("model_dir")


def longest_first(sentences: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The longest sentence first, then the others in file order: every input size then meets
    the corpus's largest batch in its first chunk, so peak RSS compares sizes, not the longest
    sentence each happened to reach (eng.train's 113-token sentence is its 13,069th)."""
    longest = max(range(len(sentences)), key=lambda i: len(sentences[i]))
    return [sentences[longest]] + sentences[:longest] + sentences[longest + 1 :]


def repeated(sentences: list[tuple[str, ...]], tokens: int) -> list[tuple[str, ...]]:
    """``sentences`` in order, repeated, until at least ``tokens`` tokens."""
    chosen, count = [], 0
    while count < tokens:
        for sentence in sentences:
            chosen.append(sentence)
            count += len(sentence)
            if count >= tokens:
                break
    return chosen


def write_input(path: str, sentences: list[tuple[str, ...]], tokens: int) -> tuple[int, int]:
    """Write ``sentences`` one per line, repeated until at least ``tokens`` tokens; returns
    (sentences, tokens) written."""
    chosen = repeated(sentences, tokens)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(" ".join(sentence) + "\n" for sentence in chosen)
    return len(chosen), sum(map(len, chosen))


def _proc_status_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a live process in MiB, or None once it is gone (or off Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
        return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return None


def _sample_rss(pid: int, output: str | None, interval: float, samples: list, done: threading.Event):
    while not done.wait(interval):
        status = _proc_status_mib(pid)
        if status is None:
            return
        written = os.path.getsize(output) if output and os.path.exists(output) else 0
        samples.append((written,) + status)


def run_child(
    command: list[str], stdin=None, stdout=None, rss_output: str | None = None, rss_interval: float = 0.0
) -> dict:
    """Run ``command``; returns its wall seconds, peak RSS (MiB), exit code and stderr, and with
    ``rss_output`` (the file its stdout goes to) and ``rss_interval`` > 0 the samples (output
    bytes, VmRSS MiB, VmHWM MiB) taken every ``rss_interval`` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    samples, done = [], threading.Event()
    sampler = None
    if rss_output and rss_interval > 0:
        sampler = threading.Thread(
            target=_sample_rss, args=(proc.pid, rss_output, rss_interval, samples, done)
        )
        sampler.start()
    stderr = proc.stderr.read()
    done.set()
    if sampler:
        sampler.join()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
    return {
        "seconds": seconds,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
        "stderr": stderr.decode("utf-8", "replace"),
        "rss_samples": samples,
    }


def rss_by_tokens(
    samples: Sequence[tuple[int, float, float]], output_bytes: int, tokens: int, points: int = 10
) -> list[dict]:
    """RSS at each ``1/points`` of the input, from samples (output bytes written, VmRSS MiB,
    VmHWM MiB) taken in time order.

    The output holds the input's sentences in order, so ``written / output_bytes`` of the
    output stands for that share of the ``tokens``. For each mark ``k * tokens / points`` it
    gives the first sample at or past it: tokens tagged by then (estimated), RSS then, and the
    peak so far. Marks no sample reached (a run shorter than the interval) are left out.

    Raises:
        ValueError: if ``output_bytes`` is not positive.
    """
    if output_bytes <= 0:
        raise ValueError(f"output_bytes must be positive, got {output_bytes}")
    rows, mark = [], 1
    for written, rss, hwm in samples:
        while mark <= points and written * points >= mark * output_bytes:
            rows.append(
                {"tokens": round(tokens * written / output_bytes), "rss_mib": rss, "peak_rss_mib": hwm}
            )
            mark += 1
    return rows


def tag_command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "taglm_tf.tag",
        f"--model_dir={FLAGS.model_dir}",
        f"--batch_size={FLAGS.batch_size}",
        "--input_format=text",
        *args,
    ]


def measure_size(sentences, tokens: int, scratch: str) -> dict:
    """Tag an input of at least ``tokens`` tokens with the CLI, ``--min_passes`` times or more
    (:func:`benchmarks.common.repeat`): end-to-end tokens/s as median, min and max; the other
    figures (tagging rate after start-up, RSS) of every run, and the highest peak RSS."""
    source = os.path.join(scratch, f"in_{tokens}.txt")
    n_sentences, n_tokens = write_input(source, sentences, tokens)
    runs = []

    def one_run() -> dict:
        runs.append(run_once(source, n_sentences, n_tokens, scratch))
        return {"tokens": n_tokens, "seconds": runs[-1]["seconds"]}

    timing = repeat(one_run, FLAGS.min_passes, FLAGS.min_seconds, FLAGS.max_seconds)
    return {
        "sentences": n_sentences,
        "tokens": n_tokens,
        "passes": timing["passes"],
        "tokens_per_sec": timing["tokens_per_sec"],
        "tokens_per_sec_min": timing["tokens_per_sec_min"],
        "tokens_per_sec_max": timing["tokens_per_sec_max"],
        "tagging_tokens_per_sec": statistics.median(r["tagging_tokens_per_sec"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "sampled_peak_rss_mib": max((r["sampled_peak_rss_mib"] or 0 for r in runs), default=None),
        "input_mib": os.path.getsize(source) / 2**20,
        "runs": runs,
    }


def run_once(source: str, n_sentences: int, n_tokens: int, scratch: str) -> dict:
    """One CLI run over ``source``, its output checked to hold every sentence."""
    output = os.path.join(scratch, "out.conll")
    with open(output, "wb") as out:
        child = run_child(
            tag_command(f"--input={source}", "--progress"),
            stdout=out,
            rss_output=output,
            rss_interval=FLAGS.rss_interval,
        )
    if child["exit"] != 0:
        raise SystemExit(f"tagging failed:\n{child['stderr']}")
    with open(output, "rb") as f:
        tagged = sum(1 for line in f if line == b"\n")
    if tagged != n_sentences:
        raise SystemExit(f"{tagged} sentences in the output for {n_sentences} in the input")
    seconds = tagging_seconds(child["stderr"])
    return {
        "seconds": child["seconds"],
        "tokens_per_sec": n_tokens / child["seconds"],
        "tagging_seconds": seconds,
        "tagging_tokens_per_sec": n_tokens / seconds,
        "startup_seconds": child["seconds"] - seconds,
        "peak_rss_mib": child["peak_rss_mib"],
        "sampled_peak_rss_mib": max((h for _, _, h in child["rss_samples"]), default=None),
        "rss_by_tokens": rss_by_tokens(child["rss_samples"], os.path.getsize(output), n_tokens)
        if child["rss_samples"]
        else [],
    }


def measure_single(runs: int) -> dict:
    """One sentence through the CLI end to end (median of ``runs``), and the import alone."""

    def median_seconds(command, stdin_data=None):
        times = []
        for _ in range(runs):
            with tempfile.TemporaryFile() as stdin:
                stdin.write(stdin_data or b"")
                stdin.seek(0)
                child = run_child(command, stdin=stdin, stdout=subprocess.DEVNULL)
            if child["exit"] != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{child['stderr']}")
            times.append(child["seconds"])
        return statistics.median(times), times

    sentence, sentence_runs = median_seconds(
        tag_command("--input=-", "--noprogress"), (SENTENCE + "\n").encode("utf-8")
    )
    imports, import_runs = median_seconds([sys.executable, "-c", "import taglm_tf.tag"])
    return {
        "sentence": SENTENCE,
        "seconds": sentence,
        "runs": sentence_runs,
        "import_seconds": imports,
        "import_runs": import_runs,
        "after_import_seconds": sentence - imports,
    }


def measure_decoder(sentences, tokens: int) -> dict:
    """The model's decoding alone (:meth:`TaggerModule.tag`, without reading, writing or
    start-up) on the first ``tokens`` tokens of the input, in this process: the rate the CLI's
    end-to-end figure is compared with. It sorts all those sentences by length at once, while
    the CLI sorts each chunk of its stream, so the CLI's share also pays for its chunks'
    extra padding."""
    from taglm_tf.serving.api import Tagger  # TensorFlow is loaded only after the CLI runs

    token_lists = repeated(sentences, tokens)
    count = sum(map(len, token_lists))
    module = Tagger.load(FLAGS.model_dir).module
    module.tag(token_lists[: FLAGS.batch_size], FLAGS.batch_size)  # tracing

    def one_pass() -> dict:
        start = time.perf_counter()
        module.tag(token_lists, FLAGS.batch_size)
        return {"tokens": count, "seconds": time.perf_counter() - start}

    return repeat(one_pass, FLAGS.min_passes, FLAGS.min_seconds, FLAGS.max_seconds)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    corpus = resolve_data_path(FLAGS.corpus, FLAGS.data_dir or default_data_dir())
    sentences = longest_first([s.tokens for s in conll.read_conll(corpus, conll.CONLL2003)])
    result = {
        "model_dir": os.path.abspath(FLAGS.model_dir),
        "corpus": FLAGS.corpus,
        "batch_size": FLAGS.batch_size,
        "sizes": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        for tokens in (int(t) for t in FLAGS.tokens):
            size = measure_size(sentences, tokens, scratch)
            result["sizes"].append(size)
            print(
                f"{tokens:,} tokens, {size['passes']} runs: {size['tokens_per_sec']:,.0f} tokens/s end to end "
                f"(median; {size['tokens_per_sec_min']:,.0f}-{size['tokens_per_sec_max']:,.0f}), "
                f"peak RSS {size['peak_rss_mib']:,.0f} MiB; last run's RSS / peak so far (MiB) by tokens: "
                + ", ".join(
                    f"{r['tokens']:,}: {r['rss_mib']:,.0f} / {r['peak_rss_mib']:,.0f}"
                    for r in size["runs"][-1]["rss_by_tokens"]
                ),
                file=sys.stderr,
                flush=True,
            )
    if FLAGS.decoder:
        result["decoder"] = measure_decoder(sentences, int(FLAGS.tokens[0]))
        for size in result["sizes"]:
            size["vs_decoder"] = size["tokens_per_sec"] / result["decoder"]["tokens_per_sec"]
    if FLAGS.single_runs > 0:
        result["single_sentence"] = measure_single(FLAGS.single_runs)
    if FLAGS.output:
        os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
