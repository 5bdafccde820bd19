"""`autotune run` (search for the fastest verified variant) and `autotune report` (its outputs again).

Why the CLI only parses and draws: `autotune run` and `autotune.tune()` must behave the
same, so the search request is checked by `SearchRequest` itself and the tuning is
`tune_kernel`'s; here are the flags, the progress and the result table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.cli.args import Subcommands, kernel_args, load_kernel, options_of, protocol_args, record_args
from autotune.cli.exits import EXIT_NOT_OK
from autotune.cli.progress import RunProgress, console

if TYPE_CHECKING:
    from autotune.search.api import SearchRequest
    from autotune.search.outputs import Result


def add_parsers(sub: Subcommands) -> None:
    r = sub.add_parser("run", help="search for the fastest verified variant, measuring each configuration once")
    kernel_args(r)
    g = r.add_argument_group("search")
    g.add_argument(
        "--budget", type=int, default=None, help="measurements the study should hold, baseline included (default 30)"
    )
    g.add_argument("--time-budget", type=float, default=None, metavar="S", help="seconds for this run")
    g.add_argument(
        "--strategy", default="tpe", metavar="NAME", help="guided, tpe (default), random or exhaustive (small spaces)"
    )
    g.add_argument("--storage", default=None, metavar="URL", help="Optuna RDB URL or journal file (default .autotune)")
    g.add_argument("--study", default=None, metavar="NAME", help="study name (default from file, defines, hash)")
    g.add_argument("--seed", type=int, default=0, help="seed of the search and the bootstrap (default 0)")
    g.add_argument("--out", default=None, metavar="DIR", help="outputs (default results/<kernel>/)")
    g.add_argument("--early-stop", type=int, default=None, metavar="N", help="stop after N measurements without gain")
    g.add_argument("--allow-other-machine", action="store_true", help="continue a study measured on another CPU model")
    g.add_argument("--json", action="store_true", help="print only the result as JSON on stdout")
    protocol_args(r)
    record_args(r)
    r.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="rebuild a study's table, best variant and plot from storage")
    rep.add_argument("study", help="the study name (autotune run prints it)")
    rep.add_argument("--storage", default=None, metavar="URL", help="Optuna RDB URL or journal file")
    rep.add_argument("--out", default=None, metavar="DIR", help="outputs (default results/<kernel>/)")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_report)


def request_of(a: argparse.Namespace) -> SearchRequest:
    """The search the `run` flags ask for; checked as it is made (SearchRequest is the one check)."""
    from autotune.search.api import SearchRequest

    return SearchRequest(
        budget=a.budget,
        strategy=a.strategy,
        time_budget=a.time_budget,
        early_stop=a.early_stop,
        seed=a.seed,
        storage=a.storage,
        study=a.study,
        out=a.out,
        allow_other_machine=a.allow_other_machine,
        record=False if a.no_record else None,  # None: record what this run measures (the default)
        db=a.db,
    )


def cmd_run(a: argparse.Namespace) -> int:
    from autotune.search import api

    request = request_of(a)  # first: a bad budget is refused before the program is even read
    kernel = load_kernel(a)
    opts = options_of(a)
    with RunProgress(kernel.name) as show:
        r = api.tune_kernel(
            kernel,
            request,
            options=opts,
            cache_dir=a.cache_dir,
            observe=show.event,
            progress=show.pairs,
            on_wait=show.waiting,
        )
    print_result(r, a.json)
    if not r.verified:
        print("autotune: nothing was verified: no measurement of this study is ok (see trials.csv)", file=sys.stderr)
        return EXIT_NOT_OK
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from autotune.search.outputs import report

    r = report(a.study, a.storage, Path(a.out) if a.out else None)
    print_result(r, a.json)
    return 0


def print_result(r: Result, as_json: bool) -> None:
    """A study's best and its measurements: a table for people, or JSON for scripts."""
    if as_json:
        best = {
            "config": r.best,
            "speedup": r.speedup,
            "ci": list(r.ci) if r.ci else None,
            "verified": r.verified,
            "under_load": r.best_under_load,
        }
        out = {"best": best, "trials": r.n_trials, "under_load": r.under_load, "out_dir": str(r.out_dir)}
        print(json.dumps(out, indent=1))
        return
    from rich.table import Table

    con = console()
    t = Table(title=f"best of {r.n_trials} measurements, study {r.study}", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    for k, v in r.changed.items():
        t.add_row(k, str(v))
    if not r.changed:
        t.add_row("config", "the untransformed program (no variant beat it)")
    if r.speedup is not None:
        ci = f"95% CI {r.ci[0]:.3f}-{r.ci[1]:.3f}" if r.ci is not None else "no CI: too few pairs"
        load = r" \[measured under load]" if r.best_under_load else ""  # escaped: rich would read a style tag
        t.add_row("speedup", f"{r.speedup:.3f}x ({ci}){load}")
    else:
        t.add_row("speedup", "none measured")
    t.add_row("verified", "yes" if r.verified else "no")
    if r.under_load:
        worst = f", other work up to {r.max_load:.0%} of the CPUs" if r.max_load is not None else ""
        t.add_row(
            "load", f"{r.under_load} of {r.n_trials} measurements taken under load{worst}: their speedups are suspect"
        )
    t.add_row("trials", f"{r.n_trials} measured" + (f", {r.new_measurements} in this run" if r.stop_reason else ""))
    if r.timer_fallbacks:
        t.add_row(
            "timer",
            f"{r.timer_fallbacks} measurements timed by whole-process wall time: the program's timer was missing",
        )
    fails = ", ".join(f"{k} {n}" for k, n in sorted(r.failures.items())) or "none"
    t.add_row("failures", fails)
    if r.stop_reason:
        t.add_row("stopped", r.stop_reason)
    con.print(t)
    con.print(f"outputs in {r.out_dir}/ (trials.csv, best.json, best_variant.c/.sh, convergence.png)", highlight=False)
    con.print(f"study {r.study} in {r.storage}", highlight=False)
