r"""Write a CNN-LSTM LM trained by ``experiments.pretrain_lm --lm_kind=cnn_lstm`` in the lm_1b
release layout (V1 ``ckpt-*`` shards, ``vocab.txt``, ``direction.json`` if backward):

    python -m lm_1b_export.from_pretrained --model_dir=runs/lm_cnn_fwd --output_dir=OUT [--checkpoint=PREFIX] \
        [--perplexity_json=EVAL.json]

The held-out perplexity ``experiments.eval_lm`` measured for the exported checkpoint
(``MODEL_DIR/perplexity.json`` from ``--record``, or the ``--output`` file of an earlier
checkpoint given as ``--perplexity_json``) goes with it as ``OUT/perplexity.json``, where tagger
runs find it for their ``results.json`` and the report. Then
``--forward_lm=lm1b:OUT/ckpt-*,OUT/vocab.txt`` (or ``--backward_lm``), ``lm_1b_export.export``
and ``lm_1b_export.dump_lstm_emb`` read it as they read Google's release.

OUT is written whole and then put in place in one step: an earlier release in OUT (a folder
holding only what this tool writes) is replaced as a whole, so a killed re-export leaves the
old release whole (its ``perplexity.json`` included) and a finished one the new release whole;
a folder holding anything else is refused before any work.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

from absl import app, flags

from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("model_dir", None, "A pretrain_lm output directory of a cnn_lstm LM.")
    flags.DEFINE_string("checkpoint", None, "Checkpoint prefix (default: the latest in --model_dir).")
    define_output_flag(
        "output_dir",
        None,
        "Directory to write the release-layout files into.",
        inputs=("model_dir",),
        folder=True,
    )
    flags.DEFINE_string(
        "perplexity_json",
        None,
        "An eval_lm --output file of the exported checkpoint "
        "(default: MODEL_DIR/perplexity.json when it describes that checkpoint).",
    )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # TensorFlow only now, so that --help and bad flags exit before it loads
    from taglm_tf.lm.lm1b.writing import check_release_dir
    from taglm_tf.lm.pretraining.saving import load_lm, perplexity_record, write_lm1b_release

    check_release_dir(FLAGS.output_dir)  # before any work
    model, vocab, config, checkpoint = load_lm(FLAGS.model_dir, FLAGS.checkpoint)
    if config.get("normalize_words"):
        raise InputError(
            "was trained with --normalize_words, which lm_1b's layout cannot record: read through "
            "lm1b:, its words would not be normalized; give it to the tagger as lstm_lm:MODEL_DIR",
            FLAGS.model_dir,
        )
    step = int(checkpoint.rsplit("-", 1)[1])
    record = perplexity_record(FLAGS.model_dir, checkpoint, FLAGS.perplexity_json)
    written = write_lm1b_release(
        model, vocab, config["direction"], FLAGS.output_dir, global_step=step, perplexity=record
    )
    ppl = f", held-out perplexity {record['perplexity']:.2f}" if record else ", no perplexity recorded"
    print(f"wrote {len(written)} files ({config['direction']} LM, {checkpoint}{ppl}) to {FLAGS.output_dir}")


if __name__ == "__main__":
    define_flags()
    flags.mark_flags_as_required(["model_dir", "output_dir"])
    run(main)
