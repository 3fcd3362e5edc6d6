"""Run files on disk: atomic output (a file either appears complete or not at all), the check
of an output path before any work, the guard that keeps a run directory from being overwritten,
and the clean-up of a run that fails before it has saved anything worth resuming."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
from typing import Iterable, Iterator, Optional

from taglm_tf.errors import InputError


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds.

    The temporary is ``STEM.tmp-PID.EXT``. Temporaries of ``path`` that a killed process left
    (their PID no longer runs) are removed first, so a kill never leaves a second, half-made
    copy of an output beside it for good."""
    path = os.path.normpath(os.fspath(path))
    stem, ext = os.path.splitext(path)
    remove_dead_temporaries(stem, ext)
    tmp = f"{stem}.tmp-{os.getpid()}{ext}"  # keep the extension: Keras dispatches on it
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


def remove_dead_temporaries(stem: str, ext: str = "") -> None:
    """Delete ``STEM.tmp-PID.EXT`` files and folders whose process ``PID`` has ended."""
    folder, name = os.path.split(stem)
    prefix = name + ".tmp-"
    for entry in os.listdir(folder or ".") if os.path.isdir(folder or ".") else ():
        pid = entry[len(prefix):len(entry) - len(ext)] if entry.startswith(prefix) and entry.endswith(ext) else ""
        if pid.isdigit() and not _running(int(pid)):
            target = os.path.join(folder, entry)
            shutil.rmtree(target, ignore_errors=True) if os.path.isdir(target) else os.remove(target)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextlib.contextmanager
def exclusive_lock(path: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path + ".lock"`` for the block, waiting for any other
    process holding it. For work that several runs may start at once (e.g. ``run_seeds
    --parallel``), so that one does it and the others wait and reuse it. The lock file exists
    only while the lock is held: the holder removes it, and a waiter that then wakes on the
    removed file tries again. ``fcntl.flock``: POSIX only; elsewhere the block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    lock = f"{path}.lock"
    while True:
        handle = open(lock, "a")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.stat(lock).st_ino == os.fstat(handle.fileno()).st_ino:
                break  # still the file at that path: ours
        except FileNotFoundError:
            pass
        handle.close()  # the previous holder removed it: lock the current one
    try:
        yield
    finally:
        os.remove(lock)
        handle.close()


def check_output_path(path: str, inputs: Iterable[str] = (), what: str = "the output",
                      folder: bool = False) -> None:
    """Refuse an output path before any work. A file's folder must exist and be writable; a
    folder may be created, inside the nearest existing folder above it, which must be writable.
    Neither may be one of ``inputs`` (paths or globs, e.g. ``DIR/ckpt-*``).

    Raises:
        InputError: naming ``what`` (e.g. ``--output_file``) and the path.
    """
    target = os.path.realpath(path)
    parent = os.path.dirname(target)
    if folder:
        while not os.path.exists(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise InputError(f"{what}: its folder {os.path.dirname(os.path.abspath(path))} does not exist", path)
    if not os.access(parent, os.W_OK) or (os.path.exists(target) and not os.access(target, os.W_OK)):
        raise InputError(f"{what}: not writable", path)
    if not folder and os.path.isdir(target):
        raise InputError(f"{what}: is a folder, not a file", path)
    for spec in inputs:
        for found in (glob.glob(spec) or [spec]) if spec else ():
            if os.path.realpath(found) == target:
                raise InputError(f"{what} is also an input ({found}): it would be overwritten; "
                                 "write the output elsewhere", path)


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8; the file appears complete or not at all."""
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


@contextlib.contextmanager
def discard_on_failure(run_dir: str, marker: str) -> Iterator[None]:
    """If the block fails (any exception, Ctrl-C included) while ``run_dir/marker`` does not
    exist, remove what the block created in ``run_dir`` (and ``run_dir`` itself if it created
    it), so a run that never got to save its first resumable state leaves nothing behind. Once
    the marker exists, or if it existed before, nothing is ever removed."""
    existed: Optional[set] = set(os.listdir(run_dir)) if os.path.isdir(run_dir) else None
    resuming = os.path.exists(os.path.join(run_dir, marker))
    try:
        yield
    except BaseException:
        if not resuming and not os.path.exists(os.path.join(run_dir, marker)) and os.path.isdir(run_dir):
            for name in set(os.listdir(run_dir)) - (existed or set()):
                path = os.path.join(run_dir, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
            if existed is None and not os.listdir(run_dir):
                os.rmdir(run_dir)
        raise


def remove_partial_checkpoints(directory: str) -> None:
    """Delete ``ckpt-N_temp/`` folders that a kill during ``CheckpointManager.save`` left."""
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith("_temp") and os.path.isdir(os.path.join(directory, name)):
                shutil.rmtree(os.path.join(directory, name), ignore_errors=True)
