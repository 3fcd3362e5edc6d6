r"""Training cost of one LM configuration on real windows, robust to a shared machine:

    python -m experiments.lm_train_cost --flagfile=experiments/flags/lm_forward_cnn_lstm_cpu.cfg \
        --seconds=60 [--output=FILE.json]

Builds the model and the windows of ``--train_files`` exactly as ``experiments.pretrain_lm``
does (vocabulary from ``--vocab_file``, or built), runs ``--warmup`` untimed steps, then the real
train step for at least ``--seconds`` of wall time. Reports real (non-padding) tokens per wall
second and per CPU second of this process (all its threads): when other processes share the
cores, the second estimates what one process gets from each core it owns, e.g. one core each
for a forward and a backward LM side by side on 2 cores.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import json
import time

from absl import flags

from experiments import lm_flags
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS


def main(argv):
    cli.no_arguments(argv)
    config = lm_flags.pretrain_config_from_flags()
    # imported here, not above, so --help and refused flags exit before TensorFlow is imported
    import tensorflow as tf

    from taglm_tf.lm.pretraining import corpus as lm_corpus
    from taglm_tf.lm.pretraining.lm_kinds import build_lm, char_encoder_of
    from taglm_tf.lm.pretraining.run import prepare_vocab, run_model_args, training_files
    from taglm_tf.lm.pretraining.trainer import LMTrainer

    train_files, _ = training_files(config)
    vocab = prepare_vocab(config, train_files)
    c = config.train
    trainer = LMTrainer(
        tf.distribute.get_strategy(),
        lambda: build_lm(config.model.kind, vocab.size, run_model_args(config, vocab)),
        c,
        "/tmp/lm_train_cost_unused",
        log=lambda line: None,
    )
    corpus = lm_corpus.LMCorpus(
        train_files,
        vocab,
        config.direction,
        shuffle=True,
        seed=c.seed,
        chars=char_encoder_of(config.model, vocab),
        normalize=config.normalize_words,
    )
    windows = iter(lm_corpus.distributed_dataset(trainer.strategy, corpus, c.batch_size, c.num_steps))
    states = trainer.zero_states()
    for _ in range(FLAGS.warmup):
        _, _, states = trainer.train_step(next(windows), states)
    tokens, steps = 0.0, 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < FLAGS.seconds:
        _, count, states = trainer.train_step(next(windows), states)
        tokens, steps = tokens + float(count), steps + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    params = sum(v.shape.num_elements() for v in trainer.model.trainable_variables)
    result = {
        "model": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(config.model).items()},
        "parameters": params,
        "steps": steps,
        "tokens": tokens,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "tokens_per_wall_second": tokens / wall,
        "tokens_per_cpu_second": tokens / cpu,
    }
    print(json.dumps(result))
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    lm_flags.define_pretrain_flags()
    flags.DEFINE_float("seconds", 60.0, "Timed wall seconds (at least).")
    flags.DEFINE_integer("warmup", 3, "Untimed steps first (tracing).")
    define_output_flag("output", None, "Also write the result here (JSON).")
    FLAGS.set_default("model_dir", "/tmp/lm_train_cost_unused")
    run(main)
