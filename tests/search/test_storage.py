"""Where studies live: every storage mode, fingerprints, machines, bad URLs."""

from __future__ import annotations

import json

import pytest

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.search import ReplayMeasurer
from autotune.search.storage import (
    default_location,
    default_study_name,
    fingerprint,
    make_meta,
    open_storage,
    open_study,
)
from autotune.search.strategies import make_sampler
from tests.search.conftest import JACOBI, REPLAY, replay_tune


@pytest.fixture(params=["journal", "sqlite"])
def storage(request, tmp_path) -> str:
    return str(tmp_path / "j.log") if request.param == "journal" else f"sqlite:///{tmp_path / 's.db'}"


def test_every_storage_mode_keeps_and_continues_a_study(tmp_path, storage):
    result, first = replay_tune(tmp_path, storage, budget=4, strategy="random", study="s")
    result, second = replay_tune(tmp_path, storage, budget=7, strategy="random", study="s")
    assert result.n_trials == 7 and len(second.calls) == 3 and not set(first.calls) & set(second.calls)
    assert result.storage == storage


def test_default_store_is_a_project_local_journal(tmp_path, private_cache):
    st, spec = open_storage(None)
    assert spec == str(default_location()) and default_location().parent == private_cache / "studies"
    result, m = replay_tune(tmp_path, None, budget=2, strategy="random")
    assert result.storage == spec and result.study.startswith("jacobi-1d-SMALL_DATASET-")


@pytest.mark.parametrize(
    "url, message",
    [
        ("sqlite:////no/such/dir/x.db", "cannot open it"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open it"),
        ("nosuchdialect://x", "cannot open it"),
        ("/no/such/dir/journal.log", "no such directory"),
    ],
)
def test_unreachable_storage_is_one_clear_line(url, message):
    with pytest.raises(UserError, match=message) as err:
        open_storage(url)
    assert "\n" not in str(err.value) and url in str(err.value)


def test_a_password_in_a_storage_url_appears_in_no_message():
    url = "postgresql://tuner:s3cret-pw@127.0.0.1:1/studies"
    with pytest.raises(UserError) as err:
        open_storage(url)
    assert "s3cret-pw" not in str(err.value) and "postgresql://tuner:***@127.0.0.1:1/studies" in str(err.value)


def test_default_name_follows_program_and_options():
    space = ReplayMeasurer(REPLAY).space
    small = Kernel.load(JACOBI, defines=["SMALL_DATASET"])
    mini = Kernel.load(JACOBI, defines=["MINI_DATASET"])
    a, b = fingerprint(small, space), fingerprint(mini, space)
    assert a != b and fingerprint(Kernel.load(JACOBI, defines=["SMALL_DATASET"]), space) == a
    assert default_study_name(small, a) == f"jacobi-1d-SMALL_DATASET-{a[:8]}"


def test_study_of_another_kernel_is_refused(tmp_path, journal):
    replay_tune(tmp_path, journal, budget=1, strategy="random", study="shared")
    space = ReplayMeasurer(REPLAY).space
    other = Kernel.load(JACOBI, defines=["MINI_DATASET"])
    st, _ = open_storage(journal)
    with pytest.raises(UserError, match="study 'shared' exists for another kernel or other options"):
        open_study(st, "shared", make_meta(other, space, "random", 0), make_sampler("random", space))


def test_a_worker_that_loses_the_race_to_create_the_study_joins_it(tmp_path, journal, monkeypatch):
    """Two workers started together: both find no study, one creates it first; the other must not crash."""
    import optuna

    from autotune.search import storage as stores

    replay_tune(tmp_path, journal, budget=1, strategy="random", study="shared")  # the winner made it
    study = optuna.load_study(study_name="shared", storage=open_storage(journal)[0])
    meta = dict(study.user_attrs["autotune"])
    real, calls = optuna.load_study, []

    def late(**kw):  # the loser looked before the winner's study existed
        calls.append(kw["study_name"])
        if len(calls) == 1:
            raise KeyError(kw["study_name"])
        return real(**kw)

    monkeypatch.setattr(stores.optuna, "load_study", late)
    space = ReplayMeasurer(REPLAY).space
    joined = open_study(open_storage(journal)[0], "shared", meta, make_sampler("random", space))
    assert joined.study_name == "shared" and len(calls) == 2 and len(joined.trials) == 1


def test_study_of_another_machine_is_refused_unless_allowed(tmp_path, journal):
    replay_tune(tmp_path, journal, budget=2, strategy="random", study="s")
    st, _ = open_storage(journal)
    import optuna

    study = optuna.load_study(study_name="s", storage=st)
    meta = dict(study.user_attrs["autotune"])
    meta["machine"] = {**meta["machine"], "cpu_model": "Imaginary CPU 9000"}
    study.set_user_attr("autotune", meta)
    with pytest.raises(UserError, match=r"another machine \(Imaginary CPU 9000\).*allow_other_machine=True"):
        replay_tune(tmp_path, journal, budget=3, strategy="random", study="s")
    result, m = replay_tune(tmp_path, journal, budget=3, strategy="random", study="s", allow_other_machine=True)
    assert result.n_trials == 3 and len(m.calls) == 1


def test_a_study_reloads_its_program_with_every_option_it_recorded(tmp_path):
    """`Kernel.options()` is what a study records and hashes; `Kernel.from_options` reads it back whole.

    Every field set to a value that differs from its default, so a field that one side
    forgot would show; the keys and their order are part of every fingerprint made so far.
    """
    import shutil

    from autotune.search.storage import kernel_of
    from tests.conftest import DATA

    shutil.copytree(DATA / "polybench_style" / "utilities", tmp_path / "utilities")
    shutil.copy(JACOBI, tmp_path / "prog.c")
    kernel = Kernel.load(
        tmp_path / "prog.c",
        sources=[tmp_path / "utilities" / "polybench.c"],
        include_dirs=[tmp_path / "utilities"],
        defines=("SMALL_DATASET", "X=1"),
        cflags=["-fno-math-errno"],
        ldflags=["-lm"],
        params={"BLOCK": ["8", "16"]},
        args=("--quiet",),
        rtol=1e-3,
        atol=1e-9,
    )
    options = kernel.options()
    assert list(options) == [
        "sources",
        "include_dirs",
        "defines",
        "cflags",
        "ldflags",
        "params",
        "args",
        "rtol",
        "atol",
    ]
    assert options["params"] == {"BLOCK": ["8", "16"]} and options["defines"] == ["SMALL_DATASET", "X=1"]
    again = Kernel.from_options(kernel.path, json.loads(json.dumps(options)))  # as stored: JSON
    assert again.options() == options and again.params == {"BLOCK": ("8", "16")}

    space = ReplayMeasurer(REPLAY).space
    st, _ = open_storage(str(tmp_path / "j.log"))
    study = open_study(st, "s", make_meta(kernel, space, "random", 0), make_sampler("random", space))
    reloaded = kernel_of(study)
    assert reloaded.options() == options and fingerprint(reloaded, space) == fingerprint(kernel, space)


def test_trial_id_reaches_a_trial_through_the_public_storage_api(tmp_path, journal):
    """What writing to a trial outside ask/tell needs (a dead run's RUNNING trial), without Optuna's private fields."""
    import optuna
    from optuna.trial import TrialState

    from autotune.search.storage import trial_id

    st, _ = open_storage(journal)
    study = optuna.create_study(study_name="s", storage=st)
    first, second = study.ask(), study.ask()
    st.set_trial_state_values(trial_id(st, "s", second.number), TrialState.FAIL)
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states == {first.number: TrialState.RUNNING, second.number: TrialState.FAIL}
