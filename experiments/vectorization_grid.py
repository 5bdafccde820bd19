"""The record stage of the loop-vectorization experiment: every (VF, IC) pair of each loop, timed for real.

Why a module of its own: recording is hours of measurement with the engine (autotune.measure.Bench)
and shares nothing with the prediction but the grid file it fills. The protocol (see
experiments/vectorization.py for the whole story): each selected loop is calibrated so that one
-O3 run takes about `--target-ms`, then measured at all 35 pairs, interleaved against the
untransformed -O3 program and verified; one row per (loop, VF, IC) is appended to the grid through
the Trial stage's `Recorder` (fsync'ed, resumed, a half-written row cut off), which also refuses a
grid recorded with other protocol options or on another CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from autotune.paths import CACHE_ENV
from autotune.trials.recorder import Recorder, RecordingMismatch, Same, same_cpu
from experiments import provenance as prov
from experiments import vectorization_data as vd

# --- the recording protocol ----------------------------------------------------------------
PER_TEMPLATE = 15  # x 20 templates = 300 loops
SELECT_SEED = 0
TARGET_MS = 30.0  # one -O3 run of a loop (the originals take ~0.4 s)
MIN_PAIRS, MAX_PAIRS, CI_TARGET = 3, 12, 0.03
MAX_SECONDS = 15.0
BASELINE_TIMEOUT = 60.0
TIMES_DECIMALS = 2  # ms in the CSV: 10 us on a ~30 ms run


def log(s: str) -> None:
    print(s, flush=True)


def recording_options(a: argparse.Namespace):
    """The engine's protocol for one grid cell (the options a resumed grid must share)."""
    from autotune.measure import Options

    return Options(
        min_pairs=a.min_pairs,
        max_pairs=a.max_pairs,
        ci_target=a.ci_target,
        warmup=1,
        timeout_factor=5.0,
        baseline_timeout=BASELINE_TIMEOUT,
        max_seconds=MAX_SECONDS,
        seed=0,
        load_check="off",  # the recording's own quiet gate (--max-busy) waits before each measurement
    )


@contextlib.contextmanager
def scratch_builder(work: Path) -> Iterator:
    """$AUTOTUNE_CACHE's build cache when set; else a scratch folder per loop (36 binaries a loop,
    never reused once the loop is recorded)."""
    from autotune.build import Builder

    if os.environ.get(CACHE_ENV):
        yield Builder()
        return
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work / "tmp") as tmp:
        yield Builder(Path(tmp))


def calibrate(loops: vd.Loops, name: str, builder, target_ms: float, guess_ms: float, memory: int) -> tuple[int, float]:
    """(NV_ITER_DIV, ms of one -O3 run with it): a first divisor from the data set's own -O3 time,
    one build and two runs, then the divisor rescaled to the time measured here."""
    from autotune.errors import UserError
    from autotune.measure import runner, timing
    from autotune.variant import make_variant

    d0 = max(1, round(guess_ms / target_ms))
    k = vd.loop_kernel(loops, name, d0)
    space, _, _ = vd.loop_space(k)
    b = builder.build(k, make_variant(k, space, space.default()))
    if not b.ok:
        raise UserError(f"{name}: does not compile at -O3: {b.diagnostics(3)}")
    ms = []
    for _ in range(2):
        r = runner.run(
            b.exe, [], runner.clean_env({"OMP_NUM_THREADS": "1"}), BASELINE_TIMEOUT, memory, None, k.path.parent
        )
        if not r.ok:
            raise UserError(f"{name}: the -O3 program fails ({r.describe_failure()})")
        ms.append(timing.extract(r, k.timing).seconds * 1e3)
    div = max(1, round(d0 * min(ms) / target_ms))
    return div, min(ms) * d0 / div


def grid_row(name: str, loop: str, site: str, vf: int, ic: int, div: int, m=None, error: str = "") -> dict:
    """One cell as the grid stores it (numbers rounded here: the grid's format); no `m`: a baseline error."""
    from autotune import machine

    r = {f: "" for f in vd.GRID_FIELDS}
    r.update(file=name, template=vd.template_of(name), loop=loop, site=site, vf=vf, ic=ic, iter_div=div)
    r["cpu_model"] = machine.current().cpu_model
    r["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if m is None:
        r.update(status=vd.BASELINE_ERROR, verified=False, message=error.splitlines()[0][:300] if error else "")
        return r

    def ms(xs: list[float]) -> str:
        return json.dumps([round(x * 1e3, TIMES_DECIMALS) for x in xs])

    r.update(
        status=m.status,
        verified=m.verified,
        speedup=round(m.speedup, 5) if m.speedup is not None else "",
        ci_lo=round(m.ci[0], 5) if m.ci else "",
        ci_hi=round(m.ci[1], 5) if m.ci else "",
        baseline_ms=round(m.baseline_seconds * 1e3, 4) if m.baseline_seconds else "",
        candidate_ms=round(m.candidate_seconds * 1e3, 4) if m.candidate_seconds else "",
        pairs=m.repetitions,
        runs=m.runs,
        timing=m.timing,
        baseline_times_ms=ms(m.baseline_times),
        candidate_times_ms=ms(m.candidate_times),
        build_seconds=round(m.build_seconds, 3),
        harness_seconds=round(m.harness_seconds, 3),
        message=" | ".join(m.message.splitlines())[:300],
    )
    return r


def quiet_gate(max_busy: float) -> Callable[[], None] | None:
    """Waits before each measurement while other work keeps the CPUs busier than `max_busy` (1: never)."""
    if max_busy >= 1:
        return None
    from autotune.measure import load

    return load.quiet_gate(max_busy, log)


def cell_key(row: dict) -> tuple[str, int, int]:
    """A cell of the grid: (loop file, VF, IC)."""
    return row["file"], int(row["vf"]), int(row["ic"])


def open_grid(grid: Path, opts) -> Recorder:
    """The grid's recorder; a grid recorded with other protocol options or on another CPU is refused."""
    protocol = Same(
        "options", vars(opts), "{path}: recorded with other protocol options {was}; use those or a new --grid"
    )
    try:
        return Recorder(grid, vd.GRID_FIELDS, cell_key, with_meta=True, checks=[protocol, same_cpu()])
    except RecordingMismatch as e:
        raise SystemExit(str(e)) from None


def record_loop(
    rec: Recorder,
    loops: vd.Loops,
    name: str,
    todo: list,
    div: int,
    builder,
    opts,
    target_ms: float,
    guess_ms: float,
    gate,
    head: str,
) -> tuple[float, tuple[int, int] | None] | None:
    """Calibrate one loop (unless its divisor is recorded), then measure its `todo` pairs into the grid.

    Returns (best verified speedup, its pair), or None for a loop whose -O3 program cannot serve
    as the baseline: it gets a `baseline_error` row for every pair left, so it is never tried again.
    """
    from autotune.errors import UserError
    from autotune.measure import Bench

    loop, site = "", ""
    try:
        k0 = vd.loop_kernel(loops, name, 1)
        _, loop, site = vd.loop_space(k0)
        if not div:
            if gate is not None:
                gate()
            div, ms = calibrate(loops, name, builder, target_ms, guess_ms, opts.memory_cap())
            log(f"{head} {loop} at {site}: NV_ITER_DIV={div} (one -O3 run ~{ms:.0f} ms)")
        kernel = vd.loop_kernel(loops, name, div)
        space, loop, site = vd.loop_space(kernel)
        bench = Bench(kernel, space, opts, builder)
        bench.prepare()
    except (UserError, ValueError) as e:
        log(f"{head} cannot serve as a baseline: {e}")
        for vf, ic in todo:
            rec.append(grid_row(name, loop, site, vf, ic, div, error=str(e)))
        return None
    best: tuple[float, tuple[int, int] | None] = (0.0, None)
    for j, (vf, ic) in enumerate(todo):
        if gate is not None:
            gate()
        try:
            m = bench.measure(vd.pair_config(loop, vf, ic))
        except UserError as e:  # the baseline broke mid-way: the loop is unusable
            log(f"{head} VF {vf} IC {ic}: {e}")
            rec.append(grid_row(name, loop, site, vf, ic, div, error=str(e)))
            continue
        rec.append(grid_row(name, loop, site, vf, ic, div, m))
        ok = m.status == "ok" and m.verified
        if ok and m.speedup and m.speedup > best[0]:
            best = (m.speedup, (vf, ic))
        sp = f"{m.speedup:.3f} [{m.ci[0]:.3f}, {m.ci[1]:.3f}]" if m.speedup and m.ci else "-"
        log(f"{head} [{j + 1}/{len(todo)}] VF {vf:2d} IC {ic:2d}: {m.status} {sp} ({m.repetitions} pairs)")
    return best


def record(a: argparse.Namespace, argv: list[str]) -> int:
    """The record stage: every selected loop at every pair, resumed from the grid on disk."""
    from autotune import machine

    work = Path(a.work)
    grid = Path(a.grid)
    loops = vd.extract(work)
    files = list(a.files) if a.files else vd.select(loops.files, a.per_template, a.select_seed)
    unknown = [f for f in files if f not in set(loops.files)]
    if unknown:
        raise vd.DataMissing(f"--files: {', '.join(unknown[:3])}: not a loop of the archive's training_data/")
    if a.limit:
        files = files[: a.limit]
    try:
        pairs = [vd.parse_pair(p) for p in a.pairs] if a.pairs else list(vd.PAIRS)
    except ValueError as e:
        raise SystemExit(f"--pairs: {e}") from None
    opts = recording_options(a)
    rec = open_grid(grid, opts)
    done = rec.keys  # grows with every row appended
    divs = {r["file"]: int(r["iter_div"]) for r in rec.rows if r.get("iter_div")}
    seconds_before = float(rec.meta.get("seconds") or 0.0)
    started = time.time()
    base_meta = {
        "about": "Runtime grid of NeuroVectorizer loops: every (vectorize_width, interleave_count) pair measured "
        "against plain clang -O3 by autotune's engine (interleaved A/B, verified), by experiments/vectorization.py.",
        "command": "python -m " + shlex.join(["experiments.vectorization", *argv]),
        "options": vars(opts),
        "target_ms": a.target_ms,
        "selection": {"per_template": a.per_template, "seed": a.select_seed, "files": len(files)},
        "archive_sha256": prov.sha256(vd.data_files()["loops"]),
        "header_sha256": prov.sha256(vd.HEADER_DIR / "header.h"),
        "max_busy_by_others": a.max_busy,
        "machine": machine.current().to_dict(),
    }

    def write_meta() -> None:
        n_loops = len({f for f, _, _ in done})
        rec.write_meta(
            {
                **base_meta,
                "loops_recorded": n_loops,
                "rows": len(done),
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "seconds": round(seconds_before + time.time() - started, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )

    write_meta()
    todo_loops = [f for f in files if any((f, *p) not in done for p in pairs)]
    log(
        f"{len(files)} loops x {len(pairs)} pairs -> {grid}; {len(files) - len(todo_loops)} loops recorded already, "
        f"{len(todo_loops)} to go"
    )
    gate = quiet_gate(a.max_busy)
    guesses = vd.o3_runtimes_ms()
    per_loop: list[float] = []
    for i, name in enumerate(todo_loops):
        t0 = time.time()
        todo = [p for p in pairs if (name, *p) not in done]
        head = f"[loop {i + 1}/{len(todo_loops)} {name}]"
        with scratch_builder(work) as builder:
            guess = guesses.get(name, 400.0)
            best = record_loop(rec, loops, name, todo, divs.get(name, 0), builder, opts, a.target_ms, guess, gate, head)
        if best is None:
            continue
        per_loop.append(time.time() - t0)
        mean = sum(per_loop) / len(per_loop)
        left = (len(todo_loops) - i - 1) * mean
        log(
            f"{head} done in {per_loop[-1]:.0f} s; best {best[1]} {best[0]:.3f}x; "
            f"{(time.time() - started) / 60:.1f} min so far, about {left / 60:.0f} min to go"
        )
        write_meta()
    write_meta()
    log(f"recorded: {len({f for f, _, _ in done})} loops, {len(done)} rows in {grid}")
    return 0
