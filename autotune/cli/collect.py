"""`autotune collect`: measure sampled variants of the suite into the surrogate's database.

Why the command line lives here and the work in autotune.trials.collect: the trials stage
must not import the CLI (that made a cycle through nine modules); this module only turns
flags into a call of `collect()` and draws its progress.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autotune.cli.args import Subcommands, load_args, load_options, record_args
from autotune.cli.exits import EXIT_INTERRUPTED
from autotune.errors import UserError


def add_parsers(sub: Subcommands) -> None:
    from autotune.trials.collect import DEFAULT_BATCH, DEFAULT_CSV

    p = sub.add_parser("collect", help="measure sampled variants of the suite into the surrogate's database")
    p.add_argument(
        "--set", default="suite", help="kernel sets: suite, generated (kernels/generated), or both comma-separated"
    )
    p.add_argument(
        "--kernels", default=None, help="comma-separated kernels of those sets (default: all in the manifests)"
    )
    p.add_argument("--sizes", default="SMALL,MEDIUM", help="size presets (default SMALL,MEDIUM)")
    p.add_argument("--out", default=str(DEFAULT_CSV), help="the database CSV (an Optuna journal is kept beside it)")
    p.add_argument("--hours", type=float, default=None, help="stop after this long (resume by running again)")
    p.add_argument("--max-records", type=int, default=None, help="stop after this many new records")
    p.add_argument("--max-pairs", type=int, default=30, help="interleaved pairs per measurement at most (default 30)")
    p.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help=f"draws of one kernel measured together, sharing the baseline's runs (default {DEFAULT_BATCH}; "
        "1: one at a time)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the draws' seed; identical machines collecting into one --db server with the same seed share "
        "its plan (each draw is measured once, by whichever machine claims it first)",
    )
    p.add_argument(
        "--remeasure",
        action="store_true",
        help="measure recorded configurations again on this machine instead of drawing new ones: those whose "
        "records were taken on a slowed machine or another CPU (autotune.trials.remeasure); appended, nothing "
        "rewritten",
    )
    load_args(p.add_argument_group("other work on the machine"))
    record_args(p)
    p.set_defaults(func=cmd_collect)


def cmd_collect(a: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from autotune.build import compilers
    from autotune.measure import Options
    from autotune.trials.collect import SIGNALS, Database, collect, set_tasks
    from autotune.trials.db.store import Appender
    from autotune.trials.remeasure import remeasure

    SIGNALS.install()  # kill (SIGTERM) stops it as cleanly as Ctrl-C
    if a.hours is not None and a.hours <= 0:
        raise UserError("--hours must be positive")
    if a.batch < 1:
        raise UserError("--batch must be at least 1")
    if a.max_records is not None and a.max_records < 1:
        raise UserError("--max-records must be at least 1")
    options = Options(max_pairs=a.max_pairs, seed=a.seed, **load_options(a))
    compilers.require_clang()
    kernels = [k.strip() for k in a.kernels.split(",") if k.strip()] if a.kernels else None
    sets = [s.strip() for s in a.set.split(",") if s.strip()]
    work = set_tasks(sets, kernels, [s.strip().upper() for s in a.sizes.split(",") if s.strip()])
    store = Appender.open(a.db, not a.no_record, source="collect", seed=a.seed)
    db = Database(Path(a.out), store=store)
    before = len(db.records)
    with Progress(
        TextColumn("[bold]collect[/]"),
        BarColumn(),
        TextColumn("{task.completed} new records"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    ) as progress:
        bar = progress.add_task("", total=a.max_records)

        def show(rec: dict) -> None:
            sp = f"{float(rec['speedup']):.3f}x" if rec["speedup"] else rec["status"]
            progress.update(bar, advance=1, description=f"last: {rec['kernel']}@{rec['size']} {sp}")

        try:
            run = remeasure if a.remeasure else collect
            added = run(
                work,
                db,
                seed=a.seed,
                hours=a.hours,
                max_records=a.max_records,
                options=options,
                on_record=show,
                batch=a.batch,
            )
        except KeyboardInterrupt:
            print("autotune collect: interrupted; every finished record is saved, run again to go on", file=sys.stderr)
            return EXIT_INTERRUPTED
    where = f"; {store.written} written to {store.store.shown}" if store.store is not None else ""
    what = "records measured again" if a.remeasure else "new records"
    print(f"{added} {what}; {before + added} in {a.out} (raw Optuna journal {db.journal_path}){where}")
    return 0
