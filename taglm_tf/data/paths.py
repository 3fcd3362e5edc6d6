"""Where the data lives: ``$TAGLM_DATA_DIR`` (default ``./data``) and paths relative to it."""

from __future__ import annotations

import os

from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import DATA_DIR_ENV, default_data_dir

__all__ = ["DATA_DIR_ENV", "check_data_file", "default_data_dir", "resolve_data_path"]


def resolve_data_path(path: str, data_dir: str) -> str:
    """``path`` as given if it exists (or is absolute), else under ``data_dir`` if it exists there."""
    if not path or os.path.isabs(path) or os.path.exists(path):
        return path
    in_data = os.path.join(data_dir, path)
    return in_data if os.path.exists(in_data) else path


def check_data_file(path: str, data_dir: str, what: str, override_flag: str | None = None) -> None:
    """An :class:`InputError` naming ``$TAGLM_DATA_DIR`` and ``--data_dir`` (and ``override_flag``,
    the flag that names this file alone) when ``path`` is neither a file nor a folder (a BRAT
    corpus is a folder)."""
    if not os.path.exists(path):
        hint = f", or {override_flag}=FILE for this file" if override_flag else ""
        raise InputError(
            f"no such {what} file (data directory: {os.path.abspath(data_dir)}); set "
            f"${DATA_DIR_ENV} or pass --data_dir=DIR to point at the data{hint}",
            path,
        )
