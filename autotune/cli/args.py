"""The argument groups several commands share, and what they become: a Kernel, Options, a Space.

Why one module: `space`, `variant`, `measure`, `run` and `predict` read the same program
flags and (the measuring ones) the same protocol flags; each is declared and turned into
its object once, here, so every command spells and checks them the same way.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import TYPE_CHECKING, Any, Protocol

from autotune import programs
from autotune.errors import UserError
from autotune.measure.stats import MIN_CI_PAIRS

if TYPE_CHECKING:
    from autotune.kernel import Kernel
    from autotune.measure import Options
    from autotune.space import Config, Space


class Subcommands(Protocol):
    """What `ArgumentParser.add_subparsers()` returns, as far as a command module uses it (its class is private)."""

    def add_parser(self, name: str, **kw: Any) -> argparse.ArgumentParser: ...


def kernel_args(p: argparse.ArgumentParser) -> None:
    """The program: its main file and everything that builds and checks it."""
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
    g.add_argument(
        "--rtol", type=float, default=None, help="relative tolerance of output numbers (default 1e-6, or the .toml's)"
    )
    g.add_argument("--atol", type=float, default=None, help="absolute tolerance of output numbers (default 0)")


def protocol_args(p: argparse.ArgumentParser) -> None:
    """The measurement protocol (autotune.Options) and the build cache."""
    g = p.add_argument_group("measurement protocol")
    g.add_argument(
        "--min-reps",
        type=int,
        default=MIN_CI_PAIRS,
        help=f"minimum interleaved pairs (default {MIN_CI_PAIRS}: fewer give no 95%% CI)",
    )
    g.add_argument("--max-reps", type=int, default=60, help="repetition cap in pairs (default 60)")
    g.add_argument("--ci-target", type=float, default=0.02, help="stop at this CI half-width (default 0.02 = +-2%%)")
    g.add_argument("--timeout-factor", type=float, default=5.0, help="candidate timeout in baseline runs (+1 s)")
    g.add_argument(
        "--baseline-timeout", type=float, default=120.0, help="seconds the untransformed program may take (default 120)"
    )
    g.add_argument("--mem-limit", type=float, default=None, metavar="GIB", help="address-space cap per run")
    g.add_argument("--cache-dir", default=None, help="build cache (default .autotune/builds)")
    g.add_argument("--cpus", default=None, metavar="0,1", help="pin the measured runs to these CPUs")
    load_args(g)


def load_args(g: Any) -> None:
    """How a measurement treats other work on the machine (Options.load_check; g: a parser or group)."""
    g.add_argument(
        "--load-check",
        choices=("wait", "strict", "off"),
        default="wait",
        help="other work on the machine: wait for quiet cores up to --load-wait, then measure and flag (default); "
        "strict: refuse to record a measurement taken under load; off: do not look",
    )
    g.add_argument(
        "--load-wait", type=float, default=120.0, metavar="S", help="seconds to wait for a quiet machine (default 120)"
    )
    g.add_argument(
        "--load-max-busy",
        type=float,
        default=0.25,
        metavar="F",
        help="fraction of the CPUs other work may keep busy before it counts as load (default 0.25)",
    )


def db_arg(p: Any) -> None:
    """Which measurement database (autotune.trials.db): a SQLAlchemy URL or a SQLite file (p: a parser or group)."""
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="the measurement database: a SQLAlchemy URL or a SQLite file "
        "(default $AUTOTUNE_DB, else $AUTOTUNE_CACHE/measurements.db, i.e. .autotune/measurements.db)",
    )


def record_args(p: argparse.ArgumentParser) -> None:
    """Whether and where a measuring command appends its measurements (the surrogate learns from them)."""
    g = p.add_argument_group("measurement database")
    db_arg(g)
    g.add_argument("--no-record", action="store_true", help="do not append the measurements to the database")


def load_kernel(a: argparse.Namespace) -> Kernel:
    """The program the `kernel_args` flags describe, read and checked."""

    params: dict[str, tuple[str, ...]] = {}
    for p in a.param:
        if "=" not in p:
            raise UserError(f"--param {p!r}: expected NAME=v1,v2,...")
        name, vals = p.split("=", 1)
        params[name.strip()] = tuple(v.strip() for v in vals.split(",") if v.strip())
    return programs.load(
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


def space_of(kernel: Kernel) -> Space:
    """The program's search space (clang-22 is needed by every command that uses one)."""
    from autotune.build import compilers
    from autotune.space.discover import build_space

    compilers.require_clang()
    return build_space(kernel)


def config_of(space: Space, settings: list[str]) -> Config:
    """The configuration `--set NAME=VALUE ...` asks for."""
    from autotune.measure.protocol import parse_settings

    return parse_settings(space, settings)


def load_options(a: argparse.Namespace) -> dict[str, Any]:
    """Options' load fields from the `load_args` flags, checked."""
    if not 0 < a.load_max_busy <= 1:
        raise UserError(f"--load-max-busy {a.load_max_busy:g}: give a fraction of the CPUs between 0 and 1")
    if a.load_wait < 0:
        raise UserError(f"--load-wait {a.load_wait:g}: give seconds, 0 or more")
    return {"load_check": a.load_check, "load_max_busy": a.load_max_busy, "load_wait_s": a.load_wait}


def options_of(a: argparse.Namespace) -> Options:
    """The measurement protocol's options from the `protocol_args` flags."""
    from autotune.measure import Options

    opts = Options(
        min_pairs=a.min_reps,
        max_pairs=a.max_reps,
        ci_target=a.ci_target,
        timeout_factor=a.timeout_factor,
        baseline_timeout=a.baseline_timeout,
        memory_bytes=int(a.mem_limit * 2**30) if a.mem_limit else None,
        seed=a.seed,
        **load_options(a),
    )
    if a.cpus:
        try:
            opts.cpus = [int(c) for c in a.cpus.split(",")]
        except ValueError:
            raise UserError(f"--cpus {a.cpus!r}: expected a comma-separated list of CPU numbers, e.g. 0,1") from None
        allowed = sorted(os.sched_getaffinity(0))
        if not set(opts.cpus) <= set(allowed):
            raise UserError(f"--cpus {a.cpus}: this process may only use CPUs {','.join(map(str, allowed))}")
    return opts
