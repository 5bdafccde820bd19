"""tpe: Optuna's own multivariate, group-decomposed TPE, used as it is.

Why Optuna's: it understands our conditional, define-by-run knobs (a chunk
exists only under a chunked schedule). It does not see which configurations
are taken, so it can re-propose one; the session answers those from storage
and never measures them again. The guided strategy also asks it for proposals
(`tpe_proposals`), without adding trials to the real study.
"""

from __future__ import annotations

import warnings

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import TPESampler
from optuna.trial import TrialState

from autotune.kernel import Kernel
from autotune.search.params import suggest
from autotune.search.strategies.base import ScorerFactory
from autotune.space import Config, Space

TPE_STARTUP = 5  # random proposals (after the baseline) before TPE starts modelling


def tpe_sampler(seed: int) -> TPESampler:
    """TPE as autotune runs it (multivariate and group are experimental in Optuna: their warning is muted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return TPESampler(seed=seed, n_startup_trials=TPE_STARTUP, multivariate=True, group=True)


def tpe_proposals(study: optuna.Study, space: Space, n: int, seed: int) -> list[Config]:
    """n configurations TPE would propose next, without adding trials to the real study.

    A scratch in-memory study gets copies of the finished trials; each proposal
    is told as failed there, so TPE ignores it when proposing the next.
    """
    scratch = optuna.create_study(direction="maximize", sampler=tpe_sampler(seed))
    scratch.add_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    out = []
    for _ in range(n):
        t = scratch.ask()
        out.append(suggest(t, space))
        scratch.tell(t, state=TrialState.FAIL)
    return out


def make(
    space: Space, seed: int = 0, kernel: Kernel | None = None, scorer_factory: ScorerFactory | None = None
) -> TPESampler:
    return tpe_sampler(seed)
