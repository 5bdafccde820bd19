"""guided: a pool of never-measured candidates, scored by the surrogate; the best-scored is measured.

Why a pool: the surrogate (autotune.surrogate) predicts a configuration's
speedup from its IR embedding and knobs, but cannot search the space itself.
The pool mixes one-knob neighbours of the incumbent (exploitation), TPE
proposals (what the history suggests) and random draws (exploration); the
scorer, the surrogate's acquisition, decides among them. Any `Scorer` can
stand in for the surrogate (`scorer_factory`), as the tests and the
experiments' ablations do.

Two phases guard against a surrogate that is wrong about this kernel:
* start: the first proposals come from a wider pool (also configurations that
  change one to three knobs from the default, as the surrogate's training data
  does, and those set into every cell below) and cover the cells of compiler x
  {one thread, more}: each start pick is the best-scored candidate of a cell no
  earlier one measured. Why these two levers: they explain half the variance of
  a kernel's measured speedups, and they are where the surrogate is wrong on
  kernels it never saw (gcc on one thread was 5.6x on floyd-warshall, predicted
  0.6x; durbin wants one thread; results/search_full.md). Then, up to
  `START_PICKS`, each sets the big levers (`LEVERS`) in a way no earlier start
  pick did, so one wrong belief costs one measurement, not three;
* stalled: after `STALL` measurements without a new best, every other proposal
  ignores the scores and explores: TPE's proposal (what the measurements say),
  or a knob the study never varied.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import optuna

from autotune.errors import UserError, option
from autotune.kernel import Kernel
from autotune.search.history import History
from autotune.search.params import config_from_params
from autotune.search.strategies.base import ConfigSampler, Scorer, ScorerFactory, need, neighbours, unmeasured
from autotune.search.strategies.tpe import tpe_proposals
from autotune.space import Config, Space
from autotune.trials.collect import draw
from autotune.trials.records import config_key

START_PICKS = 3  # diverse top picks measured first
START_POOL = 48  # extra candidates for the start picks: one to three knobs changed from the default
STALL = 4  # measurements without a new best before exploring
# the knobs that move a whole program: C's, and GPU-style kernels' coarsening factor (OpenCL `cf`, CUDA `CF`)
LEVERS = ("threads", "compiler", "opt", "polly", "march_native", "cf", "CF")


def cell(config: Config) -> tuple:
    """The start picks' cell of a configuration: its compiler, and whether more than one thread runs
    (`threads` is absent where it does not act: a PolyBench program with no parallel loop is serial)."""
    return config.get("compiler"), int(config.get("threads") or 1) > 1


def cells(space: Space) -> set[tuple]:
    """Every cell (`cell`) a configuration of this space can be in."""
    compilers = list(space["compiler"].choices) if "compiler" in space else [None]
    parallel = [False, True] if "threads" in space and max(space["threads"].choices) > 1 else [False]
    return {(c, p) for c in compilers for p in parallel}


def into_cell(space: Space, config: Config, target: tuple) -> Config | None:
    """`config` moved into the cell `target` (compiler set; threads 1, or the most), None where it cannot
    be: a configuration with no parallel loop has no thread count to raise."""
    compiler, parallel = target
    cfg = dict(config)
    if compiler is not None:
        cfg["compiler"] = compiler
    if "threads" in cfg:
        cfg["threads"] = max(space["threads"].choices) if parallel else 1
    cfg = space.canonical(cfg)
    return cfg if cell(cfg) == target and space.is_valid(cfg) else None


def lever_signature(space: Space, config: Config) -> tuple:
    """What a configuration does with the big levers (threads, compiler, -O, Polly, -march=native; coarsening).

    Schedules are not among them: two picks that differ only in a schedule are not diverse
    (found on gemm: all three start picks ran gcc on one thread, told apart by schedules only).
    """
    return tuple(config.get(n) for n in LEVERS)


class PoolSampler(ConfigSampler):
    """The guided strategy: draw a pool of never-measured candidates, measure the best-scored.

    The pool mixes one-knob neighbours of the incumbent (exploitation), TPE
    proposals (what the history suggests) and random draws (exploration); the
    scorer (a surrogate's acquisition) decides among them.
    """

    def __init__(
        self,
        space: Space,
        scorer: Scorer,
        seed: int = 0,
        n_random: int = 16,
        n_tpe: int = 8,
        n_neighbours: int = 16,
    ) -> None:
        super().__init__(space, seed)
        self.scorer = scorer
        self.n_random, self.n_tpe, self.n_neighbours = n_random, n_tpe, n_neighbours

    def pool(self, study: optuna.Study, number: int, history: History) -> list[tuple[Config, str]]:
        rng = self.rng(number)
        taken = history.taken
        pool: dict[str, tuple[Config, str]] = {}

        def add(cfg: Config, source: str) -> None:
            key = config_key(cfg)
            if key not in taken and key not in pool:
                pool[key] = (cfg, source)

        best = history.best()
        if best is not None and self.n_neighbours:
            near = list(neighbours(self.space, config_from_params(self.space, best.params)))
            rng.shuffle(near)
            for cfg in near[: self.n_neighbours]:
                add(cfg, "neighbour")
        if self.n_tpe:
            for cfg in tpe_proposals(study, self.space, self.n_tpe, seed=rng.randrange(2**31)):
                add(cfg, "tpe")
        for _ in range(self.n_random * 4):
            if sum(1 for _, s in pool.values() if s == "random") >= self.n_random:
                break
            add(self.space.sample(rng), "random")
        if not pool:
            add(need(unmeasured(self.space, taken, rng)), "random")
        return list(pool.values())

    def start_pool(
        self, number: int, history: History, pool: list[tuple[Config, str]], starts: list[Config]
    ) -> list[tuple[Config, str]]:
        """The start picks' extra candidates: configurations that change one to three knobs from the
        default, and each of them moved into every cell the start picks have not measured yet (so
        every cell has candidates: few sparse draws change both the compiler and a parallel loop)."""
        rng = self.rng(number)
        taken = history.taken | {config_key(c) for c, _ in pool}
        extra: list[tuple[Config, str]] = []

        def add(cfg: Config | None) -> None:
            if cfg is not None and config_key(cfg) not in taken:
                taken.add(config_key(cfg))
                extra.append((cfg, "start"))

        drawn = []
        for i in range(START_POOL * 2):
            cfg = draw(self.space, rng, sparse=True)
            if config_key(cfg) not in taken:
                drawn.append(cfg)
                add(cfg)
            if i >= START_POOL and len(pool) + len(extra) >= START_POOL:
                break
        missing = self.missing_cells(starts)
        for cfg in drawn:
            for target in sorted(missing - {cell(cfg)}, key=str):
                add(into_cell(self.space, cfg, target))
        return extra

    def start_choice(self, cands: list[Config], scores: np.ndarray, starts: list[Config]) -> int:
        """The start pick: the best-scored candidate of a cell no start pick measured; once every cell
        is, the best-scored whose levers differ from every earlier start pick's; else the best."""
        order = [int(j) for j in np.argsort(-scores, kind="stable")]
        missing = self.missing_cells(starts)
        used = {lever_signature(self.space, c) for c in starts}
        for fits in (lambda c: cell(c) in missing, lambda c: lever_signature(self.space, c) not in used):
            fresh = [j for j in order if fits(cands[j])]
            if fresh:
                return fresh[0]
        return order[0]

    def missing_cells(self, starts: list[Config]) -> set[tuple]:
        """The cells (`cells`) no start pick in `starts` measured."""
        return cells(self.space) - {cell(c) for c in starts}

    def start_count(self) -> int:
        """How many start picks: one per cell, at least `START_PICKS`."""
        return max(START_PICKS, len(cells(self.space)))

    def start_picks(self, history: History) -> list[Config]:
        """The configurations of the start picks measured so far (the study's own record says which)."""
        return [
            config_from_params(self.space, t.params)
            for t in history.measurements
            if t.user_attrs.get("proposal") == "start"
        ]

    def explore(self, study: optuna.Study, number: int, history: History) -> tuple[Config, str] | None:
        """When the picks stopped improving, every other proposal explores instead; None otherwise."""
        if history.since_improvement() < STALL or number % 2:
            return None
        rng = self.rng(number)
        taken = history.taken
        if (number // 2) % 2 == 0:
            for cfg in tpe_proposals(study, self.space, 4, seed=rng.randrange(2**31)):
                if config_key(cfg) not in taken:
                    return cfg, "explore-tpe"
        best = history.best()
        if best is None:
            return None
        inc = config_from_params(self.space, best.params)
        seen = [config_from_params(self.space, t.params) for t in history.measurements]
        never = [k for k in self.space.knobs if k.active(inc) and len({c.get(k.name) for c in seen}) == 1]
        rng.shuffle(never)
        for k in never:
            for v in rng.sample(list(k.choices), len(k.choices)):
                cfg = self.space.canonical({**inc, k.name: v})
                if config_key(cfg) not in taken:
                    return cfg, "explore-unvaried"
        return None

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        explored = self.explore(study, number, history)
        if explored is not None:
            return explored[0], {"proposal": explored[1]}
        pool = self.pool(study, number, history)
        starts = self.start_picks(history)
        starting = len(starts) < self.start_count()
        if starting:  # the wider pool of the start picks
            pool += self.start_pool(number, history, pool, starts)
        cands = [c for c, _ in pool]
        t0 = time.perf_counter()
        scores = np.asarray(self.scorer.score(cands, history.frame()), dtype=float).reshape(-1)
        score_s = time.perf_counter() - t0
        if scores.shape != (len(cands),):
            raise ValueError(f"scorer returned {scores.shape[0]} scores for {len(cands)} candidates")
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        i = self.start_choice(cands, scores, starts) if starting else int(np.argmax(scores))
        info = {
            "proposal": "start" if starting else pool[i][1],
            "score": float(scores[i]) if np.isfinite(scores[i]) else None,
            "pool": len(cands),
            "score_seconds": round(score_s, 6),
        }
        return cands[i], info


def surrogate_scorer_factory() -> ScorerFactory:
    """`autotune.surrogate.make_scorer`, imported only when guided is asked for.

    The surrogate ships with autotune, but it needs torch and the encoder: where
    those (or the surrogate itself) cannot be imported, guided cannot run, and
    the user is told why and what runs without it.
    """
    try:
        from autotune.surrogate import make_scorer
    except ImportError as exc:
        raise UserError(
            f"guided needs the surrogate, and autotune.surrogate cannot be imported here ({exc}); "
            f"the other strategies do not need it: try {option('strategy', 'tpe')}"
        ) from None
    return make_scorer


def make(
    space: Space, seed: int = 0, kernel: Kernel | None = None, scorer_factory: ScorerFactory | None = None
) -> PoolSampler:
    """A PoolSampler whose scorer `scorer_factory` (the surrogate's by default) builds for this kernel."""
    factory = scorer_factory or surrogate_scorer_factory()
    if kernel is None:
        raise ValueError("the guided strategy needs the kernel for its scorer")
    return PoolSampler(space, factory(kernel, space), seed)
