"""Space configs <-> Optuna trial params: define-by-run, canonical, one key per program."""

from __future__ import annotations

import optuna
import pytest

from autotune.search import params
from autotune.space import Condition, Knob, Space
from autotune.trials.records import config_key, space_from_spec, space_spec


@pytest.fixture
def space() -> Space:
    """A conditional space: chunk only with a schedule that takes one, tile only with clang."""
    return Space(
        [
            Knob("compiler", "flag", ("clang", "gcc"), "clang"),
            Knob("threads", "env", (1, 2, 4), 4),
            Knob("L1.schedule", "env", ("static", "dynamic", "auto"), "static"),
            Knob(
                "L1.chunk",
                "env",
                ("auto", 4, 16),
                "auto",
                conditions=(Condition("L1.schedule", frozenset({"static", "dynamic"})),),
            ),
            Knob("L1.tile1", "source", (1, 8, 32), 1, conditions=(Condition("compiler", frozenset({"clang"})),)),
        ]
    )


def test_only_active_knobs_become_params(space):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(150):
        trial = study.ask()
        cfg = params.suggest(trial, space)
        study.tell(trial, 0.0)
        assert space.is_valid(cfg)
        assert set(trial.params) == {k.name for k in space if k.active(cfg)}
        assert params.config_from_trial(trial, space) == cfg
        seen.add(config_key(cfg))
    assert len(seen) > 20  # it really explores, and inactive knobs never multiply the configs
    assert len(seen) <= space.size()


def test_inactive_knob_is_pinned_so_one_program_has_one_key(space):
    a = params.config_from_params(space, {"L1.schedule": "auto", "compiler": "gcc"})
    b = params.config_from_params(space, {"L1.schedule": "auto", "compiler": "gcc", "L1.chunk": 16, "L1.tile1": 32})
    assert a == b and config_key(a) == config_key(b)
    assert a["L1.chunk"] == "auto" and a["L1.tile1"] == 1


def test_key_is_canonical_and_type_aware(space):
    cfg = space.default()
    assert config_key(cfg) == config_key(dict(reversed(list(cfg.items()))))
    assert config_key({**cfg, "threads": 4}) != config_key({**cfg, "threads": "4"})


def test_active_params_enqueue_back_to_the_same_config(space):
    cfg = space.canonical({"compiler": "gcc", "L1.schedule": "dynamic", "L1.chunk": 4})
    p = params.active_params(space, cfg)
    assert "L1.tile1" not in p and p["L1.chunk"] == 4
    study = optuna.create_study()
    study.enqueue_trial(p)
    trial = study.ask()
    assert params.suggest(trial, space) == cfg


def test_space_spec_round_trip(space):
    again = space_from_spec(space_spec(space))
    assert space_spec(again) == space_spec(space)
    assert again.size() == space.size()
