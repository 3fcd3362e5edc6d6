r"""Pretrain a forward or backward LSTM LM (TagLM's LSTM-2048-512 and smaller ones):

    python -m experiments.pretrain_lm --flagfile=experiments/flags/lm_backward_2048_512.cfg \
        --model_dir=runs/lm_backward [--resume]

Synchronous data parallelism: ``--strategy=mirrored`` over local GPUs, ``multi_worker`` over the
machines of ``TF_CONFIG`` (``auto`` picks). See docs/lm_pretraining.md.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

from absl import flags

from experiments import lm_flags
from taglm_tf.utils.cli import list_flags_in_help, run


def main(argv):
    if len(argv) > 1:
        raise flags.Error(f"unexpected arguments: {' '.join(argv[1:])}")
    config = lm_flags.pretrain_config_from_flags()
    # imported here, not above, so --help and refused flags exit before TensorFlow is imported
    from taglm_tf.lm.pretraining.run import pretrain

    result = pretrain(config, resume=flags.FLAGS.resume)
    print(
        f"{config.direction} LM: step {result['step']}, loss {result.get('loss', float('nan')):.4f}, "
        f"{result.get('run_tokens_per_sec', 0):,.0f} tokens/s, {result['wall_seconds'] / 60:.1f} min "
        f"-> {config.model_dir}"
    )


if __name__ == "__main__":
    lm_flags.define_pretrain_flags()
    flags.mark_flag_as_required("model_dir")
    list_flags_in_help(lm_flags)
    run(main)
