"""The generic space: conditions, canonical forms, exact size, validation."""

from __future__ import annotations

import random

import pytest

from autotune.space import Condition, InvalidConfig, Knob, Space


def small_space() -> Space:
    on = Condition("polly", frozenset({"on"}))
    takes_chunk = Condition("schedule", frozenset({"static", "dynamic"}))
    return Space(
        [
            Knob("polly", "flag", ("off", "on"), "off"),
            Knob("polly_tile", "flag", ("auto", 32, 64), "auto", conditions=(on,)),
            Knob("schedule", "env", ("static", "dynamic", "auto"), "static"),
            Knob("chunk", "env", ("auto", 1, 8), "auto", conditions=(takes_chunk,)),
            Knob("threads", "env", (1, 2), 2),
        ]
    )


def test_size_is_exact_count_of_enumeration():
    sp = small_space()
    configs = list(sp.enumerate())
    # polly: off (1) + on (3) = 4; schedule: static 3 + dynamic 3 + auto 1 = 7; threads 2
    assert sp.size() == len(configs) == 4 * 7 * 2
    assert len({tuple(sorted(c.items(), key=str)) for c in configs}) == len(configs)
    assert all(sp.is_valid(c) for c in configs)


def test_inactive_knob_cannot_be_set():
    sp = small_space()
    with pytest.raises(InvalidConfig, match="no effect unless schedule in"):
        sp.validate({"schedule": "auto", "chunk": 8})
    with pytest.raises(InvalidConfig, match="no effect unless polly=on"):
        sp.parse_assignments(["polly_tile=32"])
    assert sp.parse_assignments(["polly=on", "polly_tile=32"])["polly_tile"] == 32


def test_unknown_knob_and_value():
    sp = small_space()
    with pytest.raises(InvalidConfig, match="unknown knob 'nope'"):
        sp.parse_assignments(["nope=1"])
    with pytest.raises(InvalidConfig, match="choose one of: 1, 2"):
        sp.parse_assignments(["threads=3"])
    with pytest.raises(InvalidConfig, match="expected NAME=VALUE"):
        sp.parse_assignments(["threads"])


def test_samples_are_valid_and_canonical():
    sp = small_space()
    rng = random.Random(0)
    seen = {tuple(sp.sample(rng).values()) for _ in range(400)}
    assert all(sp.is_valid(dict(zip([k.name for k in sp], s, strict=True))) for s in seen)
    assert len(seen) == sp.size()  # uniform sampling reaches every point of a small space


def test_parents_must_precede_children():
    with pytest.raises(ValueError, match="must come before"):
        Space([Knob("a", "env", (1, 2), 1, conditions=(Condition("b", frozenset({1})),)), Knob("b", "env", (1,), 1)])
