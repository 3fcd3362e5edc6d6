r"""Convert the lm_1b release into a Keras-native directory the library loads without TF1 code:

    python -m lm_1b_export.export --ckpt='DIR/ckpt-*' --vocab_file=DIR/vocab-2016-09-10.txt \
        --output_dir=OUT [--include_softmax]

Load it with ``taglm_tf.lm.lm1b.saving.load_lm1b(OUT)``.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

from absl import app, flags

from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("ckpt", None, "Checkpoint files: a glob such as 'DIR/ckpt-*'.")
    flags.DEFINE_string("vocab_file", None, "The lm_1b vocabulary (vocab-2016-09-10.txt).")
    define_output_flag(
        "output_dir",
        None,
        "Directory to create (or an empty one).",
        ("ckpt", "vocab_file"),
        folder=True,
        new=True,
    )
    flags.DEFINE_boolean(
        "include_softmax",
        False,
        "Also export the 800k-row softmax (3.2 GB for the real release); needed only for perplexity.",
    )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # TensorFlow only now, so that --help and bad flags exit before it loads
    from taglm_tf.lm.lm1b.saving import export_lm1b

    export_lm1b(FLAGS.ckpt, FLAGS.vocab_file, FLAGS.output_dir, FLAGS.include_softmax)
    print(f"wrote {FLAGS.output_dir}")


if __name__ == "__main__":
    define_flags()
    flags.mark_flags_as_required(["ckpt", "vocab_file", "output_dir"])
    run(main)
