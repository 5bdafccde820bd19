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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from autotune import programs
from autotune.build import Builder, compilers
from autotune.errors import BaselineError, UserError, option
from autotune.kernel import Kernel
from autotune.measure import Bench, Options
from autotune.search import outputs, workers
from autotune.search import storage as stores
from autotune.search.history import BASELINE_FAILED
from autotune.search.outputs import Result
from autotune.search.session import BenchMeasurer, Budget, Event, Measurer, Session
from autotune.search.strategies import ScorerFactory, check_strategy, make_sampler
from autotune.space import Space
from autotune.space.discover import build_space, starting_points

__all__ = ["DEFAULT_BUDGET", "Result", "SearchRequest", "tune", "tune_kernel"]

DEFAULT_BUDGET = 30  # measurements, when neither a budget nor a time budget is given


def check_budget(budget: int | None, time_budget: float | None, early_stop: int | None) -> None:
    """Bad budgets are bad input: one clear line each (a None is no limit of that kind)."""
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise UserError(f"{option('budget', budget)}: must be a whole number of evaluations, at least 1")
    if time_budget is not None and (
        isinstance(time_budget, bool) or not isinstance(time_budget, int | float) or not time_budget > 0
    ):
        raise UserError(f"{option('time_budget', time_budget)}: must be a positive number of seconds")
    if early_stop is not None and (isinstance(early_stop, bool) or not isinstance(early_stop, int) or early_stop < 1):
        raise UserError(f"{option('early_stop', early_stop)}: must be at least 1 evaluation (a whole number)")


@dataclass(frozen=True)
class SearchRequest:
    """What to search for and where to keep it; checked once, when made.

    Why an object: `autotune run` makes it from its flags before it reads the program (a
    bad budget is refused before anything is parsed or built), `tune()` from its keywords;
    both hand the same checked request to `tune_kernel`, so the two cannot drift apart.

    budget: measurements the study should hold, the baseline included; None: 30, or no
        cap when a time budget is given;
    strategy: "tpe", "random", "exhaustive" or "guided"; time_budget: seconds for this run;
    early_stop: stop after this many measurements without a better speedup;
    storage, study, out, allow_other_machine, record, db: as in `tune`.
    """

    budget: int | None = None
    strategy: str = "tpe"
    time_budget: float | None = None
    early_stop: int | None = None
    seed: int = 0
    storage: str | None = None
    study: str | None = None
    out: str | Path | None = None
    allow_other_machine: bool = False
    record: bool | None = None
    db: str | None = None

    def __post_init__(self) -> None:
        if self.budget is None and self.time_budget is None:
            object.__setattr__(self, "budget", DEFAULT_BUDGET)
        check_budget(self.budget, self.time_budget, self.early_stop)
        check_strategy(self.strategy)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; our own progress says it better."""
    was = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(was)


def _measurement_log(kernel: Kernel, req: SearchRequest, options: Options | None, own_measurer: bool):
    """Where every measurement of this run is appended (the measurement database), or nowhere.

    By default (`record=None`) only real measurements are recorded: those of the Bench made
    here, not those of a measurer the caller brings (a ReplayMeasurer serves recorded ones).
    """
    from autotune.trials.db.schema import program_of
    from autotune.trials.db.store import Appender

    record = req.record if req.record is not None else own_measurer
    target = (options or Options()).ci_target
    program = program_of(kernel) if record else None
    return Appender.open(req.db, record, program=program, source="run", ci_target=target, seed=req.seed)


def tune_kernel(
    kernel: Kernel,
    request: SearchRequest | None = None,
    *,
    options: Options | None = None,
    space: Space | None = None,
    measurer: Measurer | None = None,
    scorer_factory: ScorerFactory | None = None,
    cache_dir: str | Path | None = None,
    observe: Callable[[Event], None] | None = None,
    progress: Callable[[int, Any], None] | None = None,
    on_wait: Callable[[float, float], None] | None = None,
) -> Result:
    """Tune a loaded kernel as `request` says (default: SearchRequest()); see `tune` for the other
    arguments (`progress` sees every measured pair, `on_wait(busy, waited_s)` every look at a
    machine too busy to measure on). The space is discovered here when not given."""
    req = request or SearchRequest()
    if space is None:
        compilers.require_clang()
        space = build_space(kernel)
    sampler = make_sampler(req.strategy, space, req.seed, kernel, scorer_factory)
    log = _measurement_log(kernel, req, options, own_measurer=measurer is None)  # a bad --db: refused before timing
    try:  # the database is closed on every way out (an error, Ctrl-C)
        st, spec = stores.open_storage(req.storage)
        meta = stores.make_meta(kernel, space, req.strategy, req.seed)
        name = req.study or stores.default_study_name(kernel, meta["fingerprint"])
        told = observe or (lambda e: None)

        def note(e: Event) -> None:
            if e.kind == "measured" and e.measurement is not None:  # a trial answered from storage is not measured
                log.record(e.measurement, study=name, trial=e.trial)
            told(e)

        out_dir = outputs.prepare_out_dir(Path(req.out) if req.out is not None else outputs.default_out_dir(kernel))
        with _quiet_optuna():
            s = stores.open_study(st, name, meta, sampler, req.allow_other_machine)
            if BASELINE_FAILED in s.user_attrs:  # found by an earlier run: the same program cannot serve now either
                raise BaselineError(s.user_attrs[BASELINE_FAILED])
            if measurer is None:
                opts = options or Options(seed=req.seed)
                workers.claim(s, opts.cpus)  # a second worker timing on this machine's same cores is refused
                bench = Bench(kernel, space, opts, Builder(Path(cache_dir) if cache_dir else None), on_wait=on_wait)
                try:
                    bench.prepare()  # a baseline that cannot serve stops the run before any trial is added
                except BaselineError as exc:
                    s.set_user_attr(BASELINE_FAILED, str(exc))
                    raise
                measurer = BenchMeasurer(bench, progress)
            size, cap = space.size(), req.budget
            if req.strategy == "exhaustive" and cap is not None and size > cap:
                note(
                    Event(
                        "note",
                        f"exhaustive: the space has {size:,} configurations, more than the budget of {cap}; "
                        f"only the first {cap} in enumeration order will be measured (tpe or guided suit large spaces)",
                    )
                )
            # model-based searches start from the program's ways to run in parallel (discover.starting_points)
            starts = starting_points(space) if req.strategy in ("tpe", "guided") else []
            budget = Budget(req.budget, req.time_budget, req.early_stop)
            outcome = Session(s, space, measurer, budget, req.strategy, req.seed, note, starts, storage=st).run()
            result = outputs.write(s, spec, out_dir, kernel=kernel)
    finally:
        log.close()
    result.stop_reason = outcome.reason
    result.new_measurements = outcome.new
    return result


def tune(
    path: str | Path,
    *,
    budget: int | None = None,
    strategy: str = "tpe",
    time_budget: float | None = None,
    storage: str | None = None,
    study: str | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    defines: Sequence[str] = (),
    options: Options | None = None,
    sources: Sequence[str | Path] = (),
    include_dirs: Sequence[str | Path] = (),
    cflags: Sequence[str] = (),
    ldflags: Sequence[str] = (),
    params: dict[str, Sequence[str]] | None = None,
    args: Sequence[str] = (),
    rtol: float | None = None,
    atol: float | None = None,
    early_stop: int | None = None,
    allow_other_machine: bool = False,
    record: bool | None = None,
    db: str | None = None,
    space: Space | None = None,
    measurer: Measurer | None = None,
    scorer_factory: ScorerFactory | None = None,
    cache_dir: str | Path | None = None,
    observe: Callable[[Event], None] | None = None,
) -> Result:
    """Search a C program's configurations for the fastest verified variant, measured for real.

    budget: measurements the study should hold, the baseline included (a rerun
        of the same call continues an interrupted study up to it); default 30, or
        no cap when only a time budget is given (as `autotune run`);
    strategy: "tpe" (default), "random", "exhaustive" or "guided" (needs the surrogate);
    time_budget: seconds for this call, checked between measurements;
    early_stop: stop after this many measurements without a better speedup;
    storage: an Optuna RDB URL or a journal file (default .autotune/studies/journal.log);
    study: the study name (default from the file name, its defines and a fingerprint);
    out: where the outputs go (default results/<kernel>/);
    defines, sources, include_dirs, cflags, ldflags, params, args, rtol, atol: the
        program, as on the command line (rtol, atol: default 1e-6 and 0, or an OpenCL description's own);
    options: the measurement protocol (autotune.Options);
    record: append every measurement to the measurement database (default: yes, unless a
        `measurer` is given); db: its SQLAlchemy URL or SQLite file (default $AUTOTUNE_DB,
        else .autotune/measurements.db); a failed write there warns once and the run goes on;
    space, measurer: a restricted space and another measurer (e.g. a
        ReplayMeasurer) for experiments; scorer_factory: the guided strategy's scorer.
    Bad input raises autotune.UserError with one clear line (the search's arguments
    are checked before the program is read).
    """
    request = SearchRequest(
        budget=budget,
        strategy=strategy,
        time_budget=time_budget,
        early_stop=early_stop,
        seed=seed,
        storage=storage,
        study=study,
        out=out,
        allow_other_machine=allow_other_machine,
        record=record,
        db=db,
    )
    kernel = programs.load(
        path,
        sources=sources,
        include_dirs=include_dirs,
        defines=defines,
        cflags=cflags,
        ldflags=ldflags,
        params=params or {},
        args=args,
        rtol=rtol,
        atol=atol,
    )
    return tune_kernel(
        kernel,
        request,
        options=options,
        space=space,
        measurer=measurer,
        scorer_factory=scorer_factory,
        cache_dir=cache_dir,
        observe=observe,
    )
