"""`autotune db`: what the measurement database holds, and the collect CSV in and out of it.

    autotune db stats [--db URL] [--json]        # records, kernels, machines, CI spread, dates
    autotune db import CSV [--db URL]            # load a collect CSV (autotune/data/measurements.csv)
    autotune db export --csv PATH [--db URL]     # write the collect CSV format back

Why export: the committed CSV stays the training file shipped in git; the database is where
measurements accumulate (autotune.trials.db).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autotune.cli.args import Subcommands, db_arg
from autotune.errors import UserError


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser("db", help="the measurement database: stats, import and export of the collect CSV")
    dsub = p.add_subparsers(dest="db_command", required=True)

    st = dsub.add_parser("stats", help="what the database holds: records, kernels, machines, CI spread, dates")
    db_arg(st)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    im = dsub.add_parser("import", help="load a CSV written by `autotune collect` (rows already there are skipped)")
    im.add_argument("csv", help="the collect CSV, e.g. autotune/data/measurements.csv")
    db_arg(im)
    im.set_defaults(func=cmd_import)

    ex = dsub.add_parser("export", help="write the records in the collect CSV format")
    ex.add_argument("--csv", required=True, metavar="PATH", help="the CSV to write (replaced at once)")
    ex.add_argument(
        "--source", default=None, metavar="S,...", help="only records of these sources: run, measure, collect, import"
    )
    db_arg(ex)
    ex.set_defaults(func=cmd_export)


def cmd_stats(a: argparse.Namespace) -> int:
    from autotune.trials.db.stats import stats
    from autotune.trials.db.store import Store

    s = stats(Store.open(a.db, existing=True))
    print(json.dumps(s.to_dict(), indent=1) if a.json else "\n".join(s.lines()))
    return 0


def cmd_import(a: argparse.Namespace) -> int:
    from autotune.trials.db.csvio import import_csv
    from autotune.trials.db.store import Store

    store = Store.open(a.db)
    read, added = import_csv(store, Path(a.csv))
    skipped = f" ({read - added} already there)" if read != added else ""
    print(f"{added} of {read} rows of {a.csv} imported{skipped}; {store.count()} records in {store.shown}")
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    from autotune.trials.db.csvio import export_csv
    from autotune.trials.db.schema import SOURCES
    from autotune.trials.db.store import Store

    sources = None
    if a.source is not None:
        sources = [s.strip() for s in a.source.split(",") if s.strip()]
        bad = sorted(set(sources) - set(SOURCES))
        if bad or not sources:
            raise UserError(f"--source {a.source}: choose from {', '.join(SOURCES)}")
    store = Store.open(a.db, existing=True)
    n = export_csv(store, Path(a.csv), sources)
    print(f"{n} records of {store.shown} written to {a.csv}")
    return 0
