"""The search-efficiency experiment's test set and the work of its three stages (record, train, replay).

Why a module of its own: `experiments/search_efficiency.py` is the command line and the report;
this is what they run: the held-out test kernels and their recorded sub-spaces, the recording
stage (real timing, through `autotune.trials.replay.record_space`), the held-out surrogate,
and the replay of every strategy against a recording. See search_efficiency.py for the why of
the experiment.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from autotune import machine
from autotune.kernel import Kernel
from autotune.measure import Options
from autotune.measure.load import quiet_gate
from autotune.paths import CACHE_ENV
from autotune.search.session import Budget, Session
from autotune.search.strategies import make_sampler
from autotune.space import Space
from autotune.space.discover import build_space
from autotune.surrogate.data import Featurizer
from autotune.surrogate.features import NAMES
from autotune.surrogate.scorer import DEFAULT_MODEL, Surrogate, SurrogateScorer
from autotune.surrogate.train import db_digest, fit_surrogate, machine_records
from autotune.trials.recorder import RecordingMismatch
from autotune.trials.records import config_key, restrict, space_from_spec
from autotune.trials.replay import ReplayMeasurer, record_space
from encoder.embedding import Embedder
from experiments.provenance import ROOT
from experiments.report import spearman

SMOKE_REPLAY = ROOT / "tests" / "data" / "replay" / "jacobi1d_small.csv"
STRATEGIES = ("random", "tpe", "guided")
# guided with one part taken away, to say where its edge comes from: `guided-knobs` scores with
# the knob-feature prior only (no encoder embedding); `guided-flat` has no transferred prior at
# all (mean 0, sd 1 everywhere), so its ranking comes from the GP on the kernel's own trials
ABLATIONS = ("guided-knobs", "guided-flat")
NEAR = 0.95  # "within 5% of the best known"
SIZE = "SMALL"

# Test kernels (held out of the surrogate's training data), one sub-space each: threads, the
# schedule and chunk of the main work-sharing loop, an unroll hint of its hot inner loop, the
# optimisation level and -march=native: 2 x (3 schedules x 2 chunks) x 2 x 2 x 2 = 96 configurations.
# Each knob keeps its default among the choices (a restricted space must contain the baseline).
COMMON = {"threads": (1, 2), "opt": ("O1", "O3"), "march_native": ("off", "on")}
TEST_KERNELS: dict[str, dict[str, tuple]] = {
    "covariance": {"L6.schedule": ("static", "dynamic", "guided"), "L6.chunk": ("auto", 4), "L8.unroll": ("auto", 4)},
    "gemm": {"L8.schedule": ("static", "dynamic", "guided"), "L8.chunk": ("auto", 16), "L10.unroll": ("auto", 4)},
    "conv2d": {"L8.schedule": ("static", "dynamic", "guided"), "L8.chunk": ("auto", 16), "L11.unroll": ("auto", 4)},
    "lu": {"L3.schedule": ("static", "dynamic", "guided"), "L3.chunk": ("auto", 8), "L4.unroll": ("auto", 4)},
    "floyd-warshall": {
        "L3.schedule": ("static", "dynamic", "guided"),
        "L3.chunk": ("auto", 16),
        "L4.unroll": ("auto", 4),
    },
    "spmv-csr": {"L11.schedule": ("static", "dynamic", "guided"), "L11.chunk": ("auto", 64), "L12.unroll": ("auto", 4)},
}


# --- the test set ------------------------------------------------------------------------------
@dataclass
class Case:
    """One test kernel: its program, the recorded sub-space and where its recording lives."""

    name: str
    kernel: Kernel
    space: Space
    csv: Path


def case(name: str, recordings: Path) -> Case:
    """The sub-space as recorded when a recording exists (knob discovery may change since), else as defined."""
    kernel = Kernel.load(ROOT / "kernels" / f"{name}.c", defines=[f"{SIZE}_DATASET"])
    csv_path = recordings / f"{name}.csv"
    meta = csv_path.with_suffix(".json")
    if meta.exists():
        space = space_from_spec(json.loads(meta.read_text())["knobs"])
    else:
        space = restrict(build_space(kernel), {**COMMON, **TEST_KERNELS[name]})
    return Case(name, kernel, space, csv_path)


def smoke_case() -> Case:
    """jacobi-1d from the replay cache the search tests use (its JSON says how it was recorded)."""
    m = ReplayMeasurer(SMOKE_REPLAY)
    kernel = Kernel.load(ROOT / m.meta["kernel"], defines=m.meta["defines"])
    return Case(Path(m.meta["kernel"]).stem, kernel, m.space, SMOKE_REPLAY)


def recording_state(c: Case) -> tuple[int, bool]:
    """(configurations recorded, complete) of a case's recording; (0, False) if none."""
    meta = c.csv.with_suffix(".json")
    if not c.csv.exists() or not meta.exists():
        return 0, False
    n = len(pd.read_csv(c.csv, usecols=["key"]))
    return n, n >= c.space.size()


# --- stage 1: record ---------------------------------------------------------------------------
def record(
    cases: list[Case], opts: Options, max_busy: float, command: str, about: str, hours: float | None = None
) -> None:
    """Measure every configuration of each case's sub-space for real into its recording (resumable).

    `command` (the command line that ran it) and `about` (what the recording is) are kept in each
    recording's JSON with the load average at its start: was the machine shared? With `max_busy` below
    1 a quiet gate waits before each measurement; `hours` stops between cases (run again to go on).
    A complete recording is skipped without building its baseline.
    """

    def log(s: str) -> None:
        print(s, flush=True)

    gate = quiet_gate(max_busy, log) if max_busy < 1 else None
    t0 = time.time()
    for c in cases:
        if hours is not None and time.time() - t0 > hours * 3600:
            log(f"--hours {hours:g} spent; rerun the same command to continue")
            return
        n, complete = recording_state(c)
        if complete:
            continue
        meta = {
            "about": about,
            "kernel": str(c.kernel.path.relative_to(ROOT)),
            "defines": list(c.kernel.defines),
            "command": command,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "max_busy_by_others": max_busy,
        }
        log(f"== {c.name}: {c.space.size()} configurations ({n} recorded) -> {c.csv}")
        try:
            record_space(c.kernel, c.space, c.csv, meta, opts, log, gate=gate)
        except RecordingMismatch as e:
            raise SystemExit(str(e)) from None


# --- stage 2: the held-out surrogate -------------------------------------------------------------
def train_heldout(
    db: str, held_out: list[str], out: Path, featurizer: Featurizer, seed: int, epochs: int, pin: bool = False
) -> Surrogate:
    """The shipped surrogate's recipe (autotune/surrogate/train.py) on every kernel but `held_out`.

    Reused when `out` was trained on the same database bytes, held-out set, seed and epochs;
    with `pin`, also when the database has grown since (a benchmark resumed over several
    sessions keeps the surrogate its first runs used, while the collection goes on) and when it
    held out more kernels than `held_out` (it never saw these either: a benchmark resumed on some
    of its targets must not retrain, and overwrite, the surrogate of all of them).
    """
    digest = db_digest(db)
    want = {
        "db_sha256": digest,
        "held_out": sorted(held_out),
        "seed": seed,
        "epochs": epochs,
        "modality": featurizer.embedder.modality,
        "model": DEFAULT_MODEL,
        "features": list(NAMES),  # a surrogate of an older version's knob columns is retrained, pinned or not
    }
    if out.exists():
        sur = Surrogate.load(out)
        pinned = ("db_sha256", "held_out") if pin else ()
        same = all(sur.meta.get(k) == v for k, v in want.items() if k not in pinned)
        if same and (not pin or set(held_out) <= set(sur.meta.get("held_out") or ())):
            return sur
    df = machine_records(db)  # every CPU's records (results/pooled_cpu.md)
    df = df[~df["kernel"].isin(held_out)].reset_index(drop=True)
    df = df[featurizer.current(df)].reset_index(drop=True)  # as train.py: records the space can still express
    sur = fit_surrogate(df, featurizer, seed=seed, epochs=epochs)
    sur.meta.update(want)
    sur.save(out)
    return sur


# --- stage 3: replay -----------------------------------------------------------------------------
def landscape(c: Case) -> pd.DataFrame:
    """The recording as a frame: key, status, speedup and the value the search is judged by.

    `value` is the verified speedup, or 0 for a failed or unverified variant: what
    a user would be allowed to keep.
    """
    df = pd.read_csv(c.csv)
    ok = (df["status"] == "ok") & df["verified"].astype(str).str.lower().isin(("true", "1"))
    df["value"] = np.where(ok, df["speedup"].astype(float), 0.0)
    return df.set_index("key")


def replay_run(c: Case, strategy: str, seed: int, budget: int, scorer_factory=None) -> tuple[list[str], pd.DataFrame]:
    """One run of the product's tuning loop against the recording; the keys measured, in order,
    and the per-trial overhead user attributes (propose_seconds, score_seconds)."""
    measurer = ReplayMeasurer(c.csv)
    sampler = make_sampler(strategy, c.space, seed, c.kernel, scorer_factory)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    Session(study, c.space, measurer, Budget(budget), strategy, seed).run()
    over = [
        {k: t.user_attrs.get(k) for k in ("propose_seconds", "score_seconds", "pool")}
        for t in study.trials
        if t.user_attrs.get("measured") and not t.user_attrs.get("baseline")
    ]
    return measurer.calls, pd.DataFrame(over, columns=["propose_seconds", "score_seconds", "pool"])


def trajectory(keys: list[str], land: pd.DataFrame, budgets: list[int], best: float) -> dict[str, float]:
    """Best-so-far after each budget, its fraction of the best known, and evaluations to within 5%."""
    vals = land.loc[keys, "value"].to_numpy()
    run_best = np.maximum.accumulate(vals)
    out: dict[str, float] = {}
    for b in budgets:
        found = float(run_best[min(b, len(run_best)) - 1])
        out[f"best@{b}"] = found
        out[f"frac@{b}"] = found / best
    hit = np.nonzero(run_best >= NEAR * best)[0]
    out["evals_to_5pct"] = float(hit[0] + 1) if len(hit) else float("nan")
    return out


def ci_halfwidth(land: pd.DataFrame) -> float:
    """Median 95% CI half-width of the verified measurements, relative to their speedup: the noise floor
    below which two fractions of the best known cannot be told apart."""
    ok = land[land["value"] > 0]
    return float(((ok["ci_hi"].astype(float) - ok["ci_lo"].astype(float)) / 2 / ok["value"]).median())


def zero_shot(c: Case, scorer: SurrogateScorer, land: pd.DataFrame, best: float) -> dict[str, float]:
    """`autotune predict` on the sub-space (no timing): its top pick's measured value / best known,
    the best of its top 5, and the prior's rank correlation with every measured configuration."""
    from autotune.surrogate.predict import rank

    ranked = rank(c.kernel, c.space, top=5, pool=c.space.size(), seed=0, scorer=scorer)
    picks = [land["value"].get(config_key(c.space.canonical(cfg)), np.nan) for cfg in ranked["config"]]
    ok = land[land["value"] > 0]
    configs = [json.loads(k) for k in ok.index]
    pred, _ = scorer.sur.full.predict(scorer.fz.features(c.kernel, c.space, configs, scorer.cores, scorer.baseline()))
    return {
        "predict_top1": float(picks[0]) / best if picks else float("nan"),
        "predict_top5": float(np.nanmax(picks)) / best if picks else float("nan"),
        "prior_spearman": spearman(pred, np.log(ok["value"].to_numpy())),
    }


@contextlib.contextmanager
def cold_ir_cache() -> Iterator[None]:
    """Point the IR cache (AUTOTUNE_CACHE) at an empty folder, so guided's overhead includes clang."""
    was = os.environ.get(CACHE_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[CACHE_ENV] = tmp
        try:
            yield
        finally:
            if was is None:
                os.environ.pop(CACHE_ENV, None)
            else:
                os.environ[CACHE_ENV] = was


class FlatPrior:
    """A prior that knows nothing: mean 0 (speedup 1) and sd 1 everywhere.

    Keeps the trained prior's feature scaling, which the GP on the residuals uses.
    """

    def __init__(self, like) -> None:
        self.mu, self.sd = like.mu, like.sd

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(X)), np.ones(len(X))


def run_case(c: Case, sur: Surrogate, fz: Featurizer, seeds: list[int], budgets: list[int]) -> tuple[list, dict]:
    """Every strategy and seed on one case; rows per (strategy, seed) and the case's summary."""
    land = landscape(c)
    best = float(land["value"].max())
    top = max(budgets)
    cores = machine.usable_cores()
    base_s = float(pd.to_numeric(pd.read_csv(c.csv)["baseline_seconds"], errors="coerce").median())  # as recorded

    def factory(kernel, space):
        """A cold scorer, as a fresh `autotune run` on a new kernel has: no IR or embedding cached yet."""
        cold = Featurizer(Embedder(model=fz.embedder.model, cache_dir=None, modality=fz.embedder.modality))
        return SurrogateScorer(kernel, space, sur, cold, cores, base_s)

    factories = {
        "guided": factory,
        "guided-knobs": lambda kernel, space: SurrogateScorer(kernel, space, sur, Featurizer(None), cores, base_s),
        "guided-flat": lambda kernel, space: SurrogateScorer(
            kernel,
            space,
            Surrogate(FlatPrior(sur.full), FlatPrior(sur.knobs), sur.meta),
            Featurizer(None),
            cores,
            base_s,
        ),
    }
    rows = []
    overhead = []
    for strategy in (*STRATEGIES, *ABLATIONS, "exhaustive"):
        for seed in seeds if strategy != "exhaustive" else seeds[:1]:
            t0 = time.perf_counter()
            with cold_ir_cache():
                sampler = "guided" if strategy in factories else strategy
                keys, over = replay_run(c, sampler, seed, top, factories.get(strategy))
            row = {"kernel": c.name, "strategy": strategy, "seed": seed, "configs": c.space.size()}
            row |= trajectory(keys, land, budgets, best)
            row["replay_seconds"] = time.perf_counter() - t0
            rows.append(row)
            if strategy == "guided":
                overhead.append(over)
            print(
                f"  {c.name} {strategy} seed {seed}: " + " ".join(f"{row[f'frac@{b}']:.3f}" for b in budgets),
                flush=True,
            )
    over = pd.concat(overhead) if overhead else pd.DataFrame(columns=["propose_seconds", "score_seconds"])
    summary = {
        "kernel": c.name,
        "configs": c.space.size(),
        "best_known": best,
        "failed_share": float((land["value"] == 0).mean()),
        "near_best_share": float((land["value"] >= NEAR * best).mean()),
        "ci_halfwidth_median": ci_halfwidth(land),
        **zero_shot(c, factory(c.kernel, c.space), land, best),
        "guided_propose_s_mean": float(over["propose_seconds"].astype(float).mean()),
        "guided_propose_s_median": float(over["propose_seconds"].astype(float).median()),
        "guided_propose_s_max": float(over["propose_seconds"].astype(float).max()),
        "guided_score_s_mean": float(over["score_seconds"].astype(float).mean()),
    }
    return rows, summary
