"""`python -m autotune.kernelgen --out kernels/generated --count 240 --seed 0`: generate, verify, write.

Prints one line per candidate and a summary (kernels written, rejected with their reasons,
duplicates skipped, wall time, the SMALL one-thread region times per template). Exits 0 when
every template filled its quota, 1 when some could not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autotune.build import Builder, compilers
from autotune.errors import UserError
from autotune.kernelgen import registry
from autotune.kernelgen.base import Generated
from autotune.kernelgen.cgen import PRESETS
from autotune.kernelgen.verify import Verification, verify_source
from autotune.kernelgen.writer import generate_set, manifest, quotas, verification_record, write
from autotune.machine import current
from autotune.measure import runner


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autotune.kernelgen", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="kernels/generated", help="folder for the .c files and manifest.json")
    p.add_argument("--count", type=int, default=240, help="kernels to write, shared evenly by the templates")
    p.add_argument("--seed", type=int, default=0, help="same seed, same programs, byte for byte")
    p.add_argument("--templates", default=None, help="comma-separated subset of the templates (default: all)")
    p.add_argument("--sizes", default="MINI,SMALL", help="sizes to verify at (default MINI,SMALL)")
    p.add_argument("--no-verify", action="store_true", help="write without building or running anything")
    p.add_argument("--cache", default=None, help="build cache folder (default: a temporary one, removed)")
    p.add_argument("--list", action="store_true", help="list the templates and exit")
    p.add_argument("--quiet", action="store_true", help="only the summary")
    return p


def _sizes(text: str) -> list[str]:
    sizes = [s.strip().upper() for s in text.split(",") if s.strip()]
    bad = [s for s in sizes if s not in PRESETS]
    if bad or not sizes:
        raise UserError(f"--sizes {text}: choose from {', '.join(PRESETS)}")
    return sizes


def run(args: argparse.Namespace) -> int:
    templates = registry.select(args.templates)
    if args.list:
        for t in templates:
            print(f"{t.name:<12} {t.family:<12} {t.summary}")
        return 0
    if args.count < 1:
        raise UserError(f"--count {args.count}: must be at least 1")
    sizes = None if args.no_verify else _sizes(args.sizes)
    if sizes:
        compilers.require_clang()
        runner.reap_leftovers()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    total = sum(quotas(args.count, templates))
    done = [0]

    def progress(g: Generated, v: Verification | None, what: str) -> None:
        if what == "ok":
            done[0] += 1
        if args.quiet:
            return
        small = v.seconds.get("SMALL", {}).get("threads=1") if v else None
        extra = f"  SMALL 1 thread {small:.3f} s" if small is not None else ""
        why = f": {v.reason}" if what == "rejected" and v else ""
        print(f"[{done[0]:>4}/{total}] {g.name:<16} {what}{why}{extra}", flush=True)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kernelgen-builds-") as tmp:
        builder = Builder(Path(args.cache) if args.cache else Path(tmp))

        def check(g: Generated) -> Verification:
            return verify_source(g.source, g.name, sizes or (), builder)

        outcome = generate_set(args.seed, args.count, templates, check if sizes else None, progress)
    wall = time.perf_counter() - t0
    command = f"python -m autotune.kernelgen --out {args.out} --count {args.count} --seed {args.seed}"
    if args.templates:
        command += f" --templates {args.templates}"
    man = manifest(outcome, args.seed, args.count, templates, sizes, command)
    record = verification_record(outcome, current().to_dict(), wall) if sizes else None
    write(out, outcome, man, record)
    _summary(outcome, out, wall, sizes)
    return 1 if outcome.short else 0


def _summary(outcome, out: Path, wall: float, sizes: list[str] | None) -> None:
    kernels = [g for g, _ in outcome.kernels]
    fams = {g.family for g in kernels}
    tmpls = list(dict.fromkeys(g.template for g in kernels))
    print(
        f"wrote {len(kernels)} kernels ({len(tmpls)} templates, {len(fams)} families) to {out} in {wall:.0f} s; "
        f"{outcome.candidates} candidates, {'verified at ' + '+'.join(sizes) if sizes else 'not verified'}, "
        f"{len(outcome.rejected)} rejected, {len(outcome.duplicates)} duplicates skipped"
    )
    for t in tmpls:
        times = [
            v.seconds["SMALL"]["threads=1"]
            for g, v in outcome.kernels
            if g.template == t and v is not None and "threads=1" in v.seconds.get("SMALL", {})
        ]
        n = sum(g.template == t for g in kernels)
        line = f"  {t:<12} {n:>4} kernels"
        if times:
            line += (
                f"   SMALL 1-thread region: median {statistics.median(times) * 1e3:.0f} ms, "
                f"{min(times) * 1e3:.0f}-{max(times) * 1e3:.0f} ms"
            )
        print(line)
    for g, reason in outcome.rejected:
        print(f"  rejected {g.name}: {reason}")
    for name, missing in outcome.short.items():
        print(f"  {name}: {missing} short of its quota", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parser().parse_args(argv))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
