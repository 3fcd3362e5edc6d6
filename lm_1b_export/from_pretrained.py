"""Write a CNN-LSTM LM trained by ``experiments.pretrain_lm --lm_kind=cnn_lstm`` in the lm_1b
release layout (V1 ``ckpt-*`` shards, ``vocab.txt``, ``direction.json`` if backward):

    python -m lm_1b_export.from_pretrained --model_dir=runs/lm_cnn_fwd --output_dir=OUT [--checkpoint=PREFIX]

Then ``--forward_lm=lm1b:OUT/ckpt-*,OUT/vocab.txt`` (or ``--backward_lm``), ``lm_1b_export.export``
and ``lm_1b_export.dump_lstm_emb`` read it as they read Google's release.
"""
from __future__ import annotations

from absl import app, flags

from taglm_tf.cli import run
from taglm_tf.pretraining.saving import load_lm, write_lm1b_release

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("model_dir", None, "A pretrain_lm output directory of a cnn_lstm LM.")
    flags.DEFINE_string("checkpoint", None, "Checkpoint prefix (default: the latest in --model_dir).")
    flags.DEFINE_string("output_dir", None, "Directory to write the release-layout files into.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    model, vocab, config, checkpoint = load_lm(FLAGS.model_dir, FLAGS.checkpoint)
    step = int(checkpoint.rsplit("-", 1)[1])
    written = write_lm1b_release(model, vocab, config["direction"], FLAGS.output_dir, global_step=step)
    print(f"wrote {len(written)} files ({config['direction']} LM, {checkpoint}) to {FLAGS.output_dir}")


if __name__ == "__main__":
    define_flags()
    flags.mark_flags_as_required(["model_dir", "output_dir"])
    run(main)
