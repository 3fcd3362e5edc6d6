"""Flags generated from the config dataclasses build what the hand-written flag code built: every
flagfile gives the config recorded in tests/fixtures/flag_configs/ (written by that code), and the
tools keep every flag's name, type and default (``flags.json``)."""

import dataclasses
import glob
import json
import os

import pytest
from absl import flags

from experiments import lm_flags, tagging_flags
from flag_helpers import parse_flagfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "flag_configs")
FLAGFILES = sorted(glob.glob(os.path.join(REPO, "experiments", "flags", "*.cfg")))
# Nothing exists under this data directory, so every relative path resolves the same way on any
# machine; the repository's own path is written as <repo>.
DATA_DIR = "/nonexistent/taglm_data"
DEFINERS = {
    "tagging": tagging_flags.define_flags,
    "pretrain_lm": lm_flags.define_pretrain_flags,
    "eval_lm": lm_flags.define_eval_flags,
}


def built_config(path) -> dict:
    """The config that ``path`` gives its tool, as JSON (tuples as lists, <repo> for the checkout)."""
    name = os.path.basename(path)
    args = (path, "--model_dir=/tmp/x", f"--data_dir={DATA_DIR}")
    if name.startswith("lm_"):
        config = dataclasses.asdict(
            lm_flags.pretrain_config_from_flags(parse_flagfile(lm_flags.define_pretrain_flags, *args))
        )
    else:
        prefix = name.split("_")[0]
        task = {"chunk": "chunking"}.get(prefix, prefix)
        config = tagging_flags.config_from_flags(
            task, parse_flagfile(tagging_flags.define_flags, *args)
        ).to_dict()
    return json.loads(json.dumps(config).replace(REPO, "<repo>"))


def flag_definitions(define) -> dict:
    """``{name: [type, default, enum values, lower bound]}`` of the flags ``define`` registers."""
    fv = flags.FlagValues()
    define(fv)
    return {
        name: [
            fv[name].flag_type(),
            fv[name].default,
            getattr(fv[name].parser, "enum_values", None),
            getattr(fv[name].parser, "lower_bound", None),
        ]
        for name in fv
    }


def golden(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def test_every_flagfile_has_a_golden_config():
    assert {os.path.basename(p)[:-4] for p in FLAGFILES} == {
        n[:-5] for n in os.listdir(FIXTURES) if n.endswith(".json") and n != "flags.json"
    }


@pytest.mark.parametrize("path", FLAGFILES, ids=os.path.basename)
def test_flagfile_builds_its_golden_config(path, monkeypatch):
    monkeypatch.chdir(REPO)  # nested --flagfile paths and relative LM paths are the repo root's
    built, expected = built_config(path), golden(os.path.basename(path)[:-4] + ".json")
    assert built == expected
    assert json.dumps(built, sort_keys=True) == json.dumps(expected, sort_keys=True)  # 1 is not 1.0


@pytest.mark.parametrize("tool", sorted(DEFINERS))
def test_flags_keep_their_names_types_and_defaults(tool):
    assert flag_definitions(DEFINERS[tool]) == golden("flags.json")[tool]
