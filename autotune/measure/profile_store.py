"""Baseline profiles shipped with the repository: `autotune/data/profiles.json`.

Why: a profile (`autotune.measure.profile`) is a measurement of one program on one CPU: a run under
the OMPT tool and a few interleaved runs at one thread and at the default. Featurizing the training
data needs one for each of its 500-odd workloads, about ten minutes of quiet runs, and every fresh
checkout used to pay them again because the cache (`.autotune/profiles`) is not in git. Shipped,
they are measured once per CPU and kept like any other record. Their key names the build (source,
compiler, flags), the thread count and the CPU, so an entry for another program, another compiler
or another CPU is never read: that machine measures its own.

    python -m autotune.measure.profile_store    # merge this machine's cache into the shipped file

Only profiles the cache kept are merged: one taken beside other work is never written there.
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

from autotune.paths import cache_dir
from encoder.atomic import atomic_write_text

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "profiles.json"


@lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int) -> dict[str, dict | None]:
    return json.loads(path.read_text())


def shipped(path: Path | None = None) -> dict[str, dict | None]:
    """The shipped profiles by cache key (a profile's fields, or None: the program has no profile)."""
    p = path or SHIPPED
    if not p.exists():
        return {}
    return _read(p, p.stat().st_mtime_ns)


def export(path: Path | None = None) -> tuple[int, int]:
    """Merge every profile of the local cache into the shipped file (sorted, one line per key, so a
    diff shows what was added); returns (added, total)."""
    p = path or SHIPPED
    have = dict(shipped(p))
    before = len(have)
    for f in sorted(cache_dir("profiles").glob("*.json")):
        have.setdefault(f.stem, json.loads(f.read_text()))
    lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(have.items())]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    atomic_write_text(p, text)
    return len(have) - before, len(have)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=SHIPPED, help="the shipped file (default autotune/data/profiles.json)")
    a = ap.parse_args(argv)
    added, total = export(a.out)
    print(f"{a.out}: {added} profiles added, {total} in all")


if __name__ == "__main__":
    main()
