"""experiments/coarsening_search.py: the recorded sub-spaces and the budgets (nothing timed here)."""

from __future__ import annotations

from experiments import coarsening_search as cs
from experiments.coarsening_measured import refusals


def test_neighbours_scale_only_the_first_dimension_and_stay_whole():
    assert cs.neighbours((256,)) == ["64", "128", "256", "512"]
    assert cs.neighbours((16, 16)) == ["4x16", "8x16", "16x16", "32x16"]
    assert cs.neighbours((2, 1, 1)) == ["1x1x1", "2x1x1", "4x1x1"]  # half of 2 is 1; a quarter is not whole


def test_every_coarsenable_kernel_gets_a_sub_space_of_every_cf_and_legal_groups(tmp_path):
    cases = cs.cases(None, tmp_path)
    assert len(cases) + len(refusals()) == 17  # the data set's kernels: each recorded or refused with a reason
    assert all(why for why in refusals().values())
    for c in cases:
        full = cs.build_space(c.kernel)
        assert c.space["cf"].choices == full["cf"].choices and set(c.space["cf_mode"].choices) == {"block", "stride"}
        for k in c.space:
            if k.name.startswith("wg.cf"):
                assert set(k.choices) <= set(full[k.name].choices)  # only what the device and global size allow
                assert "auto" in k.choices and k.default == full[k.name].default
        assert 30 <= c.space.size() <= 60, c.name  # a tenth of it is a budget of 3-6 evaluations
        assert c.space.is_valid(c.space.default())  # the untransformed launch is in it: the replay's baseline


def test_the_budgets_are_a_tenth_rounded_up_and_twice_that():
    assert cs.budgets_of(55) == [6, 12]
    assert cs.budgets_of(40) == [4, 8]
    assert cs.budgets_of(35) == [4, 8]


def test_every_configuration_of_a_recorded_sub_space_is_a_variant(tmp_path):
    """Knobs left out of the sub-space (the math options, unroll hints) keep their defaults in the variant."""
    import random

    from autotune.variant import make_variant

    for c in cs.cases(["binarySearch", "sgemm"], tmp_path):
        base = make_variant(c.kernel, c.space, c.space.default())
        assert "-cl-fast-relaxed-math" not in base.device.options and b"#pragma unroll" not in base.device.source
        rng = random.Random(0)
        for _ in range(10):
            make_variant(c.kernel, c.space, c.space.sample(rng))
