"""Shared behaviour of the command-line tools."""
from __future__ import annotations

import sys

from absl import app

from taglm_tf.errors import InputError


def run(main) -> None:
    """``absl.app.run`` that turns bad input into one clear line and exit status 1."""
    def guarded(argv):
        try:
            return main(argv)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(1)
    app.run(guarded)
