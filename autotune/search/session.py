"""The tuning loop: propose, measure once, commit, repeat, within a budget.

Why the loop is ours and not `study.optimize`: every rule that protects the
user's time lives here, in one place, against the storage:

* a configuration is never measured twice: before measuring, the proposal's
  canonical key is looked up in the study; a known one is answered from
  storage (the Optuna idiom for duplicates: the trial gets the stored value
  and `duplicate_of`), and after a few such answers in a row the next trial is
  a random unmeasured configuration, so no sampler can loop forever;
* every finished measurement is committed (all its fields as trial user
  attributes, then the objective) before the next one starts, so Ctrl-C, a
  crash or `kill -9` loses at most the measurement in progress;
* a rerun continues the study: a trial left RUNNING by a dead process of this
  host is marked failed (`stale`) and its configuration retried once;
* several workers share a study (an RDB storage on a server): each looks for dead
  workers' trials before every proposal, a dead process of this host at once, one
  elsewhere once its trial's heartbeat has been silent for the storage's grace period
  (`server.HEARTBEAT`), and retries their configurations once; the trials other live
  workers are measuring count against the budget, so the study ends at the budget and
  not above it, and a worker whose budget the others are finishing waits for them;
* the baseline (the default configuration, an A/A measurement with speedup
  about 1) is the first trial of every study, so the best is never worse than
  doing nothing.

The budget in evaluations is the number of measurements the study should
hold, the baseline included: running the same command again after an
interruption finishes the job instead of starting it over. The time budget
counts this run's wall time and is checked between measurements.
"""

from __future__ import annotations

import contextlib
import functools
import random
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from autotune.errors import BaselineError
from autotune.measure import Bench, Measurement, Measurer
from autotune.search import server, workers
from autotune.search.history import (
    BASELINE_FAILED,
    DUPLICATE_OF,
    INTERRUPTED,
    KEY,
    MAX_ATTEMPTS,
    MEASURED,
    SKIPPED,
    STALE,
    WORKER,
    History,
    unfinished,
)
from autotune.search.params import active_params, config_from_params, suggest
from autotune.search.storage import trial_id
from autotune.search.strategies import ConfigSampler, unmeasured
from autotune.space import Config, Space
from autotune.trials.records import config_key, measurement_attrs

MAX_DUPLICATES = 8  # proposals answered from storage in a row before a random unmeasured one is forced
WAIT_S = 2.0  # how often a worker whose budget others are finishing looks again
QUEUE_ATTRS = ("baseline", "proposal", "retry_of")  # what a trial taken from the queue carries from enqueue


class BenchMeasurer:
    """The real measurer: builds and times the variant against the baseline (protocol.Bench)."""

    def __init__(self, bench: Bench, progress: Callable[[int, Any], None] | None = None) -> None:
        self.bench = bench
        self.progress = progress

    def measure(self, config: Config) -> Measurement:
        return self.bench.measure(config, progress=self.progress)


@dataclass
class Budget:
    evaluations: int | None = 30  # measurements the study should hold, the baseline included
    seconds: float | None = None  # wall time of this run, checked between measurements
    early_stop: int | None = None  # stop after this many measurements without a better speedup


@dataclass
class Event:
    """What the session tells its observer (the CLI's progress bar, a log)."""

    kind: Literal["start", "note", "measured", "duplicate", "stop"]
    message: str = ""
    measured: int = 0  # measurements in the study
    target: int | None = None  # the evaluation budget
    best: float | None = None  # best verified speedup so far
    trial: int | None = None
    measurement: Measurement | None = None


@dataclass
class Outcome:
    reason: str  # why the loop stopped
    new: int  # measurements taken by this run
    duplicates: int  # proposals answered from storage
    retried: list[str] = field(default_factory=list)  # keys re-queued after an unfinished attempt


class Session:
    """One run of the loop over a study. `run()` returns why it stopped.

    `storage` is the storage the study lives in (what `storage.open_storage`
    returned): recovery writes through it to trials that dead processes left
    RUNNING, which Optuna's public Study API cannot reach. A study no other
    process has touched (an in-memory one) needs none.
    """

    def __init__(
        self,
        study: optuna.Study,
        space: Space,
        measurer: Measurer,
        budget: Budget,
        strategy: str = "",
        seed: int = 0,
        observe: Callable[[Event], None] | None = None,
        starting_points: Sequence[Config] = (),
        *,
        storage: BaseStorage | None = None,
    ) -> None:
        self.starting_points = list(starting_points)
        self.study = study
        self.storage = storage
        self.space = space
        self.measurer = measurer
        self.budget = budget
        self.strategy = strategy
        self.seed = seed
        self.observe = observe or (lambda e: None)

    # --- start-up: recover what a dead run left, make sure the baseline comes first ------------
    def recover(self) -> tuple[list[str], list[FrozenTrial]]:
        """Mark trials left RUNNING by dead processes of this host as stale; re-queue each config once.
        Returns the retried keys and the study's trials after it: the one read a loop works from (on a
        server every read is a query of all trials; the loop used to make nine a trial).

        A dead trial whose record was written in full (`measured`) is completed instead: only
        the final `tell` was missing, and measuring it again would measure it twice.
        """
        if server.beats(self.storage):  # workers elsewhere: Optuna fails the trials whose heartbeat went silent
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(self.study)  # unlabelled FAILs: `history.unfinished`
        trials = self.study.get_trials(deepcopy=False)
        changed = False
        for t in trials:
            if t.state != TrialState.RUNNING or not workers.dead(t):
                continue
            changed = True
            storage, tid = self._trial_in_storage(t.number)
            if t.user_attrs.get(MEASURED) and "status" in t.user_attrs:
                # killed after the whole record was written, before Optuna was told: the measurement is finished
                value = float(t.user_attrs["speedup"]) if t.user_attrs["status"] == "ok" else 0.0
                with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                    storage.set_trial_state_values(tid, TrialState.COMPLETE, values=[value])
                continue
            storage.set_trial_user_attr(tid, STALE, True)
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # another worker was first
                storage.set_trial_state_values(tid, TrialState.FAIL)
        if changed:
            trials = self.study.get_trials(deepcopy=False)
        h = History.of(trials, self.space)
        retried = []
        busy = set(h.by_key) | h.queued | h.running
        for t in trials:
            key = t.user_attrs.get(KEY)
            if not unfinished(t):
                continue
            if key in busy or h.unfinished[key] >= MAX_ATTEMPTS:
                continue
            cfg = config_from_params(self.space, t.params)
            if config_key(cfg) != key:
                continue  # killed while its params were being chosen: nothing to retry
            self.study.enqueue_trial(active_params(self.space, cfg), user_attrs={"retry_of": t.number})
            busy.add(key)
            retried.append(key)
            self.observe(Event("note", f"retrying the configuration of trial {t.number}, which did not finish"))
        if retried:
            trials = self.study.get_trials(deepcopy=False)
        return retried, trials

    def _trial_in_storage(self, number: int) -> tuple[BaseStorage, int]:
        """The study's storage and the storage's id of trial `number`, for writing to a dead process's trial."""
        if self.storage is None:
            raise ValueError(
                f"trial {number} of study {self.study.study_name!r} was left running by a dead process; "
                "give Session the study's storage (storage=) to recover it"
            )
        return self.storage, trial_id(self.storage, self.study.study_name, number)

    def ensure_baseline(self) -> None:
        h = History.read(self.study, self.space)
        base = self.space.default()
        key = config_key(base)
        if key in h.by_key or key in h.queued or key in h.running or h.unfinished[key] >= MAX_ATTEMPTS:
            return
        self.study.enqueue_trial(active_params(self.space, base), user_attrs={"baseline": True})

    def ensure_starting_points(self) -> None:
        """Queue the strategy's starting points (after the baseline), each once per study."""
        h = History.read(self.study, self.space)
        for cfg in self.starting_points:
            key = config_key(self.space.canonical(cfg))
            if key in h.taken or h.unfinished[key]:
                continue
            self.study.enqueue_trial(active_params(self.space, cfg), user_attrs={"proposal": "starting point"})
            h.queued.add(key)

    # --- the loop ------------------------------------------------------------------------------------
    def _stop_reason(self, h: History, started: float) -> str | None:
        b = self.budget
        if b.evaluations is not None and h.n_measured >= b.evaluations:
            return "budget"
        if b.seconds is not None and time.monotonic() - started >= b.seconds:
            return "time budget"
        if b.early_stop is not None and h.n_measured > b.early_stop and h.since_improvement() >= b.early_stop:
            return "early stop"
        if len(h.settled) >= self.space.size():
            return "space exhausted"
        return None

    def _force_unmeasured(self, h: History, number: int) -> None:
        cfg = unmeasured(self.space, h.taken, random.Random(f"{self.seed}/fallback/{number}"))
        if cfg is not None:
            self.study.enqueue_trial(active_params(self.space, cfg), user_attrs={"proposal": "fallback"})
            msg = f"{MAX_DUPLICATES} proposals in a row were measured already; the next one is random"
            self.observe(Event("note", msg))

    def run(self) -> Outcome:
        retried, _ = self.recover()
        self.ensure_baseline()
        self.ensure_starting_points()
        trials = self.study.get_trials(deepcopy=False)  # with the baseline and starting points queued
        h = History.of(trials, self.space)
        best = h.best()
        self.observe(
            Event("start", "", h.n_measured, self.budget.evaluations, best.user_attrs["speedup"] if best else None)
        )
        started = time.monotonic()
        new = dupes_in_row = dupes = 0
        me = workers.me()
        first = True
        while True:
            if not first:  # the first look was `recover()` above
                more, trials = self.recover()
                retried += more
            first = False
            h = History.of(trials, self.space)
            reason = self._stop_reason(h, started)
            if reason:
                best = h.best()
                self.observe(
                    Event(
                        "stop",
                        reason,
                        h.n_measured,
                        self.budget.evaluations,
                        best.user_attrs["speedup"] if best else None,
                    )
                )
                return Outcome(reason, new, dupes, retried)
            b = self.budget.evaluations
            if b is not None and h.n_measured + self._others_measuring(trials) >= b:
                time.sleep(WAIT_S)  # the rest of the budget is in other workers' hands: wait, then look again
                continue
            t0 = time.perf_counter()
            with warnings.catch_warnings():  # Optuna warns that heartbeats are meant for Study.optimize
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = self.study.ask()
            tid = functools.partial(trial_id, self.storage, self.study.study_name, trial.number)
            with server.heartbeat(self.storage, tid):
                dupes, dupes_in_row, measured = self._trial(trial, me, t0, dupes, dupes_in_row)
            new += measured

    def _others_measuring(self, trials: list[FrozenTrial], before: int | None = None) -> int:
        """Trials other live workers are measuring now (those numbered below `before`, if given).

        Live: a process of this host that runs, or a worker elsewhere on a storage with heartbeats
        (its trial is failed once it goes silent). A worker elsewhere on a journal copied between
        machines cannot be known to live or die: it is not waited for, as before there were servers.
        """
        here, beating = socket.gethostname(), server.beats(self.storage)

        def live(t: FrozenTrial) -> bool:
            return not workers.dead(t) and (beating or t.user_attrs.get(WORKER, {}).get("host", here) == here)

        return sum(
            1 for t in trials if t.state == TrialState.RUNNING and live(t) and (before is None or t.number < before)
        )

    def _budget_taken(self, trial: optuna.Trial, cfg: Config, trials: list[FrozenTrial], h: History) -> bool:
        """Whether the last measurements of the budget went to workers that asked before this trial.

        Why after `ask`: two workers that looked at the budget together may both have started a
        trial for its last slot; trial numbers order them, so exactly the later one gives way. Its
        trial fails as `skipped`, and a configuration it took from the queue (the baseline, a
        starting point, a retry) goes back there. `h`: the study without this trial.
        """
        b = self.budget.evaluations
        if b is None or h.n_measured + self._others_measuring(trials, before=trial.number) < b:
            return False
        queued = {k: v for k, v in trial.user_attrs.items() if k in QUEUE_ATTRS}
        if queued:
            self.study.enqueue_trial(active_params(self.space, cfg), user_attrs=queued)
        trial.set_user_attr(SKIPPED, "the budget's last measurements are being taken by other workers")
        self.study.tell(trial, state=TrialState.FAIL)
        return True

    def _trial(self, trial: optuna.Trial, me: dict[str, Any], t0: float, dupes: int, dupes_in_row: int):
        """Propose, check, measure and commit one trial; (duplicates, duplicates in a row, 1 if measured)."""
        trial.set_user_attr(WORKER, me)
        cfg = suggest(trial, self.space)
        key = config_key(cfg)
        trial.set_user_attr(KEY, key)
        trial.set_user_attr("strategy", self.strategy)
        trial.set_user_attr("propose_seconds", round(time.perf_counter() - t0, 6))
        sampler = self.study.sampler
        if isinstance(sampler, ConfigSampler):
            for k, v in sampler.info(trial.number).items():
                trial.set_user_attr(k, v)
        # one read after this trial's key is in: another worker that takes the same key sees it, and
        # this one sees every earlier one (its own queue entry is gone now)
        trials = self.study.get_trials(deepcopy=False)
        h = History.of(trials, self.space, exclude=trial.number)
        if self._budget_taken(trial, cfg, trials, h):
            return dupes, dupes_in_row, 0
        if not self.space.is_valid(cfg):  # only an enqueued trial with foreign params can get here
            trial.set_user_attr(SKIPPED, "not a valid configuration of this space")
            self.study.tell(trial, state=TrialState.FAIL)
            return dupes, dupes_in_row, 0
        if key in h.by_key or key in h.taken:
            prev = h.by_key.get(key)
            if prev is not None:
                trial.set_user_attr(DUPLICATE_OF, prev.number)
                self.study.tell(trial, prev.value)
            else:  # in progress elsewhere, queued, or given up on: not ours to answer
                trial.set_user_attr(SKIPPED, "configuration taken by another trial")
                self.study.tell(trial, state=TrialState.FAIL)
            dupes += 1
            dupes_in_row += 1
            self.observe(Event("duplicate", key, h.n_measured, self.budget.evaluations, trial=trial.number))
            if dupes_in_row >= MAX_DUPLICATES:
                self._force_unmeasured(History.read(self.study, self.space), trial.number)
                dupes_in_row = 0
            return dupes, dupes_in_row, 0
        dupes_in_row = 0
        try:
            m = self.measurer.measure(cfg)
        except BaselineError as exc:  # no configuration can be measured: say so once, for every later run too
            trial.set_user_attr(BASELINE_FAILED, str(exc)[:500])
            self.study.tell(trial, state=TrialState.FAIL)
            self.study.set_user_attr(BASELINE_FAILED, str(exc))
            raise
        except BaseException as exc:  # Ctrl-C, a crash of the baseline, a bug: the attempt did not finish
            trial.set_user_attr(INTERRUPTED, f"{type(exc).__name__}: {exc}"[:500])
            self.study.tell(trial, state=TrialState.FAIL)
            raise
        for k, v in measurement_attrs(m).items():
            trial.set_user_attr(k, v)
        trial.set_user_attr(MEASURED, True)
        self.study.tell(trial, objective(m))
        before = h.best()
        best = [before.user_attrs["speedup"]] if before else []
        if m.status == "ok" and m.speedup is not None:
            best.append(float(m.speedup))
        self.observe(
            Event(
                "measured",
                m.status,
                h.n_measured + 1,
                self.budget.evaluations,
                max(best) if best else None,
                trial.number,
                m,
            )
        )
        return dupes, dupes_in_row, 1


def objective(m: Measurement) -> float:
    """The value samplers maximise: the speedup, or 0 for a variant that failed (its status says how)."""
    return float(m.speedup) if m.status == "ok" and m.speedup is not None else 0.0
