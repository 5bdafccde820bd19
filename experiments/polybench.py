"""Tune all 30 unmodified PolyBench/C 4.2.1 programs with `autotune run` and tabulate what it finds.

Each program is the release's own file, built with only command-line flags
(`-I utilities --source utilities/polybench.c -D MEDIUM_DATASET`, PolyBench's
timer and array dump), and searched with the same call `autotune run --budget 30`
makes (the default strategy, the default protocol, the load check waiting for a
quiet machine). Every configuration is measured interleaved against the
untransformed program and its dumped arrays are verified against it.

The release is copied once into build/polybench/ (the shared copy is read-only);
the studies live in build/polybench/studies.log, so a stopped run resumes where it
was. Each program's outputs (trials.csv, best.json, best_variant.c/.sh,
convergence.png) go to results/polybench/<program>/ and are committed; the table
is rebuilt from them alone (`--report-only`), never from typed numbers.

Usage:
    python -m experiments.polybench [--programs 2mm,gemm] [--budget 30] [--size MEDIUM]
    python -m experiments.polybench --report-only
Writes results/polybench.md and results/polybench.csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import shlex
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from autotune.machine import current
from autotune.measure import Options
from experiments.provenance import ROOT
from experiments.report import markdown_table

RELEASE = ROOT.parent / "shared" / "data" / "polybench-c-4.2.1"
WORK = ROOT / "build" / "polybench"
OUT = ROOT / "results" / "polybench"
TARGET_GEOMEAN = 1.6


def programs(release: Path) -> list[Path]:
    """The 30 programs of the release, in utilities/benchmark_list order (paths relative to the release)."""
    listing = (release / "utilities" / "benchmark_list").read_text().split()
    return [Path(p) for p in listing]


def release_digest(release: Path) -> str:
    """A hash of every file of the release: the data version the table was made from."""
    h = hashlib.sha256()
    for f in sorted(p for p in release.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(release)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def working_copy(release: Path) -> Path:
    dest = WORK / release.name
    if not dest.exists():
        tmp = WORK / (release.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(release, tmp)
        for p in tmp.rglob("*"):  # the shared copy is read-only; ours must not be
            p.chmod(p.stat().st_mode | 0o200)
        tmp.rename(dest)
    return dest


def tune_one(copy: Path, rel: Path, a: argparse.Namespace) -> dict:
    """Run (or resume) one program's study; return what this invocation did."""
    import autotune

    name = rel.stem
    out = OUT / name
    opts = Options(seed=a.seed, load_wait_s=a.load_wait)
    t0 = time.time()
    r = autotune.tune(
        copy / rel,
        budget=a.budget,
        strategy=a.strategy,
        storage=str(WORK / "studies.log"),
        seed=a.seed,
        out=out,
        defines=[f"{a.size}_DATASET"],
        include_dirs=[copy / "utilities"],
        sources=[copy / "utilities" / "polybench.c"],
        options=opts,
    )
    log = {
        "started": dt.datetime.fromtimestamp(t0, dt.UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.time() - t0, 1),
        "new_measurements": r.new_measurements,
        "stop": r.stop_reason,
    }
    with open(out / "runs.jsonl", "a") as f:
        f.write(json.dumps(log) + "\n")
    return log


# --- the report -----------------------------------------------------------------------------
def summarise(name: str) -> dict | None:
    folder = OUT / name
    if not (folder / "best.json").exists():
        return None
    best = json.loads((folder / "best.json").read_text())
    trials = pd.read_csv(folder / "trials.csv")
    runs = (
        [json.loads(line) for line in (folder / "runs.jsonl").read_text().splitlines()]
        if (folder / "runs.jsonl").exists()
        else []
    )
    ci = best.get("ci")
    changed = " ".join(f"{k}={v}" for k, v in (best.get("changed") or {}).items()) or "(baseline)"
    measuring = float(trials["harness_seconds"].fillna(0).sum() + trials["build_seconds"].fillna(0).sum())
    return {
        "program": name,
        "measured": int(len(trials)),
        "ok": int((trials["status"] == "ok").sum()),
        "speedup": best.get("speedup"),
        "ci_lo": ci[0] if ci else None,
        "ci_hi": ci[1] if ci else None,
        "verified": bool(best.get("verified")),
        "under_load": int(trials["under_load"].fillna(False).astype(bool).sum()) if "under_load" in trials else 0,
        "best_under_load": bool(best.get("under_load")),
        "measuring_min": round(measuring / 60, 1),
        "wall_min": round(sum(r["wall_s"] for r in runs) / 60, 1),
        "best_config": changed,
    }


def wrong_output_by_rounding(names: list[str]) -> int:
    """`wrong_output` measurements whose first mismatch is one unit in the last printed decimal."""
    import re

    pat = re.compile(r"expected (-?\d+\.(\d+)), got (-?\d+\.\d+)")
    n = 0
    for name in names:
        path = OUT / name / "trials.csv"
        if not path.exists():
            continue
        t = pd.read_csv(path)
        for msg in t.loc[t["status"] == "wrong_output", "message"].astype(str):
            m = pat.search(msg)
            if m and abs(float(m.group(1)) - float(m.group(3))) <= 1.5 * 10 ** -len(m.group(2)):
                n += 1
    return n


def report(names: list[str], a: argparse.Namespace, digest: str) -> None:
    rows = [r for n in names if (r := summarise(n)) is not None]
    if not rows:
        raise SystemExit(f"no results under {OUT}; run without --report-only first")
    df = pd.DataFrame(rows)
    df.to_csv(ROOT / "results" / "polybench.csv", index=False)
    done = df[df["measured"] >= a.budget]
    sp = [float(s) for s in done["speedup"] if s is not None and not pd.isna(s)]
    geo = math.exp(sum(math.log(s) for s in sp) / len(sp)) if sp else float("nan")
    show = df.assign(
        speedup=[f"{s:.3f}x" if s is not None and not pd.isna(s) else "-" for s in df["speedup"]],
        ci=[
            f"{lo:.3f}-{hi:.3f}" if lo is not None and not pd.isna(lo) else "none"
            for lo, hi in zip(df["ci_lo"], df["ci_hi"], strict=True)
        ],
    )[["program", "measured", "ok", "speedup", "ci", "under_load", "measuring_min", "wall_min", "best_config"]]
    m = current()
    lines = [
        "# Unmodified PolyBench/C 4.2.1, tuned by `autotune run`",
        "",
        f"Each program of the release, {a.size}_DATASET, searched with `autotune run --budget {a.budget}` "
        f"(strategy {a.strategy}, seed {a.seed}, the default protocol and load check); the best verified "
        "speedup over the untransformed program (`clang-22 -O3 -fopenmp`, all cores), its 95% CI, and the "
        "configuration that gave it. Every number below is read from results/polybench/<program>/.",
        "",
        f"Command: `python -m experiments.polybench --budget {a.budget} --size {a.size}` (resumes; "
        "`--report-only` rebuilds this table)  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {m.cpu_model}, {m.usable_cores} usable cores, {m.memory_gib} GiB; "
        f"{'; '.join(m.compilers.values())}  ",
        f"Data: PolyBench/C 4.2.1 from ../shared/data/polybench-c-4.2.1 (files sha256 {digest}), unmodified.",
        "",
        markdown_table(show),
        "",
        "## Against the target",
        "",
        f"* Programs with the whole budget measured: {len(done)} of {len(programs(RELEASE))}.",
        f"* Geometric mean of their best speedups: {geo:.3f}x (target {TARGET_GEOMEAN}x): "
        + ("met." if geo >= TARGET_GEOMEAN else "not met."),
        f"* Measurements taken under load (other work on the cores; their speedups are suspect): "
        f"{int(df['under_load'].sum())} of {int(df['measured'].sum())}; best configurations measured under load: "
        f"{int(df['best_under_load'].sum())}.",
    ]
    lines.append(
        f"* Tuning wall time: {df['wall_min'].sum():.0f} min for {int(df['measured'].sum())} measurements "
        f"(builds and timed runs: {df['measuring_min'].sum():.0f} min)."
    )
    failed = int((df["measured"] - df["ok"]).sum())
    lines.append(
        f"* Failed measurements (status other than ok, objective 0): {failed} of {int(df['measured'].sum())}; "
        f"{wrong_output_by_rounding(names)} of them are `wrong_output` by one unit in the last printed digit "
        "(PolyBench dumps arrays with 2 decimals, so a legal reordering of a floating-point sum that moves a value "
        "across a rounding boundary fails the default `--rtol 1e-6`)."
    )
    lines.append(
        "* Each best is the largest of 30 noisy estimates, so it is biased upwards (the winner's curse), most where "
        "its CI is wide; the CI column says how far to trust it."
    )
    slow = df[(df["speedup"].astype(float) < 1.1)]["program"].tolist()
    if slow:
        lines.append(f"* Where we lose (best under 1.1x): {', '.join(slow)}.")
    missing = [n for n in names if n not in set(df["program"])]
    if missing:
        lines.append(f"* Not measured yet: {', '.join(missing)}.")
    (ROOT / "results" / "polybench.md").write_text("\n".join(lines) + "\n")
    print(f"geomean {geo:.3f}x over {len(done)} programs; results/polybench.md", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--programs", default="", help="comma-separated names (default: all 30)")
    p.add_argument("--budget", type=int, default=30)
    p.add_argument("--size", default="MEDIUM")
    p.add_argument("--strategy", default="tpe")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--load-wait", type=float, default=1800.0, help="seconds to wait for a quiet machine per look")
    p.add_argument("--report-only", action="store_true")
    a = p.parse_args(argv)
    if not RELEASE.is_dir():
        print(f"polybench: {RELEASE} not found; it is the unmodified release in ../shared/data", file=sys.stderr)
        return 1
    rels = programs(RELEASE)
    wanted = [s for s in a.programs.split(",") if s]
    unknown = set(wanted) - {r.stem for r in rels}
    if unknown:
        print(f"polybench: --programs: not in the release: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    chosen = [r for r in rels if not wanted or r.stem in wanted]
    digest = release_digest(RELEASE)
    if not a.report_only:
        copy = working_copy(RELEASE)
        print("command:", shlex.join([sys.executable, "-m", "experiments.polybench", *sys.argv[1:]]), flush=True)
        for rel in chosen:
            log = tune_one(copy, rel, a)
            print(f"{rel.stem}: {log}", flush=True)
    report([r.stem for r in rels], a, digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
