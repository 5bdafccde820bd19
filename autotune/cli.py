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
import signal
import sys
from pathlib import Path

from autotune.errors import UserError, cli_spelling
from autotune.measure.load import describe
from autotune.measure.stats import MIN_CI_PAIRS

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
    from autotune.measure.protocol import parse_settings

    return parse_settings(space, settings)


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


def _options(a: argparse.Namespace):
    """The measurement protocol's options from the shared command-line flags."""
    from autotune.measure import Options

    opts = Options(
        min_pairs=a.min_reps,
        max_pairs=a.max_reps,
        ci_target=a.ci_target,
        timeout_factor=a.timeout_factor,
        baseline_timeout=a.baseline_timeout,
        memory_bytes=int(a.mem_limit * 2**30) if a.mem_limit else None,
        seed=a.seed,
        load_check=a.load_check,
        load_max_busy=a.load_max_busy,
        load_wait_s=a.load_wait,
    )
    if not 0 < a.load_max_busy <= 1:
        raise UserError(f"--load-max-busy {a.load_max_busy:g}: give a fraction of the CPUs between 0 and 1")
    if a.load_wait < 0:
        raise UserError(f"--load-wait {a.load_wait:g}: give seconds, 0 or more")
    if a.cpus:
        try:
            opts.cpus = [int(c) for c in a.cpus.split(",")]
        except ValueError:
            raise UserError(f"--cpus {a.cpus!r}: expected a comma-separated list of CPU numbers, e.g. 0,1") from None
        allowed = sorted(os.sched_getaffinity(0))
        if not set(opts.cpus) <= set(allowed):
            raise UserError(f"--cpus {a.cpus}: this process may only use CPUs {','.join(map(str, allowed))}")
    return opts


def cmd_measure(a: argparse.Namespace) -> int:
    from autotune.build import Builder
    from autotune.measure import Bench

    kernel = _load(a)
    space = _space(kernel)
    cfg = _config(space, a.set)
    opts = _options(a)
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
        con.print(f"[bold yellow]under load[/]: {_load_words(m)}; this speedup is suspect, measure again when quiet")
    mc = m.machine
    con.print(
        f"machine: {mc.get('cpu_model')}, {mc.get('usable_cores')} cores; {', '.join(mc.get('compilers', {}).values())}"
    )


def _load_words(m) -> str:
    seen = [v for v in (m.load_before, m.load_during) if v is not None]
    worst = f"other work kept up to {max(seen):.0%} of the CPUs busy" if seen else "other work was seen"
    return worst + (f" (after waiting {m.load_waited:.0f} s for quiet)" if m.load_waited else "")


def cmd_run(a: argparse.Namespace) -> int:
    from autotune.search.api import check_budget, tune_kernel
    from autotune.search.strategies import check_strategy

    budget = a.budget if a.budget is not None else (None if a.time_budget is not None else 30)
    check_budget(budget, a.time_budget, a.early_stop)  # before the program is even read
    check_strategy(a.strategy)
    kernel = _load(a)
    space = _space(kernel)
    opts = _options(a)
    with _RunProgress(kernel.name) as show:
        r = tune_kernel(
            kernel,
            budget,
            a.strategy,
            a.time_budget,
            a.storage,
            a.study,
            a.seed,
            a.out,
            opts,
            early_stop=a.early_stop,
            allow_other_machine=a.allow_other_machine,
            space=space,
            cache_dir=a.cache_dir,
            observe=show.event,
            progress=show.pairs,
            on_wait=show.waiting,
        )
    _print_result(r, a.json)
    if not r.verified:
        print("autotune: nothing was verified: no measurement of this study is ok (see trials.csv)", file=sys.stderr)
        return EXIT_NOT_OK
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from autotune.search.outputs import report

    r = report(a.study, a.storage, Path(a.out) if a.out else None)
    _print_result(r, a.json)
    return 0


def cmd_collect(a: argparse.Namespace) -> int:
    from autotune.collect import SIGNALS, run

    SIGNALS.install()  # kill (SIGTERM) stops it as cleanly as Ctrl-C
    return run(a)


def cmd_predict(a: argparse.Namespace) -> int:
    from autotune.surrogate.predict import rank

    if a.top < 1:
        raise UserError(f"--top {a.top}: must be at least 1")
    if a.pool < a.top:
        raise UserError(f"--pool {a.pool}: must be at least --top ({a.top})")
    kernel = _load(a)
    space = _space(kernel)
    table = rank(kernel, space, top=a.top, pool=a.pool, seed=a.seed)
    if a.json:
        print(json.dumps(table[["predicted_speedup", "low", "high", "embedded", "config"]].to_dict("records")))
        return 0
    from rich.table import Table

    t = Table(title=f"{kernel.path.name}: zero-shot ranking of {a.pool} sampled configurations (no timing)")
    for col in ("#", "predicted", "range (1 sd)", "IR", "changed knobs"):
        t.add_column(col)
    for i, row in enumerate(table.itertuples(), 1):
        changed = " ".join(f"{k}={v}" for k, v in row.changed.items()) or "(default)"
        ir = "yes" if row.embedded else "no (knob-only)"
        t.add_row(str(i), f"{row.predicted_speedup:.2f}x", f"{row.low:.2f}-{row.high:.2f}", ir, changed)
    _console().print(t)
    return 0


class _RunProgress:
    """Progress of a run on stderr: a rich bar on a terminal, one line per measurement otherwise."""

    def __init__(self, name: str) -> None:
        from rich.console import Console

        self.name = name
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.bar = None
        self.task = None
        self.best = "-"

    def waiting(self, busy: float, waited: float) -> None:
        """The measurement waits for a quiet machine (Bench's load check)."""
        text = f"waiting for a quiet machine: {describe(busy)} ({waited:.0f} s)"
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, description=f"tuning {self.name}: {text}")
        elif waited == 0:
            self.console.print(text, highlight=False)

    def __enter__(self) -> _RunProgress:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("best {task.fields[best]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bar.start()
            self.task = self.bar.add_task(f"tuning {self.name}", total=None, best="-")
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def event(self, e) -> None:
        if e.best is not None:
            self.best = f"{e.best:.3f}x"
        if e.kind == "note":
            self.console.print(f"note: {e.message}", highlight=False, soft_wrap=True)
        elif self.bar is not None and self.task is not None and e.kind in ("start", "measured", "stop"):
            self.bar.update(self.task, completed=e.measured, total=e.target, best=self.best)
            if e.kind == "measured":
                self.bar.update(self.task, description=f"tuning {self.name}")
                if e.measurement is not None and e.measurement.under_load:
                    self.console.print(
                        f"trial {e.trial} measured under load: {_load_words(e.measurement)}", highlight=False
                    )
        elif e.kind == "measured" and e.measurement is not None:
            m = e.measurement
            got = f"{m.speedup:.3f}x" if m.status == "ok" and m.speedup is not None else m.status
            of = f"/{e.target}" if e.target else ""
            changed = " ".join(f"{k}={v}" for k, v in m.changed.items()) or "(baseline)"
            load = " [under load]" if m.under_load else ""
            line = f"trial {e.trial}: {e.measured}{of} {got}{load} best {self.best}  {changed}"
            self.console.print(line, highlight=False, soft_wrap=True, markup=False)  # "[under load]" is text

    def pairs(self, done: int, est) -> None:
        if self.bar is not None and self.task is not None:
            now = f", {est.speedup:.3f}x" if est is not None else ""
            self.bar.update(self.task, description=f"tuning {self.name} ({done} pairs{now})")


def _print_result(r, as_json: bool) -> None:
    if as_json:
        best = {
            "config": r.best,
            "speedup": r.speedup,
            "ci": list(r.ci) if r.ci else None,
            "verified": r.verified,
            "under_load": r.best_under_load,
        }
        out = {"best": best, "trials": r.n_trials, "under_load": r.under_load, "out_dir": str(r.out_dir)}
        print(json.dumps(out, indent=1))
        return
    from rich.table import Table

    con = _console()
    t = Table(title=f"best of {r.n_trials} measurements, study {r.study}", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    for k, v in r.changed.items():
        t.add_row(k, str(v))
    if not r.changed:
        t.add_row("config", "the untransformed program (no variant beat it)")
    if r.speedup is not None:
        ci = f"95% CI {r.ci[0]:.3f}-{r.ci[1]:.3f}" if r.ci is not None else "no CI: too few pairs"
        load = r" \[measured under load]" if r.best_under_load else ""  # escaped: rich would read a style tag
        t.add_row("speedup", f"{r.speedup:.3f}x ({ci}){load}")
    else:
        t.add_row("speedup", "none measured")
    t.add_row("verified", "yes" if r.verified else "no")
    if r.under_load:
        worst = f", other work up to {r.max_load:.0%} of the CPUs" if r.max_load is not None else ""
        t.add_row(
            "load", f"{r.under_load} of {r.n_trials} measurements taken under load{worst}: their speedups are suspect"
        )
    t.add_row("trials", f"{r.n_trials} measured" + (f", {r.new_measurements} in this run" if r.stop_reason else ""))
    if r.timer_fallbacks:
        t.add_row(
            "timer",
            f"{r.timer_fallbacks} measurements timed by whole-process wall time: the program's timer was missing",
        )
    fails = ", ".join(f"{k} {n}" for k, n in sorted(r.failures.items())) or "none"
    t.add_row("failures", fails)
    if r.stop_reason:
        t.add_row("stopped", r.stop_reason)
    con.print(t)
    con.print(f"outputs in {r.out_dir}/ (trials.csv, best.json, best_variant.c/.sh, convergence.png)", highlight=False)
    con.print(f"study {r.study} in {r.storage}", highlight=False)


# --- parser ---------------------------------------------------------------------------------
def _protocol_args(p: argparse.ArgumentParser) -> None:
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
    _protocol_args(m)
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=cmd_measure)

    r = sub.add_parser("run", help="search for the fastest verified variant, measuring each configuration once")
    _kernel_args(r)
    g = r.add_argument_group("search")
    g.add_argument(
        "--budget", type=int, default=None, help="measurements the study should hold, baseline included (default 30)"
    )
    g.add_argument("--time-budget", type=float, default=None, metavar="S", help="seconds for this run")
    g.add_argument(
        "--strategy", default="tpe", metavar="NAME", help="guided, tpe (default), random or exhaustive (small spaces)"
    )
    g.add_argument("--storage", default=None, metavar="URL", help="Optuna RDB URL or journal file (default .autotune)")
    g.add_argument("--study", default=None, metavar="NAME", help="study name (default from file, defines, hash)")
    g.add_argument("--seed", type=int, default=0, help="seed of the search and the bootstrap (default 0)")
    g.add_argument("--out", default=None, metavar="DIR", help="outputs (default results/<kernel>/)")
    g.add_argument("--early-stop", type=int, default=None, metavar="N", help="stop after N measurements without gain")
    g.add_argument("--allow-other-machine", action="store_true", help="continue a study measured on another CPU model")
    g.add_argument("--json", action="store_true", help="print only the result as JSON on stdout")
    _protocol_args(r)
    r.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="rebuild a study's table, best variant and plot from storage")
    rep.add_argument("study", help="the study name (autotune run prints it)")
    rep.add_argument("--storage", default=None, metavar="URL", help="Optuna RDB URL or journal file")
    rep.add_argument("--out", default=None, metavar="DIR", help="outputs (default results/<kernel>/)")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_report)

    from autotune.collect import add_arguments as collect_arguments

    c = sub.add_parser("collect", help="measure sampled variants of the suite into the surrogate's database")
    collect_arguments(c)
    c.set_defaults(func=cmd_collect)

    pr = sub.add_parser("predict", help="rank configurations with the surrogate alone (zero-shot, no timing)")
    _kernel_args(pr)
    pr.add_argument("--top", type=int, default=10)
    pr.add_argument("--pool", type=int, default=200, help="sampled configurations to rank (default 200)")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_predict)
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
        return 130
    except Terminated:
        print("autotune: terminated", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
