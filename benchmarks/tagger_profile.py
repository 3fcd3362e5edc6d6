"""Where the tagging computation spends its time: per phase, per op, padding, and matmul rates.

    python -m benchmarks.tagger_profile --task=ner [--output=FILE.json] [--passes=5]

The model is the task's paper configuration with GloVe-initialised embeddings and untrained
weights (speed does not depend on training), tagging the dev file through
:class:`~taglm_tf.serving.module.TaggerModule` in batches of ``--batch_size`` sorted by length,
as the API and the CLI do. Reported:

- ``phases``: seconds per pass over the dev file of each prefix of the computation (tokens ->
  features -> char encoder -> RNN-1 -> RNN-2 -> potentials -> Viterbi -> tags in the task's
  scheme), each traced once; a phase's own cost is its prefix minus the one before. The prefixes
  run in turn within each of ``--passes`` rounds and the fastest pass of each is kept: load on
  the machine only ever adds time, and the difference of two medians was seen to be negative
  by up to 0.25 s (of 2.5 s) on a quiet machine. ``python`` is the rest of :meth:`TaggerModule.tag`
  (sorting, padding, decoding the tag strings).
- ``ops``: TensorFlow's profiler over one pass: time per op type and per op, summed over the
  threads that ran them, and each one's share of all op time.
- ``padding``: the share of padding in the word RNNs' inputs (batch x longest sentence) and in
  the char RNN's (distinct words x longest word), with one call and with the length groups the
  char encoder uses at inference.
- ``matmul``: GFLOP/s of the recurrent step's matmuls at the model's shapes (``[B, D] x
  [D, 3H]``, B = the batch size) and of a 2048 x 2048 product, the machine's matmul rate.

Run it on a quiet machine: the cores are shared by everything.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

import collections
import glob
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import flags
from tensorflow import keras

from benchmarks.common import report
from benchmarks.tagger_throughput import task_data
from taglm_tf.data.paths import default_data_dir
from taglm_tf.layers import char_rnn
from taglm_tf.models.config import TaggerConfig
from taglm_tf.models.saving import LoadedTagger
from taglm_tf.models.tagger import build_tagger
from taglm_tf.serving.module import TaggerModule
from taglm_tf.serving.module import padded_batches as serving_batches
from taglm_tf.tasks import TASKS
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
# Model layers whose outputs end the profiled prefixes, in pipeline order.
PREFIX_LAYERS = (
    ("char encoder", "char_gather"),
    ("RNN-1", "rnn1"),
    ("RNN-2", "rnn2"),
    ("potentials", "potentials"),
)


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_enum("task", "ner", list(TASKS), "Task whose paper configuration is profiled.")
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data).")
    flags.DEFINE_string("embeddings", "embeddings/glove.6B.50d.txt.xz", "Word vectors, relative to data_dir.")
    flags.DEFINE_integer("batch_size", 128, "Sentences per batch.")
    flags.DEFINE_integer(
        "passes", 5, "Rounds of timed passes (the fastest of each prefix is kept).", lower_bound=1
    )
    flags.DEFINE_integer("top_ops", 15, "Ops listed by time.", lower_bound=1)
    flags.DEFINE_integer(
        "char_groups",
        None,
        "Length groups of the char encoder at inference (default: the model's; 1: one call).",
        lower_bound=1,
    )
    define_output_flag("output", None, "Also write the result as JSON here.")


def padded_batches(module: TaggerModule, token_lists, batch_size: int) -> list[tf.Tensor]:
    """The ``[B, T]`` string batches :meth:`TaggerModule.tag` makes: sorted by length, padded."""
    return [batch for _, batch in serving_batches(token_lists, batch_size)]


def prefixes(module: TaggerModule, model: keras.Model) -> dict:
    """``{phase: fn(tokens)}``: each prefix of the computation as one traced function."""
    spec = [tf.TensorSpec([None, None], tf.string)]
    featurize = module.featurizer
    fns = {"features": tf.function(featurize, input_signature=spec)}
    for phase, layer in PREFIX_LAYERS:
        head = keras.Model(model.inputs, model.get_layer(layer).output)
        fns[phase] = tf.function(lambda t, h=head: h(featurize(t), training=False), input_signature=spec)
    fns["Viterbi"] = tf.function(lambda t: model(featurize(t), training=False)["tags"], input_signature=spec)
    fns["tags"] = lambda t: module.serve(tokens=t)["tags"]
    return fns


def time_phases(fns: dict, batches, module: TaggerModule, token_lists, batch_size: int, passes: int) -> dict:
    """Fastest seconds per pass of each prefix, and each phase's own share (see module doc)."""
    for fn in fns.values():
        for batch in batches:
            fn(batch)  # trace every shape once
    seconds = collections.defaultdict(list)
    for _ in range(passes):
        for phase, fn in fns.items():
            start = time.perf_counter()
            for batch in batches:
                tf.nest.map_structure(lambda x: x.numpy(), fn(batch))
            seconds[phase].append(time.perf_counter() - start)
        start = time.perf_counter()
        module.tag(token_lists, batch_size)
        seconds["python"].append(time.perf_counter() - start)
    fastest = {phase: min(s) for phase, s in seconds.items()}
    fastest["python"] -= fastest["tags"]  # what tag() adds around the traced module
    rows, before = [], 0.0
    for phase, cumulative in fastest.items():
        own = cumulative if phase == "python" else cumulative - before
        before = before if phase == "python" else cumulative
        rows.append({"phase": phase, "prefix_seconds": cumulative, "seconds": own})
    total = sum(r["seconds"] for r in rows)
    return {"total_seconds": total, "rows": [{**r, "share": r["seconds"] / total} for r in rows]}


def op_times(module: TaggerModule, batches, top: int) -> dict:
    """Seconds per op type and per op over one pass, from TensorFlow's profiler trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for batch in batches:
            module.serve(tokens=batch)["tags"].numpy()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        with open(glob.glob(f"{logdir}/plugins/profile/*/*.xplane.pb")[0], "rb") as f:
            space.ParseFromString(f.read())
    by_type, by_op = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or "::" in name:  # executor bookkeeping, enclosing the ops
                    continue
                op, kind = name.rsplit(":", 1)
                by_type[kind] += event.duration_ps / 1e12
                by_op[name] += event.duration_ps / 1e12
    total = sum(by_type.values())

    def listed(counter):
        return [{"name": k, "seconds": v, "share": v / total} for k, v in counter.most_common(top)]

    return {"op_seconds": total, "by_type": listed(by_type), "by_op": listed(by_op)}


def padding(module: TaggerModule, batches) -> dict:
    """Shares of padding in the word RNNs' and the char RNN's inputs (see module doc)."""
    tokens = cells = chars = char_cells = grouped_cells = 0
    for batch in batches:
        tokens += int(tf.math.count_nonzero(batch != ""))
        cells += int(tf.size(batch))
        char_ids = module.featurizer(batch)["char_ids"].numpy()
        chars, char_cells = chars + (char_ids > 0).sum(), char_cells + char_ids.size
        # each word's extent (up to its last char), as the encoder sorts and cuts them
        lengths = np.sort(np.max(np.where(char_ids > 0, np.arange(1, char_ids.shape[1] + 1), 0), axis=1))
        bounds = [len(lengths) * g // char_rnn.INFERENCE_GROUPS for g in range(char_rnn.INFERENCE_GROUPS + 1)]
        groups = [lengths[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]  # as encode_by_length
        grouped_cells += sum(len(g) * g.max() for g in groups)
    return {
        "word_rnn": 1 - tokens / cells,
        "char_rnn_one_call": 1 - chars / char_cells,
        "char_rnn_grouped": 1 - chars / grouped_cells,
        "char_groups": char_rnn.INFERENCE_GROUPS,
    }


def matmul_rates(config: TaggerConfig, batch: int) -> dict:
    """GFLOP/s of ``[m, k] x [k, n]`` products at the recurrent step's shapes and at 2048^3."""
    h = config.rnn_units
    shapes = {
        "RNN-1 input step": (batch, 2 * config.char_units + config.word_dim, 3 * h),
        "RNN-2 input step": (batch, 2 * h, 3 * h),
        "recurrent step": (batch, h, 3 * h),
        "2048 x 2048": (2048, 2048, 2048),
    }
    rates = {}
    for name, (m, k, n) in shapes.items():
        a, b = tf.random.normal([m, k]), tf.random.normal([k, n])
        product = tf.function(lambda a, b: tf.matmul(a, b))
        product(a, b).numpy()
        repeats = max(1, int(2e10 / (2 * m * k * n)))  # about 20 GFLOP per measurement
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                out = product(a, b)
            out.numpy()
            best = min(best, time.perf_counter() - start)
        rates[name] = {"shape": [m, k, n], "gflops": 2 * m * k * n * repeats / best / 1e9}
    return rates


def main(argv):
    cli.no_arguments(argv)
    if FLAGS.char_groups:
        char_rnn.INFERENCE_GROUPS = FLAGS.char_groups
    task = TASKS[FLAGS.task]
    _, dev, resources = task_data(FLAGS.task, FLAGS.data_dir or default_data_dir(), FLAGS.embeddings)
    config = TaggerConfig(**task.model_defaults)
    model = build_tagger(
        config, len(resources.words), len(resources.chars), len(resources.tags), resources.word_vectors
    )
    module = TaggerModule(LoadedTagger(model, resources, {}), task.scheme)
    token_lists = [s.tokens for s in dev]
    batches = padded_batches(module, token_lists, FLAGS.batch_size)
    phases = time_phases(
        prefixes(module, model), batches, module, token_lists, FLAGS.batch_size, FLAGS.passes
    )
    result = {
        "task": FLAGS.task,
        "model": config.__dict__,
        "batch_size": FLAGS.batch_size,
        "dev_tokens": sum(map(len, token_lists)),
        "phases": phases,
        "tokens_per_sec": sum(map(len, token_lists)) / phases["total_seconds"],
        "padding": padding(module, batches),
        "ops": op_times(module, batches, FLAGS.top_ops),
        "matmul": matmul_rates(config, FLAGS.batch_size),
    }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
