r"""Full-softmax perplexity of a pretrained LM on held-out text:

    python -m experiments.eval_lm --model_dir=runs/lm_forward \
        --eval_files=unlabeled/lm1b_heldout_shards12-13.tokens.gz [--output=FILE.json] [--record]

``--record`` stores the result as ``MODEL_DIR/perplexity.json``; tagger runs that use the LM copy
it into their ``results.json`` (``lm_perplexity``) for the report.

Every target counts: each word (``<UNK>`` included) and each sentence's ``</S>``; ``<S>`` is
never a target. The text is read in order and packed into rows as in training, the LSTM state
carried across windows (and across sentences only for a model trained with --reset_state=never;
docs/lm_pretraining.md).
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before the imports below reach TensorFlow

import json
import os
import time

from absl import flags

from experiments import lm_flags
from taglm_tf.lm.pretraining import corpus as lm_corpus
from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
from taglm_tf.lm.pretraining.saving import PERPLEXITY_FILE, load_lm
from taglm_tf.lm.pretraining.trainer import evaluate_perplexity
from taglm_tf.utils.cli import list_flags_in_help, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise flags.Error(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.eval_files:
        raise InputError("--eval_files is required")
    if FLAGS.record and FLAGS.checkpoint:
        raise InputError("--record describes the latest checkpoint; drop --checkpoint")
    files = lm_corpus.expand_files(lm_flags.resolve_globs(FLAGS.eval_files, lm_flags.data_dir()))
    model, vocab, config, checkpoint = load_lm(FLAGS.model_dir, FLAGS.checkpoint)
    corpus = lm_corpus.LMCorpus(
        files,
        vocab,
        config["direction"],
        max_sentences=FLAGS.max_sentences or None,
        chars=char_encoder_of(model, vocab),
    )
    start = time.perf_counter()
    result = evaluate_perplexity(model, corpus, FLAGS.batch_size, FLAGS.num_steps)
    result.update(
        seconds=time.perf_counter() - start,
        checkpoint=checkpoint,
        direction=config["direction"],
        files=files,
        vocab_size=vocab.size,
        counted="all targets: words (<UNK> included) and </S>",
    )
    print(
        f"{config['direction']} LM {checkpoint}: perplexity {result['perplexity']:.2f} over "
        f"{result['tokens']:,.0f} targets ({result['sentences']:,.0f} sentences, </S> included; "
        f"{result['unk_tokens']:,.0f} <UNK> = {100 * result['unk_tokens'] / result['tokens']:.2f}%)"
    )
    outputs = [FLAGS.output] if FLAGS.output else []
    if FLAGS.record:
        outputs.append(os.path.join(FLAGS.model_dir, PERPLEXITY_FILE))
    for path in outputs:
        write_text_atomic(path, json.dumps(result, indent=1))


if __name__ == "__main__":
    lm_flags.define_eval_flags()
    flags.mark_flag_as_required("model_dir")
    list_flags_in_help(lm_flags)
    run(main)
