"""Training and inference throughput of the tagger on CoNLL, in real (non-padding) tokens/s.

    python -m benchmarks.tagger_throughput --task=ner [--train_batches=200] [--output=FILE.json]

Uses the task's paper configuration (NER: char BiGRU 80 on 25-d, 2 x BiGRU 300), the real
training vocabulary and GloVe-initialised embeddings. Training runs the real train step
(forward, CRF loss, backward, Adam with global clipping); inference runs Viterbi decoding on the
dev file. Warm-up batches (graph tracing) are excluded from the timed part.
"""
from __future__ import annotations

import itertools
import os
import time

from absl import app, flags

from benchmarks.common import report

from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.resources import build_resources
from taglm_tf.evaluation import Predictor
from taglm_tf.models.tagger import build_tagger
from taglm_tf.tasks import TASKS, default_data_dir, load_splits
from taglm_tf.training.trainer import TrainConfig, Trainer

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_enum("task", "ner", list(TASKS), "Task whose paper configuration is measured.")
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data).")
    flags.DEFINE_string("embeddings", "embeddings/glove.6B.50d.txt.xz", "Word vectors, relative to data_dir.")
    flags.DEFINE_integer("batch_size", 32, "Training batch size (sentences).")
    flags.DEFINE_integer("eval_batch_size", 128, "Inference batch size (sentences).")
    flags.DEFINE_integer("warmup_batches", 8, "Untimed training batches (tracing).")
    flags.DEFINE_integer("train_batches", 200, "Timed training batches.")
    flags.DEFINE_string("output", None, "Also write the result as JSON here.")


def measure_training(trainer: Trainer, data: TaggingData) -> dict:
    batches = data.dataset(FLAGS.batch_size, shuffle=True, seed=1, epoch=1)
    batches = list(itertools.islice(iter(batches), FLAGS.warmup_batches + FLAGS.train_batches))
    for batch in batches[:FLAGS.warmup_batches]:
        trainer.train_step(batch)
    timed = batches[FLAGS.warmup_batches:]
    tokens = sum(int((b["word_ids"].numpy() > 0).sum()) for b in timed)
    start = time.perf_counter()
    for batch in timed:
        loss = trainer.train_step(batch)
    float(loss)
    seconds = time.perf_counter() - start
    return {"tokens": tokens, "seconds": seconds, "tokens_per_sec": tokens / seconds,
            "ms_per_batch": 1000 * seconds / len(timed)}


def measure_inference(predictor: Predictor, data: TaggingData) -> dict:
    decode = lambda: [predictor.decode(b).numpy()
                      for b in data.dataset(FLAGS.eval_batch_size)]
    decode()  # warm-up: traces the shapes
    start = time.perf_counter()
    decode()
    seconds = time.perf_counter() - start
    return {"tokens": data.num_tokens, "seconds": seconds, "tokens_per_sec": data.num_tokens / seconds}


def main(argv):
    del argv
    task = TASKS[FLAGS.task]
    data_dir = FLAGS.data_dir or default_data_dir()
    splits = load_splits(task, data_dir)
    train, dev = (conll.convert_tags(s, "iobes") for s in (splits.train, splits.dev))
    resources = build_resources(train, splits.dev + splits.test, os.path.join(data_dir, FLAGS.embeddings))
    model = build_tagger(task.model, len(resources.words), len(resources.chars), len(resources.tags),
                         resources.word_vectors)
    predictor = Predictor(model, resources.tags, FLAGS.eval_batch_size)
    trainer = Trainer(model, predictor, TrainConfig(batch_size=FLAGS.batch_size), "/tmp/unused", "iobes")
    featurizer = resources.featurizer()
    result = {
        "task": FLAGS.task, "model": task.model.__dict__, "params": model.count_params(),
        "train": measure_training(trainer, TaggingData(train, featurizer, resources.tags)),
        "inference": measure_inference(predictor, TaggingData(dev, featurizer)),
        "batch_size": FLAGS.batch_size, "eval_batch_size": FLAGS.eval_batch_size,
    }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    app.run(main)
