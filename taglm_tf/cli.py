"""Shared behaviour of the command-line tools."""
from __future__ import annotations

import os
import sys

from absl import app

from taglm_tf.errors import InputError

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


def run(main) -> None:
    """``absl.app.run`` that turns bad input into one clear line and exit status 1, and Ctrl-C
    into one line (where the run stopped, from :class:`~taglm_tf.errors.Interrupted`) and 130."""
    def guarded(argv):
        try:
            return main(argv)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt as e:
            print(str(e) or "interrupted", file=sys.stderr, flush=True)
            sys.stdout.flush()
            # Not sys.exit: interpreter shutdown while tf.data's generator threads are still
            # running can crash (SIGSEGV). What a run keeps is already on disk, written atomically.
            os._exit(INTERRUPTED_EXIT)
    app.run(guarded)
