"""Where the real benchmark data lives, for tests that need it.

Looked up in this order: ``$TAGLM_DATA_DIR`` (if set, it is the only candidate),
``<repo>/data``, ``<repo>/../shared/data``. Tests that need a file call
:func:`require_real_file`, which skips the test cleanly when the data is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_DIR_ENV = "TAGLM_DATA_DIR"


def real_data_dir() -> Path | None:
    """The real data directory, or ``None`` when there is none."""
    env = os.environ.get(DATA_DIR_ENV)
    candidates = [Path(env)] if env else [REPO / "data", REPO.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None


def real_file(*parts: str) -> Path | None:
    """``<data dir>/<parts...>`` if it exists, else ``None``."""
    base = real_data_dir()
    if base is None:
        return None
    path = base.joinpath(*parts)
    return path if path.is_file() else None


def require_real_file(*parts: str) -> Path:
    """Like :func:`real_file` but skips the calling test when the file is absent."""
    import pytest

    path = real_file(*parts)
    if path is None:
        pytest.skip(f"real data file {'/'.join(parts)} not found (set ${DATA_DIR_ENV})")
    return path
