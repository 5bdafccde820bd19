"""Search on whole spaces, timed for real: does guidance beat TPE where it matters? (issue 13)

    python -m experiments.search_full [--kernels gemm,lu,...] [--seeds 3] [--budget 30] [--hours H]
    python -m experiments.search_full --report-only

Why not the replay: the search-efficiency table replays 96-configuration sub-spaces, where every
strategy finds the best; a user's space has thousands of configurations (every discovered knob),
and there a wrong prior can keep a search at `threads=1` for 30 trials. So this runs the product's
own loop (`autotune.tune`, the engine measuring interleaved and verified) on each held-out kernel's
whole discovered space, for every strategy and seed, and compares what each found.

The targets are the search-efficiency test kernels at SMALL and, with `--polybench`, unmodified
PolyBench/C 4.2.1 programs at MEDIUM (a working copy of ../shared/data, as experiments.polybench
makes), all held out of the surrogate's training: guided uses a surrogate trained without them
and without the suite kernels of the same name (`experiments.search_efficiency_runs.train_heldout`,
the shipped recipe), `guided-knobs` the same without the encoder's embedding.

`predict` is the zero-shot arm: `autotune predict`'s top 5 (the same held-out surrogate, nothing
timed to choose them) measured for real, once, by the same engine; its first pick's and its best
pick's share of the best known are reported beside the searches.

Every run is an Optuna study of its own in `results/search_full_runs/<cpu>/studies.log`, so an interrupted
benchmark resumes where it was (the same command); `--hours` stops it between runs. The journal,
predict's measured picks and the pinned held-out surrogate live under `results/` and are committed:
the benchmark takes several sessions of this 2-core machine, and a fresh checkout goes on from the
last commit instead of starting over (each run's best variant and plot go to `build/search_full/`). Its
measurements are not added to the measurement database (they are of held-out kernels).
A CPU has a folder of its own (the machines of this project change between sessions, and speedups
do not transfer between CPUs), and its own section of the report (`search_full_report`).
"Best known" is the best verified speedup any run on that CPU found for the kernel; a fraction of it is
reported after 10, 20 and 30 evaluations (the baseline counts as the first), with the spread over
seeds, and the evaluations each run needed to come within 5% of it.

Writes results/search_full.md and results/search_full.csv (one row per CPU, kernel, strategy, seed
and evaluation).
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass
from pathlib import Path

from autotune.kernel import Kernel
from experiments.provenance import ROOT
from experiments.search_full_report import PREDICT_TOP, report

WORK = ROOT / "results" / "search_full_runs"  # committed: a folder per CPU (journal, picks), the surrogate
OUTPUTS = ROOT / "build" / "search_full"  # each run's best variant, table and plot: rebuilt, not kept
HELDOUT = WORK / "surrogate-heldout.pt"  # the held-out surrogate, trained once
# a study's strategy label; `.2`: guided's second start rule (its start picks cover compiler x {one thread,
# more}, 2026-12-03); `.3`: that, with the prior weighted by how well it ranks the kernel's own measurements
# (`scorer.prior_weight`, 2026-12-03). Runs of earlier rules keep their labels (`guided`, `guided-knobs`: three
# lever-diverse start picks) in the journal and the tables: what they measured stays what that rule did.
STRATEGIES = ("guided.3", "guided-knobs.3", "tpe")
SIZE = "SMALL"


@dataclass(frozen=True)
class Target:
    """A held-out program as `autotune run` would be given it."""

    name: str
    path: Path
    size: str
    include_dirs: tuple[Path, ...] = ()
    sources: tuple[Path, ...] = ()

    def load(self) -> Kernel:
        return Kernel.load(
            self.path, defines=[f"{self.size}_DATASET"], include_dirs=self.include_dirs, sources=self.sources
        )

    def study(self, strategy: str, seed: int) -> str:
        return f"{self.name}@{self.size}/{strategy}/seed{seed}"


def cpu_folder(cpu: str | None = None) -> Path:
    """This CPU's journal and picks (`cpu`: its model; default this machine's): speedups measured on
    one CPU are not another's, and the engine refuses to resume a study measured elsewhere."""
    if cpu is None:
        from autotune import machine

        cpu = machine.current().cpu_model
    folder = WORK / re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cpu.txt").write_text(cpu + "\n")
    return folder


def load_target(name_at_size: str) -> Kernel:
    """A target's kernel from its study prefix (`conv2d@SMALL`, `polybench-lu@MEDIUM`)."""
    name = name_at_size.split("@")[0]
    pb = name.removeprefix("polybench-")
    (t,) = targets([], [pb]) if pb != name else targets([name], [])
    return t.load()


def targets(kernels: list[str], polybench: list[str]) -> list[Target]:
    """Suite kernels at SMALL, PolyBench programs (a writable working copy) at MEDIUM."""
    out = [Target(k, ROOT / "kernels" / f"{k}.c", SIZE) for k in kernels]
    if polybench:
        from experiments.polybench import RELEASE, programs, working_copy

        copy = working_copy(RELEASE)
        known = {p.stem: p for p in programs(copy)}
        unknown = sorted(set(polybench) - set(known))
        if unknown:
            raise SystemExit(f"--polybench: not a PolyBench/C 4.2.1 program: {', '.join(unknown)}")
        util = copy / "utilities"
        out += [
            Target(f"polybench-{p}", copy / known[p], "MEDIUM", (util,), (util / "polybench.c",)) for p in polybench
        ]
    return out


def default_kernels() -> list[str]:
    from experiments.search_efficiency_runs import TEST_KERNELS

    return sorted(TEST_KERNELS)


def scorer_factories(held_out: list[str], epochs: int):
    """Scorers of a surrogate trained without the held-out kernels: with and without the embedding."""
    from autotune import machine
    from autotune.surrogate.data import Featurizer
    from autotune.surrogate.scorer import MODALITY, SurrogateScorer
    from autotune.surrogate.train import DEFAULT_TRAINING
    from encoder.embedding import Embedder
    from experiments.search_efficiency_runs import train_heldout

    fz = Featurizer(Embedder(cache_dir=ROOT / ".encoder-cache", modality=MODALITY))
    # pinned: every run of the benchmark, over however many sessions, uses the surrogate the first one trained
    sur = train_heldout(DEFAULT_TRAINING, held_out, HELDOUT, fz, seed=0, epochs=epochs, pin=True)
    cores = machine.usable_cores()
    return {
        "guided": lambda kernel, space: SurrogateScorer(kernel, space, sur, fz, cores),
        "guided-knobs": lambda kernel, space: SurrogateScorer(kernel, space, sur, Featurizer(None), cores),
    }, sur


def run_all(ts: list[Target], seeds: int, budget: int, hours: float | None, epochs: int) -> None:
    """Every (target, strategy, seed) study up to `budget` measurements, and predict's picks; resumes."""
    import autotune

    held_out = sorted({t.name.removeprefix("polybench-") for t in ts})  # with the suite's namesakes
    factories, _ = scorer_factories(held_out, epochs)
    folder = cpu_folder()
    storage = str(folder / "studies.log")
    t0 = time.time()
    for t in ts:
        predict_picks(t, factories["guided"], folder)
    for seed in range(seeds):  # seed-major: a stopped benchmark has every target and strategy at some seeds
        for t in ts:
            for strategy in STRATEGIES:
                if hours is not None and time.time() - t0 > hours * 3600:
                    print(f"--hours {hours:g} spent: stopping between runs (run again to go on)")
                    return
                name = t.study(strategy, seed)
                r = autotune.tune(
                    t.path,
                    defines=[f"{t.size}_DATASET"],
                    include_dirs=t.include_dirs,
                    sources=t.sources,
                    budget=budget,
                    strategy="guided" if strategy.startswith("guided") else strategy,
                    seed=seed,
                    storage=storage,
                    study=name,
                    out=OUTPUTS / name.replace("/", "_"),
                    record=False,
                    scorer_factory=factories.get(strategy.split(".")[0]),
                )
                print(f"{name}: best {r.speedup or 1.0:.3f}x after {r.n_trials} measurements", flush=True)


def predict_picks(t: Target, factory, folder: Path) -> Path:
    """`autotune predict`'s top picks for a target, measured for real once (resumes by configuration)."""
    from autotune.measure import Options
    from autotune.measure.protocol import Bench
    from autotune.space.discover import build_space
    from autotune.surrogate.predict import rank
    from autotune.trials.recorder import Recorder
    from autotune.trials.records import config_key

    path = folder / "predict" / f"{t.name}@{t.size}.csv"
    rec = Recorder(path, ["rank", "key", "predicted", "low", "status", "speedup"], lambda r: r["key"])
    if len(rec.keys) >= PREDICT_TOP:  # measured in an earlier session: ranking again costs minutes
        return path
    kernel = t.load()
    space = build_space(kernel)
    table = rank(kernel, space, top=PREDICT_TOP, scorer=factory(kernel, space))
    bench = None
    for i, row in enumerate(table.itertuples(), 1):
        key = config_key(row.config)
        if key in rec.keys:
            continue
        bench = bench or Bench(kernel, space, Options(seed=0))
        m = bench.measure(row.config)
        ok = m.status == "ok" and m.speedup is not None
        rec.append(
            {
                "rank": i,
                "key": key,
                "predicted": f"{row.predicted_speedup:.4f}",
                "low": f"{row.low:.4f}",
                "status": m.status,
                "speedup": f"{m.speedup:.5f}" if ok else "0",
            }
        )
        print(f"{t.name} predict #{i}: predicted {row.predicted_speedup:.2f}x, measured {m.speedup}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default=None, help="comma-separated (default: the search-efficiency test kernels)")
    ap.add_argument("--polybench", default=None, help="comma-separated PolyBench/C programs (e.g. 2mm,atax,lu)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--hours", type=float, default=None, help="stop between runs after this long")
    ap.add_argument("--epochs", type=int, default=200, help="the held-out surrogate's training epochs")
    ap.add_argument("--report-only", action="store_true", help="only write the table from the runs so far")
    ap.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args(argv)
    kernels = [k.strip() for k in a.kernels.split(",")] if a.kernels else default_kernels()
    polybench = [p.strip() for p in a.polybench.split(",") if p.strip()] if a.polybench else []
    WORK.mkdir(parents=True, exist_ok=True)
    if not a.report_only:
        run_all(targets(kernels, polybench), a.seeds, a.budget, a.hours, a.epochs)
    command = "python -m experiments.search_full " + " ".join(argv if argv is not None else [])
    sizes = f"suite kernels at {SIZE}, PolyBench/C programs at MEDIUM"
    report(Path(a.out), command, WORK, HELDOUT, load_target, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
