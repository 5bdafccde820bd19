"""The generic space (`autotune.space.knobs`): conditions, canonical forms, exact size, validation."""

from __future__ import annotations

import random

import pytest

from autotune.space import AnyOf, Condition, InvalidConfig, Knob, Space


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


def or_space(n: int = 3) -> Space:
    """threads matters when any of n loops runs in parallel (an OR condition), as for a program without OpenMP."""
    loops = [Knob(f"L{i}.parallel", "source", ("off", "on"), "off") for i in range(n)]
    on = AnyOf(tuple(Condition(k.name, frozenset({"on"})) for k in loops))
    return Space(
        [
            Knob("compiler", "flag", ("clang", "gcc"), "clang"),
            *loops,
            Knob("threads", "env", (1, 2, 4), 4, conditions=(on,)),
            Knob("L0.tile", "source", (1, 8), 1, conditions=(Condition("compiler", frozenset({"clang"})),)),
        ]
    )


def test_or_condition_is_exact_and_canonical():
    sp = or_space()
    configs = list(sp.enumerate())
    # compiler: clang (tile 2) or gcc (1) = 3; loops: all off (threads pinned) 1 + 7 others x 3 threads = 22
    assert sp.size() == len(configs) == 3 * 22
    assert all(sp.is_valid(c) for c in configs)
    assert sp.canonical({"threads": 1})["threads"] == 4  # nothing parallel: threads pinned
    assert sp.canonical({"L2.parallel": "on", "threads": 1})["threads"] == 1
    with pytest.raises(InvalidConfig, match="no effect unless L0.parallel=on or L1.parallel=on or L2.parallel=on"):
        sp.parse_assignments(["threads=2"])
    rng = random.Random(1)
    assert all(sp.is_valid(sp.sample(rng)) for _ in range(200))


def test_size_of_a_wide_or_is_counted_without_enumerating():
    """24 loops ORed into threads: 2^24 on/off patterns, counted by merging equal futures."""
    sp = or_space(24)
    assert sp.size() == 3 * (1 + (2**24 - 1) * 3)


def test_or_condition_parents_must_come_first():
    later = AnyOf((Condition("b", frozenset({1})),))
    with pytest.raises(ValueError, match="depends on b, which must come before it"):
        Space([Knob("a", "env", (1, 2), 1, conditions=(later,)), Knob("b", "env", (1,), 1)])


def test_space_spec_round_trip_and_old_specs_read_unchanged():
    import json

    from autotune.trials.records import restrict, space_from_spec, space_spec
    from tests.conftest import ROOT

    sp = or_space()
    back = space_from_spec(json.loads(json.dumps(space_spec(sp))))
    assert space_spec(back) == space_spec(sp) and back.size() == sp.size()
    assert back["threads"].conditions == sp["threads"].conditions
    with pytest.raises(ValueError, match="threads depends on L1.parallel; include it too"):
        restrict(sp, {"compiler": (), "L0.parallel": (), "threads": ()})
    files = [
        ROOT / "tests/data/replay/jacobi1d_small.json",
        *sorted(ROOT.glob("results/search_efficiency_recordings/*.json")),
    ]
    for f in files:
        spec = json.loads(f.read_text())["knobs"]
        assert space_spec(space_from_spec(spec)) == spec, f  # written before OR existed: same spec back


def test_size_matches_enumeration_on_random_conditional_spaces():
    rng = random.Random(7)
    for _ in range(60):
        knobs: list[Knob] = []
        for i in range(rng.randint(2, 7)):
            choices = tuple(range(rng.randint(1, 3)))
            conds = []
            for _ in range(rng.randint(0, 2) if knobs else 0):
                atoms = tuple(
                    Condition(p.name, frozenset(rng.sample(p.choices, rng.randint(1, len(p.choices)))))
                    for p in rng.sample(knobs, rng.randint(1, min(3, len(knobs))))
                )
                conds.append(atoms[0] if len(atoms) == 1 else AnyOf(atoms))
            knobs.append(Knob(f"k{i}", "env", choices, choices[0], conditions=tuple(conds)))
        sp = Space(knobs)
        configs = list(sp.enumerate())
        assert sp.size() == len(configs) == len({tuple(c.values()) for c in configs})
