"""`autotune space` (what can be tuned in a program) and `autotune variant` (one configuration's source)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autotune.cli.args import Subcommands, config_of, kernel_args, load_kernel, space_of
from autotune.cli.progress import console
from autotune.errors import UserError


def add_parsers(sub: Subcommands) -> None:
    s = sub.add_parser("space", help="list what can be tuned in a program")
    kernel_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_space)

    v = sub.add_parser("variant", help="write the source of one configuration and print how to build and run it")
    kernel_args(v)
    v.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    v.add_argument("-o", "--output", required=True, metavar="OUT.c")
    v.set_defaults(func=cmd_variant)


def cmd_space(a: argparse.Namespace) -> int:
    kernel = load_kernel(a)
    space = space_of(kernel)
    if a.json:
        print(
            json.dumps(
                {
                    "file": str(kernel.path),
                    "knobs": [
                        {
                            "name": k.name,
                            "kind": k.kind,
                            "choices": list(k.choices),
                            "default": k.default,
                            "site": k.site,
                            "active_when": [c.describe() for c in k.conditions],
                        }
                        for k in space
                    ],
                    "size": space.size(),
                    "timing": kernel.timing,
                    "notes": space.notes,
                },
                indent=1,
            )
        )
        return 0
    from rich.table import Table

    t = Table(title=f"search space of {kernel.path}", title_justify="left")
    for col in ("knob", "kind", "choices", "default", "where", "active when"):
        t.add_column(col)
    for k in space:
        t.add_row(
            k.name,
            k.kind,
            " ".join(map(str, k.choices)),
            str(k.default),
            k.site,
            ", ".join(c.describe() for c in k.conditions),
        )
    con = console()
    con.print(t)
    con.print(f"{len(space)} knobs, {space.size():,} distinct configurations; timing source: {kernel.timing}")
    for n in space.notes:
        con.print(f"note: {n}")
    return 0


def cmd_variant(a: argparse.Namespace) -> int:
    from autotune.variant import make_variant

    kernel = load_kernel(a)
    space = space_of(kernel)
    cfg = config_of(space, a.set)
    v = make_variant(kernel, space, cfg)
    out = Path(a.output)
    if out.resolve() == kernel.path.resolve():
        raise UserError(f"-o {out}: would overwrite the program itself; choose another name")
    try:
        out.write_bytes(v.source if v.source is not None else kernel.text)
    except OSError as exc:
        raise UserError(f"-o {out}: cannot write ({exc.strerror})") from None
    exe = out.with_suffix("")
    print(f"# wrote {out} ({len(space.changed(cfg))} knob(s) changed from the baseline)")
    build, run = v.commands(kernel, out, exe if exe.is_absolute() else f"./{exe}").shell()
    print("# build:")
    print(build)
    print("# run:")
    print(run)
    return 0
