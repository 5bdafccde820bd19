"""Search strategies, each an Optuna sampler, resolved by name.

Why Optuna samplers: the study (storage, resume, several workers) is Optuna's,
so a strategy is just the part that picks the next configuration. `tpe` is
Optuna's own multivariate, group-decomposed TPE (it understands our
conditional, define-by-run knobs). The others are `ConfigSampler`s: they pick
the whole configuration at once in `before_trial`, from the space itself, so
they only ever propose valid configurations that were never measured, and
answer Optuna's per-parameter questions from that choice.

Reproducibility: a ConfigSampler draws with a generator seeded by (seed,
trial number), so the same seed gives the same sequence, and a resumed study
proposes what an uninterrupted one would have proposed at that trial.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.search import params
from autotune.search.history import History
from autotune.search.records import config_key
from autotune.space import Config, Space

STRATEGIES: tuple[str, ...] = ("guided", "tpe", "random", "exhaustive")
TPE_STARTUP = 5  # random proposals (after the baseline) before TPE starts modelling
RANDOM_TRIES = 64  # random draws before falling back to a scan for an unmeasured config


class Scorer(Protocol):
    """Ranks candidate configurations for the guided strategy; higher is better.

    `candidates` are valid, canonical, never-measured configurations (every knob
    of the space present). `history` is the study's measurements so far, one row
    each, as `History.frame()` gives it: `trial`, one column per knob, `status`
    ("ok" or the failure), `speedup` (None for failures; their objective is 0),
    `ci_lo`, `ci_hi`, `verified`, `baseline_seconds`, `candidate_seconds`,
    `build_key`, ..., `cpu_model`, `key`. Return one finite score per candidate,
    for example the expected improvement over the best speedup in `history`.
    """

    def score(self, candidates: list[Config], history: pd.DataFrame) -> np.ndarray: ...


ScorerFactory = Callable[[Kernel, Space], Scorer]


# --- the base of our own samplers ---------------------------------------------------------
class ConfigSampler(BaseSampler):
    """Choose the whole configuration in `before_trial`; hand it out knob by knob."""

    def __init__(self, space: Space, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self._pending: dict[int, Config] = {}
        self._info: dict[int, dict[str, Any]] = {}

    def rng(self, trial_number: int) -> random.Random:
        return random.Random(f"{self.seed}/{trial_number}")

    def propose(self, study: optuna.Study, number: int, history: History) -> tuple[Config, dict[str, Any]]:
        """Return a valid configuration whose key is not in `history.taken`, and notes on why."""
        raise NotImplementedError

    def info(self, trial_number: int) -> dict[str, Any]:
        """What the sampler noted about its proposal (source, score, pool size), for the trial record."""
        return self._info.get(trial_number, {})

    # --- BaseSampler ---------------------------------------------------------------------
    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.system_attrs.get("fixed_params") is not None:
            return  # an enqueued trial (the baseline, a retry): its params are given
        history = History.read(study, self.space, exclude=trial.number)
        cfg, info = self.propose(study, trial.number, history)
        self._pending[trial.number] = cfg
        self._info[trial.number] = info

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        cfg = self._pending.get(trial.number)
        if cfg is None or param_name not in cfg:  # not ours to choose: stay valid, stay seeded
            assert isinstance(param_distribution, optuna.distributions.CategoricalDistribution)
            return self.rng(trial.number).choice(param_distribution.choices)
        return cfg[param_name]

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._pending.pop(trial.number, None)


def unmeasured(space: Space, taken: set[str], rng: random.Random) -> Config | None:
    """A random configuration not yet taken: random draws first, then a scan in enumeration order."""
    for _ in range(RANDOM_TRIES):
        cfg = space.sample(rng)
        if config_key(cfg) not in taken:
            return cfg
    for cfg in space.enumerate():
        if config_key(cfg) not in taken:
            return cfg
    return None


def _need(cfg: Config | None) -> Config:
    if cfg is None:  # the session stops before asking when the space is exhausted
        raise RuntimeError("no unmeasured configuration left; the session should have stopped")
    return cfg


# --- random and exhaustive ---------------------------------------------------------------------
class RandomConfigSampler(ConfigSampler):
    """Uniform over each active knob (as Space.sample), never a configuration already taken."""

    def propose(self, study, number, history):
        return _need(unmeasured(self.space, history.taken, self.rng(number))), {"proposal": "random"}


class ExhaustiveSampler(ConfigSampler):
    """Every configuration once, in the space's fixed enumeration order (for small spaces)."""

    def propose(self, study, number, history):
        taken = history.taken
        for i, cfg in enumerate(self.space.enumerate()):
            if config_key(cfg) not in taken:
                return cfg, {"proposal": "exhaustive", "position": i}
        return _need(None), {}


# --- guided: a pool scored by a surrogate ------------------------------------------------------
def neighbours(space: Space, config: Config) -> Iterator[Config]:
    """Configurations one active knob away (dependents re-pinned, so each is valid and canonical)."""
    for k in space:
        if not k.active(config):
            continue
        for v in k.choices:
            if v != config[k.name]:
                yield space.canonical({**config, k.name: v})


def tpe_proposals(study: optuna.Study, space: Space, n: int, seed: int) -> list[Config]:
    """n configurations TPE would propose next, without adding trials to the real study.

    A scratch in-memory study gets copies of the finished trials; each proposal
    is told as failed there, so TPE ignores it when proposing the next.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        sampler = TPESampler(seed=seed, n_startup_trials=TPE_STARTUP, multivariate=True, group=True)
    scratch = optuna.create_study(direction="maximize", sampler=sampler)
    scratch.add_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    out = []
    for _ in range(n):
        t = scratch.ask()
        out.append(params.suggest(t, space))
        scratch.tell(t, state=TrialState.FAIL)
    return out


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
            near = list(neighbours(self.space, params.config_from_params(self.space, best.params)))
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
            add(_need(unmeasured(self.space, taken, rng)), "random")
        return list(pool.values())

    def propose(self, study, number, history):
        pool = self.pool(study, number, history)
        cands = [c for c, _ in pool]
        t0 = time.perf_counter()
        scores = np.asarray(self.scorer.score(cands, history.frame()), dtype=float).reshape(-1)
        score_s = time.perf_counter() - t0
        if scores.shape != (len(cands),):
            raise ValueError(f"scorer returned {scores.shape[0]} scores for {len(cands)} candidates")
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        i = int(np.argmax(scores))
        info = {
            "proposal": pool[i][1],
            "score": float(scores[i]) if np.isfinite(scores[i]) else None,
            "pool": len(cands),
            "score_seconds": round(score_s, 6),
        }
        return cands[i], info


# --- resolution by name ---------------------------------------------------------------------------
def surrogate_scorer_factory() -> ScorerFactory:
    """`autotune.surrogate.make_scorer`, imported only when guided is asked for."""
    try:
        from autotune.surrogate import make_scorer  # type: ignore[import-not-found]
    except ModuleNotFoundError as exc:
        if exc.name in ("autotune.surrogate",):
            raise UserError(
                "guided needs the surrogate: autotune.surrogate is not installed in this version yet; "
                "use --strategy tpe (or random, exhaustive) meanwhile"
            ) from None
        raise UserError(f"guided needs the surrogate: it cannot be imported ({exc})") from None
    except ImportError as exc:
        raise UserError(f"guided needs the surrogate: autotune.surrogate has no make_scorer ({exc})") from None
    return make_scorer


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    return name


def make_sampler(
    name: str,
    space: Space,
    seed: int = 0,
    kernel: Kernel | None = None,
    scorer_factory: ScorerFactory | None = None,
) -> BaseSampler:
    """The sampler for a strategy name; guided builds its scorer through `scorer_factory`."""
    check_strategy(name)
    if name == "random":
        return RandomConfigSampler(space, seed)
    if name == "exhaustive":
        return ExhaustiveSampler(space, seed)
    if name == "tpe":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            return TPESampler(seed=seed, n_startup_trials=TPE_STARTUP, multivariate=True, group=True)
    factory = scorer_factory or surrogate_scorer_factory()
    if kernel is None:
        raise ValueError("the guided strategy needs the kernel for its scorer")
    return PoolSampler(space, factory(kernel, space), seed)
