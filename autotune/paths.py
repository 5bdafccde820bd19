"""Where autotune keeps what it makes: one root, three folders.

Why one function: the build cache, the IR cache and the study journal must agree on the
root ($AUTOTUNE_CACHE, else `.autotune` in the current directory), so that one variable
moves all three (tests and experiments point it at a private folder). It is read on every
call, not at import, for the same reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

CACHE_ENV = "AUTOTUNE_CACHE"
DEFAULT_ROOT = ".autotune"
CacheKind = Literal["builds", "ir", "studies"]


def cache_dir(kind: CacheKind) -> Path:
    """`$AUTOTUNE_CACHE/<kind>` (default `.autotune/<kind>`): builds, ir or studies."""
    return Path(os.environ.get(CACHE_ENV, DEFAULT_ROOT)) / kind
