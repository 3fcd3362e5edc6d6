"""Run files on disk: atomic output (a file either appears complete or not at all) and the
guard that keeps a run directory from being overwritten."""
from __future__ import annotations

import contextlib
import os
import shutil
from typing import Iterator

from taglm_tf.errors import InputError


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds."""
    path = os.path.normpath(os.fspath(path))
    stem, ext = os.path.splitext(path)
    tmp = f"{stem}.tmp-{os.getpid()}{ext}"  # keep the extension: Keras dispatches on it
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path: str, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def check_run_dir(model_dir: str, marker: str, resume: bool) -> bool:
    """True if ``model_dir`` holds a run (its ``marker`` file exists) to resume; an
    :class:`InputError` if it does and ``resume`` is off, so a run is never overwritten."""
    exists = os.path.exists(os.path.join(model_dir, marker))
    if exists and not resume:
        raise InputError("holds a previous run; pass --resume to continue it or use a new --model_dir",
                         model_dir)
    return exists
