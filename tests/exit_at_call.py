"""Run a CLI in this process and kill it (``os._exit``, as SIGKILL would: no clean-up, no
``finally``) at the Nth call of a function, so that tests stop a writer at an exact point.

Usage: python tests/exit_at_call.py MODULE:ATTR N before|after CLI_MODULE [FLAGS...]
replaces ``ATTR`` (dotted, e.g. ``Saver.save``) of ``MODULE`` with a wrapper that exits with
status 9 on its Nth call, before calling it or after it returns, then goes on as
``python -m CLI_MODULE FLAGS...`` would.
"""

import functools
import importlib
import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KILLED = 9


def main():
    target, nth, when, module, *flags = sys.argv[1:]
    module_name, attr = target.split(":")
    owner = importlib.import_module(module_name)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    original, calls = getattr(owner, name), [0]

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(nth) and when == "before":
            os._exit(KILLED)
        result = original(*args, **kwargs)
        if calls[0] == int(nth) and when == "after":
            os._exit(KILLED)
        return result

    setattr(owner, name, wrapper)
    sys.argv = [module, *flags]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
