"""What a tuning run leaves for people: tables, the best variant, a plot.

Why everything is rebuilt from storage: the study is the single source of
truth, so `autotune report STUDY` (another shell, a later day, while a run
is still going) writes exactly what the run itself wrote at its end.

Under `results/<kernel>/` by default:
  trials.csv        one row per measurement (failures included, status says how)
  best.json         the best verified configuration, speedup with CI, machine, study, storage
  best_variant.c    the best variant's main source (the original file when the baseline wins)
  best_variant.sh   its compile command and run environment
  convergence.png   best-so-far speedup against measurements, each measurement a dot
"""

from __future__ import annotations

import json
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from autotune.errors import UserError, option
from autotune.kernel import Kernel
from autotune.search import storage as stores
from autotune.search.history import History, is_ok
from autotune.search.params import config_from_params
from autotune.space import Config, Space
from autotune.trials.db.store import mask
from autotune.variant import make_variant


@dataclass
class Result:
    """The outcome of a study: its best verified configuration and every measurement."""

    best: Config  # full canonical configuration (the default when nothing beat the baseline)
    speedup: float | None  # its measured speedup over the untransformed program
    ci: tuple[float, float] | None  # 95% bootstrap CI of that speedup
    verified: bool
    trials: pd.DataFrame  # one row per measurement, as trials.csv
    variant_source: str | None  # the best variant's main source; None if the kernel file changed since
    out_dir: Path
    study: str
    storage: str
    changed: Config = field(default_factory=dict)  # the knobs of `best` that differ from the baseline
    best_trial: int | None = None
    failures: dict[str, int] = field(default_factory=dict)  # failed measurements by status
    stop_reason: str = ""  # why the run stopped (empty for a report)
    new_measurements: int = 0  # taken by this run
    under_load: int = 0  # measurements taken while other work kept the CPUs busy (their speedups are suspect)
    best_under_load: bool = False  # the best itself was measured under load
    max_load: float | None = None  # the most of the CPUs other work kept busy during a measurement
    timer_fallbacks: int = 0  # measurements timed by whole-process wall time because the program's timer was missing

    @property
    def n_trials(self) -> int:
        return len(self.trials)


def default_out_dir(kernel: Kernel | str | Path) -> Path:
    """results/<kernel name>/ under the current directory."""
    path = kernel.path if isinstance(kernel, Kernel) else Path(kernel)
    return Path("results") / path.stem


def prepare_out_dir(out: Path) -> Path:
    """Create the output folder and prove it is writable, before any measuring.

    Why first: a run that measures for an hour and then cannot write its table has
    wasted the hour (the study survives in storage, but the user sees a traceback).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".autotune-write-check-"):
            pass
    except FileExistsError:
        raise UserError(f"{option('out', str(out))}: a file is in the way; give a folder for the outputs") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise UserError(f"{option('out', str(out))}: cannot write there ({why}); choose another folder") from None
    return out


def write(
    study: optuna.Study, storage_spec: str, out_dir: Path | None = None, *, kernel: Kernel | None = None
) -> Result:
    """Write every output of the study into out_dir (default results/<kernel>/) and return its Result.

    kernel: the program the study measured, when the caller holds it (a run); without it
    (a report) it is reloaded from what the study recorded, or None if its file changed.
    """
    meta = stores.meta_of(study)
    space = stores.space_of(study)
    if kernel is None:
        kernel = stores.kernel_of(study)
    out = prepare_out_dir(Path(out_dir) if out_dir is not None else default_out_dir(meta["kernel"]))
    h = History.read(study, space)
    frame = h.frame()
    frame.to_csv(out / "trials.csv", index=False)

    best = h.best()
    cfg = config_from_params(space, best.params) if best is not None else space.default()
    attrs: dict[str, Any] = dict(best.user_attrs) if best is not None else {}
    ci = (attrs["ci_lo"], attrs["ci_hi"]) if attrs.get("ci_lo") is not None else None
    source: str | None = None
    for stale in ("best_variant.c", "best_variant.sh"):
        (out / stale).unlink(missing_ok=True)
    if kernel is not None and best is not None:
        variant = make_variant(kernel, space, cfg)
        source = (variant.source if variant.source is not None else kernel.text).decode()
        (out / "best_variant.c").write_text(source)
        script = out / "best_variant.sh"
        script.write_text(_script(kernel, variant, study.study_name, attrs, space))
        script.chmod(0o755)
    result = Result(
        best=cfg,
        speedup=attrs.get("speedup"),
        ci=ci,
        verified=bool(attrs.get("verified")),
        trials=frame,
        variant_source=source,
        out_dir=out,
        study=study.study_name,
        storage=mask(storage_spec),  # for display: never a password
        changed=space.changed(cfg),
        best_trial=best.number if best is not None else None,
        failures=dict(h.failures()),
        under_load=sum(bool(t.user_attrs.get("under_load")) for t in h.measurements),
        best_under_load=bool(attrs.get("under_load")),
        max_load=_max_load(h),
        timer_fallbacks=sum(bool(t.user_attrs.get("timer_fallback")) for t in h.measurements),
    )
    summary = {
        "study": study.study_name,
        "storage": mask(storage_spec),  # best.json is shared: never a password
        "kernel": meta["kernel"],
        "program": meta["program"],
        "config": cfg,
        "changed": result.changed,
        "speedup": result.speedup,
        "ci": list(ci) if ci else None,
        "verified": result.verified,
        "trial": result.best_trial,
        "trials": h.n_measured,
        "failures": result.failures,
        "machine": attrs.get("machine") or meta["machine"],
        "strategy": meta.get("strategy"),
        "under_load": result.best_under_load,
        "measurements_under_load": result.under_load,
        "variant": "best_variant.c" if source is not None else None,
    }
    if kernel is None:
        summary["note"] = f"{meta['kernel']} is missing or changed since the study began; no variant written"
    (out / "best.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    plot(h, study.study_name, out / "convergence.png")
    return result


def _max_load(h: History) -> float | None:
    seen = [
        float(v)
        for t in h.measurements
        for v in (t.user_attrs.get("load_before"), t.user_attrs.get("load_during"))
        if v is not None
    ]
    return max(seen) if seen else None


def report(study: str, storage: str | None = None, out: Path | None = None) -> Result:
    """Rebuild all outputs of a study from storage alone."""
    st, spec = stores.open_storage(storage)
    return write(stores.load_study(st, spec, study), spec, out)


def _script(kernel, variant, study: str, attrs: dict[str, Any], space: Space) -> str:
    here = {"@SRC@": '"$here/best_variant.c"', "@EXE@": '"$here/best_variant"'}
    build, run = variant.commands(kernel, "@SRC@", "@EXE@").shell(literal=here)
    changed = " ".join(f"{k}={v}" for k, v in space.changed(variant.config).items()) or "(none: the baseline)"
    sp = attrs.get("speedup")
    lines = [
        "#!/bin/sh",
        f"# best variant of study {study}: {sp:.3f}x over the untransformed program" if sp else f"# study {study}",
        f"# changed knobs: {changed}",
        "set -e",
        'here="$(cd "$(dirname "$0")" && pwd)"',
        build,
        f"cd {shlex.quote(str(kernel.path.resolve().parent))}  # the program runs where autotune ran it",
        run,
        "",
    ]
    return "\n".join(lines)


def plot(h: History, title: str, path: Path) -> None:
    """Best-so-far speedup vs measurement, each measurement a dot (failures at 0, as crosses)."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    xs = list(range(1, h.n_measured + 1))
    pairs = list(zip(xs, h.measurements, strict=True))
    ok = [(x, t.user_attrs["speedup"]) for x, t in pairs if is_ok(t)]
    bad = [x for x, t in pairs if not is_ok(t)]
    if ok:
        ax.scatter(*zip(*ok, strict=True), s=18, color="tab:blue", alpha=0.7, label="measurement")
    if bad:
        ax.scatter(bad, [0.0] * len(bad), marker="x", color="tab:red", label="failed (objective 0)")
    best = h.best_so_far()
    bx = [x for x, b in zip(xs, best, strict=True) if b is not None]
    if bx:
        ax.step(bx, [b for b in best if b is not None], where="post", color="tab:orange", label="best so far")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("measurement")
    ax.set_ylabel("speedup over the untransformed program")
    ax.set_title(title, fontsize=9)
    if xs:
        ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path, dpi=100)
