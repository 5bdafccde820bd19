"""`autotune predict`: rank sampled configurations with the surrogate alone (zero-shot, nothing timed)."""

from __future__ import annotations

import argparse
import json

from autotune.cli.args import Subcommands, kernel_args, load_kernel, space_of
from autotune.cli.progress import console
from autotune.errors import UserError


def add_parsers(sub: Subcommands) -> None:
    pr = sub.add_parser("predict", help="rank configurations with the surrogate alone (zero-shot, no timing)")
    kernel_args(pr)
    pr.add_argument("--top", type=int, default=10)
    pr.add_argument("--pool", type=int, default=200, help="sampled configurations to rank (default 200)")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_predict)


def cmd_predict(a: argparse.Namespace) -> int:
    from autotune.surrogate.predict import rank

    if a.top < 1:
        raise UserError(f"--top {a.top}: must be at least 1")
    if a.pool < a.top:
        raise UserError(f"--pool {a.pool}: must be at least --top ({a.top})")
    kernel = load_kernel(a)
    space = space_of(kernel)
    table = rank(kernel, space, top=a.top, pool=a.pool, seed=a.seed)
    if a.json:
        cols = ["predicted_speedup", "low", "high", "spread", "confident", "embedded", "config"]
        print(json.dumps(table[cols].to_dict("records")))
        return 0
    from rich.table import Table

    from autotune import machine
    from autotune.surrogate.train import CPU_SEPARATOR

    t = Table(
        title=f"{kernel.path.name}: zero-shot ranking of {a.pool} configurations near the default (none timed)",
        caption="ranked by the lower bound (mean - 1 sd); confident: even the lower bound beats the program as given",
    )
    for col in ("#", "predicted", "range (1 sd)", "confident", "IR", "changed knobs"):
        t.add_column(col)
    for i, row in enumerate(table.itertuples(), 1):
        changed = " ".join(f"{k}={v}" for k, v in row.changed.items()) or "(default)"
        ir = "yes" if row.embedded else "no (knob-only)"
        sure = "yes" if row.confident else "no"
        t.add_row(str(i), f"{row.predicted_speedup:.2f}x", f"{row.low:.2f}-{row.high:.2f}", sure, ir, changed)
    console().print(t)
    here, learned = machine.current().cpu_model, table.attrs.get("trained_on")
    if learned and here not in learned.split(CPU_SEPARATOR):
        console().print(
            f"The surrogate learned from records of {learned}; this machine is {here}, where speedups may "
            "differ: `autotune collect` here, then `python -m autotune.surrogate.train`, gives it this machine's."
        )
    if not table["confident"].any():
        console().print(
            "No configuration is predicted faster than the program as given with confidence: "
            "measure instead (`autotune run`), which verifies and times every candidate."
        )
    return 0
