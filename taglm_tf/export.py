"""Export a trained tagger as a SavedModel for serving.

    python -m taglm_tf.export --model_dir=DIR --export_dir=OUT [--forward_lm=SPEC --backward_lm=SPEC]

The ``serving_default`` signature maps ``tokens`` (``tf.string [batch, time]``, ``""`` = right
padding) to ``tags`` (``tf.string [batch, time]``, in the task's gold scheme: IOB1 for NER,
IOB2 for chunking; ``""`` at padding) and ``tag_ids`` (``int32 [batch, time]``, the model's
Viterbi path over its training tag vocabulary, IOBES; 0 at padding). Featurization runs
in-graph with the same :class:`~taglm_tf.data.featurizer.Featurizer` as training. A TagLM
model's LMs (lm_1b or LSTM LMs) are exported with it: their frozen weights (and vocabularies)
go into the SavedModel and ``[h_fwd; h_bwd]`` is computed in-graph by each LM's
``embed_tokens``, the code that embedded the training data.
``OUT/taglm_export.json`` records the run's config, the LMs and the tag schemes;
``OUT/MODEL_CARD.md`` and ``model_card.json`` are the run's model card.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

from absl import app, flags

from taglm_tf.lm.frozen.overrides import define_lm_override_flags, lm_overrides
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("model_dir", None, "Directory of a finished training run (model.keras, ...).")
    define_output_flag(
        "export_dir",
        None,
        "SavedModel output directory (must not exist yet).",
        inputs=("model_dir",),
        folder=True,
        new=True,
    )
    define_lm_override_flags()
    flags.mark_flags_as_required(["model_dir", "export_dir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # TensorFlow only now, so that --help and bad flags exit before it loads
    from taglm_tf.serving.export import export_tagger

    print(f"exported {export_tagger(FLAGS.model_dir, FLAGS.export_dir, lm_overrides())}")


if __name__ == "__main__":
    define_flags()
    run(main)
