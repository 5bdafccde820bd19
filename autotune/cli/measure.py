"""`autotune measure`: one configuration against the untransformed program, interleaved and verified."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.cli.args import (
    Subcommands,
    config_of,
    kernel_args,
    load_kernel,
    options_of,
    protocol_args,
    record_args,
    space_of,
)
from autotune.cli.exits import EXIT_NOT_OK, EXIT_OK
from autotune.cli.progress import console, load_words
from autotune.measure.load import describe

if TYPE_CHECKING:
    from autotune.measure import Measurement


def add_parsers(sub: Subcommands) -> None:
    m = sub.add_parser("measure", help="measure one configuration against the untransformed program")
    kernel_args(m)
    m.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    m.add_argument("--json", action="store_true")
    protocol_args(m)
    record_args(m)
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=cmd_measure)


def cmd_measure(a: argparse.Namespace) -> int:
    from autotune.build import Builder
    from autotune.measure import Bench
    from autotune.trials.db.schema import program_of
    from autotune.trials.db.store import Appender

    # first: a bad --db is refused before the program is read
    log = Appender.open(a.db, not a.no_record, source="measure", ci_target=a.ci_target, seed=a.seed)
    kernel = load_kernel(a)
    space = space_of(kernel)
    cfg = config_of(space, a.set)
    opts = options_of(a)
    if log.store is not None:
        log.program = program_of(kernel)
    bench = Bench(kernel, space, opts, Builder(Path(a.cache_dir) if a.cache_dir else None))
    if a.json or not sys.stderr.isatty():

        def said(busy: float, waited: float) -> None:
            if waited == 0:
                print(f"autotune: waiting for a quiet machine: {describe(busy)}", file=sys.stderr)

        bench.on_wait = said
        m = bench.measure(cfg)
    else:
        from rich.console import Console

        with Console(stderr=True).status("building and verifying...") as status:

            def show(pairs: int, est) -> None:
                if est is None:
                    now = "warming up"
                elif est.has_ci:
                    now = f"speedup {est.speedup:.3f}x +-{est.rel_halfwidth:.1%}"
                else:
                    now = f"speedup {est.speedup:.3f}x (too few pairs for a CI)"
                status.update(f"{pairs}/{opts.max_pairs} pairs, {now}")

            def wait(busy: float, waited: float) -> None:
                status.update(f"waiting for a quiet machine: {describe(busy)} ({waited:.0f} s)")

            bench.on_wait = wait
            m = bench.measure(cfg, progress=show)
    log.record(m)  # a failed write warns; the measurement is still printed
    log.close()
    if a.json:
        print(json.dumps(m.to_dict(), indent=1, default=str))
    else:
        print_measurement(m)
    return EXIT_OK if m.status == "ok" else EXIT_NOT_OK  # a failed candidate is a result


def print_measurement(m: Measurement) -> None:
    con = console()
    changed = " ".join(f"{k}={v}" for k, v in m.changed.items()) or "(baseline: A/A measurement)"
    con.print(f"config: {changed}")
    if m.status != "ok":
        con.print(f"[bold red]{m.status}[/]: {m.message}")
        return
    ci = f"95% CI {m.ci[0]:.3f}-{m.ci[1]:.3f}" if m.ci is not None else "no CI: too few pairs"
    con.print(
        f"speedup [bold]{m.speedup:.3f}x[/] ({ci}) over {m.repetitions} interleaved pairs (stopped: {m.stop_reason}); "
        f"baseline {m.baseline_seconds * 1e3:.2f} ms, candidate {m.candidate_seconds * 1e3:.2f} ms ({m.timing} timer); "
        f"output {m.message}",
        highlight=False,
    )
    if m.timer_fallback:
        con.print("[bold yellow]timer[/]: the program's timer was missing; the whole process's wall time was used")
    if m.under_load:
        con.print(f"[bold yellow]under load[/]: {load_words(m)}; this speedup is suspect, measure again when quiet")
    mc = m.machine
    con.print(
        f"machine: {mc.get('cpu_model')}, {mc.get('usable_cores')} cores; {', '.join(mc.get('compilers', {}).values())}"
    )
