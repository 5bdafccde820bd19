"""`autotune.tune(...)`: the tuner in one call.

Why one entry point for the CLI and Python: `autotune run` and
`autotune.tune()` must behave the same (same checks, same study, same
outputs), so the CLI only parses arguments and draws progress.

    import autotune
    r = autotune.tune("kernels/jacobi-1d.c", budget=10, strategy="tpe", defines=["MINI_DATASET"])
    r.best, r.speedup, r.ci, r.trials, r.variant_source, r.out_dir
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import optuna

from autotune import compilers
from autotune.build import Builder
from autotune.discover import build_space, starting_points
from autotune.errors import BaselineError, UserError, option
from autotune.kernel import Kernel
from autotune.measure import Bench, Options
from autotune.search import outputs
from autotune.search import storage as stores
from autotune.search.history import BASELINE_FAILED
from autotune.search.outputs import Result
from autotune.search.session import BenchMeasurer, Budget, Event, Measurer, Session
from autotune.search.strategies import ScorerFactory, check_strategy, make_sampler
from autotune.space import Space

__all__ = ["Result", "tune", "tune_kernel"]


def check_budget(budget: int | None, time_budget: float | None, early_stop: int | None) -> None:
    """Bad budgets are bad input: one clear line each."""
    if budget is None and time_budget is None:
        raise UserError(
            f"give a budget: a number of evaluations ({option('budget')}) and/or seconds ({option('time_budget')})"
        )
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise UserError(f"{option('budget', budget)}: must be a whole number of evaluations, at least 1")
    if time_budget is not None and (
        isinstance(time_budget, bool) or not isinstance(time_budget, int | float) or not time_budget > 0
    ):
        raise UserError(f"{option('time_budget', time_budget)}: must be a positive number of seconds")
    if early_stop is not None and (isinstance(early_stop, bool) or not isinstance(early_stop, int) or early_stop < 1):
        raise UserError(f"{option('early_stop', early_stop)}: must be at least 1 evaluation (a whole number)")


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; our own progress says it better."""
    was = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(was)


def tune_kernel(
    kernel: Kernel,
    budget: int | None = 30,
    strategy: str = "tpe",
    time_budget: float | None = None,
    storage: str | None = None,
    study: str | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    options: Options | None = None,
    *,
    early_stop: int | None = None,
    allow_other_machine: bool = False,
    space: Space | None = None,
    measurer: Measurer | None = None,
    scorer_factory: ScorerFactory | None = None,
    cache_dir: str | Path | None = None,
    observe: Callable[[Event], None] | None = None,
    progress: Callable[[int, Any], None] | None = None,
    on_wait: Callable[[float, float], None] | None = None,
) -> Result:
    """Tune a loaded kernel; see `tune` for the arguments (`progress` sees every measured pair,
    `on_wait(busy, waited_s)` every look at a machine too busy to measure on)."""
    check_budget(budget, time_budget, early_stop)
    check_strategy(strategy)
    if space is None:
        compilers.require_clang()
        space = build_space(kernel)
    sampler = make_sampler(strategy, space, seed, kernel, scorer_factory)
    st, spec = stores.open_storage(storage)
    meta = stores.make_meta(kernel, space, strategy, seed)
    name = study or stores.default_study_name(kernel, meta["fingerprint"])
    note = observe or (lambda e: None)
    out_dir = outputs.prepare_out_dir(Path(out) if out is not None else outputs.default_out_dir(kernel))
    with _quiet_optuna():
        s = stores.open_study(st, name, meta, sampler, allow_other_machine)
        if BASELINE_FAILED in s.user_attrs:  # found by an earlier run: the same program cannot serve now either
            raise BaselineError(s.user_attrs[BASELINE_FAILED])
        if measurer is None:
            opts = options or Options(seed=seed)
            bench = Bench(kernel, space, opts, Builder(Path(cache_dir) if cache_dir else None), on_wait=on_wait)
            try:
                bench.prepare()  # a baseline that cannot serve stops the run before any trial is added
            except BaselineError as exc:
                s.set_user_attr(BASELINE_FAILED, str(exc))
                raise
            measurer = BenchMeasurer(bench, progress)
        size = space.size()
        if strategy == "exhaustive" and budget is not None and size > budget:
            note(
                Event(
                    "note",
                    f"exhaustive: the space has {size:,} configurations, more than the budget of {budget}; "
                    f"only the first {budget} in enumeration order will be measured (tpe or guided suit large spaces)",
                )
            )
        # model-based searches start from the program's ways to run in parallel (discover.starting_points)
        starts = starting_points(space) if strategy in ("tpe", "guided") else []
        budget_ = Budget(budget, time_budget, early_stop)
        outcome = Session(s, space, measurer, budget_, strategy, seed, observe, starts).run()
        result = outputs.write(s, spec, out_dir)
    result.stop_reason = outcome.reason
    result.new_measurements = outcome.new
    return result


def tune(
    path: str | Path,
    budget: int | None = 30,
    strategy: str = "tpe",
    time_budget: float | None = None,
    storage: str | None = None,
    study: str | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    defines: Sequence[str] = (),
    options: Options | None = None,
    *,
    sources: Sequence[str | Path] = (),
    include_dirs: Sequence[str | Path] = (),
    cflags: Sequence[str] = (),
    ldflags: Sequence[str] = (),
    params: dict[str, Sequence[str]] | None = None,
    args: Sequence[str] = (),
    rtol: float = 1e-6,
    atol: float = 0.0,
    early_stop: int | None = None,
    allow_other_machine: bool = False,
    space: Space | None = None,
    measurer: Measurer | None = None,
    scorer_factory: ScorerFactory | None = None,
    cache_dir: str | Path | None = None,
    observe: Callable[[Event], None] | None = None,
) -> Result:
    """Search a C program's configurations for the fastest verified variant, measured for real.

    budget: measurements the study should hold, the baseline included (a rerun
        of the same call continues an interrupted study up to it);
    strategy: "tpe" (default), "random", "exhaustive" or "guided" (needs the surrogate);
    time_budget: seconds for this call, checked between measurements;
    storage: an Optuna RDB URL or a journal file (default .autotune/studies/journal.log);
    study: the study name (default from the file name, its defines and a fingerprint);
    out: where the outputs go (default results/<kernel>/);
    defines, sources, include_dirs, cflags, ldflags, params, args, rtol, atol: the
        program, as on the command line;
    options: the measurement protocol (autotune.Options);
    space, measurer: a restricted space and another measurer (e.g. a
        ReplayMeasurer) for experiments; scorer_factory: the guided strategy's scorer.
    Bad input raises autotune.UserError with one clear line.
    """
    kernel = Kernel.load(
        path,
        sources=list(sources),
        include_dirs=list(include_dirs),
        defines=list(defines),
        cflags=list(cflags),
        ldflags=list(ldflags),
        params={k: tuple(v) for k, v in (params or {}).items()},
        args=list(args),
        rtol=rtol,
        atol=atol,
    )
    return tune_kernel(
        kernel,
        budget,
        strategy,
        time_budget,
        storage,
        study,
        seed,
        out,
        options,
        early_stop=early_stop,
        allow_other_machine=allow_other_machine,
        space=space,
        measurer=measurer,
        scorer_factory=scorer_factory,
        cache_dir=cache_dir,
        observe=observe,
    )
