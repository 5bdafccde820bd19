"""`encoder corpus`: build the pre-training corpus from the command line, and print a summary per source."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from encoder.training.corpus.build import DEFAULT_TARGET, build_corpus
from encoder.training.corpus.jobs import DEFAULT_MAX_CHARS
from encoder.training.corpus.sources import ALL_SOURCES


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `encoder corpus`."""
    parser.add_argument("--out", type=Path, required=True, help="output directory (resumed if it exists)")
    parser.add_argument(
        "--sources",
        default=",".join(ALL_SOURCES),
        help=f"comma-separated subset of {','.join(ALL_SOURCES)} (default: all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--limit", type=int, default=None, help="at most N tasks per source (quick builds)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, pragma draws and csmith (default 0)")
    parser.add_argument(
        "--target",
        type=int,
        default=DEFAULT_TARGET,
        help=f"distinct modules to reach with csmith (default {DEFAULT_TARGET})",
    )
    parser.add_argument("--csmith", type=int, default=None, metavar="N", help="generate exactly N csmith programs")
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"skip modules longer than this (default {DEFAULT_MAX_CHARS})",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="public data folder (default: shared/data)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_corpus(args: argparse.Namespace) -> int:
    """Run `encoder corpus` from parsed arguments; prints a per-source summary."""
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    try:
        stats = build_corpus(
            args.out,
            sources=sources,
            jobs=args.jobs,
            limit=args.limit,
            seed=args.seed,
            progress=not args.no_progress and sys.stderr.isatty(),
            target=args.target,
            csmith_programs=args.csmith,
            max_chars=args.max_chars,
            data_dir=args.data_dir,
        )
    except ValueError as exc:
        print(f"encoder corpus: {exc}", file=sys.stderr)
        return 2
    out = io.StringIO()
    out.write(
        f"{'source':<16}{'tasks':>7}{'attempted':>10}{'failed':>8}{'dups':>7}{'large':>7}{'kept':>7}{'wall s':>8}\n"
    )
    for src, s in stats.sources.items():
        out.write(
            f"{src:<16}{int(s['tasks']):>7}{int(s['attempted']):>10}{int(s['failed']):>8}{int(s['duplicates']):>7}"
            f"{int(s['too_large']):>7}{int(s['kept']):>7}{s['wall_seconds']:>8.0f}\n"
        )
    splits = ", ".join(f"{k} {v['modules']} modules / {v['groups']} groups" for k, v in sorted(stats.splits.items()))
    out.write(f"total kept {stats.kept}; {splits}; {stats.build_seconds:.0f} s\n")
    print(out.getvalue(), end="")
    return 0


def main_corpus(argv: Sequence[str] | None = None) -> int:
    """`encoder corpus ...` (also `python -m encoder.training.corpus ...`) with its own argument parser."""
    p = argparse.ArgumentParser(prog="encoder corpus", description="build the pre-training IR corpus")
    add_corpus_arguments(p)
    return run_corpus(p.parse_args(list(argv) if argv is not None else None))
