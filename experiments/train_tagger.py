"""Shared ``main`` of the tagging experiments (``experiments.ner``, ``experiments.chunking``)."""
from __future__ import annotations

from absl import flags

from experiments import tagging_flags
from taglm_tf.cli import list_flags_in_help, run
from taglm_tf.experiment import run_experiment


def main_for(task_name: str):
    def main(argv):
        if len(argv) > 1:
            raise flags.Error(f"unexpected arguments: {' '.join(argv[1:])}")
        config = tagging_flags.config_from_flags(task_name)
        results = run_experiment(config, resume=flags.FLAGS.resume)
        if results.get("already_finished"):
            print(f"{config.model_dir}: this run has already finished (dev F1 {results['dev_f1']:.2f}, "
                  f"test F1 {results['test_f1']:.2f}); nothing to do")
            return
        print(f"{task_name}: dev F1 {results['dev_f1']:.2f}  test F1 {results['test_f1']:.2f}  "
              f"({results['epochs']} epochs, {results['wall_seconds'] / 60:.1f} min) -> "
              f"{config.model_dir}/results.json")
    return main


def launch(task_name: str) -> None:
    tagging_flags.define_flags()
    flags.mark_flag_as_required("model_dir")
    list_flags_in_help(tagging_flags)
    run(main_for(task_name))
