"""LM specs are parsed once into LMSpec, against the registered kinds; every kind's embedder
implements the whole frozen-LM protocol, or cannot be built."""

import pytest

from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.frozen.kinds import KINDS, LMSpec
from taglm_tf.lm.frozen.loading import lm_perplexities, resolve_lm_spec
from taglm_tf.utils.errors import InputError


def test_specs_round_trip_and_map_their_paths():
    spec = LMSpec.parse("lm1b:/r/ckpt-*,/r/vocab.txt")
    assert (spec.kind, spec.paths, str(spec)) == (
        "lm1b",
        ("/r/ckpt-*", "/r/vocab.txt"),
        "lm1b:/r/ckpt-*,/r/vocab.txt",
    )
    assert str(spec.with_paths(lambda p: p.replace("/r", "/s"))) == "lm1b:/s/ckpt-*,/s/vocab.txt"
    assert str(LMSpec.parse("lstm_lm:runs/lm")) == "lstm_lm:runs/lm"
    assert set(KINDS) == {"lm1b", "lm1b_export", "lstm_lm"}


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "elmo:/x",
            "unknown LM kind 'elmo' in 'elmo:/x'; expected lm1b:CKPT_GLOB,VOCAB_FILE, lm1b_export:DIR, "
            "lstm_lm:MODEL_DIR",
        ),
        ("/just/a/path", "unknown LM kind '/just/a/path'"),
        ("lm1b:/r/ckpt-*", "LM spec 'lm1b:/r/ckpt-*': expected lm1b:CKPT_GLOB,VOCAB_FILE"),
        ("lstm_lm:", "LM spec 'lstm_lm:': expected lstm_lm:MODEL_DIR"),
        ("lstm_lm:a,b", "LM spec 'lstm_lm:a,b': expected lstm_lm:MODEL_DIR"),
    ],
    ids=["unknown kind", "no kind", "lm1b without its vocabulary", "empty path", "two paths"],
)
def test_malformed_specs_are_refused_where_they_are_read(text, message):
    with pytest.raises(InputError) as error:
        LMSpec.parse(text)
    assert str(error.value).startswith(message)
    with pytest.raises(InputError):
        resolve_lm_spec(text, "/data")


def test_relative_paths_resolve_under_the_data_dir(tmp_path, monkeypatch):
    (tmp_path / "data" / "lm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert resolve_lm_spec("lstm_lm:lm", str(tmp_path / "data")) == f"lstm_lm:{tmp_path / 'data' / 'lm'}"
    assert resolve_lm_spec("lstm_lm:data/lm", "/nowhere") == f"lstm_lm:{tmp_path / 'data' / 'lm'}"


def test_kinds_without_a_record_have_no_perplexity(tmp_path):
    assert lm_perplexities({"forward_lm": f"lm1b_export:{tmp_path}", "backward_lm": None}) is None
    assert lm_perplexities({}) is None


def test_an_embedder_lacking_part_of_the_protocol_cannot_be_built():
    class NoExport(SentenceEmbedder):  # embeds, but could not run inside a SavedModel
        def embed_sentences(self, sentences, batch_size=32):
            return []

        def embed_tokens(self, tokens):
            return tokens

    with pytest.raises(TypeError, match="trackables"):
        NoExport("no export", 4, "f" * 64)
