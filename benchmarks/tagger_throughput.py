"""Training and inference throughput of the tagger on CoNLL, in real (non-padding) tokens/s.

    python -m benchmarks.tagger_throughput --task=ner [--train_batches=200] [--output=FILE.json]
    python -m benchmarks.tagger_throughput --task=ner --forward_lm=lstm_lm:DIR --backward_lm=...

Uses the task's paper configuration (NER: char BiGRU 80 on 25-d, 2 x BiGRU 300), the real
training vocabulary and GloVe-initialised embeddings. Training runs the real train step
(forward, CRF loss, backward, Adam with global clipping) on batches streamed from the real input
pipeline (batching, featurization and LM-cache reads are inside the timed part). Inference
tags the dev file's tokens through the one tagging computation of the API, the CLI and the
SavedModel (:class:`~taglm_tf.serving.module.TaggerModule`: featurizer, LMs, tagger, Viterbi,
tags in the task's scheme), at least ``--min_passes`` times and ``--min_seconds`` in all, and
reports the median tokens/s with the slowest and fastest pass. Warm-up batches and the first
inference pass (graph tracing) are excluded. The result records the CPU and thread settings.

With LM flags, the TagLM model is measured right after the baseline, in the same process:
training reads the LM embeddings from their cache at the output of RNN-1, inference computes
them in-graph as served models do, and ``lm_cost`` gives the time ratios (the target: an epoch
with LM features costs at most about 1.3x a baseline epoch). Caches are built before timing
starts.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

import dataclasses
import itertools
import os
import tempfile
import time

import tensorflow as tf
from absl import flags

from benchmarks.common import repeat, report
from taglm_tf.data import conll
from taglm_tf.data.paths import default_data_dir
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.resources import build_resources
from taglm_tf.lm.frozen.features import CachedFeatures
from taglm_tf.lm.frozen.loading import load_lm_embedders, resolve_lm_spec
from taglm_tf.models.config import TaggerConfig
from taglm_tf.models.evaluation import Predictor
from taglm_tf.models.saving import LoadedTagger
from taglm_tf.models.tagger import build_tagger
from taglm_tf.serving.module import TaggerModule
from taglm_tf.tasks import TASKS, load_splits
from taglm_tf.training.config import TrainConfig
from taglm_tf.training.trainer import Trainer
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_enum("task", "ner", list(TASKS), "Task whose paper configuration is measured.")
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data).")
    flags.DEFINE_string(
        "embeddings",
        "embeddings/glove.6B.50d.txt.xz",
        "Word vectors, relative to data_dir ('' for random initialisation).",
    )
    flags.DEFINE_integer("dev_sentences", 0, "Decode only the first N dev sentences (0: all).", lower_bound=0)
    flags.DEFINE_integer("batch_size", 32, "Training batch size (sentences).")
    flags.DEFINE_integer("eval_batch_size", 128, "Inference batch size (sentences).")
    flags.DEFINE_integer("warmup_batches", 8, "Untimed training batches (tracing).")
    flags.DEFINE_integer("train_batches", 200, "Timed training batches.")
    flags.DEFINE_string("forward_lm", None, "Also measure TagLM with this frozen forward LM (spec).")
    flags.DEFINE_string("backward_lm", None, "... and this backward LM.")
    flags.DEFINE_string("lm_cache_dir", "runs/lm_cache", "Where LM-embedding caches are kept.")
    flags.DEFINE_integer("min_passes", 5, "Timed inference passes over the dev sentences, at least.")
    flags.DEFINE_float("min_seconds", 30.0, "... and at least this many seconds of them in all.")
    define_output_flag("output", None, "Also write the result as JSON here.")


def measure_training(trainer: Trainer, data: TaggingData) -> dict:
    batches = iter(data.dataset(FLAGS.batch_size, shuffle=True, seed=1, epoch=1))
    for batch in itertools.islice(batches, FLAGS.warmup_batches):
        trainer.train_step(batch)
    tokens, start = 0, time.perf_counter()
    for batch in itertools.islice(batches, FLAGS.train_batches):
        loss = trainer.train_step(batch)
        tokens += int(tf.math.count_nonzero(batch["word_ids"]))
    float(loss)
    seconds = time.perf_counter() - start
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_sec": tokens / seconds,
        "ms_per_batch": 1000 * seconds / FLAGS.train_batches,
    }


def measure_inference(module: TaggerModule, sentences) -> dict:
    """Tokens -> tags through the one tagging computation the API, the CLI and the SavedModel
    share (featurizer, LMs in-graph, tagger, Viterbi, tags in the task's scheme), in batches of
    ``--eval_batch_size`` sorted by length; the first pass (tracing) is not timed."""
    tokens = [s.tokens for s in sentences]

    def one_pass() -> dict:
        start = time.perf_counter()
        module.tag(tokens, FLAGS.eval_batch_size)
        return {"tokens": sum(map(len, tokens)), "seconds": time.perf_counter() - start}

    one_pass()
    return repeat(one_pass, FLAGS.min_passes, FLAGS.min_seconds)


def measure_model(model_config: TaggerConfig, resources, train, dev, features=None, lms=()) -> dict:
    """Training and inference throughput of one tagger configuration (``lms``: the frozen LMs
    that inference runs in-graph; training reads ``features``, their cache)."""
    model = build_tagger(
        model_config, len(resources.words), len(resources.chars), len(resources.tags), resources.word_vectors
    )
    predictor = Predictor(model, resources.tags, FLAGS.eval_batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(model, predictor, TrainConfig(batch_size=FLAGS.batch_size), scratch, "iobes")
        featurizer = resources.featurizer()
        features = features or {}
        return {
            "model": dataclasses.asdict(model_config),
            "params": model.count_params(),
            "train": measure_training(
                trainer, TaggingData(train, featurizer, resources.tags, features.get("train"))
            ),
            "inference": measure_inference(
                TaggerModule(LoadedTagger(model, resources, {}), TASKS[FLAGS.task].scheme, lms), dev
            ),
        }


def lm_features(sentences: dict) -> tuple[dict, list]:
    """Cached LM features for train and dev (built here, before any timing), and the LMs."""
    data_dir = FLAGS.data_dir or default_data_dir()
    lms = load_lm_embedders(
        {
            key: resolve_lm_spec(spec, data_dir) if spec else None
            for key, spec in (("forward_lm", FLAGS.forward_lm), ("backward_lm", FLAGS.backward_lm))
        }
    )
    features = {
        name: CachedFeatures(lms, [s.tokens for s in split], FLAGS.lm_cache_dir)
        for name, split in sentences.items()
    }
    return features, lms


def task_data(task_name: str, data_dir: str, embeddings: str, dev_sentences: int = 0):
    """The task's train and dev sentences (IOBES) and resources built as training builds them
    (``embeddings`` relative to ``data_dir``, ``""`` for none); ``dev_sentences`` > 0 keeps the
    first ones."""
    splits = load_splits(TASKS[task_name], data_dir)
    train, dev = (conll.convert_tags(s, "iobes") for s in (splits.train, splits.dev))
    dev = dev[:dev_sentences] if dev_sentences else dev
    path = os.path.join(data_dir, embeddings) if embeddings else None
    return train, dev, build_resources(train, splits.dev + splits.test, path)


def main(argv):
    cli.no_arguments(argv)
    task = TASKS[FLAGS.task]
    data_dir = FLAGS.data_dir or default_data_dir()
    train, dev, resources = task_data(FLAGS.task, data_dir, FLAGS.embeddings, FLAGS.dev_sentences)
    result = {
        "task": FLAGS.task,
        **measure_model(TaggerConfig(**task.model_defaults), resources, train, dev),
        "batch_size": FLAGS.batch_size,
        "eval_batch_size": FLAGS.eval_batch_size,
        "embeddings": FLAGS.embeddings or None,
        "dev_sentences": len(dev),
    }
    if FLAGS.forward_lm or FLAGS.backward_lm:
        features, lms = lm_features({"train": train, "dev": dev})
        taglm = dataclasses.replace(TaggerConfig(**task.model_defaults), extra_dim=features["train"].dim)
        result["taglm"] = {
            "forward_lm": FLAGS.forward_lm,
            "backward_lm": FLAGS.backward_lm,
            **measure_model(taglm, resources, train, dev, features, lms),
        }
        result["lm_cost"] = {
            "train_time_ratio": result["train"]["tokens_per_sec"]
            / result["taglm"]["train"]["tokens_per_sec"],
            "inference_time_ratio": (
                result["inference"]["tokens_per_sec"] / result["taglm"]["inference"]["tokens_per_sec"]
            ),
        }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
