"""The NeuroVectorizer loops as kernels for our measurement engine, and the grid file they fill.

Why a module of its own: the record stage (measure every (VF, IC) pair of each loop) and the
predict stage (embed each loop, cross-validate a predictor on the recorded grid) read the same
things: the loop programs extracted from ../shared/data, which loops were selected, how one loop
becomes a `Kernel` that satisfies our kernel contract, and the recorded grid itself.

How a loop program becomes a kernel without editing it: the archive is extracted under
build/vectorization/ with the loop files in a folder of their own (`loops/`) and the data set's
`header.c` / `header.h` in another (`support/`). Since no `header.h` sits beside a loop file, its
`#include "header.h"` resolves through the include path, where our replacement
(experiments/vectorization/header.h) comes first: region timer, digest on stdout, repetitions
divided by `-DNV_ITER_DIV`. The data set's `header.c` is linked unchanged as the extra source.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.kernel import Kernel
from autotune.space import Knob, Space
from autotune.space.discover import hint_site
from experiments import embeddings as embcache
from experiments import provenance as prov

ROOT = prov.ROOT
HEADER_DIR = ROOT / "experiments" / "vectorization"  # our header.h
WORK = ROOT / "build" / "vectorization"  # extracted archive, IR cache (git-ignored)
GRID = ROOT / "results" / "vectorization_grid.csv"  # the shipped, measured grid

VFS = (1, 2, 4, 8, 16, 32, 64)
ICS = (1, 2, 4, 8, 16)
PAIRS: tuple[tuple[int, int], ...] = tuple((vf, ic) for vf in VFS for ic in ICS)

GRID_FIELDS = (
    "file",
    "template",
    "loop",
    "site",
    "vf",
    "ic",
    "iter_div",
    "status",
    "verified",
    "speedup",
    "ci_lo",
    "ci_hi",
    "baseline_ms",
    "candidate_ms",
    "pairs",
    "runs",
    "timing",
    "baseline_times_ms",
    "candidate_times_ms",
    "build_seconds",
    "harness_seconds",
    "message",
    "cpu_model",
    "date",
)
BASELINE_ERROR = "baseline_error"  # the -O3 program itself could not serve as the reference


class DataMissing(SystemExit):
    """Bad input: one line for the user, non-zero exit, no traceback."""


# --------------------------------------------------------------------------------------------
# The data set


def data_files() -> dict[str, Path]:
    d = embcache.data_dir() / "vectorization"
    return {
        "loops": d / "neurovectorizer_loops.tar.gz",
        "o3": d / "neurovectorizer_O3_runtimes.csv",
        "student_grid": d / "student583_tests_bruteforce_runtimes.csv",
        "student_o3": d / "student583_tests_O3_runtimes.csv",
    }


def require(path: Path) -> Path:
    if not path.exists():
        raise DataMissing(
            f"{path}: not found; the NeuroVectorizer data lives in ../shared/data/vectorization "
            "(or set ENCODER_DATA_DIR to the folder that holds vectorization/)"
        )
    return path


@dataclass(frozen=True)
class Loops:
    """The extracted `training_data/` of the archive."""

    loops_dir: Path  # the loop programs (*.c), and nothing else
    support_dir: Path  # the data set's header.c and header.h
    files: tuple[str, ...]  # loop file names, sorted

    @property
    def header_c(self) -> Path:
        return self.support_dir / "header.c"


def extract(work: Path = WORK) -> Loops:
    """Extract `training_data/` once (re-extracted when the archive changes); idempotent."""
    archive = require(data_files()["loops"])
    digest = prov.sha256(archive)
    root = work / "neurovectorizer"
    loops_dir, support_dir = root / "loops", root / "support"
    marker = root / "extracted.json"
    if marker.exists():
        meta = json.loads(marker.read_text())
        if meta.get("sha256") == digest:
            return Loops(loops_dir, support_dir, tuple(meta["files"]))
    loops_dir.mkdir(parents=True, exist_ok=True)
    support_dir.mkdir(parents=True, exist_ok=True)
    files = []
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 2 or parts[-2] != "training_data":
                continue
            name = parts[-1]
            fh = tf.extractfile(m)
            if fh is None:
                continue
            dest = support_dir if name in ("header.c", "header.h") else loops_dir
            if dest is loops_dir:
                if not name.endswith(".c"):
                    continue
                files.append(name)
            (dest / name).write_bytes(fh.read())
    if not files or not (support_dir / "header.c").exists():
        raise DataMissing(f"{archive}: no training_data/ loops or header.c inside; is it the NeuroVectorizer archive?")
    files.sort()
    marker.write_text(json.dumps({"sha256": digest, "files": files}) + "\n")
    return Loops(loops_dir, support_dir, tuple(files))


def template_of(name: str) -> str:
    """`s15_4096_512_add_0.c` -> `s15`: the generator template is the prefix before the first `_`."""
    return name.split("_", 1)[0]


def select(files: tuple[str, ...] | list[str], per_template: int, seed: int) -> list[str]:
    """A stratified subset: `per_template` files of each template, drawn with `seed`.

    The order is round-robin over the templates (the first file of every template, then the
    second, ...), so a recording stopped at any point covers the templates evenly.
    """
    by_t: dict[str, list[str]] = {}
    for f in sorted(files):
        by_t.setdefault(template_of(f), []).append(f)
    picks = {t: random.Random(f"{seed}:{t}").sample(fs, min(per_template, len(fs))) for t, fs in sorted(by_t.items())}
    out = []
    for r in range(max((len(p) for p in picks.values()), default=0)):
        out += [p[r] for p in picks.values() if r < len(p)]
    return out


def o3_runtimes_ms() -> dict[str, float]:
    """The data set's own -O3 runtimes (another machine): only a first guess for the divisor."""
    path = data_files()["o3"]
    if not path.exists():
        return {}
    return {r["file"]: float(r["o3_runtime_ms"]) for r in embcache.read_csv(path) if r.get("o3_runtime_ms")}


# --------------------------------------------------------------------------------------------
# One loop as a kernel


def loop_kernel(loops: Loops, name: str, iter_div: int) -> Kernel:
    return Kernel.load(
        loops.loops_dir / name,
        sources=[loops.header_c],
        include_dirs=[HEADER_DIR],
        defines=[f"NV_ITER_DIV={int(iter_div)}"],
    )


def loop_space(kernel: Kernel) -> tuple[Space, str, str]:
    """The 7 x 5 pragma space on the loop NeuroVectorizer tunes: (space, loop name, site).

    That loop is the innermost loop of the benchmarked function; every program of the corpus has
    exactly one (checked here), and it is the only place where the space puts
    `#pragma clang loop vectorize_width(VF) interleave_count(IC)`. Our variant writer spells
    VF 1 `vectorize(disable)`, which clang-22 lowers to the same IR as `vectorize_width(1)`.
    "auto" (no pragma) is the default: the untransformed -O3 program, i.e. the baseline.
    """
    prog = kernel.program
    sites = [lp for lp in prog.loops if hint_site(prog, lp) and not lp.has_break]
    if len(sites) != 1:
        raise ValueError(f"{kernel.path.name}: {len(sites)} innermost loops to tune, expected 1")
    lp = sites[0]
    site = f"{lp.function}:{lp.line}"
    knobs = [
        Knob(f"{lp.name}.vectorize", "source", ("auto", *VFS), "auto", "vectorize_width (1: scalar)", site=site),
        Knob(f"{lp.name}.interleave", "source", ("auto", *ICS), "auto", "interleave_count", site=site),
    ]
    return Space(knobs), lp.name, site


def pair_config(loop: str, vf: int, ic: int) -> dict:
    return {f"{loop}.vectorize": vf, f"{loop}.interleave": ic}


# --------------------------------------------------------------------------------------------
# The grid file (written by vectorization_grid through autotune.trials.recorder.Recorder)


def read_grid(path: Path) -> pd.DataFrame:
    """The recorded grid; `value` is what a user gets from a pair: its speedup when it ran and
    verified, else 1.0 (verification rejects it and the -O3 program is kept)."""
    df = pd.read_csv(path, dtype={"file": str, "status": str, "message": str})
    df = df.drop_duplicates(["file", "vf", "ic"], keep="first")
    ok = (df["status"] == "ok") & df["verified"].astype(str).str.lower().isin(("true", "1"))
    df["ok"] = ok
    df["value"] = np.where(ok, pd.to_numeric(df["speedup"], errors="coerce"), 1.0)
    return df


@dataclass(frozen=True)
class GridMatrix:
    """The complete loops of a recorded grid as matrices [loop, pair] in `PAIRS` order.

    `value` is what a user gets from each pair (read_grid); `lo`/`hi` bound it by the cell's 95% CI
    (a failed cell is exactly 1.0: the -O3 program is kept), so a pick can be judged against the
    noise of the cell it is compared with, not only against the point estimates.
    """

    names: list[str]
    value: np.ndarray
    ok: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    counts: dict[str, int]


def grid_matrix(df: pd.DataFrame) -> GridMatrix:
    """Loops whose 35 pairs are all recorded and whose baseline served; `counts` says how many
    loops were left out and why."""
    loops, cells = [], []
    counts = {"recorded": 0, "complete": 0, "partial": 0, "baseline_error": 0}
    for name, g in df.groupby("file", sort=True):
        counts["recorded"] += 1
        if (g["status"] == BASELINE_ERROR).any():
            counts["baseline_error"] += 1
            continue
        idx = {}
        for r in g.itertuples():
            v, ok = float(r.value), bool(r.ok)
            lo, hi = (float(r.ci_lo), float(r.ci_hi)) if ok else (v, v)
            idx[(int(r.vf), int(r.ic))] = (v, ok, lo if np.isfinite(lo) else v, hi if np.isfinite(hi) else v)
        if any(p not in idx for p in PAIRS):
            counts["partial"] += 1
            continue
        counts["complete"] += 1
        loops.append(str(name))
        cells.append([idx[p] for p in PAIRS])
    a = np.asarray(cells, dtype=float).reshape(-1, len(PAIRS), 4)
    return GridMatrix(loops, a[..., 0], a[..., 1].astype(bool), a[..., 2], a[..., 3], counts)


# --------------------------------------------------------------------------------------------
# -O3 IR of a loop (what the encoder embeds)


def o3_ir(loops: Loops, name: str, cache: Path) -> str:
    """Normalized `clang-22 -O3` IR of a loop program as published (with the data set's own
    header.h, as the encoder's corpus compiled it), cached by source, header and clang version."""
    from encoder import ir

    text = (loops.loops_dir / name).read_text()
    header = (loops.support_dir / "header.h").read_text()
    key = hashlib.sha256("\0".join([text, header, _clang_version()]).encode()).hexdigest()[:20]
    path = cache / f"{Path(name).stem}-{key}.ll"
    if path.exists():
        return path.read_text()
    out = ir.normalize(ir.compile_source(text, "c", opt="O3", include_dirs=[str(loops.support_dir)]))
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(out)
    tmp.replace(path)
    return out


@functools.cache
def _clang_version() -> str:
    return prov.clang_version()


_PAIR_RE = re.compile(r"^(\d+),(\d+)$")


def parse_pair(text: str) -> tuple[int, int]:
    m = _PAIR_RE.match(text.strip())
    if not m or (int(m.group(1)), int(m.group(2))) not in PAIRS:
        raise ValueError(f"{text!r}: give VF,IC with VF in {VFS} and IC in {ICS}")
    return int(m.group(1)), int(m.group(2))
