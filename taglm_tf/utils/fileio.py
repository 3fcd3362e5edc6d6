"""Run files on disk: atomic output (a file either appears complete or not at all), the check
of an output path before any work, the guard that keeps a run directory from being overwritten,
and the clean-up of a run that fails before it has saved anything worth resuming."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fnmatch
import glob
import os
import re
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator

from taglm_tf.utils.errors import InputError


@contextlib.contextmanager
def atomic_path(path: str, replace_folder: bool = False) -> Iterator[str]:
    """Yield a temporary sibling path (its folder created if missing); rename it onto ``path``
    only if the block succeeds. A ``path`` that is a symbolic link is written through: the file
    or folder it names is replaced and the link stays, as ``check_output_path`` checks the
    link's target against the inputs.

    The temporary is ``STEM.tmp-HOST-PID.EXT``. Temporaries of ``path`` that a killed process
    of this host left (its PID no longer runs) are removed first, so a kill never leaves a
    second, half-made copy of an output beside it for good; those of other hosts (a shared file
    system) are left alone.

    A file replaces an existing file in one step. With ``replace_folder``, a folder written at
    the temporary also replaces an existing folder at ``path`` (which a plain rename refuses
    unless it is empty), whatever it holds: the two are exchanged in one step (Linux
    ``renameat2(RENAME_EXCHANGE)``) and the old one, now at the temporary, is removed. So a
    reader, or a kill, sees the old folder whole or the new one whole, never a mix; a kill
    just after the exchange leaves the old folder at the temporary, removed by the next write.
    Where the file system cannot exchange folders, the old one is first renamed aside (to
    ``STEM.old-HOST-PID.EXT``, cleaned like a temporary): a kill in the instant between the two
    renames leaves no folder at ``path``. The caller decides whether an existing folder may be
    replaced (e.g. only one it wrote itself)."""
    path, tmp = _temporary_of(path)
    try:
        yield tmp
        if replace_folder and os.path.isdir(tmp) and os.path.isdir(path):
            stem, ext = os.path.splitext(path)
            _replace_folder(tmp, path, f"{stem}.old-{_HOST}-{os.getpid()}{ext}")
        else:
            os.replace(tmp, path)
    finally:
        _remove(tmp)


@contextlib.contextmanager
def scratch_folder(path: str) -> Iterator[str]:
    """Yield a new, empty folder beside ``path`` for work files, named as :func:`atomic_path`
    names its temporary of ``path`` (``STEM.tmp-HOST-PID.EXT``) and removed when the block ends,
    whether it succeeds or not. A kill leaves it behind only until the next
    :func:`scratch_folder` or :func:`atomic_path` of ``path`` removes it, so a writer that needs a
    folder of its own (e.g. a library that writes a file under a name of its choosing) leaves
    nothing for good."""
    path, tmp = _temporary_of(path)
    _remove(tmp)
    os.mkdir(tmp)
    try:
        yield tmp
    finally:
        _remove(tmp)


def output_target(path: str) -> str:
    """What a write to ``path`` replaces: the path with every symbolic link on it followed, as
    the system follows them (a ``..`` after a link leaves the folder the link names), so that
    the file written is the one :func:`check_output_path` checked against the inputs.

    Raises:
        InputError: ``path`` is a loop of links (there is no file it names).
    """
    target = os.path.realpath(os.fspath(path))
    if os.path.islink(target):  # realpath stops where links loop
        raise InputError("a loop of symbolic links: no file to write", os.fspath(path))
    return target


def _temporary_of(path: str) -> tuple[str, str]:
    """``(path normalised, its temporary)``, after making the folder of ``path`` and removing
    the temporaries of ``path`` that dead processes left (``path`` as :func:`output_target`)."""
    path = output_target(path)
    stem, ext = os.path.splitext(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # an output's folders are made as it is written
    remove_dead_temporaries(stem, ext)
    return path, f"{stem}.tmp-{_HOST}-{os.getpid()}{ext}"  # keep the extension: Keras dispatches on it


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"
_RENAME_EXCHANGE, _AT_FDCWD = 2, -100  # <linux/fs.h>, <fcntl.h>


def _exchange(a: str, b: str) -> bool:
    """Swap the entries ``a`` and ``b`` in one step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # glibc < 2.28, another libc
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno_ = ctypes.get_errno()
    if errno_ in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # not on this file system
        return False
    raise OSError(errno_, os.strerror(errno_), b)


def _replace_folder(new: str, path: str, aside: str) -> None:
    """Put the folder ``new`` at ``path`` in place of the folder there; the old one ends up at
    ``new`` (removed by :func:`atomic_path`)."""
    if _exchange(new, path):
        return
    os.rename(path, aside)
    os.rename(new, path)
    os.rename(aside, new)


def remove_dead_temporaries(stem: str, ext: str = "") -> None:
    """Delete this host's ``STEM.tmp-HOST-PID.EXT`` (and ``STEM.old-HOST-PID.EXT``, a replaced
    folder moved aside) files and folders whose process has ended.
    POSIX only (elsewhere a PID cannot be probed without side effects); a temporary that
    another process removes first is no error."""
    if os.name != "posix":
        return
    folder, name = os.path.split(stem)
    pattern = re.compile(
        re.escape(name) + r"\.(?:tmp|old)-" + re.escape(f"{_HOST}-") + r"([0-9]{1,9})" + re.escape(ext) + "$"
    )
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return
    for entry in entries:
        found = pattern.match(entry)
        if found and not _running(int(found.group(1))):
            target = os.path.join(folder, entry)
            try:
                shutil.rmtree(target) if os.path.isdir(target) and not os.path.islink(target) else os.remove(
                    target
                )
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process; no such PID number
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


DATA_DIR_ENV = "TAGLM_DATA_DIR"


def default_data_dir() -> str:
    """``$TAGLM_DATA_DIR``, else ``data`` (relative to the working directory): where the tools
    look for data paths given relative to it (:mod:`taglm_tf.data.paths`)."""
    return os.environ.get(DATA_DIR_ENV, "data")


def check_output_path(
    path: str, inputs: Iterable[str] = (), what: str = "the output", folder: bool = False, new: bool = False
) -> None:
    """Refuse an output path before any work. It may not be one of ``inputs`` (paths or globs,
    e.g. ``DIR/ckpt-*``, which it may not match either), an existing file inside an input folder, or (a folder output) a folder
    holding an input. Missing folders above it are created when it is written, inside the
    nearest existing folder, which must be a writable folder. An existing path must be of the
    kind expected (a regular file, or with ``folder`` a folder), and with ``new`` (a folder written
    whole, replacing nothing) an existing folder must be empty.

    Raises:
        InputError: naming ``what`` (e.g. ``--output_file``) and the path.
    """
    target = output_target(path)  # what the write will replace
    # ``path`` itself, not ``target``: /proc's links (/dev/stdout on a pipe) resolve only by stat
    exists = os.path.exists(path)
    if exists and os.path.isdir(path) != folder:
        raise InputError(
            f"{what}: is a {'file' if folder else 'folder'}, not a {'folder' if folder else 'file'}", path
        )
    if exists and not folder and not os.path.isfile(path):
        # an output is written beside and renamed into place, which would replace the device
        raise InputError(f"{what}: not a regular file (a device, FIFO or socket)", path)
    for spec in inputs:
        for found in (glob.glob(spec) or [spec]) if spec else ():
            _refuse_overlap(target, os.path.realpath(found), found, what, path, folder)
        if spec and glob.has_magic(spec) and fnmatch.fnmatchcase(target, os.path.realpath(spec)):
            # a new file there would be read as one of the input's (lm1b's ckpt-* shards)
            raise InputError(f"{what} matches an input ({spec}): write the output elsewhere", path)
    if new and os.path.isdir(target) and os.listdir(target):
        raise InputError(f"{what}: exists and is not empty; give a new folder", path)
    parent = os.path.dirname(target)
    while not os.path.exists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise InputError(f"{what}: {parent} is not a folder", path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what}: cannot write in {parent}", path)


def _refuse_overlap(target: str, source: str, given: str, what: str, path: str, folder: bool) -> None:
    """An :class:`InputError` when writing ``target`` would overwrite input ``source`` or a file
    of input folder ``source`` (a new file beside an input's files is fine)."""
    if source == target or (os.path.isdir(source) and _inside(target, source) and os.path.exists(target)):
        where = "is also an input" if source == target else "is a file of an input folder"
        raise InputError(
            f"{what} {where} ({given}): it would be overwritten; write the output elsewhere", path
        )
    if folder and _inside(source, target):
        raise InputError(
            f"{what} holds an input ({given}): it would be overwritten; write the output elsewhere", path
        )


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder and path != folder


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8; the file appears complete or not at all."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def check_run_dir(model_dir: str, marker: str, resume: bool) -> bool:
    """True if ``model_dir`` holds a run (its ``marker`` file exists) to resume; an
    :class:`InputError` if it does and ``resume`` is off, so a run is never overwritten. With
    ``resume`` and no run there, a new run starts (as job runners rely on) and one line on
    stderr says so, so that a mistyped ``--model_dir`` shows."""
    exists = os.path.exists(os.path.join(model_dir, marker))
    if exists and not resume:
        raise InputError(
            "holds a previous run; pass --resume to continue it or use a new --model_dir", model_dir
        )
    if resume and not exists:
        print(f"{model_dir}: nothing saved to resume here; starting a new run", file=sys.stderr, flush=True)
    return exists


@contextlib.contextmanager
def discard_on_failure(run_dir: str, marker: str) -> Iterator[None]:
    """If the block fails (any exception, Ctrl-C included) while ``run_dir/marker`` does not
    exist, remove what the block created in ``run_dir`` (and ``run_dir`` itself if it created
    it), so a run that never got to save its first resumable state leaves nothing behind. Once
    the marker exists, or if it existed before, nothing is ever removed."""
    existed: set | None = set(os.listdir(run_dir)) if os.path.isdir(run_dir) else None
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
