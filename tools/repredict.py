"""Recompute finished runs' dev and test predictions with this checkout's code and compare them
with the files each run wrote: the check that a change of the inference code leaves every
output tag as it was.

    python -m tools.repredict RUN_DIR [RUN_DIR ...]

Each run is decoded as its training's final evaluation decoded it (the saved model, the run's
splits, its batch size, LM features read from the run's LM cache, which is built again if
absent). Prints one line per file: identical, or how many lines differ and the first of them.
Exits 1 if any file differs.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

import os
import sys

from absl import app

from taglm_tf import run_dir
from taglm_tf.tasks import TASKS, load_splits
from taglm_tf.utils.errors import InputError


def repredicted(model_dir: str) -> dict[str, str]:
    """``{file name: predictions text}`` for dev and test, decoded now from the saved run."""
    # imported here, not above, so --help and refused arguments exit before TensorFlow is imported
    from taglm_tf.data.pipeline import TaggingData
    from taglm_tf.lm.frozen.features import CachedFeatures
    from taglm_tf.lm.frozen.loading import load_lms
    from taglm_tf.models.evaluation import Predictor, evaluate
    from taglm_tf.models.saving import load_tagger

    config = run_dir.read_config(model_dir)
    task, train = TASKS[config["task"]], config["train"]
    splits = load_splits(
        task,
        config["data_dir"],
        config["train_with_dev"],
        config["dev_seed"],
        config["train_fraction"],
        train["seed"],
        config["files"],
    )
    loaded = load_tagger(model_dir)
    lms = load_lms(config, model_dir)
    predictor = Predictor(loaded.model, loaded.resources.tags, train["eval_batch_size"])
    texts = {}
    for name, gold in (("dev", splits.dev), ("test", splits.test)):
        features = None
        if lms:
            tokens = [s.tokens for s in gold]
            features = CachedFeatures(lms, tokens, config["lm_cache_dir"], config["lm_cache_dtype"])
        data = TaggingData(gold, loaded.resources.featurizer(), features=features)
        texts[run_dir.PREDICTIONS.format(split=name)] = evaluate(predictor, data, gold, task).predictions
    return texts


def compare(model_dir: str) -> bool:
    """Print one line per predictions file; True if all are as recorded."""
    same = True
    for name, text in repredicted(model_dir).items():
        with open(os.path.join(model_dir, name), encoding="utf-8") as f:
            recorded = f.read()
        old, new = recorded.splitlines(), text.splitlines()
        differing = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
        differing += range(min(len(old), len(new)), max(len(old), len(new)))  # added or missing
        if recorded == text:
            print(f"{os.path.join(model_dir, name)}: identical ({len(old)} lines)")
            continue
        same = False
        first = differing[0] if differing else min(len(old), len(new))
        print(
            f"{os.path.join(model_dir, name)}: {len(differing)} of {len(old)} lines differ "
            f"({len(new)} now); first at line {first + 1}"
        )
    return same


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("give one or more finished run directories")
    for model_dir in argv[1:]:
        if not run_dir.is_finished(model_dir):
            raise InputError(f"{model_dir}: not a finished run (no results.json)")
    if not all([compare(d) for d in argv[1:]]):
        sys.exit(1)


if __name__ == "__main__":
    cli.run(main)
