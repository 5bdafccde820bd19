"""The `autotune` command line.

Why every command goes through `main()`'s one try block: bad input must give
one clear line naming the file and the fix, and a non-zero exit, never a
traceback. UserError carries that line; Ctrl-C gives its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from autotune.errors import UserError

EXIT_BAD_INPUT = 2
EXIT_NOT_OK = 1


def _kernel_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("program")
    g.add_argument("file", help="the C program (its main file)")
    g.add_argument("-I", dest="include", action="append", default=[], metavar="DIR", help="include directory")
    g.add_argument("-D", dest="define", action="append", default=[], metavar="NAME[=V]", help="preprocessor define")
    g.add_argument("--source", action="append", default=[], metavar="FILE", help="extra .c file, compiled as is")
    g.add_argument("--cflags", default="", help="extra compiler flags, one quoted string")
    g.add_argument("--ldflags", default="", help="extra linker flags, e.g. '-lblas'")
    g.add_argument("--args", default="", help="arguments for the program, one quoted string")
    g.add_argument(
        "--param", action="append", default=[], metavar="NAME=v1,v2", help="add a -D parameter to tune with its values"
    )
    g.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of output numbers (default 1e-6)")
    g.add_argument("--atol", type=float, default=0.0, help="absolute tolerance of output numbers (default 0)")


def _load(a: argparse.Namespace):
    from autotune.kernel import Kernel

    params: dict[str, tuple[str, ...]] = {}
    for p in a.param:
        if "=" not in p:
            raise UserError(f"--param {p!r}: expected NAME=v1,v2,...")
        name, vals = p.split("=", 1)
        params[name.strip()] = tuple(v.strip() for v in vals.split(",") if v.strip())
    return Kernel.load(
        a.file,
        sources=a.source,
        include_dirs=a.include,
        defines=a.define,
        cflags=shlex.split(a.cflags),
        ldflags=shlex.split(a.ldflags),
        params=params,
        args=shlex.split(a.args),
        rtol=a.rtol,
        atol=a.atol,
    )


def _space(kernel):
    from autotune import compilers
    from autotune.discover import build_space

    compilers.require_clang()
    return build_space(kernel)


def _config(space, settings: list[str]):
    from autotune.space import InvalidConfig

    try:
        return space.parse_assignments(settings)
    except InvalidConfig as exc:
        raise UserError(f"--set: {exc}") from None


def _console():
    """A console for results: wide enough for the tables when stdout is not a terminal."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=140)


# --- commands ---------------------------------------------------------------------------
def cmd_space(a: argparse.Namespace) -> int:
    kernel = _load(a)
    space = _space(kernel)
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
    con = _console()
    con.print(t)
    con.print(f"{len(space)} knobs, {space.size():,} distinct configurations; timing source: {kernel.timing}")
    for n in space.notes:
        con.print(f"note: {n}")
    return 0


def cmd_variant(a: argparse.Namespace) -> int:
    from autotune.variant import make_variant

    kernel = _load(a)
    space = _space(kernel)
    cfg = _config(space, a.set)
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
    print("# build:")
    print(shlex.join(v.compile_command(kernel, out, exe)))
    print("# run:")
    env = " ".join(f"{k}={shlex.quote(val)}" for k, val in sorted(v.env.items()))
    print(f"{env} {shlex.quote(str(exe if exe.is_absolute() else './' + str(exe)))} {shlex.join(kernel.args)}".rstrip())
    return 0


def cmd_measure(a: argparse.Namespace) -> int:
    from autotune.build import Builder
    from autotune.measure import Bench, Options

    kernel = _load(a)
    space = _space(kernel)
    cfg = _config(space, a.set)
    opts = Options(
        min_pairs=a.min_reps,
        max_pairs=a.max_reps,
        ci_target=a.ci_target,
        timeout_factor=a.timeout_factor,
        baseline_timeout=a.baseline_timeout,
        memory_bytes=int(a.mem_limit * 2**30) if a.mem_limit else None,
        seed=a.seed,
    )
    if a.cpus:
        try:
            opts.cpus = [int(c) for c in a.cpus.split(",")]
        except ValueError:
            raise UserError(f"--cpus {a.cpus!r}: expected a comma-separated list of CPU numbers, e.g. 0,1") from None
        allowed = sorted(os.sched_getaffinity(0))
        if not set(opts.cpus) <= set(allowed):
            raise UserError(f"--cpus {a.cpus}: this process may only use CPUs {','.join(map(str, allowed))}")
    bench = Bench(kernel, space, opts, Builder(Path(a.cache_dir) if a.cache_dir else None))
    if a.json or not sys.stderr.isatty():
        m = bench.measure(cfg)
    else:
        from rich.console import Console

        with Console(stderr=True).status("building and verifying...") as status:

            def show(pairs: int, est) -> None:
                now = f"speedup {est.speedup:.3f}x +-{est.rel_halfwidth:.1%}" if est else "warming up"
                status.update(f"{pairs}/{opts.max_pairs} pairs, {now}")

            m = bench.measure(cfg, progress=show)
    if a.json:
        print(json.dumps(m.to_dict(), indent=1, default=str))
    else:
        _print_measurement(m)
    return 0 if m.status == "ok" else EXIT_NOT_OK


def _print_measurement(m) -> None:
    con = _console()
    changed = " ".join(f"{k}={v}" for k, v in m.changed.items()) or "(baseline: A/A measurement)"
    con.print(f"config: {changed}")
    if m.status != "ok":
        con.print(f"[bold red]{m.status}[/]: {m.message}")
        return
    assert m.ci is not None
    con.print(
        f"speedup [bold]{m.speedup:.3f}x[/] (95% CI {m.ci[0]:.3f}-{m.ci[1]:.3f}) "
        f"over {m.repetitions} interleaved pairs; "
        f"baseline {m.baseline_seconds * 1e3:.2f} ms, candidate {m.candidate_seconds * 1e3:.2f} ms ({m.timing} timer); "
        f"output {m.message}"
    )
    mc = m.machine
    con.print(
        f"machine: {mc.get('cpu_model')}, {mc.get('usable_cores')} cores; {', '.join(mc.get('compilers', {}).values())}"
    )


# --- parser ---------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autotune", description="Tune C/OpenMP programs by building and timing variants.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("space", help="list what can be tuned in a program")
    _kernel_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_space)

    v = sub.add_parser("variant", help="write the source of one configuration and print how to build and run it")
    _kernel_args(v)
    v.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    v.add_argument("-o", "--output", required=True, metavar="OUT.c")
    v.set_defaults(func=cmd_variant)

    m = sub.add_parser("measure", help="measure one configuration against the untransformed program")
    _kernel_args(m)
    m.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    m.add_argument("--json", action="store_true")
    m.add_argument("--min-reps", type=int, default=5, help="minimum interleaved pairs (default 5)")
    m.add_argument("--max-reps", type=int, default=60, help="repetition cap in pairs (default 60)")
    m.add_argument("--ci-target", type=float, default=0.02, help="stop at this CI half-width (default 0.02 = +-2%%)")
    m.add_argument("--timeout-factor", type=float, default=5.0, help="candidate timeout in baseline runs (+1 s)")
    m.add_argument("--baseline-timeout", type=float, default=600.0, help="seconds the untransformed program may take")
    m.add_argument("--mem-limit", type=float, default=None, metavar="GIB", help="address-space cap per run")
    m.add_argument("--cache-dir", default=None, help="build cache (default .autotune/builds)")
    m.add_argument("--cpus", default=None, metavar="0,1", help="pin the measured runs to these CPUs")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=cmd_measure)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in ("min_reps", "max_reps"):
        if getattr(args, name, 1) < 1:
            print(f"autotune: error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        return args.func(args)
    except UserError as exc:
        print(f"autotune: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("autotune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
