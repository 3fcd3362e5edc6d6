"""The Python API (``taglm_tf.Tagger``) on the tiny baseline model: every input form, spans with
character offsets, and the same output as ``python -m taglm_tf.tag``."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import taglm_tf
from taglm_tf.data import conll, tag_schemes
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.tokenize import tokenize
from taglm_tf.models.evaluation import Predictor
from taglm_tf.serving import api
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[2]

RAW = (
    "John Smith lives in New York. The European Commission said on Thursday it disagreed "
    "with German advice to consumers.\n\nEU rejects German call to boycott British lamb!  "
    'Peter Blackburn, BRUSSELS 1996-08-22: Mr. Novak of the U.S. said "no" in Zürich.'
)
TOKENS = [
    ["John", "Smith", "lives", "in", "New", "York", "."],
    ["Peter", "Blackburn"],
    "Juan Carlos de Borbon met the European Commission in New York on Thursday .".split(),
]


@pytest.fixture(scope="module")
def api_tagger(model_dir):
    return api.Tagger.load(model_dir)


@pytest.fixture(scope="module")
def reference(tagger):
    """Tags straight from Predictor (the code path before the API), in IOB1."""
    predictor = Predictor(tagger.model, tagger.resources.tags)

    def run(token_lists):
        sentences = [conll.Sentence(tuple(t), ("O",) * len(t)) for t in token_lists]
        return predictor.predict(TaggingData(sentences, tagger.resources.featurizer()), "iob1")

    return run


def check_spans(sentence, text=None):
    """Spans are exactly the chunks of the tags, and their text/offsets point at the input."""
    chunks = tag_schemes.tags_to_chunks(sentence.tags)
    assert [(s.type, s.start, s.end) for s in sentence.spans] == [tuple(c) for c in chunks]
    for span in sentence.spans:
        if text is None:
            assert span.char_start is None and span.text == " ".join(sentence.tokens[span.start : span.end])
        else:
            assert span.char_start == sentence.offsets[span.start][0]
            assert span.char_end == sentence.offsets[span.end - 1][1]
            assert text[span.char_start : span.char_end] == span.text


def test_lazy_top_level_export():
    assert taglm_tf.Tagger is api.Tagger
    with pytest.raises(AttributeError):
        taglm_tf.NoSuchThing  # noqa: B018


def test_raw_text_sentences_offsets_and_tags(api_tagger, reference):
    out = api_tagger.predict(RAW, batch_size=2)
    expected = tokenize(RAW)
    assert [s.tokens for s in out] == [e.tokens for e in expected]
    assert len(out) == 4 and out[1].tokens[:3] == ("The", "European", "Commission")
    assert out[3].tokens == (
        "Peter",
        "Blackburn",
        ",",
        "BRUSSELS",
        "1996-08-22",
        ":",
        "Mr.",
        "Novak",
        "of",
        "the",
        "U.S.",
        "said",
        '"',
        "no",
        '"',
        "in",
        "Zürich",
        ".",
    )
    assert [list(s.tags) for s in out] == reference([s.tokens for s in out])
    for s in out:
        assert s.source == 0 and len(s.tags) == len(s.tokens)
        assert [RAW[a:b] for a, b in s.offsets] == list(s.tokens)
        check_spans(s, RAW)
    assert sum(len(s.spans) for s in out) > 0


def test_token_lists_and_conll_sentences(api_tagger, reference):
    expected = reference(TOKENS)
    by_list = api_tagger.predict(TOKENS)
    assert [list(s.tags) for s in by_list] == expected
    sentences = [
        conll.Sentence(tuple(t), ("O",) * len(t), tuple(("NNP", str(i)) for i in range(len(t))))
        for t in TOKENS
    ]
    by_conll = api_tagger.predict(sentences, batch_size=1)
    assert [list(s.tags) for s in by_conll] == expected
    assert by_conll[2].columns == sentences[2].columns and by_list[2].columns == ()
    for s in by_list + by_conll:
        assert s.offsets is None
        check_spans(s)
    assert [s.source for s in by_list] == [0, 1, 2]
    single = api_tagger.predict(sentences[0])
    assert [s.tags for s in single] == [by_conll[0].tags]


def test_mixed_inputs_keep_order_and_sources(api_tagger, reference):
    inputs = ["Peter Blackburn went home. He slept.", TOKENS[0], "", ["Zürich"], TOKENS[2], []]
    out = api_tagger.predict(inputs, batch_size=3)
    assert [s.source for s in out] == [0, 0, 1, 3, 4, 5]
    assert [s.tokens for s in out] == [
        ("Peter", "Blackburn", "went", "home", "."),
        ("He", "slept", "."),
        tuple(TOKENS[0]),
        ("Zürich",),
        tuple(TOKENS[2]),
        (),
    ]
    assert [list(s.tags) for s in out[:5]] == reference([s.tokens for s in out[:5]])
    assert out[5].tags == () and out[5].spans == ()
    streamed = list(api_tagger.predict_iter(iter(inputs), batch_size=2, chunk_size=2))
    assert streamed == out


def test_to_dict(api_tagger):
    raw, tokens = api_tagger.predict(["New York. Paris", TOKENS[0]])[::2]
    record = raw.to_dict()
    assert record["offsets"] == [[0, 3], [4, 8], [8, 9]]
    assert set(record) == {"tokens", "tags", "entities", "offsets"}
    assert all({"char_start", "char_end"} <= set(e) for e in record["entities"])
    assert set(tokens.to_dict("chunks")) == {"tokens", "tags", "chunks"}


def test_tokens_are_looked_up_in_nfc_and_returned_as_given(api_tagger, reference):
    composed = "Renée of Société Générale said on Thursday ."
    nfd = unicodedata.normalize("NFD", composed)
    # Read as given, the decomposed tokens get other tags from this model.
    assert reference([nfd.split()]) != reference([composed.split()])
    out = api_tagger.predict(nfd)
    assert out[0].tokens == tuple(nfd.split()) and [nfd[a:b] for a, b in out[0].offsets] == nfd.split()
    assert [list(out[0].tags)] == reference([composed.split()])


@pytest.mark.parametrize(
    "bad, error",
    [
        ([["New York"]], InputError),
        ([["", "x"]], InputError),
        ([[" x"]], InputError),
        ([3], TypeError),
        ([[1, 2]], InputError),
    ],
)
def test_bad_inputs(api_tagger, bad, error):
    with pytest.raises(error):
        api_tagger.predict(bad)


def test_a_numpy_integer_batch_size_is_taken(api_tagger):
    assert api_tagger.predict("Paris is big.", batch_size=np.int64(4)) == api_tagger.predict("Paris is big.")


@pytest.mark.parametrize("size", [0, -5, 2.0, True])
def test_a_batch_size_that_is_no_positive_integer_is_refused(api_tagger, size):
    with pytest.raises(ValueError, match=rf"^batch_size must be a positive integer, not {size!r}$"):
        api_tagger.predict("Paris is big.", batch_size=size)
    with pytest.raises(ValueError, match="^batch_size must be"):
        api_tagger.tag_tokens([["Paris"]], batch_size=size)
    with pytest.raises(ValueError, match="^chunk_size must be"):
        next(api_tagger.predict_iter("Paris is big.", chunk_size=0))


@pytest.mark.parametrize(
    "bad, where", [(b"Paris .", "inputs"), ([b"Paris ."], "input 0"), (bytearray(b"x"), "inputs")]
)
def test_bytes_are_refused_with_a_hint_to_decode(api_tagger, bad, where):
    with pytest.raises(TypeError, match=rf"^{where}: expected .*got (bytes|bytearray): decode it first"):
        api_tagger.predict(bad)


def test_api_matches_cli(api_tagger, model_dir, tmp_path):
    (tmp_path / "raw.txt").write_text(RAW, encoding="utf-8")
    (tmp_path / "tok.txt").write_text("".join(" ".join(t) + "\n" for t in TOKENS), encoding="utf-8")
    base = [
        sys.executable,
        "-m",
        "taglm_tf.tag",
        f"--model_dir={model_dir}",
        "--format=json",
        "--batch_size=2",
    ]
    procs = [
        subprocess.Popen(
            base + [f"--input={tmp_path / name}", f"--input_format={fmt}"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name, fmt in (("raw.txt", "raw"), ("tok.txt", "text"))
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        outputs.append([json.loads(line) for line in out.decode("utf-8").splitlines()])
    raw_cli, tok_cli = outputs
    assert raw_cli == [s.to_dict() for s in api_tagger.predict(RAW)]
    assert tok_cli == [s.to_dict() for s in api_tagger.predict(TOKENS)]
    assert all(RAW[a:b] == t for r in raw_cli for t, (a, b) in zip(r["tokens"], r["offsets"]))
    assert all(RAW[e["char_start"] : e["char_end"]] == e["text"] for r in raw_cli for e in r["entities"])


def test_api_cli_and_savedmodel_tag_eng_testa_alike(model_dir, tmp_path):
    from data_paths import require_real_file
    from one_path_check import check_one_path

    tokens = check_one_path(
        model_dir, str(require_real_file("conll2003", "eng.testa")), str(tmp_path / "export")
    )
    assert tokens == 51_362
