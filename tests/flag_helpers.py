"""Parse a flagfile into a private flag set, as the tools would from the repo root."""

import os

from absl import flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_flagfile(define, path, *extra) -> flags.FlagValues:
    """``define(fv)`` registers a tool's flags; ``path`` is parsed with ``extra`` arguments.

    A fresh ``FlagValues`` keeps other tools' global flags out; nested ``--flagfile`` paths are
    relative to the repo root, so parsing happens there.
    """
    fv = flags.FlagValues()
    define(fv)
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        fv(["prog", f"--flagfile={path}", *extra])
    finally:
        os.chdir(cwd)
    return fv
