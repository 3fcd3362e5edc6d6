r"""Train and score one tagger of any registered task (``taglm_tf.tasks.TASKS``):

    python -m experiments.train_tagger --task=pos --flagfile=experiments/flags/pos_baseline_cpu.cfg \
        --model_dir=runs/pos

``experiments.ner`` and ``experiments.chunking`` are this entry point with the task fixed.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow


from absl import flags

from experiments import tagging_flags
from taglm_tf.tasks import METRIC_TITLES, TASKS
from taglm_tf.utils.cli import list_flags_in_help, run


def main_for(task_name: str | None):
    """The ``main`` of the task ``task_name``, or of the one ``--task`` names when ``None``."""

    def main(argv):
        if len(argv) > 1:
            raise flags.Error(f"unexpected arguments: {' '.join(argv[1:])}")
        name = task_name or flags.FLAGS.task
        config = tagging_flags.config_from_flags(name)
        # Only now, so that --help and the refusal of bad flags come before TensorFlow loads.
        from taglm_tf.training.experiment import run_experiment

        results = run_experiment(config, resume=flags.FLAGS.resume)
        task = TASKS[name]
        title = METRIC_TITLES[task.metric]
        dev, test = results[task.result_key("dev")], results[task.result_key("test")]
        if results.get("already_finished"):
            print(
                f"{config.model_dir}: this run has already finished (dev {title} {dev:.2f}, "
                f"test {title} {test:.2f}); nothing to do"
            )
            return
        print(
            f"{name}: dev {title} {dev:.2f}  test {title} {test:.2f}  "
            f"({results['epochs']} epochs, {results['wall_seconds'] / 60:.1f} min) -> "
            f"{config.model_dir}/results.json"
        )

    return main


def launch(task_name: str | None = None) -> None:
    """Run the entry point; ``task_name=None`` adds the required ``--task`` flag."""
    if task_name is None:
        flags.DEFINE_enum("task", None, list(TASKS), "The task to train (taglm_tf.tasks).")
        flags.mark_flag_as_required("task")
    tagging_flags.define_flags()
    flags.mark_flag_as_required("model_dir")
    list_flags_in_help(tagging_flags)
    run(main_for(task_name))


if __name__ == "__main__":
    launch()
