"""Tests for the serving export ``python -m taglm_tf.export`` on a tiny random-weight model.

(Not named test_export.py: tests/lm_1b_export/test_export.py has that basename.)
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.models.evaluation import Predictor
from taglm_tf.serving import export, module
from taglm_tf.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]

SENTENCES = [
    "John Smith lives in New York .".split(),
    "EU rejects German call to boycott British lamb .".split(),
    ["Zürich"],
    "The European Commission said on Thursday it disagreed with German advice .".split(),
    "Juan Carlos de Borbon visited the New York Stock Exchange".split(),
]


def padded(sentences, width=None):
    width = width or max(map(len, sentences))
    return tf.constant([s + [""] * (width - len(s)) for s in sentences])


@pytest.fixture(scope="session")
def cli(model_dir, tmp_path_factory):
    """Export with the CLI, and (concurrently) try to export onto an existing directory."""
    tmp = tmp_path_factory.mktemp("export")
    cmd = [sys.executable, "-m", "taglm_tf.export", f"--model_dir={model_dir}"]
    procs = {
        "ok": subprocess.Popen(
            cmd + [f"--export_dir={tmp / 'out'}"],
            cwd=REPO,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
        "exists": subprocess.Popen(
            cmd + [f"--export_dir={model_dir}"],
            cwd=REPO,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
    }
    taken = tmp.parent / f"{tmp.name}_taken"  # beside tmp, whose listing a test checks
    taken.mkdir()
    procs["other_exists"] = subprocess.Popen(
        cmd + [f"--export_dir={taken}"], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    results = {"other_dir": taken}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        results[name] = (proc.returncode, out, err)
    return tmp, results


@pytest.fixture(scope="session")
def serve(cli):
    code, _, err = cli[1]["ok"]
    assert code == 0, err
    return tf.saved_model.load(str(cli[0] / "out")).signatures["serving_default"]


def test_cli_writes_savedmodel_and_export_info(cli, model_dir, tagger):
    tmp, results = cli
    code, out, err = results["ok"]
    assert code == 0, err
    assert out.strip() == f"exported {tmp / 'out'}"
    assert sorted(os.listdir(tmp)) == ["out"]  # no temporary directory left behind
    assert {"saved_model.pb", "variables", export.EXPORT_INFO} <= set(os.listdir(tmp / "out"))
    info = json.loads((tmp / "out" / export.EXPORT_INFO).read_text(encoding="utf-8"))
    assert info["task"] == "ner" and info["tag_scheme"] == "iob1" and info["tag_ids_scheme"] == "iobes"
    assert info["tag_vocabulary"] == tagger.resources.tags.items
    assert info["config"] == tagger.config


def test_cli_refuses_existing_export_dir(cli, model_dir):
    """The model directory itself is refused as an input; another existing folder as one that
    exists. Neither is touched."""
    code, out, err = cli[1]["exists"]
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == (
        f"error: {model_dir}: --export_dir is also an input ({model_dir}): "
        "it would be overwritten; write the output elsewhere"
    )
    code, out, err = cli[1]["other_exists"]
    assert code == 1 and out == ""
    assert (
        err.strip().splitlines()[-1]
        == f"error: {cli[1]['other_dir']}: already exists; choose a new --export_dir"
    )


def test_missing_model_dir(tmp_path):
    with pytest.raises(InputError, match="missing: no such folder"):
        export.export_tagger(str(tmp_path / "missing"), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_signature(serve):
    _, inputs = serve.structured_input_signature
    assert inputs == {"tokens": tf.TensorSpec([None, None], tf.string, name="tokens")}
    outputs = serve.structured_outputs
    assert set(outputs) == {"tags", "tag_ids"}
    assert outputs["tags"].dtype == tf.string and outputs["tag_ids"].dtype == tf.int32


def test_tag_ids_equal_keras_model(serve, tagger):
    tokens = padded(SENTENCES)
    got = serve(tokens=tokens)["tag_ids"].numpy()
    featurizer = tagger.resources.featurizer()
    want = tagger.model(featurizer(tokens), training=False)["tags"].numpy()
    np.testing.assert_array_equal(got, want)
    assert got.shape == tokens.shape and len(np.unique(got)) > 3


def test_tags_equal_predictor_and_padding_is_empty(serve, tagger):
    out = serve(tokens=padded(SENTENCES))
    tags, ids = out["tags"].numpy().astype(str), out["tag_ids"].numpy()
    data = TaggingData(
        [conll.Sentence(tuple(s), ("O",) * len(s)) for s in SENTENCES], tagger.resources.featurizer()
    )
    expected = Predictor(tagger.model, tagger.resources.tags).predict(data, "iob1")
    for row, sentence in enumerate(SENTENCES):
        n = len(sentence)
        assert list(tags[row, :n]) == expected[row]
        assert set(tags[row, n:]) <= {""} and not ids[row, n:].any()
    assert any(t.startswith("B-") for row in expected for t in row)  # IOB1 B- cases are covered


def test_same_tags_whatever_the_batch_and_padding(serve):
    together = serve(tokens=padded(SENTENCES))["tags"].numpy()
    wide = serve(tokens=padded(SENTENCES[::-1], width=20))["tags"].numpy()[::-1]
    for row, sentence in enumerate(SENTENCES):
        n = len(sentence)
        alone = serve(tokens=padded([sentence]))["tags"].numpy()[0]
        assert list(alone) == list(together[row, :n]) == list(wide[row, :n])
        assert set(wide[row, n:]) == {b""}


@pytest.mark.parametrize("row", [["", "", "Norvia", "Telecom", "rose"], ["to", "", "Tiberon"]])
def test_an_empty_token_before_a_token_is_refused_as_the_api_refuses_it(serve, model_dir, row):
    """Left padding, or a sentence split on single spaces, would be decoded as a shorter
    sentence (real tokens tagged as padding): the served model refuses it, like the API."""
    from taglm_tf.serving.api import Tagger
    from taglm_tf.utils.errors import InputError

    with pytest.raises(tf.errors.InvalidArgumentError, match="empty strings are only right padding"):
        serve(tokens=tf.constant([row, ["fine"] + [""] * (len(row) - 1)]))
    with pytest.raises(InputError):
        Tagger.load(model_dir).predict([row])


@pytest.mark.parametrize("token", ["New York", "Peter\tBlackburn", "Peter\nBlackburn", " ", "a\rb"])
def test_a_token_with_a_space_tab_or_line_break_is_refused_as_the_api_refuses_it(serve, model_dir, token):
    from taglm_tf.serving.api import Tagger
    from taglm_tf.utils.errors import InputError

    with pytest.raises(tf.errors.InvalidArgumentError, match="a token holds a space, tab or line break"):
        serve(tokens=tf.constant([["EU", token, "rejects"]]))
    with pytest.raises(InputError, match="without spaces, tabs or line breaks"):
        Tagger.load(model_dir).predict([["EU", token, "rejects"]])


def test_the_served_model_reads_tokens_in_nfc_as_the_api_does(serve, model_dir, tagger):
    """Decomposed tokens get the tags and tag ids of their NFC forms from the SavedModel, and
    the API's tags: both normalize in the one traced graph."""
    import unicodedata

    from taglm_tf.serving.api import Tagger

    composed = "Renée of Société Générale said on Thursday .".split()
    decomposed = [unicodedata.normalize("NFD", t) for t in composed]
    as_given = Predictor(tagger.model, tagger.resources.tags).predict(
        TaggingData([conll.Sentence(tuple(decomposed), ("O",) * 8)], tagger.resources.featurizer()), "iob1"
    )
    served = {
        name: {k: v.numpy().tolist()[0] for k, v in serve(tokens=tf.constant([form])).items()}
        for name, form in (("decomposed", decomposed), ("composed", composed))
    }
    assert served["decomposed"] == served["composed"]
    tags = [t.decode() for t in served["composed"]["tags"]]
    assert as_given != [tags]  # read as given, the decomposed tokens get other tags
    assert list(Tagger.load(model_dir).predict([decomposed])[0].tags) == tags


def test_batches_without_tokens(serve):
    for tokens in (tf.fill([2, 3], ""), tf.zeros([0, 0], tf.string), tf.fill([1, 0], "")):
        out = serve(tokens=tokens)
        assert out["tags"].shape == out["tag_ids"].shape == tokens.shape
        assert set(out["tags"].numpy().ravel()) <= {b""} and not out["tag_ids"].numpy().any()


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "iobes"])
def test_convert_ids_matches_python_converter(scheme):
    """Every sequence of up to 4 tags, well-formed or not, converts as tag_schemes.convert."""
    items = ["<pad>", "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-NP-SBJ", "I-NP-SBJ", "S-NP-SBJ"]
    rows = [
        list(seq) + [0] * (4 - n)
        for n in range(1, 5)
        for seq in itertools.product(range(len(items)), repeat=n)
    ]
    lengths = [n for n in range(1, 5) for _ in range(len(items) ** n)]
    ids = tf.constant(rows, tf.int32)
    present = tf.sequence_mask(lengths, 4)
    got = module.convert_ids(ids, present, items, scheme).numpy().astype(str)
    for row, n, tags in zip(rows, lengths, got):
        source = [items[i] if i else "O" for i in row[:n]]
        assert list(tags[:n]) == tag_schemes.convert(source, scheme), source
        assert set(tags[n:]) <= {""}
