"""The tuning loop against the replay: resume, retries, failures as values, budgets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from autotune.measure import Measurement
from autotune.search import ReplayMeasurer, params
from autotune.search.history import History
from autotune.search.session import Budget, Session
from autotune.search.storage import open_storage, trial_id
from autotune.search.strategies import make_sampler
from autotune.trials.records import config_key, measurement_attrs
from tests.search.conftest import REPLAY, replay_tune


def load(storage: str, name: str = "s") -> optuna.Study:
    st, _ = open_storage(storage)
    return optuna.load_study(study_name=name, storage=st)


class StopAfter(ReplayMeasurer):
    """Ctrl-C arrives during the n-th measurement."""

    def __init__(self, n: int) -> None:
        super().__init__(REPLAY)
        self.n = n
        self.started: list[str] = []

    def measure(self, config):
        self.started.append(config_key(config))
        if len(self.started) == self.n:
            raise KeyboardInterrupt
        return super().measure(config)


def test_baseline_is_trial_zero(tmp_path, journal):
    result, m = replay_tune(tmp_path, journal, budget=3, strategy="random", study="s")
    first = load(journal).trials[0]
    assert first.user_attrs["key"] == config_key(m.space.default())
    assert first.user_attrs["baseline"] is True and first.user_attrs["status"] == "ok"
    assert first.value == pytest.approx(first.user_attrs["speedup"])


def test_interrupted_run_resumes_without_repeating_and_retries_the_unfinished_config(tmp_path, journal):
    first = StopAfter(6)
    with pytest.raises(KeyboardInterrupt):
        replay_tune(tmp_path, journal, first, budget=12, strategy="random", study="s")
    study = load(journal)
    finished = {t.number: (t.user_attrs["key"], t.value) for t in study.trials if t.user_attrs.get("measured")}
    assert len(finished) == 5 == len(first.calls)
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and failed[0].user_attrs["interrupted"].startswith("KeyboardInterrupt")
    unfinished = failed[0].user_attrs["key"]

    result, second = replay_tune(tmp_path, journal, budget=12, strategy="random", study="s")
    assert second.calls[0] == unfinished  # retried first, once
    assert not set(second.calls) & set(first.calls)  # nothing measured twice
    assert len(first.calls) + len(second.calls) == 12 == result.n_trials
    study = load(journal)
    kept = {t.number: (t.user_attrs["key"], t.value) for t in study.trials if t.user_attrs.get("measured")}
    assert finished.items() <= kept.items()  # every finished measurement kept as it was
    retry = [t for t in study.trials if t.user_attrs.get("retry_of") == failed[0].number]
    assert len(retry) == 1 and retry[0].user_attrs["measured"]


def test_same_call_again_measures_nothing_new(tmp_path, journal):
    replay_tune(tmp_path, journal, budget=6, strategy="tpe", study="s")
    result, again = replay_tune(tmp_path, journal, budget=6, strategy="tpe", study="s")
    assert again.calls == [] and result.n_trials == 6 and result.new_measurements == 0
    result, more = replay_tune(tmp_path, journal, budget=9, strategy="tpe", study="s")
    assert len(more.calls) == 3 and result.n_trials == 9


def _dead_worker() -> dict:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return {"host": socket.gethostname(), "pid": p.pid, "started": 1.0}


def _leave_running(study: optuna.Study, space, config: dict, worker: dict) -> int:
    """What `kill -9` mid-measurement leaves: a RUNNING trial with its params, key and worker."""
    study.enqueue_trial(params.active_params(space, config))
    t = study.ask()
    cfg = params.suggest(t, space)
    t.set_user_attr("worker", worker)
    t.set_user_attr("key", config_key(cfg))
    return t.number


def test_stale_trial_is_failed_and_its_config_retried_once(tmp_path, journal):
    replay_tune(tmp_path, journal, budget=2, strategy="exhaustive", study="s")
    study = load(journal)
    space = ReplayMeasurer(REPLAY).space
    victim = space.canonical({"threads": 1, "L2.schedule": "guided", "L2.chunk": 16})
    n = _leave_running(study, space, victim, _dead_worker())
    result, m = replay_tune(tmp_path, journal, budget=4, strategy="exhaustive", study="s")
    study = load(journal)
    assert study.trials[n].state == TrialState.FAIL and study.trials[n].user_attrs["stale"]
    assert m.calls[0] == config_key(victim) and m.calls.count(config_key(victim)) == 1

    # killed again on the retry: the configuration is given up on, never proposed again
    doomed = space.canonical({"threads": 1, "L2.schedule": "auto"})
    _leave_running(study, space, doomed, _dead_worker())
    _leave_running(study, space, doomed, _dead_worker())
    result, m = replay_tune(tmp_path, journal, budget=60, strategy="exhaustive", study="s")
    assert config_key(doomed) not in m.calls
    assert result.stop_reason == "space exhausted" and result.n_trials == 59


def test_session_recovers_a_dead_trial_through_the_storage_it_is_given(journal):
    """Marking another process's trial needs the storage (Optuna's Study has no public handle on it)."""
    replay = ReplayMeasurer(REPLAY)
    st, _ = open_storage(journal)
    study = optuna.create_study(
        study_name="s", storage=st, direction="maximize", sampler=make_sampler("random", replay.space)
    )
    n = _leave_running(study, replay.space, replay.space.canonical({"threads": 1}), _dead_worker())
    with pytest.raises(ValueError, match=f"trial {n} of study 's' was left running by a dead process; give Session"):
        Session(study, replay.space, replay, Budget(3)).run()
    assert replay.calls == [] and load(journal).trials[n].state == TrialState.RUNNING
    outcome = Session(study, replay.space, replay, Budget(3), storage=st).run()
    assert load(journal).trials[n].state == TrialState.FAIL and load(journal).trials[n].user_attrs["stale"]
    assert outcome.retried == [config_key(replay.space.canonical({"threads": 1}))] and outcome.new == 3


def test_live_running_trial_of_this_host_is_left_alone_and_counts_against_the_budget(tmp_path, journal):
    """Another live worker's trial is its own: this one stops short of the budget by it and waits; when
    that worker dies without finishing, its configuration is retried, and the study ends at the budget."""
    import threading

    replay_tune(tmp_path, journal, budget=1, strategy="random", study="s")
    study = load(journal)
    space = ReplayMeasurer(REPLAY).space
    busy = space.canonical({"threads": 1})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    threading.Thread(target=other.wait, daemon=True).start()  # reaped when it ends, as a worker's parent would
    worker = {"host": socket.gethostname(), "pid": other.pid, "started": psutil.Process(other.pid).create_time()}
    n = _leave_running(study, space, busy, worker)
    result, m = replay_tune(tmp_path, journal, budget=10, strategy="random", study="s")
    assert other.poll() is not None  # it waited for the other worker instead of stopping or going past
    assert result.n_trials == 10 and len(m.calls) == 9
    assert m.calls.index(config_key(busy)) == 8  # retried only once its worker was gone
    assert load(journal).trials[n].state == TrialState.FAIL and load(journal).trials[n].user_attrs["stale"]


class FailSome(ReplayMeasurer):
    """Real records, except that unroll=4 variants are reported as not compiling (errors as values)."""

    def __init__(self) -> None:
        super().__init__(REPLAY)

    def measure(self, config):
        m = super().measure(config)
        if config["L2.unroll"] == 4:
            return Measurement("compile_error", "error: made up by the test", m.config, m.changed, build_key="x")
        return m


def test_failed_variants_are_values_with_objective_zero(tmp_path, journal):
    result, m = replay_tune(tmp_path, journal, FailSome(), budget=60, strategy="exhaustive", study="s")
    study = load(journal)
    failed = [t for t in study.trials if t.user_attrs.get("status") == "compile_error"]
    assert len(failed) == 20 and all(t.value == 0.0 and t.state == TrialState.COMPLETE for t in failed)
    assert failed[0].user_attrs["message"] == "error: made up by the test"
    assert result.failures == {"compile_error": 20}
    assert result.best["L2.unroll"] != 4 and result.verified
    table = result.trials
    assert (table["status"] == "compile_error").sum() == 20 and table.loc[table.status != "ok", "speedup"].isna().all()


def test_history_frame_has_every_measurement_field(tmp_path, journal):
    result, m = replay_tune(tmp_path, journal, budget=3, strategy="random", study="s")
    h = History.read(load(journal), m.space)
    row = h.frame().iloc[0]
    for col in (
        "status",
        "speedup",
        "ci_lo",
        "ci_hi",
        "verified",
        "baseline_seconds",
        "candidate_seconds",
        "build_key",
        "message",
        "repetitions",
        "cpu_model",
        "key",
    ):
        assert col in row.index
    assert len(json.loads(row["baseline_times"])) == row["repetitions"]
    attrs = load(journal).trials[1].user_attrs
    for f in (
        "status",
        "speedup",
        "ci_lo",
        "ci_hi",
        "verified",
        "build_key",
        "message",
        "baseline_times",
        "machine",
        "config",
        "changed",
        "timing",
        "runs",
        "build_cached",
    ):
        assert f in attrs


def test_trial_killed_after_its_record_was_written_is_completed_not_remeasured(tmp_path, journal):
    replay_tune(tmp_path, journal, budget=2, strategy="exhaustive", study="s")
    study = load(journal)
    replay = ReplayMeasurer(REPLAY)
    cfg = replay.space.canonical({"threads": 1, "L2.unroll": 4})
    n = _leave_running(study, replay.space, cfg, _dead_worker())
    m = replay.measure(cfg)
    st, _ = open_storage(journal)
    tid = trial_id(st, "s", n)
    for k, v in measurement_attrs(m).items():  # the whole record, then the kill before `tell`
        st.set_trial_user_attr(tid, k, v)
    st.set_trial_user_attr(tid, "measured", True)
    result, again = replay_tune(tmp_path, journal, budget=4, strategy="exhaustive", study="s")
    t = load(journal).trials[n]
    assert t.state == TrialState.COMPLETE and t.value == pytest.approx(m.speedup)
    assert config_key(cfg) not in again.calls and len(again.calls) == 1 and result.n_trials == 4


class Constant:
    """A measurer that times nothing: every configuration measures 1.0x (the session logic alone)."""

    def __init__(self, space) -> None:
        self.space = space
        self.calls: list[dict] = []

    def measure(self, config):
        from autotune.measure import Measurement

        self.calls.append(dict(config))
        return Measurement("ok", "verified", config, self.space.changed(config), speedup=1.0, ci=(0.99, 1.01))


@pytest.mark.parametrize("strategy, starts", [("tpe", True), ("random", False)])
def test_sequential_program_starts_from_its_ways_to_run_in_parallel(tmp_path, journal, strategy, starts):
    """tpe and guided measure every-parallel-loop-on and Polly's parallelizer right after the baseline."""
    from autotune.kernel import Kernel
    from autotune.search import tune
    from autotune.space.discover import build_space
    from tests.conftest import DATA

    kernel = Kernel.load(DATA / "seq_2mm.c")
    space = build_space(kernel)
    fake = Constant(space)
    tune(DATA / "seq_2mm.c", budget=5, strategy=strategy, storage=journal, measurer=fake, out=tmp_path / "o")
    first = [space.changed(c) for c in fake.calls[:3]]
    assert first[0] == {}
    parallel = {k.name: "on" for k in space if k.name.endswith(".parallel")}
    assert parallel  # the program has loops proven parallel
    if starts:
        assert first[1] == parallel and first[2] == {"polly": "on", "polly_parallel": "on"}
    else:
        assert parallel not in first[1:]
    # a rerun of the finished study queues nothing again
    tune(DATA / "seq_2mm.c", budget=5, strategy=strategy, storage=journal, measurer=fake, out=tmp_path / "o")
    assert len(fake.calls) == 5
