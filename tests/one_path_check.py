"""One check for every model kind: the Python API, the CLI and the exported SavedModel tag a
real file identically, and as the decoding of training's evaluation (the path the API took
before it called the served module) does."""

import os
import subprocess
import sys

import tensorflow as tf

from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.lm.frozen.features import OnTheFlyFeatures
from taglm_tf.lm.frozen.loading import load_lms
from taglm_tf.models.evaluation import Predictor
from taglm_tf.models.saving import load_tagger
from taglm_tf.serving.api import Tagger
from taglm_tf.serving.export import export_tagger

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check_one_path(model_dir: str, conll_file: str, export_dir: str, limit: int | None = None) -> int:
    """Assert that the four paths give the same IOB1 tags for the sentences of ``conll_file``
    (the first ``limit``); returns the number of tokens compared."""
    sentences = conll.read_conll(conll_file, conll.CONLL2003)[:limit]
    tokens = [s.tokens for s in sentences]
    cli_input = os.path.join(export_dir + ".in")
    with open(cli_input, "w", encoding="utf-8") as f:
        f.write("".join(" ".join(t) + "\n" for t in tokens))
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taglm_tf.tag",
            f"--model_dir={model_dir}",
            f"--input={cli_input}",
            "--input_format=text",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = Tagger.load(model_dir).tag_tokens(tokens, batch_size=64)

    loaded = load_tagger(model_dir)
    lms = load_lms(loaded.config, model_dir)
    data = TaggingData(
        [conll.Sentence(t, ("O",) * len(t)) for t in tokens],
        loaded.resources.featurizer(),
        features=OnTheFlyFeatures(lms, tokens) if lms else None,
    )
    assert api == Predictor(loaded.model, loaded.resources.tags).predict(data, "iob1")

    serve = tf.saved_model.load(export_tagger(model_dir, export_dir)).signatures["serving_default"]
    served = []
    for start in range(0, len(tokens), 64):
        batch = tokens[start : start + 64]
        width = max(map(len, batch))
        padded = tf.constant([list(t) + [""] * (width - len(t)) for t in batch])
        tags = serve(tokens=padded)["tags"].numpy().astype(str)
        served += [list(row[: len(t)]) for row, t in zip(tags, batch)]
    assert api == served

    out, err = cli.communicate(timeout=900)
    assert cli.returncode == 0, err
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert [[line.split(" ")[-1] for line in b.splitlines()] for b in blocks] == api
    return sum(map(len, tokens))
