"""Search efficiency: guided vs tpe vs random on kernels the surrogate never saw (issue 4's evidence).

Why replay: the strategies are compared on the same landscape, without timing
noise between them, so the comparison is about the search, not about the
machine's mood. The landscape is real: every configuration of a restricted
sub-space of each test kernel is measured once, for real, by the engine (the
`record` stage; this is the "best known" of an exhaustive search), and the
strategies then run the product's own tuning loop (`Session`) against those
recorded measurements (`ReplayMeasurer`).

Stages (`--stage`):
* `record`: measure every configuration of each test kernel's sub-space at
  SMALL into results/search_efficiency_recordings/<kernel>.csv (+ .json). Real timing,
  tens of minutes per kernel on two cores; resumable (rerun to continue);
  never run by the tests.
* `train`: the surrogate's prior trained, exactly as autotune/surrogate/train.py
  does, on the database rows of every kernel EXCEPT the test kernels, saved
  under build/search_efficiency/ (the shipped autotune/data/surrogate.pt is
  never touched, and never used here: it has seen the test kernels).
* `replay` (default; trains first if needed): random, tpe and guided at
  budgets 10, 20 and 40 (one 40-evaluation run per seed; the best so far after
  10 and 20 measurements is read off it, the baseline counting as the first),
  exhaustive as the reference, the zero-shot pick of `autotune predict`, and
  the guided strategy's overhead per trial; writes results/search_efficiency.md/.csv.

Usage:
    python experiments/search_efficiency.py --stage record     # real timing, after the machine is free
    python experiments/search_efficiency.py                    # replay + report (trains the held-out surrogate)
    python experiments/search_efficiency.py --smoke            # tests/data/replay/jacobi1d_small.csv, 1 seed, budget 10
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autotune import machine  # noqa: E402
from autotune.collect import DEFAULT_CSV  # noqa: E402
from autotune.discover import build_space  # noqa: E402
from autotune.kernel import Kernel  # noqa: E402
from autotune.measure import Options  # noqa: E402
from autotune.measure.load import quiet_gate  # noqa: E402
from autotune.search.records import config_key, restrict, space_from_spec  # noqa: E402
from autotune.search.session import Budget, ReplayMeasurer, Session  # noqa: E402
from autotune.search.strategies import make_sampler  # noqa: E402
from autotune.space import Space  # noqa: E402
from autotune.surrogate.data import Featurizer  # noqa: E402
from autotune.surrogate.features import NAMES  # noqa: E402
from autotune.surrogate.scorer import MODALITY, Surrogate, SurrogateScorer  # noqa: E402
from autotune.surrogate.train import training_set  # noqa: E402
from encoder.embedding import Embedder  # noqa: E402
from experiments._report import markdown_table  # noqa: E402
from experiments.record_replay import record_space  # noqa: E402

WORK = ROOT / "build" / "search_efficiency"
RECORDINGS = ROOT / "results" / "search_efficiency_recordings"  # committed: the replay needs no timing
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
def record(cases: list[Case], seed: int, max_busy: float) -> None:
    def log(s: str) -> None:
        print(s, flush=True)

    gate = quiet_gate(max_busy, log) if max_busy < 1 else None
    for c in cases:
        meta = {
            "about": "Every configuration of a restricted sub-space of a test kernel of the search-efficiency "
            "experiment, measured for real (interleaved A/B against the untransformed program, verified).",
            "kernel": f"kernels/{c.name}.c",
            "defines": [f"{SIZE}_DATASET"],
            "command": "python " + shlex.join(["experiments/search_efficiency.py", *sys.argv[1:]]),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],  # was the machine shared?
        }
        print(f"== {c.name}: {c.space.size()} configurations -> {c.csv}", flush=True)
        meta["max_busy_by_others"] = max_busy
        record_space(
            c.kernel, c.space, c.csv, meta, Options(seed=seed, load_check="off"), log, gate=gate
        )  # load: the quiet gate above (--max-busy) waits before each measurement


# --- stage 2: the held-out surrogate -------------------------------------------------------------
def db_hash(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()[:16]


def train_heldout(
    db: Path, held_out: list[str], out: Path, featurizer: Featurizer, seed: int, epochs: int
) -> Surrogate:
    """The shipped surrogate's recipe (autotune/surrogate/train.py) on every kernel but `held_out`.

    Reused when `out` was trained on the same database bytes, held-out set, seed and epochs.
    """
    digest = db_hash(db)
    want = {
        "db_sha256": digest,
        "held_out": sorted(held_out),
        "seed": seed,
        "epochs": epochs,
        "modality": featurizer.embedder.modality,
    }
    if out.exists():
        sur = Surrogate.load(out)
        if all(sur.meta.get(k) == v for k, v in want.items()):
            return sur
    df = training_set(db, machine.current().cpu_model)
    df = df[~df["kernel"].isin(held_out)].reset_index(drop=True)
    df = df[featurizer.current(df)].reset_index(drop=True)  # as train.py: records the space can still express
    X = featurizer.database(df)
    y = df["log_speedup"].to_numpy()
    sur = Surrogate.train(X, X[:, -len(NAMES) :], y, seed=seed, epochs=epochs)
    sur.meta.update(want | {"records": int(len(df)), "kernels": sorted(df["kernel"].unique().tolist())})
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


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def zero_shot(c: Case, scorer: SurrogateScorer, land: pd.DataFrame, best: float) -> dict[str, float]:
    """`autotune predict` on the sub-space (no timing): its top pick's measured value / best known,
    the best of its top 5, and the prior's rank correlation with every measured configuration."""
    from autotune.surrogate.predict import rank

    ranked = rank(c.kernel, c.space, top=5, pool=c.space.size(), seed=0, scorer=scorer)
    picks = [land["value"].get(config_key(c.space.canonical(cfg)), np.nan) for cfg in ranked["config"]]
    ok = land[land["value"] > 0]
    configs = [json.loads(k) for k in ok.index]
    pred, _ = scorer.sur.full.predict(scorer.fz.features(c.kernel, c.space, configs, scorer.cores))
    return {
        "predict_top1": float(picks[0]) / best if picks else float("nan"),
        "predict_top5": float(np.nanmax(picks)) / best if picks else float("nan"),
        "prior_spearman": spearman(pred, np.log(ok["value"].to_numpy())),
    }


@contextlib.contextmanager
def cold_ir_cache() -> Iterator[None]:
    """Point the IR cache (AUTOTUNE_CACHE) at an empty folder, so guided's overhead includes clang."""
    was = os.environ.get("AUTOTUNE_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AUTOTUNE_CACHE"] = tmp
        try:
            yield
        finally:
            if was is None:
                os.environ.pop("AUTOTUNE_CACHE", None)
            else:
                os.environ["AUTOTUNE_CACHE"] = was


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

    def factory(kernel, space):
        """A cold scorer, as a fresh `autotune run` on a new kernel has: no IR or embedding cached yet."""
        cold = Featurizer(Embedder(model=fz.embedder.model, cache_dir=None, modality=fz.embedder.modality))
        return SurrogateScorer(kernel, space, sur, cold, cores)

    factories = {
        "guided": factory,
        "guided-knobs": lambda kernel, space: SurrogateScorer(kernel, space, sur, Featurizer(None), cores),
        "guided-flat": lambda kernel, space: SurrogateScorer(
            kernel, space, Surrogate(FlatPrior(sur.full), FlatPrior(sur.knobs), sur.meta), Featurizer(None), cores
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


# --- the report ----------------------------------------------------------------------------------
def _pm(s: pd.Series) -> str:
    """mean +- spread over seeds (sample sd; 0 for one seed)."""
    s = s.astype(float)
    return f"{s.mean():.3f} ± {s.std(ddof=1) if len(s) > 1 else 0.0:.3f}"


def _reach(s: pd.Series) -> str:
    hit = s.dropna()
    mean = f"{hit.mean():.1f}" if len(hit) else "–"
    return f"{mean} ({len(hit)}/{len(s)})"


def tables(runs: pd.DataFrame, budgets: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(fraction of best known per kernel and budget, evaluations to within 5%, mean over kernels)."""
    order = [s for s in (*STRATEGIES, *ABLATIONS, "exhaustive") if s in set(runs["strategy"])]
    frac = []
    for kernel in sorted(set(runs["kernel"])):
        for b in budgets:
            row = {"kernel": kernel, "budget": b}
            for s in order:
                sel = runs[(runs["kernel"] == kernel) & (runs["strategy"] == s)]
                row[s] = f"{_pm(sel[f'frac@{b}'])} ({sel[f'best@{b}'].astype(float).mean():.2f}x)"
            frac.append(row)
    reach = []
    for kernel, g in runs.groupby("kernel"):
        reach.append({"kernel": kernel, **{s: _reach(g[g["strategy"] == s]["evals_to_5pct"]) for s in order}})
    per_kernel = runs.groupby(["strategy", "kernel"])[[f"frac@{b}" for b in budgets]].mean()
    overall = per_kernel.groupby("strategy").mean().reindex(order).reset_index()
    overall.columns = ["strategy", *(f"budget {b}" for b in budgets)]
    return pd.DataFrame(frac), pd.DataFrame(reach), overall


def verdict(runs: pd.DataFrame, kernels: pd.DataFrame, budgets: list[int]) -> list[str]:
    """The paragraph on where guided does not win, computed from the numbers (nothing hand-written)."""
    means = runs.groupby(["kernel", "strategy"])[[f"frac@{b}" for b in budgets]].mean()
    lines, losses = [], []
    for b in budgets:
        col = means[f"frac@{b}"].unstack("strategy")
        others = col[[s for s in ("random", "tpe") if s in col]].max(axis=1)
        diff = col["guided"] - others
        wins, ties = int((diff > 0.005).sum()), int((diff.abs() <= 0.005).sum())
        lines.append(
            f"Budget {b}: guided's mean fraction of the best known beats the better of random and tpe on {wins} of "
            f"{len(col)} kernels, ties (within 0.005) on {ties}, and loses on {len(col) - wins - ties}."
        )
        for k in diff.index[diff < -0.005]:
            losses.append((k, b, float(diff[k])))
    top = max(budgets)
    evals = runs.assign(e=runs["evals_to_5pct"].fillna(top + 1)).groupby(["kernel", "strategy"])["e"].mean()
    evals = evals.unstack("strategy")
    rivals = evals[[s for s in ("random", "tpe") if s in evals]].min(axis=1)
    slow = list(evals.index[evals["guided"] > rivals])
    slower = [f"{k} ({evals.loc[k, 'guided']:.1f} vs {rivals[k]:.1f})" for k in slow]
    lines.append(
        f"Evaluations to come within 5% of the best known (a seed that never did counts as {top + 1}): guided needs "
        f"more on average than the better of random and tpe on {len(slower)} of {len(evals)} kernels"
        + (": " + ", ".join(slower) if slower else "")
        + "."
    )
    if losses:
        lines.append(
            "Where guided loses: "
            + "; ".join(f"{k} at budget {b} (by {-d:.3f} of the best known)" for k, b, d in losses)
            + "."
        )
    else:
        lines.append("Guided did not lose to the better of random and tpe on any kernel at any budget here.")
    lost = sorted({k for k, _, _ in losses} | set(slow))
    if lost:
        kk = kernels.set_index("kernel").loc[lost]
        why = [
            f"{k}: the held-out prior's rank correlation with the measured sub-space is {r.prior_spearman:.2f}, "
            f"{r.near_best_share:.0%} of its configurations are within 5% of the best known, "
            f"{r.failed_share:.0%} failed or were unverified"
            for k, r in kk.iterrows()
        ]
        lines.append(
            "What the numbers show about the kernels where it loses or is slower (a prior that ranks a kernel "
            "poorly steers guided away from the best; a landscape where many configurations are near the best "
            "leaves nothing for a model to win): " + "; ".join(why) + "."
        )
    ablated = [a for a in ABLATIONS if a in set(runs["strategy"])]
    if ablated:
        per = means.groupby("strategy").mean()  # mean over kernels of the per-kernel mean over seeds

        def fr(strategy: str) -> str:
            return "/".join(f"{per.loc[strategy, f'frac@{b}']:.3f}" for b in budgets)

        b_text = "/".join(str(b) for b in budgets)
        lines.append(
            f"Where guided's edge comes from (mean fraction of the best known at budgets {b_text}): guided "
            f"{fr('guided')}; " + "; ".join(f"{a} {fr(a)}" for a in ablated) + "; tpe " + fr("tpe") + ". "
            "guided-knobs drops the encoder's embedding (knob-feature prior only); guided-flat drops the "
            "transferred prior altogether (its ranking is the GP on the kernel's own trials, over the same "
            "candidate pools: TPE proposals, random draws and neighbours of the incumbent)."
        )
    noise = kernels["ci_halfwidth_median"].median()
    lines.append(
        f"Measurement noise bounds all of this: the recorded speedups' median 95% CI half-width is {noise:.1%} "
        "of the speedup, so differences between strategies smaller than that are not evidence either way, and "
        "the best known, being the maximum of noisy measurements, is biased upwards."
    )
    mean_sp = kernels["prior_spearman"].mean()
    lines.append(
        f"Across the test kernels the held-out prior's mean rank correlation is {mean_sp:.2f}, and "
        f"`autotune predict`'s top pick reaches {kernels['predict_top1'].mean():.3f} of the best known on average "
        f"at zero evaluations ({kernels['predict_top5'].mean():.3f} for the best of its top 5)."
    )
    worst = kernels["guided_propose_s_max"].max()
    median = kernels["guided_propose_s_median"].median()
    mean = kernels["guided_propose_s_mean"].mean()
    met = "meets" if worst < 1.0 else ("meets on average but not in every trial" if mean < 1.0 else "misses")
    lines.append(
        f"Guided's own overhead per trial (pool, IR, embedding, surrogate; `propose_seconds`, starting from empty "
        f"IR and embedding caches) is {mean:.3f} s on average (median {median:.3f} s), {worst:.3f} s at most: "
        f"it {met} the 1 s target."
    )
    return lines


def write_report(
    runs: pd.DataFrame, kernels: pd.DataFrame, budgets: list[int], seeds: list[int], out: Path, info: dict
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    runs.merge(kernels, on=["kernel", "configs"]).to_csv(out / "search_efficiency.csv", index=False)
    frac, reach, overall = tables(runs, budgets)
    kt = kernels.copy()
    kt.columns = [c.replace("_", " ") for c in kt.columns]
    lines = [
        "# Search efficiency: guided vs tpe vs random on held-out kernels",
        "",
        f"Command: `{info['command']}`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {info['machine']}; "
        f"database `{info['db']}` (sha256 {info['db_sha256']}), surrogate prior trained on {info['records']} records "
        f"of {info['n_train_kernels']} kernels, none of them a test kernel; encoder sha256 {info['encoder_sha256']}; "
        f"search seeds {', '.join(map(str, seeds))}.",
        "",
        "Each test kernel's sub-space (threads, schedule and chunk of the main work-sharing loop, an unroll hint "
        f"of its hot inner loop, opt level, -march=native; {SIZE} size) was measured exhaustively, for real "
        f"({info['recordings']}); the best verified speedup of that recording is the best known. Every strategy then "
        "ran the product's tuning loop (`Session`) against the recording (`ReplayMeasurer`): one run of "
        f"{max(budgets)} evaluations per seed, the baseline counting as the first, and the best verified speedup "
        "after each budget read off it. A failed or unverified variant counts as 0. Exhaustive is the "
        "enumeration order, one run (it has no seed).",
        "",
        "Mean over kernels of the fraction of the best known found:",
        "",
        markdown_table(overall.round(3)),
        "",
        "Fraction of the best known found, mean ± sd over seeds (mean best speedup found):",
        "",
        markdown_table(frac),
        "",
        f"Evaluations needed to come within 5% of the best known: mean over the seeds that did within {max(budgets)} "
        "(seeds that did / seeds):",
        "",
        markdown_table(reach),
        "",
        "Per kernel: the landscape, the zero-shot quality of `autotune predict` (the measured value of its top pick, "
        "and the best of its top 5, as fractions of the best known, at zero evaluations), the held-out prior's "
        "Spearman correlation with every verified measurement of the sub-space, and guided's overhead per trial "
        "(seconds; `propose_seconds` covers pool, IR, embedding and surrogate, `score_seconds` the scorer alone):",
        "",
        markdown_table(kt.round(3)),
        "",
        "## Where guided does not win",
        "",
        " ".join(verdict(runs, kernels, budgets)),
        "",
    ]
    path = out / "search_efficiency.md"
    path.write_text("\n".join(lines))
    return path


# --- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=("record", "train", "replay"), default="replay")
    ap.add_argument(
        "--smoke", action="store_true", help="replay tests/data/replay/jacobi1d_small.csv, 1 seed, budget 10"
    )
    ap.add_argument("--kernels", nargs="+", default=sorted(TEST_KERNELS), choices=sorted(TEST_KERNELS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--epochs", type=int, default=200, help="surrogate training epochs (as train.py)")
    ap.add_argument(
        "--max-busy",
        type=float,
        default=0.25,
        help="record: wait before each measurement while other work uses more than this share of the CPUs (1: never)",
    )
    ap.add_argument("--db", default=str(DEFAULT_CSV))
    ap.add_argument("--work", default=None, help="the held-out surrogate (build/search_efficiency)")
    ap.add_argument(
        "--recordings", default=None, help="one CSV + JSON per test kernel (results/search_efficiency_recordings)"
    )
    ap.add_argument("--out", default=None, help="where the table goes (results/; --smoke: <work>/smoke)")
    a = ap.parse_args(argv)
    threads, verbosity = torch.get_num_threads(), optuna.logging.get_verbosity()
    torch.set_num_threads(1)  # the recording or a collection may share the two cores
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial would drown the report
    try:
        return run(a, argv)
    finally:
        torch.set_num_threads(threads)
        optuna.logging.set_verbosity(verbosity)


def run(a: argparse.Namespace, argv: list[str] | None) -> int:
    from encoder.embedding import WEIGHTS as ENCODER_WEIGHTS

    work = Path(a.work) if a.work else WORK
    if a.smoke:
        cases, seeds, budgets = [smoke_case()], [0], [10]
        held_out = [cases[0].name]
        out = Path(a.out) if a.out else work / "smoke"
        sur_path = work / "smoke" / "surrogate-heldout.pt"
    else:
        recordings = Path(a.recordings) if a.recordings else RECORDINGS
        cases, seeds, budgets = [case(k, recordings) for k in a.kernels], list(range(a.seeds)), sorted(a.budgets)
        held_out = sorted(TEST_KERNELS)  # always all of them: one prior for every case
        out = Path(a.out) if a.out else ROOT / "results"
        sur_path = work / "surrogate-heldout.pt"
    if a.stage == "record":
        if a.smoke:
            raise SystemExit("--smoke replays a recording; it records nothing")
        record(cases, seed=0, max_busy=a.max_busy)
        return 0
    db = Path(a.db)
    fz = Featurizer(Embedder(cache_dir=ROOT / ".encoder-cache", modality=MODALITY))  # as the shipped surrogate
    t0 = time.perf_counter()
    sur = train_heldout(db, held_out, sur_path, fz, seed=0, epochs=a.epochs)
    print(f"held-out surrogate: {sur.meta['records']} records, {time.perf_counter() - t0:.0f} s -> {sur_path}")
    if a.stage == "train":
        return 0
    ready = []
    for c in cases:
        n, complete = recording_state(c)
        if complete:
            ready.append(c)
        else:
            print(f"{c.name}: recording has {n} of {c.space.size()} configurations; run --stage record to finish it")
    if not ready:
        print("no complete recording to replay")
        return 1
    load = os.getloadavg()[0]  # guided's overhead is wall time: say how busy the machine was
    rows, summaries = [], []
    for c in ready:
        print(f"== {c.name} ({c.space.size()} configurations)", flush=True)
        r, s = run_case(c, sur, fz, seeds, budgets)
        rows += r
        summaries.append(s)
    runs, kernels = pd.DataFrame(rows), pd.DataFrame(summaries)
    recs = [json.loads(c.csv.with_suffix(".json").read_text()) for c in ready]
    info = {
        "command": "python "
        + shlex.join(["experiments/search_efficiency.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": f"{machine.current().cpu_model}, {machine.usable_cores()} cores "
        f"(1-minute load average {load:.2f} when the replay began)",
        "db": db.name,
        "db_sha256": sur.meta["db_sha256"],
        "records": sur.meta["records"],
        "n_train_kernels": len(sur.meta["kernels"]),
        "encoder_sha256": hashlib.sha256(ENCODER_WEIGHTS.read_bytes()).hexdigest()[:16],
        "recordings": "; ".join(
            f"{Path(r['kernel']).stem}: {r['size']} configurations, {r.get('seconds', '?')} s, {r['date']}"
            for r in recs
        ),
    }
    path = write_report(runs, kernels, budgets, seeds, out, info)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
