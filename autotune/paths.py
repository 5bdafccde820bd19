"""Where autotune keeps what it makes: one root, its folders and the measurement database.

Why one function: the build cache, the IR cache, the study journal and the measurement
database must agree on the root ($AUTOTUNE_CACHE, else `.autotune` in the current
directory), so that one variable moves them all (tests and experiments point it at a private
folder). It is read on every call, not at import, for the same reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

CACHE_ENV = "AUTOTUNE_CACHE"
DB_ENV = "AUTOTUNE_DB"  # a SQLAlchemy URL (or a SQLite file) for the measurement database
DEFAULT_ROOT = ".autotune"
DB_FILE = "measurements.db"
CacheKind = Literal["builds", "ir", "studies", "profiles"]


def cache_dir(kind: CacheKind) -> Path:
    """`$AUTOTUNE_CACHE/<kind>` (default `.autotune/<kind>`): builds, ir or studies."""
    return Path(os.environ.get(CACHE_ENV, DEFAULT_ROOT)) / kind


def database_path() -> Path:
    """The embedded measurement database: `$AUTOTUNE_CACHE/measurements.db` (default `.autotune/measurements.db`)."""
    return Path(os.environ.get(CACHE_ENV, DEFAULT_ROOT)) / DB_FILE
