"""The verifier accepts every template's programs and rejects what breaks the contract (real clang, MINI)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from autotune.build import Builder
from autotune.kernelgen import TEMPLATES, generate, generate_set, verify_source
from autotune.kernelgen.__main__ import main
from autotune.kernelgen.cgen import PRESETS, CProgram
from tests.conftest import needs_clang

pytestmark = [needs_clang, pytest.mark.slow]


@pytest.fixture(scope="module")
def builder(tmp_path_factory) -> Builder:
    return Builder(tmp_path_factory.mktemp("builds"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_template_compiles_and_verifies(template, builder):
    g = generate(template, 0, 1)
    v = verify_source(g.source, g.name, ("MINI",), builder)
    assert v.ok, v.reason
    assert v.runs == 5 and v.schedule_sites >= 1  # threads 1, 2 and three schedules
    assert v.seconds["MINI"]["threads=1"] > 0


class FloatSum:
    """Broken on purpose: a floating-point reduction(+), whose last digits follow the thread count."""

    name = "broken-float-sum"
    family = "broken"
    summary = "double reduction(+): order-dependent"

    def draw(self, rng: random.Random) -> dict:
        return {"n": rng.choice([200_000, 300_000])}

    def build(self, p) -> CProgram:
        return CProgram(
            description="a double sum with reduction(+)",
            sizes={pr: {"N": p["n"]} for pr in PRESETS},
            globals="static double X[N];\nstatic double total;",
            init="for (int i = 0; i < N; i++)\n    X[i] = gen_val(i, 1) * 1e-3 + 1.0 / (i + 1);",
            kernel=(
                "static void kernel_run(void)\n{\n    double s = 0.0;\n#pragma omp parallel for reduction(+:s)\n"
                "    for (int i = 0; i < N; i++)\n        s += X[i];\n    total = s;\n}"
            ),
            results='printf("sum %.17e\\n", total);',
        )


def test_an_order_dependent_reduction_is_rejected_and_not_written(builder):
    g = generate(FloatSum(), 0, 0)
    v = verify_source(g.source, g.name, ("MINI",), builder)
    assert not v.ok
    assert "threads=2" in v.reason and "differs from threads=1" in v.reason, v.reason
    out = generate_set(0, 2, [FloatSum()], lambda g: verify_source(g.source, g.name, ("MINI",), builder))
    assert out.kernels == [] and len(out.rejected) >= 2 and out.short == {"broken-float-sum": 2}


def test_a_program_without_openmp_or_timer_is_rejected(builder):
    g = generate(TEMPLATES[0], 0, 0)
    no_omp = g.source.replace("#pragma omp", "// pragma omp")
    assert "no OpenMP" in verify_source(no_omp, "seq", ("MINI",), builder).reason
    no_timer = g.source.replace(
        "#include <autotune.h>", '#include "autotune_missing.h"\n#define AUTOTUNE_REGION_BEGIN(x)'
    )
    assert "region timer" in verify_source(no_timer, "untimed", ("MINI",), builder).reason


def test_the_command_writes_verified_kernels(tmp_path: Path, capsys):
    out = tmp_path / "gen"
    assert main(["--out", str(out), "--count", "2", "--templates", "varwork,sweep", "--sizes", "MINI"]) == 0
    text = capsys.readouterr().out
    assert "wrote 2 kernels (2 templates, 2 families)" in text and "0 rejected" in text
    assert sorted(p.name for p in out.glob("*.c")) == ["sweep-000.c", "varwork-000.c"]
    assert (out / "verification.json").exists()
    assert main(["--out", str(out), "--sizes", "HUGE"]) == 2
    assert "--sizes HUGE" in capsys.readouterr().err
