"""`encoder corpus`: build the pre-training corpus of normalized LLVM-IR modules.

Why a corpus of its own: the public IR data sets are small (a few hundred
modules) and old (LLVM ~5, typed pointers), while the encoder must read what
clang-22 writes for our OpenMP kernels. So the corpus mixes
* our kernel suite under many sizes, optimisation levels, flag sets and loop
  pragmas (the variants the tuner will actually show the encoder),
* the public downstream-task programs (device mapping, thread coarsening,
  NeuroVectorizer loops, IR2Vec's LLVM-20 programs), recompiled from source
  with clang-22 where sources exist,
* random csmith programs to fill the corpus up to a target size with varied
  control and data flow.

Every module is normalized (`encoder.ir.normalize`) and de-duplicated by the
hash of that text, because different flags often give the same IR and a corpus
full of copies over-weights them in pre-training.

Output layout (`out_dir`):
* `modules/<hash>.ll`: one normalized module per distinct hash;
* `index.csv`: hash, source, group, variant, split, n_chars, n_lines (append-only);
* `done.jsonl`: one line per finished task with its counts (append-only): the
  resume log, so a killed build continues where it stopped;
* `stats.json`: per-source counts, split sizes, timings, tool versions, seed;
* `config.json`: the seed the directory was built with (a resume must match).

The train/validation split is by program group (all variants of one program
land on the same side), decided by a hash of (seed, group): validation loss then
measures generalisation to unseen programs, not to unseen flags of a seen one.

Data dependencies, not imports: the kernel sources in `kernels/`, the header
`autotune/include/autotune.h`, and the public data in `shared/data/`.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import dataclasses
import hashlib
import io
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encoder.atomic import atomic_write_text

ALL_SOURCES: tuple[str, ...] = ("suite", "devmap", "coarsening", "neurovectorizer", "pretraining_ir", "csmith")
DEFAULT_TARGET = 20_000
DEFAULT_MAX_CHARS = 200_000
VALIDATION_PER_MILLE = 50  # about 5% of program groups

REPO = Path(__file__).resolve().parent.parent
KERNELS_DIR = REPO / "kernels"
AUTOTUNE_INCLUDE = REPO / "autotune" / "include"
CSMITH_INCLUDE = Path("/usr/include/csmith")

# Suite variants. The flag sets are the knobs that change the IR the most
# (unrolling, vectorisation, target features, FP reassociation); -march=native
# ties those variants to the build machine, whose CPU is recorded in stats.json.
SUITE_OPTS = ("O1", "O2", "O3")
SUITE_FLAG_SETS: dict[str, tuple[str, ...]] = {
    "base": (),
    "no-unroll": ("-fno-unroll-loops",),
    "no-vec": ("-fno-vectorize", "-fno-slp-vectorize"),
    "native": ("-march=native",),
    "fast-math": ("-ffast-math",),
    "native-fast-math": ("-march=native", "-ffast-math"),
}
SUITE_PRAGMAS_PER_SIZE = 2  # random (W, I, U) loop pragmas per kernel and size, each at O2 and O3
SUITE_PRAGMA_WIDTHS = (1, 2, 4, 8, 16)
SUITE_PRAGMA_INTERLEAVES = (1, 2, 4, 8)
SUITE_PRAGMA_UNROLLS = (1, 2, 4, 8)

# NeuroVectorizer's action space (CGO'20): VF x IF.
NV_VFS = (1, 2, 4, 8, 16, 32, 64)
NV_IFS = (1, 2, 4, 8, 16)
NV_PRAGMAS_PER_FILE = 2

OPENCL_OPTS = ("O0", "O1", "O2", "O3")

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
CSMITH_OPTS = ("O1", "O2")
CSMITH_TIMEOUT_S = 30
CSMITH_EXPECTED_KEPT = 1.6  # distinct modules per program (O1 and O2 sometimes coincide); sizes rounds


def default_data_dir() -> Path:
    """Where the public data lives: `$ENCODER_DATA_DIR`, else `shared/data` in or next to the repo."""
    env = os.environ.get("ENCODER_DATA_DIR")
    if env:
        return Path(env)
    for cand in (REPO / "shared" / "data", REPO.parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return REPO.parent / "shared" / "data"


# ---------------------------------------------------------------------------
# Work units


@dataclass(frozen=True)
class Variant:
    """One way to obtain one module: compile a source text, or load an IR text.

    `fallback` is tried when this variant fails: old IR that the LLVM-22 parser
    cannot load is recompiled from its OpenCL source instead.
    """

    name: str
    kind: str  # "source" | "ir"
    text: str = ""
    language: str = "c"
    opt: str = "O1"
    flags: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    fallback: Variant | None = None
    repair: bool = False  # public OpenCL sources whose helpers were cut away (see encoder.ir)


@dataclass(frozen=True)
class Task:
    """One resumable unit of work: some variants of one program group.

    A group may span several tasks (suite: one task per kernel and size); the
    split depends on the group only. `csmith_seed` tells the worker to generate
    the source first (the text of the variants is then filled in).
    """

    source: str
    key: str
    group: str
    variants: tuple[Variant, ...]
    csmith_seed: int | None = None


@dataclass
class VariantResult:
    """What a worker sends back for one variant; `text` is None unless it can be kept."""

    name: str
    ok: bool
    text: str | None = None
    hash: str | None = None
    n_chars: int = 0
    too_large: bool = False
    error: str | None = None


@dataclass
class TaskResult:
    key: str
    results: list[VariantResult]
    seconds: float


COUNT_KEYS = ("attempted", "compiled", "failed", "duplicates", "too_large", "kept")


def _module_text(variant: Variant) -> str:
    """Compile or load one variant and return its normalized text (raises on failure)."""
    from encoder import ir

    if variant.kind == "ir":
        # normalize parses with LLVM 22 and re-prints, so old typed-pointer IR reaches the
        # corpus in the modern form the encoder will see at tuning time.
        return ir.normalize(variant.text)
    kwargs = {"repair": True} if variant.repair else {}
    raw = ir.compile_source(
        variant.text,
        variant.language,
        opt=variant.opt,
        flags=variant.flags,
        defines=variant.defines,
        include_dirs=variant.include_dirs,
        **kwargs,
    )
    return ir.normalize(raw)


def _run_variant(variant: Variant, max_chars: int) -> VariantResult:
    from encoder import ir

    try:
        text = _module_text(variant)
    except Exception as exc:  # any compiler or parser failure just skips the variant
        if variant.fallback is not None:
            return _run_variant(variant.fallback, max_chars)
        msg = str(exc).strip().splitlines()
        return VariantResult(variant.name, False, error=f"{type(exc).__name__}: {msg[0][:300] if msg else ''}")
    if len(text) > max_chars:
        return VariantResult(variant.name, True, n_chars=len(text), too_large=True)
    return VariantResult(variant.name, True, text=text, hash=ir.ir_hash(text), n_chars=len(text))


def _csmith_source(seed: int) -> str:
    p = subprocess.run(
        ["csmith", "--seed", str(seed), *CSMITH_OPTIONS],
        capture_output=True,
        text=True,
        timeout=CSMITH_TIMEOUT_S,
    )
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError(f"csmith --seed {seed} failed: {p.stderr.strip()[:200]}")
    return p.stdout


def run_task(task: Task, max_chars: int = DEFAULT_MAX_CHARS) -> TaskResult:
    """Worker entry point (module level so that process pools can pickle it)."""
    t0 = time.perf_counter()
    variants = task.variants
    if task.csmith_seed is not None:
        try:
            text = _csmith_source(task.csmith_seed)
        except Exception as exc:  # a generator failure fails this program only
            err = f"{type(exc).__name__}: {str(exc)[:300]}"
            return TaskResult(task.key, [VariantResult(v.name, False, error=err) for v in variants], 0.0)
        variants = tuple(dataclasses.replace(v, text=text) for v in variants)
    results = [_run_variant(v, max_chars) for v in variants]
    return TaskResult(task.key, results, time.perf_counter() - t0)


# ---------------------------------------------------------------------------
# Loop-pragma insertion (a text transform; compile errors just drop the variant)

_FOR_LINE = re.compile(r"^([ \t]*)for\s*\(", re.M)
_FOR_ANY = re.compile(r"\bfor\s*\(")


def _comment_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*", text, re.S):
        spans.append((m.start(), m.end()))
    return spans


def _skip_literal(text: str, i: int) -> int:
    quote = text[i]
    j = i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _match_close(text: str, i: int) -> int:
    """Index just past the bracket that closes the one at `i`, or -1."""
    depth = 0
    j = i
    n = len(text)
    while j < n:
        c = text[j]
        if c in "\"'":
            j = _skip_literal(text, j)
            continue
        if text.startswith("/*", j):
            k = text.find("*/", j + 2)
            j = n if k < 0 else k + 2
            continue
        if text.startswith("//", j):
            k = text.find("\n", j)
            j = n if k < 0 else k
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _statement_end(text: str, i: int) -> int:
    """End of the statement starting at `i`: a `{...}` block, or up to `;` outside brackets.

    For an unbraced `if` with a braced branch this may run into the next
    statement; that only makes a loop look non-innermost, which is the safe side.
    """
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] == "{":
        return _match_close(text, i)
    depth = 0
    j = i
    while j < n:
        c = text[j]
        if c in "\"'":
            j = _skip_literal(text, j)
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth < 0:
                return j
        elif c == ";" and depth == 0:
            return j + 1
        j += 1
    return -1


def insert_loop_pragmas(text: str, pragma: str) -> tuple[str, int]:
    """Put `#pragma <pragma>` on its own line before every innermost `for` loop.

    Innermost: a line that starts with `for (` and whose body holds no other
    `for`. Lines in comments or macro continuations are left alone. Returns the
    new text and the number of pragmas inserted (0: nothing to vary).
    """
    comments = _comment_spans(text)

    def in_comment(pos: int) -> bool:
        return any(a <= pos < b for a, b in comments)

    inserts: list[tuple[int, str]] = []
    for m in _FOR_LINE.finditer(text):
        start = m.start()
        if in_comment(m.start(0) + len(m.group(1))):
            continue
        prev = text[:start].rstrip("\n").rsplit("\n", 1)[-1]
        if prev.rstrip().endswith("\\"):
            continue
        head_end = _match_close(text, m.end() - 1)
        if head_end < 0:
            continue
        body_end = _statement_end(text, head_end)
        if body_end < 0:
            continue
        body = text[head_end:body_end]
        if _FOR_ANY.search(body):
            continue
        inserts.append((start, f"{m.group(1)}#pragma {pragma}\n"))
    for pos, line in reversed(inserts):
        text = text[:pos] + line + text[pos:]
    return text, len(inserts)


# ---------------------------------------------------------------------------
# Sources: each returns the full, deterministic task list of one source.


@dataclass
class _Context:
    data_dir: Path
    kernels_dir: Path
    work_dir: Path
    seed: int


def _suite_tasks(ctx: _Context, limit: int | None) -> list[Task]:
    manifest = json.loads((ctx.kernels_dir / "manifest.json").read_text())
    inc = (str(AUTOTUNE_INCLUDE),)
    tasks = []
    for k in sorted(manifest["kernels"], key=lambda k: k["name"]):
        name = k["name"]
        text = (ctx.kernels_dir / k["file"]).read_text()
        for size in manifest["sizes"]:
            defines = (f"{size}_DATASET",)
            variants = [
                Variant(f"{size} {opt} {fs}", "source", text, "c", opt, flags, defines, inc)
                for opt in SUITE_OPTS
                for fs, flags in SUITE_FLAG_SETS.items()
            ]
            rng = random.Random(f"{ctx.seed}:suite:{name}:{size}")
            combos = [
                (w, i, u) for w in SUITE_PRAGMA_WIDTHS for i in SUITE_PRAGMA_INTERLEAVES for u in SUITE_PRAGMA_UNROLLS
            ]
            for w, i, u in rng.sample(combos, SUITE_PRAGMAS_PER_SIZE):
                pragma = f"clang loop vectorize_width({w}) interleave_count({i}) unroll_count({u})"
                ptext, n = insert_loop_pragmas(text, pragma)
                if n == 0:
                    continue
                for opt in ("O2", "O3"):
                    variants.append(
                        Variant(f"{size} {opt} vw{w} ic{i} uc{u}", "source", ptext, "c", opt, (), defines, inc)
                    )
            tasks.append(Task("suite", f"{name}:{size}", f"suite/{name}", tuple(variants)))
    return tasks


def _read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _tar_texts(path: Path, suffix: str) -> dict[str, str]:
    """Member basename -> text for every member ending in `suffix`."""
    out = {}
    mode = "r:bz2" if path.suffix == ".bz2" else "r:gz"
    with tarfile.open(path, mode) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.endswith(suffix):
                fh = tf.extractfile(m)
                if fh is not None:
                    out[m.name.rsplit("/", 1)[-1]] = fh.read().decode("utf-8", errors="replace")
    return out


def _opencl_variants(text: str, label: str) -> list[Variant]:
    return [Variant(f"{label} {opt}", "source", text, "opencl", opt, repair=True) for opt in OPENCL_OPTS]


def _devmap_tasks(ctx: _Context, limit: int | None) -> list[Task]:
    base = ctx.data_dir / "devmap"
    rows = _read_csv(base / "ir2vec" / "cgo17-amd.csv")
    lls = _tar_texts(base / "ir2vec" / "kernels_ir.tar.gz", ".ll")
    cls = _tar_texts(base / "deeptune_original" / "kernels.tar.bz2", ".cl")
    by_bench: dict[str, list[tuple[str, str]]] = {}  # benchmark -> [(ll file, its row's source)]
    seen: set[str] = set()
    for r in rows:
        fname = r["benchmark"] + ("" if r["dataset"] == "default" else "_" + r["dataset"]) + ".ll"
        if fname in lls and fname not in seen:
            seen.add(fname)
            by_bench.setdefault(r["benchmark"], []).append((fname, r["src"]))
    for fname in lls:
        if fname not in seen:  # not in the table: its own group
            by_bench.setdefault(fname[:-3], []).append((fname, ""))
    for cl in cls:
        by_bench.setdefault(cl[:-3], [])
    tasks = []
    for bench in sorted(by_bench):
        variants: list[Variant] = []
        for fname, src in sorted(by_bench[bench]):
            fb = Variant(f"ir2vec {fname} recompiled O2", "source", src, "opencl", "O2", repair=True) if src else None
            variants.append(Variant(f"ir2vec {fname}", "ir", lls[fname], fallback=fb))
        if bench + ".cl" in cls:
            variants += _opencl_variants(cls[bench + ".cl"], "deeptune .cl")
        tasks.append(Task("devmap", bench, f"devmap/{bench}", tuple(variants)))
    return tasks


def _coarsening_tasks(ctx: _Context, limit: int | None) -> list[Task]:
    base = ctx.data_dir / "thread_coarsening"
    srcs: dict[str, str] = {}
    runtimes = base / "pact-2014-runtimes.csv"
    if runtimes.exists():
        for r in _read_csv(runtimes):
            srcs.setdefault(r["kernel"], r["src"])
    tasks = []
    for ll in sorted((base / "kernels_ir").glob("*.ll")):
        kernel = ll.stem
        variants = [Variant(f"ir2vec {ll.name}", "ir", ll.read_text())]
        if srcs.get(kernel):
            variants += _opencl_variants(srcs[kernel], "pact-2014 src")
        tasks.append(Task("coarsening", kernel, f"coarsening/{kernel}", tuple(variants)))
    return tasks


def _neurovectorizer_tasks(ctx: _Context, limit: int | None) -> list[Task]:
    archive = ctx.data_dir / "vectorization" / "neurovectorizer_loops.tar.gz"
    inc_dir = ctx.work_dir / "neurovectorizer"
    files: dict[str, str] = {}
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 2 or parts[-2] != "training_data":
                continue
            fh = tf.extractfile(m)
            if fh is None:
                continue
            text = fh.read().decode("utf-8", errors="replace")
            if parts[-1] == "header.h":
                inc_dir.mkdir(parents=True, exist_ok=True)
                if not (inc_dir / "header.h").exists() or (inc_dir / "header.h").read_text() != text:
                    atomic_write_text(inc_dir / "header.h", text)
            elif parts[-1].endswith(".c") and parts[-1] != "header.c":
                files[parts[-1]] = text
    inc = (str(inc_dir),)
    pairs = [(vf, if_) for vf in NV_VFS for if_ in NV_IFS]
    tasks = []
    for name in sorted(files)[:limit]:  # the pragma transforms are the slow part
        text = files[name]
        variants = [Variant("O3", "source", text, "c", "O3", (), (), inc)]
        rng = random.Random(f"{ctx.seed}:neurovectorizer:{name}")
        for vf, if_ in rng.sample(pairs, NV_PRAGMAS_PER_FILE):
            ptext, n = insert_loop_pragmas(text, f"clang loop vectorize_width({vf}) interleave_count({if_})")
            if n:
                variants.append(Variant(f"O3 vf{vf} if{if_}", "source", ptext, "c", "O3", (), (), inc))
        tasks.append(Task("neurovectorizer", name, f"neurovectorizer/{name}", tuple(variants)))
    return tasks


def _pretraining_ir_tasks(ctx: _Context, limit: int | None) -> list[Task]:
    archive = ctx.data_dir / "pretraining_ir" / "ir2vec_pe_benchmarks_llvm20.tar.gz"
    lls = _tar_texts(archive, ".ll")
    return [
        Task("pretraining_ir", name, f"pretraining_ir/{name[:-3]}", (Variant(f"llvm20 {name}", "ir", text),))
        for name, text in sorted(lls.items())
    ]


def _csmith_task(seed: int, index: int) -> Task:
    cs_seed = seed * 1_000_000 + index + 1
    variants = tuple(
        Variant(f"csmith {opt}", "source", "", "c", opt, ("-w",), (), (str(CSMITH_INCLUDE),)) for opt in CSMITH_OPTS
    )
    return Task("csmith", str(cs_seed), f"csmith/{cs_seed}", variants, csmith_seed=cs_seed)


_TASK_BUILDERS: dict[str, Callable[[_Context, int | None], list[Task]]] = {
    "suite": _suite_tasks,
    "devmap": _devmap_tasks,
    "coarsening": _coarsening_tasks,
    "neurovectorizer": _neurovectorizer_tasks,
    "pretraining_ir": _pretraining_ir_tasks,
}


# ---------------------------------------------------------------------------
# Output state


def split_of(group: str, seed: int) -> str:
    """`train` or `validation`, from a hash of (seed, group): stable across runs and resumes."""
    h = int(hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()[:8], 16)
    return "validation" if h % 1000 < VALIDATION_PER_MILLE else "train"


INDEX_FIELDS = ("hash", "source", "group", "variant", "split", "n_chars", "n_lines")


def _truncate_partial_line(path: Path) -> None:
    """Drop a half-written last line left by a killed build (append-only files)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


@dataclass
class CorpusStats:
    """Summary of a corpus directory (also written to `stats.json`)."""

    sources: dict[str, dict[str, float]]
    splits: dict[str, dict[str, int]]
    build_seconds: float
    seed: int
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return int(sum(s.get("kept", 0) for s in self.sources.values()))

    def to_json(self) -> dict[str, Any]:
        totals = {k: int(sum(s.get(k, 0) for s in self.sources.values())) for k in COUNT_KEYS}
        return {
            "seed": self.seed,
            "sources": self.sources,
            "totals": totals,
            "splits": self.splits,
            "build_seconds": round(self.build_seconds, 1),
            "tools": self.tools,
        }


class _Corpus:
    """The on-disk corpus: hashes seen, finished tasks, and the append-only writers."""

    def __init__(self, out_dir: Path, seed: int) -> None:
        self.out = out_dir
        self.seed = seed
        self.modules = out_dir / "modules"
        self.modules.mkdir(parents=True, exist_ok=True)
        self.index_path = out_dir / "index.csv"
        self.done_path = out_dir / "done.jsonl"
        self._check_config()
        _truncate_partial_line(self.index_path)
        _truncate_partial_line(self.done_path)
        self.owner: dict[str, tuple[str, str, str]] = {}  # hash -> (source, group, variant)
        self.index_rows: list[dict[str, str]] = []
        if self.index_path.exists():
            with self.index_path.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    self.owner[row["hash"]] = (row["source"], row["group"], row["variant"])
                    self.index_rows.append(row)
        self.done: dict[tuple[str, str], dict[str, Any]] = {}
        self.kept_by_source: dict[str, int] = {}
        if self.done_path.exists():
            for line in self.done_path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.done[(rec["source"], rec["key"])] = rec
                    self.kept_by_source[rec["source"]] = self.kept_by_source.get(rec["source"], 0) + rec.get("kept", 0)
        prev: dict[str, Any] = {}
        stats_path = out_dir / "stats.json"
        if stats_path.exists():
            try:
                prev = json.loads(stats_path.read_text())
            except json.JSONDecodeError:
                prev = {}
        self.prev_build_seconds = float(prev.get("build_seconds", 0.0))
        self.prev_wall = {s: float(v.get("wall_seconds", 0.0)) for s, v in prev.get("sources", {}).items()}
        self.run_wall: dict[str, float] = {}
        new_index = not self.index_path.exists()
        self._index_fh = self.index_path.open("a", newline="")
        self._index = csv.DictWriter(self._index_fh, fieldnames=INDEX_FIELDS)
        if new_index:
            self._index.writeheader()
            self._index_fh.flush()
        self._done_fh = self.done_path.open("a")

    def _check_config(self) -> None:
        path = self.out / "config.json"
        if path.exists():
            cfg = json.loads(path.read_text())
            if cfg.get("seed") != self.seed:
                raise ValueError(
                    f"{self.out} was built with seed {cfg.get('seed')}, not {self.seed}: use another --out"
                )
        else:
            atomic_write_text(path, json.dumps({"seed": self.seed, "format": 1}, indent=1) + "\n")

    def close(self) -> None:
        self._index_fh.close()
        self._done_fh.close()

    def is_done(self, task: Task) -> bool:
        return (task.source, task.key) in self.done

    def kept_total(self) -> int:
        return len(self.owner)

    def record(self, task: Task, result: TaskResult) -> dict[str, Any]:
        """Write the task's new modules, then its index rows, then its done line (in that order)."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        rows = []
        failures = []
        for r in result.results:
            counts["attempted"] += 1
            if not r.ok:
                counts["failed"] += 1
                failures.append({"variant": r.name, "error": r.error})
                continue
            counts["compiled"] += 1
            if r.too_large:
                counts["too_large"] += 1
                continue
            assert r.hash is not None and r.text is not None
            ident = (task.source, task.group, r.name)
            have = self.owner.get(r.hash)
            if have is not None and have != ident:
                counts["duplicates"] += 1
                continue
            counts["kept"] += 1
            if have == ident:  # written by a run that was killed before its done line
                continue
            path = self.modules / f"{r.hash}.ll"
            if not path.exists():
                atomic_write_text(path, r.text)
            row = {
                "hash": r.hash,
                "source": task.source,
                "group": task.group,
                "variant": r.name,
                "split": split_of(task.group, self.seed),
                "n_chars": str(len(r.text)),
                "n_lines": str(r.text.count("\n") + (0 if r.text.endswith("\n") else 1)),
            }
            self.owner[r.hash] = ident
            rows.append(row)
        if rows:
            self._index.writerows(rows)
            self._index_fh.flush()
            self.index_rows.extend(rows)
        rec: dict[str, Any] = {"source": task.source, "key": task.key, "group": task.group, **counts}
        rec["seconds"] = round(result.seconds, 3)
        if failures:
            rec["failures"] = failures[:4]
        self._done_fh.write(json.dumps(rec) + "\n")
        self._done_fh.flush()
        self.done[(task.source, task.key)] = rec
        self.kept_by_source[task.source] = self.kept_by_source.get(task.source, 0) + counts["kept"]
        return counts

    def stats(self, tools: dict[str, str], run_seconds: float) -> CorpusStats:
        sources: dict[str, dict[str, float]] = {}
        for (src, _), rec in self.done.items():
            s = sources.setdefault(src, {"tasks": 0, **dict.fromkeys(COUNT_KEYS, 0), "worker_seconds": 0.0})
            s["tasks"] += 1
            for k in COUNT_KEYS:
                s[k] += rec.get(k, 0)
            s["worker_seconds"] += rec.get("seconds", 0.0)
        for src, s in sources.items():
            s["worker_seconds"] = round(s["worker_seconds"], 1)
            s["wall_seconds"] = round(self.prev_wall.get(src, 0.0) + self.run_wall.get(src, 0.0), 1)
            s["modules_per_wall_second"] = round(s["kept"] / s["wall_seconds"], 2) if s["wall_seconds"] else 0.0
        splits: dict[str, dict[str, int]] = {}
        groups: dict[str, set[str]] = {}
        for row in self.index_rows:
            sp = splits.setdefault(row["split"], {"modules": 0, "groups": 0})
            sp["modules"] += 1
            groups.setdefault(row["split"], set()).add(row["group"])
        for sp, g in groups.items():
            splits[sp]["groups"] = len(g)
        return CorpusStats(sources, splits, self.prev_build_seconds + run_seconds, self.seed, tools)

    def write_stats(self, stats: CorpusStats) -> None:
        atomic_write_text(self.out / "stats.json", json.dumps(stats.to_json(), indent=1) + "\n")


def tool_versions() -> dict[str, str]:
    """Compiler, generator and LLVM versions, which decide what the IR looks like."""

    def first_line(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            return "missing"

    out = {"clang": first_line(["clang-22", "--version"]), "csmith": first_line(["csmith", "--version"])}
    try:
        import llvmlite
        import llvmlite.binding as llvm

        out["llvmlite"] = llvmlite.__version__
        out["llvm"] = ".".join(map(str, llvm.llvm_version_info))
        out["host_cpu"] = llvm.get_host_cpu_name()  # what -march=native meant for the suite variants
    except Exception:  # versions are informational
        pass
    out["python"] = platform.python_version()
    return out


# ---------------------------------------------------------------------------
# Execution


class _Runner:
    """Runs tasks in a process pool and yields results in submission order.

    In order, so that "first occurrence wins" in de-duplication picks the same
    module owner on every build. A worker that dies (a crash inside LLVM) breaks
    the pool; the pool is then rebuilt and the task at the head is retried alone,
    and recorded as failed if it breaks the pool again.
    """

    def __init__(self, jobs: int, max_chars: int) -> None:
        self.jobs = max(1, jobs)
        self.max_chars = max_chars
        self.window = self.jobs * 4
        self.pool: cf.ProcessPoolExecutor | None = None

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # forkserver: workers do not inherit the progress bar's thread or open files.
        ctx = multiprocessing.get_context("forkserver")
        return cf.ProcessPoolExecutor(self.jobs, mp_context=ctx)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, TaskResult]]:
        if self.jobs == 1:
            for t in tasks:
                yield t, run_task(t, self.max_chars)
            return
        if self.pool is None:
            self.pool = self._new_pool()
        pending: deque[tuple[Task, cf.Future[TaskResult]]] = deque()
        it = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.window:
                try:
                    t = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((t, self.pool.submit(run_task, t, self.max_chars)))
            if not pending:
                return
            task, fut = pending.popleft()
            try:
                res = fut.result()
            except BrokenProcessPool:
                res = self._retry_alone(task)
                rest = [t for t, _ in pending]
                pending.clear()
                assert self.pool is not None
                for t in rest:
                    pending.append((t, self.pool.submit(run_task, t, self.max_chars)))
            yield task, res

    def _retry_alone(self, task: Task) -> TaskResult:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        try:
            return self.pool.submit(run_task, task, self.max_chars).result()
        except BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            return TaskResult(
                task.key, [VariantResult(v.name, False, error="worker crashed") for v in task.variants], 0
            )


class _Progress:
    """A rich progress bar per source, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("kept {task.fields[kept]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),  # stdout stays for the summary table
                transient=False,
            )
            self.bar.start()

    def add(self, source: str, total: int | None, done: int) -> Any:
        if self.bar is None:
            return None
        return self.bar.add_task(source, total=total, completed=done, kept=0)

    def update(self, tid: Any, kept: int, advance: int = 1, total: int | None = None) -> None:
        if self.bar is not None and tid is not None:
            kw: dict[str, Any] = {"advance": advance, "kept": kept}
            if total is not None:
                kw["total"] = total
            self.bar.update(tid, **kw)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def build_corpus(
    out_dir: Path,
    sources: Sequence[str] = ALL_SOURCES,
    jobs: int = 2,
    limit: int | None = None,
    seed: int = 0,
    progress: bool = True,
    *,
    target: int = DEFAULT_TARGET,
    csmith_programs: int | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    data_dir: Path | None = None,
    kernels_dir: Path | None = None,
) -> CorpusStats:
    """Build (or continue building) the corpus in `out_dir` and return its stats.

    `limit` caps the tasks per source (a task is one program group, or one
    kernel and size for the suite), for quick builds. csmith runs last and
    generates programs until the corpus holds `target` distinct modules
    (`csmith_programs` fixes the number of programs instead). Re-running with
    the same arguments does no new work.
    """
    unknown = [s for s in sources if s not in ALL_SOURCES]
    if unknown:
        raise ValueError(f"unknown corpus sources {unknown}; known: {', '.join(ALL_SOURCES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Context(
        data_dir=Path(data_dir) if data_dir else default_data_dir(),
        kernels_dir=Path(kernels_dir) if kernels_dir else KERNELS_DIR,
        work_dir=out_dir / "work",
        seed=seed,
    )
    corpus = _Corpus(out_dir, seed)
    tools = tool_versions()
    t_run = time.perf_counter()
    runner = _Runner(jobs, max_chars)
    bar = _Progress(progress)
    last_stats = time.perf_counter()

    def consume(source: str, results: Iterator[tuple[Task, TaskResult]], tid: Any, t_src: float) -> None:
        nonlocal last_stats
        for task, res in results:
            corpus.record(task, res)
            corpus.run_wall[source] = time.perf_counter() - t_src
            bar.update(tid, kept=corpus.kept_by_source.get(source, 0))
            if time.perf_counter() - last_stats > 20:  # a killed build still leaves fresh stats
                corpus.write_stats(corpus.stats(tools, time.perf_counter() - t_run))
                last_stats = time.perf_counter()

    try:
        # csmith last: it fills the corpus up to the target.
        for source in sorted(sources, key=lambda s: s == "csmith"):
            t_src = time.perf_counter()
            if source == "csmith":
                _build_csmith(corpus, runner, bar, consume, seed, target, csmith_programs, limit, t_src)
            else:
                tasks = _TASK_BUILDERS[source](ctx, limit)[:limit]
                todo = [t for t in tasks if not corpus.is_done(t)]
                tid = bar.add(source, len(tasks), len(tasks) - len(todo))
                consume(source, runner.run(todo), tid, t_src)
            corpus.write_stats(corpus.stats(tools, time.perf_counter() - t_run))
    finally:
        bar.stop()
        runner.close()
        stats = corpus.stats(tools, time.perf_counter() - t_run)
        corpus.write_stats(stats)
        corpus.close()
    return stats


def _build_csmith(
    corpus: _Corpus,
    runner: _Runner,
    bar: _Progress,
    consume: Callable[[str, Iterator[tuple[Task, TaskResult]], Any, float], None],
    seed: int,
    target: int,
    programs: int | None,
    limit: int | None,
    t_src: float,
) -> None:
    """Generate csmith programs in rounds until the corpus reaches `target` (or `programs` are done)."""
    if shutil.which("csmith") is None or not CSMITH_INCLUDE.is_dir():
        print("encoder corpus: csmith or its headers (libcsmith-dev) not installed; skipping csmith", file=sys.stderr)
        return
    cap = programs if programs is not None else max(1000, 4 * target)  # stops a round-trip that never converges
    if limit is not None:
        cap = min(cap, limit)
    done_before = sum(1 for src, _ in corpus.done if src == "csmith")
    tid = bar.add("csmith", cap if programs is not None or limit is not None else None, done_before)
    index = 0
    while index < cap:
        if programs is None:
            needed = target - corpus.kept_total()
            if needed <= 0:
                break
            n = min(cap - index, max(1, math.ceil(needed / CSMITH_EXPECTED_KEPT)))
        else:
            n = cap - index
        batch = [_csmith_task(seed, i) for i in range(index, index + n)]
        index += n
        todo = [t for t in batch if not corpus.is_done(t)]
        kept_before = corpus.kept_total()
        consume("csmith", runner.run(todo), tid, t_src)
        if todo and programs is None and corpus.kept_total() == kept_before:
            print("encoder corpus: a csmith round added nothing; stopping", file=sys.stderr)
            break


# ---------------------------------------------------------------------------
# Command line


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `encoder corpus` (shared by encoder/cli.py and `python -m encoder.corpus`)."""
    parser.add_argument("--out", type=Path, required=True, help="output directory (resumed if it exists)")
    parser.add_argument(
        "--sources",
        default=",".join(ALL_SOURCES),
        help=f"comma-separated subset of {','.join(ALL_SOURCES)} (default: all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--limit", type=int, default=None, help="at most N tasks per source (quick builds)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, pragma draws and csmith (default 0)")
    parser.add_argument(
        "--target",
        type=int,
        default=DEFAULT_TARGET,
        help=f"distinct modules to reach with csmith (default {DEFAULT_TARGET})",
    )
    parser.add_argument("--csmith", type=int, default=None, metavar="N", help="generate exactly N csmith programs")
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"skip modules longer than this (default {DEFAULT_MAX_CHARS})",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="public data folder (default: shared/data)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_corpus(args: argparse.Namespace) -> int:
    """Run `encoder corpus` from parsed arguments; prints a per-source summary."""
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    try:
        stats = build_corpus(
            args.out,
            sources=sources,
            jobs=args.jobs,
            limit=args.limit,
            seed=args.seed,
            progress=not args.no_progress and sys.stderr.isatty(),
            target=args.target,
            csmith_programs=args.csmith,
            max_chars=args.max_chars,
            data_dir=args.data_dir,
        )
    except ValueError as exc:
        print(f"encoder corpus: {exc}", file=sys.stderr)
        return 2
    out = io.StringIO()
    out.write(
        f"{'source':<16}{'tasks':>7}{'attempted':>10}{'failed':>8}{'dups':>7}{'large':>7}{'kept':>7}{'wall s':>8}\n"
    )
    for src, s in stats.sources.items():
        out.write(
            f"{src:<16}{int(s['tasks']):>7}{int(s['attempted']):>10}{int(s['failed']):>8}{int(s['duplicates']):>7}"
            f"{int(s['too_large']):>7}{int(s['kept']):>7}{s['wall_seconds']:>8.0f}\n"
        )
    splits = ", ".join(f"{k} {v['modules']} modules / {v['groups']} groups" for k, v in sorted(stats.splits.items()))
    out.write(f"total kept {stats.kept}; {splits}; {stats.build_seconds:.0f} s\n")
    print(out.getvalue(), end="")
    return 0


def main_corpus(argv: Sequence[str] | None = None) -> int:
    """`python -m encoder.corpus ...`: the same as `encoder corpus ...`."""
    p = argparse.ArgumentParser(prog="encoder corpus", description="build the pre-training IR corpus")
    add_corpus_arguments(p)
    return run_corpus(p.parse_args(list(argv) if argv is not None else None))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_corpus())
