"""Where the data lives: ``$TAGLM_DATA_DIR`` (default ``./data``) and paths relative to it."""
from __future__ import annotations

import os

DATA_DIR_ENV = "TAGLM_DATA_DIR"


def default_data_dir() -> str:
    """``$TAGLM_DATA_DIR``, else ``data`` (relative to the working directory)."""
    return os.environ.get(DATA_DIR_ENV, "data")


def resolve_data_path(path: str, data_dir: str) -> str:
    """``path`` as given if it exists (or is absolute), else under ``data_dir`` if it exists there."""
    if not path or os.path.isabs(path) or os.path.exists(path):
        return path
    in_data = os.path.join(data_dir, path)
    return in_data if os.path.exists(in_data) else path
