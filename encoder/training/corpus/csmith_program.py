"""csmith's program for a seed: the generator the csmith source and the corpus workers share.

Why apart from `sources/csmith.py`: a worker generates its program's text from the job's seed
(`jobs.run_job`), and the csmith source builds those jobs; with the generator here neither
module imports the other.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CSMITH_INCLUDE = Path("/usr/include/csmith")

# csmith options that keep programs small (a few hundred lines, IR well under the
# size cap) yet varied: few functions, shallow blocks, simple expressions.
# Bitfields, packed structs and volatiles are off: they add noise more than
# control or data flow.
CSMITH_OPTIONS: tuple[str, ...] = (
    "--max-funcs",
    "4",
    "--max-block-depth",
    "3",
    "--max-block-size",
    "4",
    "--max-expr-complexity",
    "4",
    "--max-array-dim",
    "2",
    "--max-array-len-per-dim",
    "8",
    "--max-struct-fields",
    "4",
    "--max-union-fields",
    "3",
    "--no-bitfields",
    "--no-packed-struct",
    "--no-volatiles",
    "--no-volatile-pointers",
    "--concise",
)
CSMITH_TIMEOUT_S = 30


def available() -> bool:
    """csmith and its headers (Debian: csmith, libcsmith-dev) are installed."""
    return shutil.which("csmith") is not None and CSMITH_INCLUDE.is_dir()


def generate(seed: int) -> str:
    """The C text of csmith's program for `seed` (raises when csmith fails)."""
    p = subprocess.run(
        ["csmith", "--seed", str(seed), *CSMITH_OPTIONS],
        capture_output=True,
        text=True,
        timeout=CSMITH_TIMEOUT_S,
    )
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError(f"csmith --seed {seed} failed: {p.stderr.strip()[:200]}")
    return p.stdout
