"""Thread coarsening measured here: the data set's 17 kernels on this machine's OpenCL device (issue 15, part 3).

    python -m experiments.coarsening_measured [--kernels a,b] [--report-only]

`experiments.coarsening` replays runtimes published for four 2014 GPUs. This measures the same
task on hardware we have: every kernel of kernels/opencl/coarsening (the data set's sources with
launch descriptions) that can be coarsened, at every coarsening factor its space offers (1-32,
dividing the global size) and in both modes (block: consecutive work items; stride: a global
size apart), at the work-group size the description gives where it divides the launched size
(else the runtime's choice). Each is measured by the engine against the kernel as given
(interleaved pairs, CI, output verified), so CF 1 is 1.0 by definition.

Rows go to results/coarsening_measured.csv as they finish; a rerun measures only what is
missing. The report (results/coarsening_measured.md), per mode: each kernel's oracle CF and its
speedup, and the speedup of the CF each method picks, leave-one-kernel-out: the best-mean CF
(the CF with the best mean log speedup over the other kernels: no embedding), and the heads of
`experiments.coarsening` (distance-weighted 3-nearest neighbours, and the MLP) on the pre-trained
encoder's embedding of the kernel's IR and on a random-init encoder's. Refused kernels are listed
with the reason their space gives.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.coarsening import CFS, knn_predict, mlp_loo, no_embedding_predict
from experiments.provenance import ROOT, git_commit, machine_line, now
from experiments.report import markdown_table

KERNELS = ROOT / "kernels" / "opencl" / "coarsening"
MODES = ("block", "stride")
FIELDS = ["kernel", "cf", "mode", "wg", "status", "speedup", "ci_low", "ci_high", "pairs", "baseline_ms", "message"]


def plan(kernel, space) -> list[dict]:
    """The configurations to measure: every offered CF above 1, both modes, the described group where legal."""
    if "cf" not in space:
        return []
    given = "x".join(map(str, kernel.description.local_dims() or ())) or "auto"
    out = []
    for cf in space["cf"].choices:
        if cf == 1:
            continue
        wg_knob = space[f"wg.cf{cf}"]
        wg = given if given in wg_knob.choices else "auto"
        for mode in MODES:
            out.append({"cf": cf, "cf_mode": mode, f"wg.cf{cf}": wg})
    return out


def measure_all(names: list[str], out_csv: Path) -> None:
    from autotune import programs
    from autotune.measure import Options
    from autotune.measure.protocol import Bench
    from autotune.space.discover import build_space

    done = set()
    if out_csv.exists():
        done = {(r["kernel"], int(r["cf"]), r["mode"]) for r in csv.DictReader(out_csv.open())}
    new = not out_csv.exists()
    with out_csv.open("a", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        if new:
            w.writeheader()
        for name in names:
            k = programs.load(KERNELS / f"{name}.cl")
            space = build_space(k)
            todo = [c for c in plan(k, space) if (name, c["cf"], c["cf_mode"]) not in done]
            bench = Bench(k, space, Options(seed=0)) if todo else None
            for cfg in todo:
                m = bench.measure(cfg)
                ok = m.status == "ok" and m.verified and m.speedup is not None
                w.writerow(
                    {
                        "kernel": name,
                        "cf": cfg["cf"],
                        "mode": cfg["cf_mode"],
                        "wg": cfg[f"wg.cf{cfg['cf']}"],
                        "status": "unverified" if m.status == "ok" and not ok else m.status,
                        "speedup": f"{m.speedup:.5f}" if ok else "",
                        "ci_low": f"{m.ci[0]:.5f}" if ok and m.ci else "",
                        "ci_high": f"{m.ci[1]:.5f}" if ok and m.ci else "",
                        "pairs": m.repetitions,
                        "baseline_ms": f"{1e3 * m.baseline_seconds:.4f}" if m.baseline_seconds else "",
                        "message": m.message[:200],
                    }
                )
                f.flush()
                print(f"{name} cf={cfg['cf']} {cfg['cf_mode']}: {m.status} {m.speedup}", flush=True)


def refusals() -> dict[str, str]:
    """Kernel -> why its space offers no coarsening (the space's own note)."""
    from autotune import programs
    from autotune.space.discover import build_space

    out = {}
    for path in sorted(KERNELS.glob("*.cl")):
        space = build_space(programs.load(path))
        if "cf" not in space:
            out[path.stem] = next((n for n in space.notes if n.startswith("no thread coarsening")), "")
    return out


def speedup_matrix(rows: pd.DataFrame, kernels: list[str], mode: str) -> np.ndarray:
    """[kernel, CF] speedup over CF 1 in one mode (1 at CF 1; nan: not offered; 0: failed or unverified)."""
    m = np.full((len(kernels), len(CFS)), np.nan)
    m[:, 0] = 1.0
    for r in rows[rows["mode"] == mode].itertuples():
        m[kernels.index(r.kernel), CFS.index(int(r.cf))] = float(r.speedup) if r.status == "ok" else 0.0
    return m


def embeddings(kernels: list[str]) -> dict[str, np.ndarray]:
    """The pre-trained and a random-init encoder's embedding of each kernel's IR as given (CF 1)."""
    import torch

    from autotune import programs
    from autotune.build.ir import variant_ir
    from autotune.space.discover import build_space
    from autotune.surrogate.scorer import MODALITY
    from autotune.variant import make_variant
    from encoder import ir as irmod
    from encoder.embedding import Embedder, load_model
    from encoder.model import MIREncoder

    irs = []
    for name in kernels:
        k = programs.load(KERNELS / f"{name}.cl")
        space = build_space(k)
        irs.append(irmod.normalize(variant_ir(k, make_variant(k, space, space.default()))))
    torch.manual_seed(0)
    random_init = Embedder(model=MIREncoder(load_model().cfg).eval(), modality=MODALITY)
    return {
        "pre-trained": Embedder(cache_dir=ROOT / ".encoder-cache", modality=MODALITY).embed_normalized(irs),
        "random-init": random_init.embed_normalized(irs),
    }


def predictions(S: np.ndarray, X: dict[str, np.ndarray], seeds: int = 3, epochs: int = 400) -> dict[str, np.ndarray]:
    """Method -> the CF each picks per kernel, leave-one-kernel-out (MLP: the mean over seeds' speedups below)."""
    with np.errstate(divide="ignore"):
        T = np.where(np.isnan(S), np.nan, np.log(np.maximum(S, 1e-3)))  # a failed CF counts as 1000x slower
    n = len(S)
    out = {"best-mean CF (no embedding)": np.array([no_embedding_predict(T, np.arange(n) != i, i) for i in range(n)])}
    for enc, E in X.items():
        out[f"3-NN, {enc}"] = np.array([knn_predict(E, T, np.arange(n) != i, i) for i in range(n)])
        for s in range(seeds):
            out[f"MLP, {enc}, seed {s}"] = mlp_loo(E, T, n, s, epochs)
    return out


def report(out: Path, command: str) -> None:
    rows = pd.read_csv(out / "coarsening_measured.csv")
    kernels = sorted(rows["kernel"].unique())
    X = embeddings(kernels)
    refused = refusals()
    lines = [
        "# Thread coarsening, measured on this machine's OpenCL device",
        "",
        f"Command: `{command}`  ",
        f"Date: {now()}; commit {git_commit()}; machine: {machine_line()}; "
        f"{len(rows)} measurements of {len(kernels)} kernels (every offered CF above 1, both modes), each "
        "interleaved against CF 1 and verified; data `coarsening_measured.csv` beside this file.",
        "",
        "Speedup over CF 1 of the CF each method picks, leave-one-kernel-out (MLP: mean over 3 seeds); a CF "
        "whose variant failed counts as 0.",
        "",
    ]
    for mode in MODES:
        S = speedup_matrix(rows, kernels, mode)
        picks = predictions(S, X)
        table = pd.DataFrame({"kernel": kernels})
        best = np.nanargmax(S, axis=1)
        table["oracle CF"] = [CFS[i] for i in best]
        table["oracle"] = S[np.arange(len(S)), best]
        for method, cf in picks.items():
            col = method.split(", seed")[0]
            got = S[np.arange(len(S)), [CFS.index(int(c)) for c in cf]]
            table[col] = table.get(col, 0) + got / (3 if ", seed" in method else 1)
        summary = table.drop(columns=["kernel", "oracle CF"]).mean().round(3)
        lines += [
            f"## Mode {mode}",
            "",
            markdown_table(table.round(3)),
            "",
            "Mean over kernels: " + "; ".join(f"{k} {v}" for k, v in summary.items()) + ".",
            "",
        ]
    lines += ["## Not coarsened", ""] + [f"- {k}: {why}" for k, why in refused.items()]
    (out / "coarsening_measured.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default=None, help="comma-separated (default: every coarsenable kernel)")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args(argv)
    out = Path(a.out)
    names = [k.strip() for k in a.kernels.split(",")] if a.kernels else [p.stem for p in sorted(KERNELS.glob("*.cl"))]
    if not a.report_only:
        measure_all(names, out / "coarsening_measured.csv")
    report(out, "python -m experiments.coarsening_measured " + " ".join(argv or []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
