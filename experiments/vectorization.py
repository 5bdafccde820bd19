"""Loop vectorization (VF, IC) from our encoder's embeddings, on a grid measured here (issue 5, part 3).

The public NeuroVectorizer data has the loop programs and their -O3 runtimes, but no runtime of
the 35 pragma settings `#pragma clang loop vectorize_width(VF) interleave_count(IC)`,
VF in {1, 2, 4, 8, 16, 32, 64}, IC in {1, 2, 4, 8, 16}. So we measure that grid ourselves, with
our own measurement engine, and then predict the pair from embeddings.

Stages (`--stage`):
* `record`: a stratified subset of the loops (`--per-template` files of each of the 20
  templates, drawn with `--select-seed`; round-robin over templates, so a partial recording
  is balanced), each measured at all 35 pairs by `autotune.measure.Bench`: interleaved A/B
  against the untransformed `clang-22 -O3` program, output verified against it. The pragma goes
  on the loop NeuroVectorizer tunes, the innermost loop of the benchmarked function. The loop
  programs are used unmodified: our own header.h (experiments/vectorization/) comes first on the
  include path, times the repeated calls with autotune.h's region timer, prints the program's
  digest, and divides the repetition count by `-DNV_ITER_DIV`, calibrated per loop so that one
  -O3 run takes about `--target-ms`. Protocol: 1 warm-up pair, then 3 to 12 interleaved pairs
  until the 95% bootstrap CI of the speedup is within +-3% (at most 15 s of runs per
  measurement); a candidate run may take 5x the baseline + 1 s. Why looser than the tuner's
  default (5-60 pairs, +-2%): 35 x 300 measurements must fit in hours on two cores, and the
  stored CI of every cell shows the noise the table's picks are judged with (its "within 5% of
  the oracle" column tolerates it). One CSV row per (loop, VF, IC), appended and fsync'ed as it
  is measured; a rerun measures only what is missing (kill it any time). A quiet-machine gate
  (`--max-busy`) waits before each measurement while other work keeps the CPUs busy. Real
  timing; the tests record only a 2-loop, 2-pair slice.
* `predict` (default): embed each recorded loop's -O3 IR (the program as published, with the
  data set's own header.h) with the pre-trained encoder and with randomly initialised encoders
  of the same shape (fused, text and graph modalities), then k-fold cross-validation predicting
  each pair's log-speedup from the embedding (a small MLP, and a k-NN average) and taking the
  argmax. Two fold protocols: loops grouped by identical IR and stratified by template (a test
  loop's template is seen in training), and whole templates held out (it is not).
  Runs on however many loops are fully recorded so far.

Usage:
    python experiments/vectorization.py --stage record [--per-template 15] [--max-busy 0.25]
    python experiments/vectorization.py [--seeds 3] [--folds 10]
    python experiments/vectorization.py --smoke          # 1 seed, 3 folds, short training
Writes results/vectorization_grid.csv (+ .json, the recording) and results/vectorization.md /
results/vectorization.csv (the table; one row per fold protocol and loop with each method's pair).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments import _opencl_tasks as oc  # noqa: E402
from experiments import _vectorization_data as vd  # noqa: E402
from experiments._report import markdown_table, spread  # noqa: E402

# --- the recording protocol ----------------------------------------------------------------
PER_TEMPLATE = 15  # x 20 templates = 300 loops
SELECT_SEED = 0
TARGET_MS = 30.0  # one -O3 run of a loop (the originals take ~0.4 s)
MIN_PAIRS, MAX_PAIRS, CI_TARGET = 3, 12, 0.03
MAX_SECONDS = 15.0
BASELINE_TIMEOUT = 60.0
TIMES_DECIMALS = 2  # ms in the CSV: 10 us on a ~30 ms run

# --- the prediction ------------------------------------------------------------------------
FOLD_SEED = 0
N_FOLDS = 10
KNN_K = 5
MLP_HIDDEN = 64
MLP_DROPOUT = 0.1
EPOCHS = 300
GOAL = 0.90  # of the oracle's geometric-mean speedup
NEAR = 0.95  # "within 5% of the oracle"
PROTOCOLS = {
    "loops": "k-fold CV over loops (stratified by template; loops with identical -O3 IR share a fold)",
    "templates": "leave-templates-out CV (folds grouped by template: no test template is seen in training)",
}


def log(s: str) -> None:
    print(s, flush=True)


# ============================================================================================
# Stage 1: record


def _options(a: argparse.Namespace):
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
def _builder(work: Path) -> Iterator:
    """$AUTOTUNE_CACHE's build cache when set; else a scratch folder per loop (36 binaries a loop,
    never reused once the loop is recorded)."""
    from autotune.build import Builder

    if os.environ.get("AUTOTUNE_CACHE"):
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


def _row(name: str, loop: str, site: str, vf: int, ic: int, div: int, m=None, error: str = "") -> dict:
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


def _quiet_gate(max_busy: float) -> Callable[[], None] | None:
    if max_busy >= 1:
        return None
    from autotune.measure.load import quiet_gate

    return quiet_gate(max_busy, log)


def record(a: argparse.Namespace, argv: list[str]) -> int:
    from autotune import machine
    from autotune.errors import UserError
    from autotune.measure import Bench

    work = Path(a.work)
    grid = Path(a.grid)
    meta_path = grid.with_suffix(".json")
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
    opts = _options(a)
    cpu = machine.current().cpu_model
    rows: list[dict[str, str]] = []
    seconds_before = 0.0
    if grid.exists():
        if not meta_path.exists():
            raise SystemExit(f"{grid}: exists without {meta_path.name}; move it away to record afresh")
        old = json.loads(meta_path.read_text())
        if old.get("options") != json.loads(json.dumps(vars(opts))):
            raise SystemExit(
                f"{grid}: recorded with other protocol options {old.get('options')}; use those or a new --grid"
            )
        if (old.get("machine") or {}).get("cpu_model") != cpu:
            raise SystemExit(f"{grid}: recorded on {old['machine']['cpu_model']}, this is {cpu}; speedups must not mix")
        seconds_before = float(old.get("seconds") or 0.0)
        vd.drop_partial_line(grid)
        rows = vd.read_rows(grid)
    done = {(r["file"], int(r["vf"]), int(r["ic"])) for r in rows}
    divs = {r["file"]: int(r["iter_div"]) for r in rows if r.get("iter_div")}
    started = time.time()
    base_meta = {
        "about": "Runtime grid of NeuroVectorizer loops: every (vectorize_width, interleave_count) pair measured "
        "against plain clang -O3 by autotune's engine (interleaved A/B, verified), by experiments/vectorization.py.",
        "command": "python " + shlex.join(["experiments/vectorization.py", *argv]),
        "options": vars(opts),
        "target_ms": a.target_ms,
        "selection": {"per_template": a.per_template, "seed": a.select_seed, "files": len(files)},
        "archive_sha256": oc.sha256(vd.data_files()["loops"]),
        "header_sha256": oc.sha256(vd.HEADER_DIR / "header.h"),
        "max_busy_by_others": a.max_busy,
        "machine": machine.current().to_dict(),
    }

    def write_meta() -> None:
        n_loops = len({f for f, _, _ in done})
        meta = {
            **base_meta,
            "loops_recorded": n_loops,
            "rows": len(done),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds_before + time.time() - started, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        grid.parent.mkdir(parents=True, exist_ok=True)
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=1) + "\n")
        tmp.replace(meta_path)

    write_meta()
    todo_loops = [f for f in files if any((f, *p) not in done for p in pairs)]
    log(
        f"{len(files)} loops x {len(pairs)} pairs -> {grid}; {len(files) - len(todo_loops)} loops recorded already, "
        f"{len(todo_loops)} to go"
    )
    gate = _quiet_gate(a.max_busy)
    guesses = vd.o3_runtimes_ms()
    new_file = not grid.exists()
    per_loop: list[float] = []
    with grid.open("a", newline="") as fh:
        import csv

        w = csv.DictWriter(fh, fieldnames=vd.GRID_FIELDS)
        if new_file:
            w.writeheader()

        def put(row: dict) -> None:
            w.writerow(row)
            fh.flush()
            os.fsync(fh.fileno())
            done.add((row["file"], int(row["vf"]), int(row["ic"])))

        for i, name in enumerate(todo_loops):
            t0 = time.time()
            todo = [p for p in pairs if (name, *p) not in done]
            head = f"[loop {i + 1}/{len(todo_loops)} {name}]"
            with _builder(work) as builder:
                loop, site, div = "", "", divs.get(name, 0)
                try:
                    k0 = vd.loop_kernel(loops, name, 1)
                    _, loop, site = vd.loop_space(k0)
                    if not div:
                        if gate is not None:
                            gate()
                        div, ms = calibrate(
                            loops, name, builder, a.target_ms, guesses.get(name, 400.0), opts.memory_cap()
                        )
                        log(f"{head} {loop} at {site}: NV_ITER_DIV={div} (one -O3 run ~{ms:.0f} ms)")
                    kernel = vd.loop_kernel(loops, name, div)
                    space, loop, site = vd.loop_space(kernel)
                    bench = Bench(kernel, space, opts, builder)
                    bench.prepare()
                except (UserError, ValueError) as e:
                    log(f"{head} cannot serve as a baseline: {e}")
                    for vf, ic in todo:
                        put(_row(name, loop, site, vf, ic, div, error=str(e)))
                    continue
                best = (0.0, None)
                for j, (vf, ic) in enumerate(todo):
                    if gate is not None:
                        gate()
                    try:
                        m = bench.measure(vd.pair_config(loop, vf, ic))
                    except UserError as e:  # the baseline broke mid-way: the loop is unusable
                        log(f"{head} VF {vf} IC {ic}: {e}")
                        put(_row(name, loop, site, vf, ic, div, error=str(e)))
                        continue
                    put(_row(name, loop, site, vf, ic, div, m))
                    ok = m.status == "ok" and m.verified
                    if ok and m.speedup and m.speedup > best[0]:
                        best = (m.speedup, (vf, ic))
                    sp = f"{m.speedup:.3f} [{m.ci[0]:.3f}, {m.ci[1]:.3f}]" if m.speedup and m.ci else "-"
                    log(f"{head} [{j + 1}/{len(todo)}] VF {vf:2d} IC {ic:2d}: {m.status} {sp} ({m.repetitions} pairs)")
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


# ============================================================================================
# Stage 2: predict


def grouped_folds(groups: list[str], strata: list[str], k: int, seed: int) -> np.ndarray:
    """Test fold of each sample: every group in one fold; groups dealt round-robin in the order
    (stratum, seeded shuffle), so each stratum spreads over the folds."""
    rng = np.random.RandomState(seed)
    first: dict[str, str] = {}
    for g, s in zip(groups, strata, strict=True):
        first.setdefault(g, s)
    uniq = sorted(first)
    key = dict(zip(uniq, rng.permutation(len(uniq)), strict=True))
    order = sorted(uniq, key=lambda g: (first[g], key[g]))
    fold_of = {g: j % k for j, g in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def mlp_scores(X: np.ndarray, T: np.ndarray, test_fold: np.ndarray, seed: int, epochs: int) -> np.ndarray:
    """Predicted log-speedup of every pair [n, 35], each sample by the model of its own test fold.

    The fold models are trained together as one batch (`oc.batched_mlp`), each fold's loss over
    its own training loops.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    n_folds = int(test_fold.max()) + 1
    train = test_fold[None, :] != np.arange(n_folds)[:, None]  # [fold, loop]
    mu, sd = oc.train_stats(X, train)
    Xm = torch.as_tensor((X[None] - mu[:, None]) / sd[:, None], dtype=torch.float32)
    Tt = torch.as_tensor(T, dtype=torch.float32)[None].expand(n_folds, -1, -1)
    mask = torch.as_tensor(train[:, :, None], dtype=torch.float32)
    out = oc.batched_mlp(Xm, Tt, mask, MLP_HIDDEN, MLP_DROPOUT, epochs, g)
    return out[test_fold, np.arange(len(X))]


def knn_scores(X: np.ndarray, T: np.ndarray, test_fold: np.ndarray, k: int = KNN_K) -> np.ndarray:
    """Similarity-weighted mean of the k most similar training loops' log-speedups (cosine of the
    embeddings standardized on the training folds)."""
    n_folds = int(test_fold.max()) + 1
    train = test_fold[None, :] != np.arange(n_folds)[:, None]
    mu, sd = oc.train_stats(X, train)
    out = np.zeros_like(T)
    for i in range(len(X)):
        f = test_fold[i]
        Z = (X - mu[f]) / sd[f]
        Z /= np.linalg.norm(Z, axis=1, keepdims=True) + 1e-9
        idx = np.where(train[f])[0]
        sim = Z[idx] @ Z[i]
        near = idx[np.argsort(-sim, kind="stable")[:k]]
        w = np.clip(Z[near] @ Z[i], 1e-3, None)[:, None]
        out[i] = (w * T[near]).sum(0) / w.sum()
    return out


def baseline_picks(T: np.ndarray, test_fold: np.ndarray) -> dict[str, np.ndarray]:
    """No embedding: the pair that is most often best on the training folds, and the pair with the
    best mean log-speedup there."""
    common, mean = np.zeros(len(T), int), np.zeros(len(T), int)
    for f in range(int(test_fold.max()) + 1):
        tr, te = test_fold != f, test_fold == f
        best = np.bincount(T[tr].argmax(1), minlength=T.shape[1])
        common[te] = int(best.argmax())
        mean[te] = int(T[tr].mean(0).argmax())
    return {"most-common-best": common, "best-mean": mean}


METRICS = ("gm", "frac", "gain", "exact", "near", "tie")


def evaluate(
    V: np.ndarray, picks: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None
) -> dict[str, float]:
    """Metrics of one column of picks (pair index, -1 = plain -O3) against the value grid V.

    `tie` (given the cells' CI bounds lo/hi) is the share of loops whose pick cannot be told apart
    from the oracle's pair by the recording: the pick's CI reaches the oracle cell's CI (plain -O3
    is exactly 1.0). The point-estimate metrics judge a pick against the best of 35 noisy
    estimates; this one says how many misses are within the noise.
    """
    rows = np.arange(len(V))
    at = np.maximum(picks, 0)
    val = np.where(picks < 0, 1.0, V[rows, at])
    best = V.argmax(1)
    oracle = V[rows, best]
    gm, gm_o = float(np.exp(np.log(val).mean())), float(np.exp(np.log(oracle).mean()))
    out = {
        "gm": gm,
        "frac": gm / gm_o,
        "gain": (gm - 1) / (gm_o - 1) if gm_o != 1 else float("nan"),
        "exact": float((picks == best).mean()),
        "near": float((val >= NEAR * oracle).mean()),
    }
    if lo is not None and hi is not None:
        top = np.where(picks < 0, 1.0, hi[rows, at])
        out["tie"] = float((top >= lo[rows, best]).mean())
    return out


def embeddings(loops: vd.Loops, names: list[str], seeds: list[int], work: Path) -> tuple[dict, list[str]]:
    """(encoder, seed) -> [n, 3, 256] (fused, text, graph) per loop, and each loop's IR hash."""
    from encoder.ir import ir_hash

    t0 = time.time()
    irs, hashes = {}, []
    for j, name in enumerate(names):
        text = vd.o3_ir(loops, name, work / "ir")
        h = ir_hash(text)
        irs[h] = text
        hashes.append(h)
        if j % 50 == 49:
            log(f"[vectorization] -O3 IR of {j + 1}/{len(names)} loops ({time.time() - t0:.0f} s)")
    out = {}
    for enc, seed in oc.encoder_specs(seeds):
        e = oc.embed_all(irs, enc, seed)
        out[(enc, seed)] = np.stack([e[h] for h in hashes])
        log(f"[vectorization] embedded with {enc}{'' if seed is None else f' seed {seed}'} ({time.time() - t0:.0f} s)")
    return out, hashes


def predict(a: argparse.Namespace, argv: list[str]) -> int:
    import torch

    t_start = time.time()
    torch.set_num_threads(oc.TORCH_THREADS)
    grid = Path(a.grid)
    if not grid.exists():
        raise vd.DataMissing(
            f"{grid}: no recorded grid; run `python experiments/vectorization.py --stage record` first"
        )
    loops = vd.extract(Path(a.work))
    df = vd.read_grid(grid)
    mat = vd.grid_matrix(df)
    names, V, OK, counts = mat.names, mat.value, mat.ok, mat.counts
    missing = [n for n in names if n not in set(loops.files)]
    if missing:
        raise vd.DataMissing(f"{grid}: loop {missing[0]} is not in the archive's training_data/")
    if len(names) < 2:
        raise SystemExit(f"{grid}: {len(names)} loops have all 35 pairs recorded; at least 2 are needed to predict")
    seeds = list(range(a.seeds))
    templates = [vd.template_of(n) for n in names]
    log(f"[vectorization] {len(names)} complete loops of {len(set(templates))} templates ({counts})")
    emb, hashes = embeddings(loops, names, seeds, Path(a.work))
    T = np.log(V)
    folds = {"loops": grouped_folds(hashes, templates, min(a.folds, len(set(hashes))), FOLD_SEED)}
    if len(set(templates)) >= 2:
        folds["templates"] = grouped_folds(
            templates, ["all"] * len(names), min(a.folds, len(set(templates))), FOLD_SEED
        )
    configs = [(e, m) for e in ("pretrained", "random-init") for m in ("fused", "text", "graph")]

    results: dict[str, dict[str, list[tuple[str, np.ndarray]]]] = {}  # protocol -> row -> [(column, picks)]
    for proto, tf in folds.items():
        rows: dict[str, list[tuple[str, np.ndarray]]] = {}
        rows["Oracle (best measured pair per loop)"] = [("oracle", V.argmax(1))]
        rows["always plain -O3 (no pragma)"] = [("O3", np.full(len(names), -1))]
        base = baseline_picks(T, tf)
        rows["most common best pair of the training loops (no embedding)"] = [
            ("most-common-best", base["most-common-best"])
        ]
        rows["best mean pair of the training loops (no embedding)"] = [("best-mean", base["best-mean"])]
        for enc, mod in configs:
            for s in seeds:
                X = emb[(enc, None if enc == "pretrained" else s)][:, oc.MODALITY_INDEX[mod]]
                rows.setdefault(f"ours: {enc} encoder, {mod}, MLP", []).append(
                    (f"{enc}/{mod}/mlp/seed{s}", mlp_scores(X, T, tf, s, a.epochs).argmax(1))
                )
                if enc == "pretrained" and s > 0:
                    continue  # the k-NN head is deterministic: once for the pre-trained encoder
                rows.setdefault(f"ours: {enc} encoder, {mod}, {KNN_K}-NN", []).append(
                    (
                        f"{enc}/{mod}/knn{KNN_K}" + ("" if enc == "pretrained" else f"/seed{s}"),
                        knn_scores(X, T, tf).argmax(1),
                    )
                )
        results[proto] = rows
        log(f"[vectorization] {proto}: {int(tf.max()) + 1} folds done ({time.time() - t_start:.0f} s)")

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "vectorization_smoke" if a.smoke else "vectorization"
    frame = per_sample(names, templates, V, OK, folds, results)
    frame.to_csv(out / f"{stem}.csv", index=False)

    def row_summary(method: str, cols: list[tuple[str, np.ndarray]]) -> dict:
        scores = [evaluate(V, p, mat.lo, mat.hi) for _, p in cols]  # once per column, not per metric
        return {
            "method": method,
            **{k: [m[k] for m in scores] for k in METRICS},
            "failed": [int(np.sum((p >= 0) & ~OK[np.arange(len(p)), np.maximum(p, 0)])) for _, p in cols],
        }

    summary = {proto: [row_summary(r, cols) for r, cols in rows.items()] for proto, rows in results.items()}
    info = {
        "argv": argv,
        "seconds": time.time() - t_start,
        "names": names,
        "templates": templates,
        "counts": counts,
        "folds": {p: int(f.max()) + 1 for p, f in folds.items()},
        "df": df,
        "V": V,
        "OK": OK,
        "grid": grid,
        "csv": f"{stem}.csv",
        "seeds": seeds,
        "epochs": a.epochs,
    }
    write_report(out / f"{stem}.md", summary, info)
    return 0


def _pair(i: int) -> str:
    return "O3" if i < 0 else f"{vd.PAIRS[i][0]},{vd.PAIRS[i][1]}"


def per_sample(names, templates, V, OK, folds, results) -> pd.DataFrame:
    rows = []
    for proto, tf in folds.items():
        for i, n in enumerate(names):
            r = {
                "protocol": proto,
                "file": n,
                "template": templates[i],
                "fold": int(tf[i]),
                "oracle_pair": _pair(int(V[i].argmax())),
                "oracle_speedup": float(V[i].max()),
                "failed_pairs": int((~OK[i]).sum()),
            }
            for cols in results[proto].values():
                for col, picks in cols:
                    if col == "oracle":
                        continue
                    p = int(picks[i])
                    r[f"pair:{col}"] = _pair(p)
                    r[f"speedup:{col}"] = 1.0 if p < 0 else float(V[i, p])
            rows.append(r)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Report


def _count(vals: list[int]) -> str:
    return str(vals[0]) if len(set(vals)) == 1 else f"{np.mean(vals):.1f} ({min(vals)}-{max(vals)})"


def _row_of(summary: list[dict], method: str) -> dict | None:
    return next((s for s in summary if s["method"] == method), None)


def discussion(summary: dict[str, list[dict]]) -> list[str]:
    lines = []
    for proto, rows in summary.items():
        ours = [s for s in rows if s["method"].startswith("ours")]
        if not ours:
            continue
        best = max(ours, key=lambda s: float(np.mean(s["frac"])))
        frac = float(np.mean(best["frac"]))
        goal = (
            f"meets the {GOAL:.0%} goal"
            if frac >= GOAL
            else f"misses the {GOAL:.0%} goal by {100 * (GOAL - frac):.1f} points"
        )
        cmp = []
        for m in (
            "always plain -O3 (no pragma)",
            "most common best pair of the training loops (no embedding)",
            "best mean pair of the training loops (no embedding)",
        ):
            b = _row_of(rows, m)
            if b is not None:
                bf = float(np.mean(b["frac"]))
                cmp.append(f"{'beats' if frac > bf else 'loses to' if frac < bf else 'ties'} {m} ({100 * bf:.1f}%)")
        oracle = _row_of(rows, "Oracle (best measured pair per loop)")
        lines.append(
            f"* {proto}: our best row is {best['method']}: geometric mean {np.mean(best['gm']):.3f}x, "
            f"{100 * frac:.1f}% of the oracle's {oracle['gm'][0]:.3f}x; it {goal}; it " + "; ".join(cmp) + "."
        )
        mean_pair = _row_of(rows, "best mean pair of the training loops (no embedding)")
        if "tie" in best and mean_pair is not None:
            lines.append(
                "  * within the recording's noise, its pick ties the oracle's pair on "
                f"{100 * np.mean(best['tie']):.1f}% of the loops "
                f"(best mean pair: {100 * np.mean(mean_pair['tie']):.1f}%; "
                f"plain -O3: {100 * np.mean(_row_of(rows, 'always plain -O3 (no pragma)')['tie']):.1f}%)."
            )
        for mod in ("fused", "text", "graph"):
            for head in ("MLP", f"{KNN_K}-NN"):
                p = _row_of(rows, f"ours: pretrained encoder, {mod}, {head}")
                r = _row_of(rows, f"ours: random-init encoder, {mod}, {head}")
                if p and r:
                    a, b = float(np.mean(p["frac"])), float(np.mean(r["frac"]))
                    lines.append(
                        f"  * pre-training, {mod}, {head}: pre-trained {100 * a:.1f}% vs random-init {100 * b:.1f}% "
                        f"of the oracle ({100 * (a - b):+.1f} points)."
                    )
    if set(summary) >= {"loops", "templates"}:
        a = max(float(np.mean(s["frac"])) for s in summary["loops"] if s["method"].startswith("ours"))
        b = max(float(np.mean(s["frac"])) for s in summary["templates"] if s["method"].startswith("ours"))
        lines.append(
            f"* Unseen templates: our best row reaches {100 * b:.1f}% of the oracle when whole templates are held out, "
            f"against {100 * a:.1f}% when a test loop's template is in training ({100 * (b - a):+.1f} points)."
        )
    return lines


WHY = [
    "How to read it (interpretation, not a measurement): the loops come from 20 templates whose members differ "
    "in array sizes, operations and small variations, so a test loop's nearest training loops are likely its own "
    "template's, and the embedding then mostly has to tell templates and sizes apart; holding out whole templates "
    "asks for a transfer that 20 templates give little to learn from. The oracle is the best of 35 noisy "
    "estimates (CI half-width above), so it is biased upwards by the noise, and the exact-pair accuracy is "
    "low even for a perfect predictor of the true best pair when several pairs tie within the noise; the "
    "'within 5%' and 'tie' columns are the fairer hit rates (a cell's CI can be wider than 5%, so 'tie' is the "
    "looser of the two where the recording was noisy). A pick whose measurement failed (compile error, timeout, "
    "wrong output) counts as plain -O3 (1.0x), which is what verification would leave the user with.",
]


def _student_note() -> list[str]:
    """The student583 brute-force grid (103 loops, unknown hardware), computed from the data files."""
    files = vd.data_files()
    if not (files["student_grid"].exists() and files["student_o3"].exists()):
        return []
    g = pd.read_csv(files["student_grid"])
    o3 = pd.read_csv(files["student_o3"]).set_index("file")["o3_runtime_ms"]
    g = g.dropna(subset=["runtime_ms"])
    best = g.loc[g.groupby("file")["runtime_ms"].idxmin()].set_index("file")
    common = best.groupby(["vf", "if"]).size().idxmax()
    sp = (o3.reindex(best.index) / best["runtime_ms"]).dropna()
    fixed = g[(g["vf"] == common[0]) & (g["if"] == common[1])].set_index("file")["runtime_ms"]
    sp_fixed = (o3.reindex(fixed.index) / fixed).dropna()
    return [
        "## Side note: the student583 grid (weak provenance)",
        "",
        f"`{files['student_grid'].name}` (sha256 {oc.sha256(files['student_grid'])[:16]}) is a 7 x 5 "
        f"brute-force grid of {best.index.nunique()} NeuroVectorizer test loops from an EECS 583 course project, "
        "on **unknown hardware**, "
        "with its -O3 times from a separate run: not comparable with the grid above and not used by any row. "
        f"There, the best pair per loop gives a geometric-mean speedup of {np.exp(np.log(sp).mean()):.3f}x over -O3 "
        f"({len(sp)} loops), and the pair most often best ({int(common[0])},{int(common[1])}) applied to every loop "
        f"gives {np.exp(np.log(sp_fixed).mean()):.3f}x (in-sample, {len(sp_fixed)} loops).",
    ]


def write_report(path: Path, summary: dict[str, list[dict]], info: dict) -> None:
    from encoder.embedding import WEIGHTS

    df, grid = info["df"], info["grid"]
    meta_path = grid.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    names = info["names"]
    per_t = pd.Series(info["templates"]).value_counts().sort_index()
    loop_s = df[df["file"].isin(names)].groupby("file")[["build_seconds", "harness_seconds"]].sum().sum(axis=1)
    cpus = sorted(set(df["cpu_model"].dropna().astype(str)))
    opts = meta.get("options", {})
    counts = info["counts"]
    ok = info["OK"]
    ci = df[df["ok"] & df["file"].isin(names)]
    ci_half = ((ci["ci_hi"] - ci["ci_lo"]) / 2 / ci["speedup"]).median() if len(ci) else float("nan")
    cmd = "python " + shlex.join(["experiments/vectorization.py", *info["argv"]])
    try:
        grid_name = str(grid.resolve().relative_to(ROOT))
    except ValueError:
        grid_name = str(grid)
    lines = [
        "# Loop vectorization: predicting (vectorize_width, interleave_count) from our encoder's embeddings",
        "",
        f"Command: `{cmd}` ({info['seconds'] / 60:.1f} min; embeddings cached under `build/experiments-embeddings/`, "
        "-O3 IR under `build/vectorization/ir/`)  ",
        f"Date: {oc.now()}; machine: {oc.machine_line()}; commit {oc.git_commit()}; "
        f"{oc.TORCH_THREADS} torch threads.  ",
        f"Encoder: `encoder/assets/{WEIGHTS.name}` (digest {oc.weights_digest()}); random-init controls: same config, "
        "`torch.manual_seed(s)`.  ",
        f"Grid: `{grid_name}` (sha256 {oc.sha256(grid)[:16]}), measured here by `--stage record` "
        f"({meta.get('command', 'command not recorded')}) on {', '.join(cpus) or 'unknown CPU'}: "
        f"{counts['recorded']} loops recorded, **{counts['complete']} with all 35 pairs** used below "
        f"({counts['partial']} partial, {counts['baseline_error']} whose -O3 program could not serve as the baseline); "
        f"{int((~ok).sum())} of {ok.size} cells failed (compile error, timeout or wrong output). "
        f"Loops per template: {', '.join(f'{t} {c}' for t, c in per_t.items())}.  ",
        (
            f"Recording protocol: interleaved A/B against plain `clang-22 -O3` with output verification, "
            f"{opts['min_pairs']}-{opts['max_pairs']} pairs to a +-{100 * float(opts['ci_target']):.0f}% 95% CI, "
            f"one -O3 run calibrated to ~{meta.get('target_ms', '?')} ms; recording wall time "
            f"{float(meta.get('seconds', 0)) / 3600:.1f} h.  "
            if opts
            else f"Recording protocol: unknown ({meta_path.name} missing).  "
        ),
        f"Median 95% CI half-width of the verified cells {100 * ci_half:.1f}% of the speedup; measurement time per "
        f"loop (35 pairs, builds included) median {loop_s.median():.0f} s.  ",
        f"Data (`../shared/data/`): `vectorization/neurovectorizer_loops.tar.gz` (sha256 "
        f"{oc.sha256(vd.data_files()['loops'])[:16]}), `training_data/` loops with their own `header.c`; "
        "our `experiments/vectorization/header.h` replaces their `header.h` for timing "
        f"(sha256 {oc.sha256(vd.HEADER_DIR / 'header.h')[:16]}).  ",
        f"Features: the embedding (256) of each loop's normalized `clang-22 -O3` IR (the program as published, "
        f"with the data set's header.h). Targets: log speedup over -O3 of the 35 pairs; the argmax is the pick. "
        f"MLP 2x{MLP_HIDDEN}, dropout {MLP_DROPOUT}, AdamW (lr 3e-3, wd 1e-2), {info['epochs']} full-batch epochs; "
        f"{KNN_K}-NN: similarity-weighted mean of the neighbours' targets (cosine of standardized embeddings).  ",
        f"Folds (seed {FOLD_SEED}): "
        + "; ".join(f"{PROTOCOLS[p]}, {k} folds" for p, k in info["folds"].items())
        + ".  ",
        f"Seeds: MLP seeds {', '.join(map(str, info['seeds']))}; the random-init encoder of seed s is paired with MLP "
        "seed s; cells of ours: mean over seeds (min-max). The pre-trained k-NN rows are deterministic.  ",
        "Metrics: geometric-mean speedup over -O3 of the picked pair; its ratio to the oracle's geometric mean; the "
        "share of the oracle's gain over -O3 ((x-1)/(oracle-1)); exact-pair accuracy; loops within "
        f"{100 * (1 - NEAR):.0f}% of their oracle; loops whose pick ties the oracle within the recording's noise "
        "(the 95% CI of the picked cell reaches that of the oracle's cell; plain -O3 counts as exactly 1.0); "
        "picks whose cell failed (counted as 1.0x).",
        "",
    ]
    for proto, rows in summary.items():
        table = [
            {
                "method": s["method"],
                "geomean speedup": spread(s["gm"], collapse_equal=True),
                "% of oracle": spread(s["frac"], 100, 1, collapse_equal=True),
                "% of oracle gain": spread(s["gain"], 100, 1, collapse_equal=True),
                "exact pair %": spread(s["exact"], 100, 1, collapse_equal=True),
                f"within {100 * (1 - NEAR):.0f}% of oracle %": spread(s["near"], 100, 1, collapse_equal=True),
                "tie with oracle (CIs overlap) %": spread(s["tie"], 100, 1, collapse_equal=True),
                "failed picks": _count(s["failed"]),
            }
            for s in rows
        ]
        lines += [f"## {PROTOCOLS[proto]}", "", markdown_table(pd.DataFrame(table)), ""]
    lines += [
        "## Discussion (computed from the numbers above)",
        "",
        *discussion(summary),
        "",
        *WHY,
        "",
        f"Per-sample predictions: `results/{info['csv']}` (one row per fold protocol and loop: fold, oracle pair and "
        "speedup, and per method and seed the picked `pair:` (VF,IC) and its `speedup:`).",
        "",
        "Caveats: the encoder's self-supervised pre-training corpus includes these loop programs' IR (-O3 and pragma "
        "variants; no runtimes); the random-init rows use the same IR and heads. The grid is this machine's, not "
        "the paper's (Xeon E5-2667 v2); published NeuroVectorizer numbers are not comparable with it.",
        "",
        *_student_note(),
    ]
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# ============================================================================================


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=("record", "predict"), default="predict")
    ap.add_argument("--grid", default=str(vd.GRID), help="the recorded grid CSV (+ .json beside it)")
    ap.add_argument("--work", default=str(vd.WORK), help="extracted archive, IR cache, scratch builds")
    g = ap.add_argument_group("record")
    g.add_argument("--per-template", type=int, default=PER_TEMPLATE, help="loops per template (20 templates)")
    g.add_argument("--select-seed", type=int, default=SELECT_SEED)
    g.add_argument("--files", nargs="+", help="record these loop files instead of the stratified selection")
    g.add_argument("--limit", type=int, default=0, help="record only the first N loops of the selection")
    g.add_argument("--pairs", nargs="+", help="only these VF,IC pairs (default: all 35)")
    g.add_argument("--target-ms", type=float, default=TARGET_MS, help="time of one -O3 run after calibration")
    g.add_argument("--min-pairs", type=int, default=MIN_PAIRS)
    g.add_argument("--max-pairs", type=int, default=MAX_PAIRS)
    g.add_argument("--ci-target", type=float, default=CI_TARGET)
    g.add_argument(
        "--max-busy",
        type=float,
        default=0.25,
        help="wait before each measurement while other work uses more than this share of the CPUs (1: never)",
    )
    g = ap.add_argument_group("predict")
    g.add_argument("--seeds", type=int, default=3, help="MLP seeds; random-init encoders use the same")
    g.add_argument("--folds", type=int, default=N_FOLDS)
    g.add_argument("--epochs", type=int, default=EPOCHS)
    g.add_argument("--smoke", action="store_true", help="1 seed, 3 folds, 100 epochs; writes vectorization_smoke.*")
    g.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.folds, a.epochs = 1, 3, min(a.epochs, 100)
    if a.stage == "record":
        return record(a, argv)
    return predict(a, argv)


if __name__ == "__main__":
    raise SystemExit(main())
