"""Several configurations of one kernel measured in shared rounds against one baseline.

Why: a measurement of one configuration runs the baseline as often as the
candidate, so half of a collection's time goes to the same untransformed
program. Here each round runs the baseline once and every candidate still open
once, and candidate i's pair r is (baseline run r, its run r): K candidates cost
K + 1 runs a round instead of 2K. Each candidate's speedup and CI are computed
from its own pairs exactly as `Bench.measure` computes them, and it stops on the
same rule (`protocol.stop_rule`: the CI target after the minimum pairs, the time cap, or the pair cap), leaving the
rounds when it is done.

The order within a round is what keeps the pairs honest: the rounds go in twos,
a seeded random order of the baseline and the open candidates and then the
same order reversed, so over two rounds every run stands as often before the
baseline as after it (the A B B A of the one-candidate protocol, generalised).
The pairs of a batch are further apart in time than adjacent A B runs (up to K
runs), so a batch is meant for many short runs (collection, recorded
landscapes), not for one long measurement a user waits on.

Verification, statuses and the load check are the one-candidate protocol's
(`autotune.measure.runs`, `Bench.watched`): a candidate that fails leaves the
batch with its status, and the others go on.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence

from autotune.build import BuildResult
from autotune.build.pool import side_by_side
from autotune.measure import stats
from autotune.measure.protocol import Bench, stop_rule
from autotune.measure.result import Measurement
from autotune.measure.runs import Runs
from autotune.space import Config
from autotune.variant import Variant, make_variant

__all__ = ["measure_many", "next_order"]


class _Open:
    """One candidate of a batch while its rounds run."""

    def __init__(self, m: Measurement, build: BuildResult, variant: Variant, same: bool) -> None:
        self.m, self.build, self.variant, self.same = m, build, variant, same
        self.btimes: list[float] = []
        self.ctimes: list[float] = []
        self.runs = 0  # its own runs and the baseline runs of its rounds
        self.wall = 0.0


def measure_many(
    bench: Bench, configs: list[Config], seed: int = 0, alongside: Sequence[Callable[[], object]] = ()
) -> list[Measurement]:
    """Measurements of `configs` (in their order), sharing the baseline's runs; errors as values.

    seed: the order of the runs within the rounds (with Options.seed), so a
    batch run twice runs in the same order. The candidates are built side by side on
    the usable cores (`autotune.build.pool`), each distinct binary once, together with
    `alongside`: other compiles the caller needs (its candidates' IR), done before the
    first timed run so that none of them competes with it.
    """
    bench.prepare()
    out: list[Measurement | None] = [None] * len(configs)
    todo: list[tuple[int, Measurement, BuildResult, Variant]] = []
    cfgs = [bench.space.validate(c) for c in configs]
    variants = [make_variant(bench.kernel, bench.space, c) for c in cfgs]
    keys = [v.build_key(bench.kernel) for v in variants]
    first: dict[str, Variant] = {}  # one build per binary: configurations that differ only at run time share it
    for key, variant in zip(keys, variants, strict=True):
        first.setdefault(key, variant)
    tasks = [functools.partial(bench.builder.build, bench.kernel, v) for v in first.values()]
    built = side_by_side([*tasks, *alongside])
    by_key = dict(zip(first, built[: len(first)], strict=True))
    for i, (cfg, variant, key) in enumerate(zip(cfgs, variants, keys, strict=True)):
        build = by_key[key]
        m = bench.new_measurement(cfg, build)
        if not build.ok:
            m.status, m.message = "compile_error", build.diagnostics()
            out[i] = m
        else:
            todo.append((i, m, build, variant))
    if todo:
        rng = random.Random(f"{bench.options.seed}:{seed}")

        def rounds() -> list[Measurement]:  # fresh state for each try of the load check
            return _rounds(bench, [_Open(m, b, v, bench.same_as_baseline(b, v)) for _, m, b, v in todo], rng)

        done = bench.watched(rounds)
        for (i, *_), m in zip(todo, done, strict=True):
            out[i] = m
    return [m for m in out if m is not None]


def next_order(i: int, previous: list, open_: list, rng: random.Random) -> list:
    """Round i's order of the runs: None for the baseline, then the open candidates.

    Even rounds draw a fresh order; odd rounds run the previous one reversed
    (without the candidates that left), so over the two every candidate runs
    once before the baseline and once after it.
    """
    if i % 2 == 0:
        order = [None, *open_]
        rng.shuffle(order)
        return order
    return [x for x in reversed(previous) if x is None or x in open_]


def _rounds(bench: Bench, cands: list[_Open], rng: random.Random) -> list[Measurement]:
    opts = bench.options
    assert bench._base_timed is not None
    runs = Runs(bench, bench.run_timeout())
    t_start = time.perf_counter()

    def close(c: _Open, status, message: str) -> None:
        share = c.runs / max(runs.count, 1)  # the harness time in proportion to the runs it took
        bench.finish(c.m, status, message, share * (time.perf_counter() - t_start), c.wall, c.runs)
        open_.remove(c)

    def run_candidate(c: _Open) -> float | None:
        t, bad = runs.candidate(c.build, c.variant, c.same)
        c.runs += 1
        c.wall += runs.last_wall
        if bad:
            close(c, *bad)
            return None
        assert t is not None
        c.m.timing = t.source
        return t.seconds

    def run_baseline() -> float:
        seconds = runs.baseline().seconds
        for c in open_:
            c.runs += 1
            c.wall += runs.last_wall
        return seconds

    open_ = list(cands)
    said = f"; batch of {len(cands)}" if len(cands) > 1 else ""  # where its pairs came from
    for c in cands:
        c.m.timer_fallback = bench._base_timed.fallback
    for _ in range(max(opts.warmup, 1)):  # warm-up doubles as the first verification
        run_baseline()
        for c in list(open_):
            run_candidate(c)
    for c in open_:
        c.m.verified = True
    order: list = []
    budget = None if opts.max_seconds is None else opts.max_seconds * len(cands)
    for i in range(max(opts.max_pairs, 1)):
        if not open_:
            break
        order = next_order(i, order, open_, rng)
        base: float | None = None
        got: dict[int, float] = {}
        for who in order:
            if who is None:
                base = run_baseline()
            elif who in open_:
                t = run_candidate(who)
                if t is not None:
                    got[id(who)] = t
        assert base is not None
        for c in list(open_):  # every candidate still open ran in this round
            c.btimes.append(base)
            c.ctimes.append(got[id(c)])
            if len(c.btimes) < opts.min_pairs:
                continue
            est = stats.paired_speedup(c.btimes, c.ctimes)
            stop = stop_rule(opts, est, time.perf_counter() - t_start, budget)
            if stop is not None:
                bench.conclude(c.m, c.btimes, c.ctimes, stop)
                close(c, "ok", c.m.message + said)
    for c in list(open_):
        bench.conclude(c.m, c.btimes, c.ctimes, "pair cap")
        close(c, "ok", c.m.message + said)
    return [c.m for c in cands]
