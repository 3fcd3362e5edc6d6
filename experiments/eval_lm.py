r"""Full-softmax perplexity of a pretrained LM on held-out text:

    python -m experiments.eval_lm --model_dir=runs/lm_forward \
        --eval_files=unlabeled/lm1b_heldout_shards12-13.tokens.gz [--output=FILE.json] [--record]
    python -m experiments.eval_lm --model_dir=runs/lm_forward --task_split=scienceie:test

``--task_split`` measures the LM on a tagging task's text instead (its sentences as the tagger
reads them), which tells how far the task's domain is from the LM's.

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
    cli.configure_process()  # before anything imports TensorFlow

import json
import os
import tempfile
import time

from absl import flags

from experiments import lm_flags
from taglm_tf.tasks import TASKS, check_files_exist, task_paths
from taglm_tf.utils.cli import list_flags_in_help, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise flags.Error(f"unexpected arguments: {' '.join(argv[1:])}")
    if bool(FLAGS.eval_files) == bool(FLAGS.task_split):
        raise InputError("give --eval_files or --task_split (one of them)")
    if FLAGS.record and (FLAGS.checkpoint or FLAGS.task_split):
        raise InputError(
            "--record is the held-out perplexity of the latest checkpoint; drop --checkpoint/--task_split"
        )
    task_file = task_split_file(FLAGS.task_split, lm_flags.data_dir()) if FLAGS.task_split else None
    # imported here, not above, so --help and refused flags exit before TensorFlow is imported
    from taglm_tf.lm.pretraining import corpus as lm_corpus
    from taglm_tf.lm.pretraining.saving import PERPLEXITY_FILE

    with tempfile.TemporaryDirectory() as tmp:
        if task_file:
            files = [write_task_text(FLAGS.task_split, task_file, tmp)]
        else:
            files = lm_corpus.expand_files(lm_flags.resolve_globs(FLAGS.eval_files, lm_flags.data_dir()))
        result = evaluate(files)
    if FLAGS.task_split:
        result["files"] = [FLAGS.task_split]
    outputs = [FLAGS.output] if FLAGS.output else []
    if FLAGS.record:
        outputs.append(os.path.join(FLAGS.model_dir, PERPLEXITY_FILE))
    for path in outputs:
        write_text_atomic(path, json.dumps(result, indent=1))


def task_split_file(task_split: str, data_dir: str) -> str:
    """The data file of ``TASK:SPLIT``; an :class:`InputError` for a malformed value, a split the
    task does not have or a missing file."""
    name, _, split = task_split.partition(":")
    if name not in TASKS or split not in ("train", "dev", "test"):
        raise InputError(
            f"--task_split: expected TASK:SPLIT with a task of {', '.join(TASKS)} and a "
            f"split of train, dev, test; got {task_split!r}"
        )
    paths = task_paths(TASKS[name], data_dir)
    if split not in paths:
        raise InputError(f"--task_split: {name} has no {split} file (its dev is sampled from train)")
    check_files_exist({split: paths[split]}, data_dir)
    return paths[split]


def write_task_text(task_split: str, source: str, directory: str) -> str:
    """The sentences of ``source``, the data file of ``TASK:SPLIT``, one per line and
    space-separated, in ``directory``; their path."""
    name, _, split = task_split.partition(":")
    path = os.path.join(directory, f"{name}_{split}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(" ".join(s.tokens) + "\n" for s in TASKS[name].read(source))
    return path


def evaluate(files: list[str]) -> dict:
    """Perplexity of ``FLAGS.model_dir``'s LM on ``files``, printed, with the setting."""
    # imported here, not above, for the reason main gives
    from taglm_tf.lm.pretraining import corpus as lm_corpus
    from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
    from taglm_tf.lm.pretraining.saving import load_lm
    from taglm_tf.lm.pretraining.trainer import evaluate_perplexity

    model, vocab, config, checkpoint = load_lm(FLAGS.model_dir, FLAGS.checkpoint)
    corpus = lm_corpus.LMCorpus(
        files,
        vocab,
        config["direction"],
        max_sentences=FLAGS.max_sentences or None,
        chars=char_encoder_of(model, vocab),
        normalize=config.get("normalize_words", False),
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
    return result


if __name__ == "__main__":
    lm_flags.define_eval_flags()
    flags.mark_flag_as_required("model_dir")
    list_flags_in_help(lm_flags)
    run(main)
