"""The tables of `experiments.search_full`: one section per CPU the benchmark ran on (issue 13).

Why per CPU: speedups do not transfer between CPUs (the engine refuses to resume a study measured
on another one), and the machines this project runs on change between sessions, so every CPU has
its own journal and picks under `results/search_full_runs/<cpu>/` and its own tables here; a
kernel's best known is that CPU's.

Besides the searches and predict's picks, each section says how the held-out surrogate ranks what
the searches measured: the Spearman correlation of its predicted speedup with the measured one over
every configuration any run of the kernel measured, for the full prior (embedding and knobs) and
the knob-only one, and the share of the best known its top-ranked measured configuration reached.
Nothing is timed for that: it reads the journal and costs one IR build per configuration (cached).

    python -m experiments.search_full --report-only
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.provenance import git_commit, machine_line, now
from experiments.report import markdown_table, spearman, spread

BUDGETS = (10, 20, 30)
NEAR = 0.95
PREDICT_TOP = 5
FEW = (5, 10)  # measurements made when the few-shot table asks how the surrogate ranks the rest
DRAWS = 30  # random draws of those measurements per kernel


def _journal(storage: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))


def _measured(study) -> list:
    return sorted((t for t in study.trials if t.user_attrs.get("measured")), key=lambda t: t.number)


def trajectories(storage: str) -> pd.DataFrame:
    """One row per measurement of every study: kernel, strategy, seed, evaluation, speedup (0 if failed)."""
    import optuna

    st = _journal(storage)
    rows = []
    for s in optuna.get_all_study_summaries(st):
        kernel_size, strategy, seed = s.study_name.split("/")
        for i, t in enumerate(_measured(optuna.load_study(study_name=s.study_name, storage=st)), 1):
            ok = t.user_attrs.get("status") == "ok" and t.user_attrs.get("speedup") is not None
            rows.append(
                {
                    "kernel": kernel_size.split("@")[0],
                    "strategy": strategy,
                    "seed": int(seed.removeprefix("seed")),
                    "evaluation": i,
                    "speedup": float(t.user_attrs["speedup"]) if ok else 0.0,
                    "proposal": t.user_attrs.get("proposal", ""),
                    "propose_seconds": t.user_attrs.get("propose_seconds"),
                }
            )
    return pd.DataFrame(rows)


def measured_configs(storage: str) -> dict[str, pd.DataFrame]:
    """Every distinct configuration any run measured verified, per kernel (`name@SIZE`): its
    parameters, speedup, the baseline's time and the cores it ran on (what the surrogate reads)."""
    import optuna

    st = _journal(storage)
    rows: dict[str, dict[str, dict]] = {}
    for s in optuna.get_all_study_summaries(st):
        kernel = s.study_name.split("/")[0]
        for t in _measured(optuna.load_study(study_name=s.study_name, storage=st)):
            if t.user_attrs.get("status") != "ok" or not t.user_attrs.get("speedup"):
                continue
            machine = t.user_attrs.get("machine") or {}
            machine = ast.literal_eval(machine) if isinstance(machine, str) else machine  # a repr in older trials
            rows.setdefault(kernel, {})[json.dumps(t.params, sort_keys=True)] = {
                "params": t.params,
                "speedup": float(t.user_attrs["speedup"]),
                "baseline_s": float(t.user_attrs.get("baseline_seconds") or np.nan),
                "cores": int(machine.get("usable_cores", 0)) or None,
            }
    return {k: pd.DataFrame(list(v.values())) for k, v in rows.items()}


@dataclass(frozen=True)
class Measured:
    """A kernel's distinct measured configurations as the held-out surrogate reads them: its input
    rows `X` (embedding, then the knob features: the knob-only prior reads the last columns, as in
    training) and the measured speedups `y`."""

    X: np.ndarray
    y: np.ndarray

    @property
    def knobs(self) -> np.ndarray:
        from autotune.surrogate.features import NAMES

        return self.X[:, -len(NAMES) :]


def surrogate_inputs(storage: str, load) -> dict[str, Measured]:
    """`Measured` of every kernel (`name@SIZE`) with at least 5 measured configurations; `load(name_at_size)`
    gives the kernel. Each is read with its trials' own baseline time and cores, as in the search."""
    from autotune.space.discover import build_space
    from autotune.surrogate.data import Featurizer
    from autotune.surrogate.scorer import MODALITY
    from encoder.embedding import Embedder
    from experiments.provenance import ROOT

    fz = Featurizer(Embedder(cache_dir=ROOT / ".encoder-cache", modality=MODALITY))
    out = {}
    for name, g in sorted(measured_configs(storage).items()):
        if len(g) < 5:
            continue
        kernel = load(name)
        space = build_space(kernel)
        cfgs = [space.canonical(p) for p in g["params"]]
        base_s = float(g["baseline_s"].median())
        cores = int(g["cores"].dropna().mode().iloc[0]) if g["cores"].notna().any() else 2
        out[name] = Measured(fz.features(kernel, space, cfgs, cores, base_s), g["speedup"].to_numpy())
    return out


def ranking(measured: dict[str, Measured], sur) -> pd.DataFrame:
    """How the held-out surrogate `sur` ranks what the searches measured, per kernel: the Spearman
    correlation with the measured speedups (full prior and knob-only prior) and the share of the
    best known that the configuration it ranks first reached."""
    rows = []
    for name, m in measured.items():
        mf, _ = sur.full.predict(m.X)
        mk, _ = sur.knobs.predict(m.knobs)
        best = max(m.y.max(), 1.0)
        rows.append(
            {
                "kernel": name.split("@")[0],
                "configurations": len(m.y),
                "spearman full": spearman(mf, m.y),
                "spearman knobs": spearman(mk, m.y),
                "pick full": m.y[int(np.argmax(mf))] / best,
                "pick knobs": m.y[int(np.argmax(mk))] / best,
            }
        )
    return pd.DataFrame(rows)


def few_shot(measured: dict[str, Measured], sur, ks: tuple[int, ...] = FEW, draws: int = DRAWS) -> pd.DataFrame:
    """How the surrogate ranks the rest once a search has measured k of a kernel's configurations:
    k drawn at random (`draws` times per kernel, seeded), the rest ranked by the prior weighted by how it
    ranks those k and corrected by a GP on its residuals there (`scorer.refined`, what guided scores with;
    the GP measures closeness on the knob features, as guided's does). Priors: `full`
    (embedding and knobs), `knobs`, and `none`: the GP alone on the knob features around the mean
    of the k (nothing transferred; standardised as the knob prior's inputs). One row per prior and k:
    mean over kernels of the Spearman on the rest and of the best known's share the top-ranked one
    reached (the search's next pick)."""
    from autotune.surrogate.model import gp_residual
    from autotune.surrogate.scorer import refined, standardised

    rows = []
    for name, m in measured.items():
        rng = np.random.default_rng(0)
        y = np.log(m.y)
        best = max(m.y.max(), 1.0)
        z = standardised(sur.knobs, m.knobs)
        for k in ks:
            if len(y) < k + 5:
                continue
            for _ in range(draws):
                h = rng.choice(len(y), k, replace=False)
                t = np.setdiff1d(np.arange(len(y)), h)
                none, _ = gp_residual(z[h], y[h] - y[h].mean(), z[t])
                preds = {
                    "full": refined(sur.full, m.X[h], y[h], m.X[t], near=(z[h], z[t]))[0],
                    "knobs": refined(sur.knobs, m.knobs[h], y[h], m.knobs[t])[0],
                    "none": none + y[h].mean(),
                }
                for prior, p in preds.items():
                    pick = m.y[t][int(np.argmax(p))] / best
                    rows.append({"kernel": name, "measured": k, "prior": prior, "sp": spearman(p, y[t]), "pick": pick})
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    per_kernel = df.groupby(["measured", "prior", "kernel"])[["sp", "pick"]].mean()
    out = per_kernel.groupby(["measured", "prior"]).mean().reset_index()
    return out.rename(columns={"sp": "spearman on the rest", "pick": "next pick"})


def predict_frame(folder: Path) -> pd.DataFrame:
    """predict's measured picks of every target: kernel, rank, predicted, speedup (0 if failed)."""
    parts = []
    for f in sorted(folder.glob("*.csv")) if folder.exists() else []:
        parts.append(pd.read_csv(f).assign(kernel=f.stem.split("@")[0]))
    cols = ["kernel", "rank", "predicted", "low", "status", "speedup"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def best_known(traj: pd.DataFrame, picks: pd.DataFrame) -> pd.Series:
    """The best verified speedup any search run or predict pick found, per kernel."""
    both = pd.concat([traj[["kernel", "speedup"]], picks[["kernel", "speedup"]]], ignore_index=True)
    # the program as given (1x) is always known: picks that all measured slower do not lower the bar
    return both.groupby("kernel")["speedup"].max().astype(float).clip(lower=1.0)


def zero_shot(picks: pd.DataFrame, best: pd.Series) -> pd.DataFrame:
    """predict's first pick and best of its picks, as shares of the best known, per kernel."""
    rows = []
    for kernel, g in picks.groupby("kernel"):
        g = g.sort_values("rank")
        first = float(g["speedup"].iloc[0])
        rows.append(
            {
                "kernel": kernel,
                "top1": first / best[kernel],
                # what a user following predict gets: its first pick where even the lower bound beats
                # the program as given (`confident`), else its advice to keep the program and measure
                "advised": (first if float(g["low"].iloc[0]) > 1 else 1.0) / best[kernel],
                f"top{PREDICT_TOP}": float(g["speedup"].max()) / best[kernel],
                "predicted top1": float(g["predicted"].iloc[0]),
                "measured top1": first,
            }
        )
    return pd.DataFrame(rows)


def summarise(
    traj: pd.DataFrame, budgets: tuple[int, ...] = BUDGETS, best_known: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (kernel, strategy, seed): fraction of the kernel's best known at each budget, evaluations to 5%."""
    if best_known is None:
        best_known = traj.groupby("kernel")["speedup"].max()
    runs = []
    for (kernel, strategy, seed), g in traj.groupby(["kernel", "strategy", "seed"]):
        best = np.maximum.accumulate(g.sort_values("evaluation")["speedup"].to_numpy())
        row = {"kernel": kernel, "strategy": strategy, "seed": seed, "evaluations": len(best)}
        for b in budgets:
            row[f"frac@{b}"] = best[min(b, len(best)) - 1] / best_known[kernel] if len(best) >= b else np.nan
        hit = np.nonzero(best >= NEAR * best_known[kernel])[0]
        row["evals_to_5pct"] = float(hit[0] + 1) if len(hit) else np.nan
        runs.append(row)
    runs = pd.DataFrame(runs)
    table = []
    for strategy, g in runs.groupby("strategy"):
        per_seed = g.groupby("seed")[[f"frac@{b}" for b in budgets] + ["evals_to_5pct"]].mean()
        row = {"strategy": strategy, "kernels": g["kernel"].nunique(), "runs": len(g)}
        for b in budgets:
            row[f"frac@{b}"] = spread(per_seed[f"frac@{b}"].dropna()) if per_seed[f"frac@{b}"].notna().any() else "-"
        hits = per_seed["evals_to_5pct"].dropna()  # empty where no run of the strategy came within 5%
        row["evals to 5%"] = spread(hits, digits=1) if len(hits) else "-"
        table.append(row)
    return runs, pd.DataFrame(table)


def machine_section(folder: Path, surrogate_path: Path, load) -> tuple[list[str], pd.DataFrame]:
    """The tables of one CPU's runs and picks (`folder`: its journal and predict's picks)."""
    from autotune.surrogate.scorer import Surrogate

    storage = folder / "studies.log"
    traj = trajectories(str(storage)) if storage.exists() else pd.DataFrame(columns=["kernel", "strategy", "speedup"])
    picks = predict_frame(folder / "predict")
    best = best_known(traj, picks)
    lines = [f"## {cpu_of(folder)}", ""]
    if len(traj):
        runs, table = summarise(traj, best_known=best)
        per_kernel = runs.pivot_table(index="kernel", columns="strategy", values="frac@10", aggfunc="mean").round(3)
        lines += [
            f"{len(runs)} runs. Fraction of the best verified speedup any run found for the kernel on this CPU, "
            "after each budget: mean over the kernels the strategy ran (compare rows of equal `kernels`), then "
            "`mean (min-max)` over seeds; `evals to 5%`: evaluations "
            "until a run came within 5% of that best (runs that never did are left out).",
            "",
            markdown_table(table),
            "",
            "`guided`, `guided-knobs`: guided's first start rule (three start picks that set the big levers "
            "differently); `guided.2`, `guided-knobs.2`: its second (the start picks cover compiler x {one "
            "thread, more} first); `.3`: the second, with the prior weighted by how well it ranks the kernel's own "
            "measurements (`scorer.prior_weight`). `-knobs`: the surrogate without the embedding.",
            "",
            "Fraction of the best known after 10 evaluations, per kernel (mean over seeds):",
            "",
            markdown_table(per_kernel.join(best.round(3).rename("best known")).reset_index()),
            "",
        ]
    zs = zero_shot(picks, best)
    if len(zs):
        lines += [
            f"Zero-shot: `autotune predict`'s top {PREDICT_TOP} (held-out surrogate) measured once each; `top1`: "
            f"its first pick's share of the best known, `top{PREDICT_TOP}`: the best of its picks', `advised`: "
            "what following its advice gives (the first pick where it is confident, its lower bound above 1x; "
            "else the program as given, 1x).",
            "",
            markdown_table(zs.round(3)),
            "",
            f"Mean over {len(zs)} kernels: top1 {zs['top1'].mean():.3f} (target 0.80), top{PREDICT_TOP} "
            f"{zs[f'top{PREDICT_TOP}'].mean():.3f} (target 0.90), advised {zs['advised'].mean():.3f}. The best "
            "known is the best of what the searches and picks measured so far, so these shares fall as searches "
            "find more.",
            "",
        ]
    measured = surrogate_inputs(str(storage), load) if storage.exists() else {}
    sur = Surrogate.load(surrogate_path) if measured else None
    rk = ranking(measured, sur) if measured else pd.DataFrame()
    if len(rk):
        mean = rk.drop(columns="kernel").mean().round(3)
        lines += [
            "How the held-out surrogate ranks what the searches measured (every configuration any run of the "
            "kernel measured verified; nothing timed for this): Spearman of its predicted with the measured "
            "speedup, and the share of the best known of the configuration it ranks first; `full`: embedding "
            "and knobs, `knobs`: the knob-only prior.",
            "",
            markdown_table(rk.round(3)),
            "",
            f"Mean over {len(rk)} kernels: Spearman full {mean['spearman full']}, knobs {mean['spearman knobs']} "
            f"(target 0.5); first pick full {mean['pick full']}, knobs {mean['pick knobs']}.",
            "",
        ]
    fs = few_shot(measured, sur) if measured else pd.DataFrame()
    if len(fs):
        lines += [
            f"Few-shot: once a search has measured k of these configurations (k drawn at random, {DRAWS} draws "
            "per kernel), the prior weighted by how it ranks them and corrected by a GP on its residuals "
            "there (as guided scores) ranks the rest: Spearman on the rest, and the best known's share of the "
            "one it ranks first (the next pick). `none`: the GP alone (nothing transferred). Mean over "
            "kernels; the searches' choices make these configurations better than a random sample of the "
            "space, so shares run high for every prior.",
            "",
            markdown_table(fs.round(3)),
            "",
        ]
    over = traj.loc[traj["strategy"].str.startswith("guided"), "propose_seconds"] if len(traj) else pd.Series()
    over = over.dropna().astype(float)
    if len(over):
        lines += [f"Guided's proposal time per trial: median {over.median():.2f} s, max {over.max():.2f} s.", ""]
    return lines, traj.assign(cpu=cpu_of(folder))


def cpu_of(folder: Path) -> str:
    """The CPU a folder's runs were measured on (its `cpu.txt`, written when the folder is made)."""
    f = folder / "cpu.txt"
    return f.read_text().strip() if f.exists() else folder.name


def report(out: Path, command: str, work: Path, surrogate_path: Path, load, sizes: str) -> None:
    """results/search_full.md and .csv: a section per CPU folder under `work`."""
    folders = sorted(
        p for p in work.iterdir() if p.is_dir() and ((p / "studies.log").exists() or (p / "predict").exists())
    )
    if not folders:
        raise SystemExit(f"{work}: no runs yet; run `python -m experiments.search_full` first")
    lines = [
        "# Search on whole spaces, timed for real",
        "",
        f"Command: `{command}`  ",
        f"Date: {now()}; commit {git_commit()}; written on {machine_line()}; {sizes}, every discovered knob; "
        f"budgets {', '.join(map(str, BUDGETS))} evaluations (the baseline is the first). Guided's surrogate: "
        f"trained once without the targets ({surrogate_line(surrogate_path)}). One section per CPU: speedups do "
        "not transfer between CPUs, so each has its own runs and its own best known.",
        "",
    ]
    trajs = []
    for folder in folders:
        section, traj = machine_section(folder, surrogate_path, load)
        lines += section
        trajs.append(traj)
    pd.concat(trajs, ignore_index=True).to_csv(out / "search_full.csv", index=False)
    (out / "search_full.md").write_text("\n".join(lines).rstrip() + "\n")
    print("\n".join(lines))


def surrogate_line(path: Path) -> str:
    """What the held-out surrogate was trained on: records, data digest, held-out kernels."""
    if not path.exists():
        return "not trained yet"
    from autotune.surrogate.scorer import Surrogate

    m = Surrogate.load(path).meta
    return (
        f"{m.get('records', '?')} records, data sha256 {m.get('db_sha256', '?')}, "
        f"held out: {', '.join(m.get('held_out', []))}"
    )
