"""The `autotune` command line: `main()` and the parser; one module per command.

Why every command goes through `main()`'s one try block: bad input must give
one clear line naming the file and the fix, and a non-zero exit, never a
traceback. UserError carries that line; Ctrl-C gives its own.

Modules: `args` (the flags several commands share, and the Kernel, Options and
Space they become), `progress` (what is drawn while working), `exits` (exit
statuses), and the commands: `space` (space, variant), `measure`, `run` (run,
report), `collect`, `predict`, `db`. A new command is a module with `add_parsers(sub)`
and one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import signal
import sys

from autotune.cli import collect, db, measure, predict, run, space
from autotune.cli.exits import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_NOT_OK, EXIT_TERMINATED
from autotune.errors import UserError, cli_spelling

__all__ = ["EXIT_BAD_INPUT", "EXIT_NOT_OK", "main", "parser"]

COMMANDS = (space, measure, run, collect, predict, db)  # in the order `autotune --help` lists them


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autotune", description="Tune C/OpenMP programs by building and timing variants.")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parsers(sub)
    return p


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so every `finally` runs (the measured program is killed with us)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in ("min_reps", "max_reps"):
        if getattr(args, name, 1) < 1:
            print(f"autotune: error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return EXIT_BAD_INPUT
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with cli_spelling():
            return args.func(args)
    except UserError as exc:
        print(f"autotune: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("autotune: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("autotune: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)
