"""Signal handlers for the span of a block: the training loop's Ctrl-C and SIGTERM, and the
experiment drivers' stop of the runs they started."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator

# Python's own handling of each signal a block may take over: SIGINT raises KeyboardInterrupt,
# the others end the process.
PYTHON_DEFAULTS = {signal.SIGINT: signal.default_int_handler}


@contextlib.contextmanager
def handling(handler: Callable, signums: Iterable[int]) -> Iterator[None]:
    """Within the block, ``handler(signum, frame)`` handles each of ``signums`` whose handler is
    Python's default; a signal the process ignores (SIGHUP under ``nohup``, SIGINT in a
    background job) or handles itself is left alone. Python runs handlers in the main thread
    only, so in another thread nothing is set. The handlers are set, and restored when the block
    ends, with these signals held back (POSIX), so that none lands between two of them.
    """
    signums = tuple(signums)
    previous: dict = {}
    if threading.current_thread() is threading.main_thread():
        with _blocked(signums):
            for signum in signums:
                if signal.getsignal(signum) is PYTHON_DEFAULTS.get(signum, signal.SIG_DFL):
                    previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        with _blocked(signums):
            for signum, restore in previous.items():
                signal.signal(signum, restore)


@contextlib.contextmanager
def _blocked(signums: tuple) -> Iterator[None]:
    """``signums`` held back within the block (POSIX; nothing forks there, so no child inherits
    the mask)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, set(signums))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
