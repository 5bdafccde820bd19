"""`autotune measure`: one configuration against the untransformed program."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import autotune, one_line_error
from tests.conftest import DATA, KERNELS, needs_clang

pytestmark = needs_clang


@pytest.mark.slow
def test_measure_json_end_to_end():
    r = autotune(
        "measure", str(KERNELS / "atax.c"), "-D", "MINI_DATASET", "--set", "threads=1", "--json", "--max-reps", "6"
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in ("status", "speedup", "ci", "baseline_seconds", "candidate_seconds", "repetitions", "verified"):
        assert key in d
    assert d["status"] == "ok" and d["verified"] and len(d["ci"]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["measure", str(DATA / "tricky.c"), "--set", "L99.unroll=2"], "unknown knob 'L99.unroll'"),
        (["measure", str(DATA / "tricky.c"), "--set", "threads=999"], "is not a choice of threads"),
        (["measure", str(DATA / "tricky.c"), "--set", "L4.chunk=16", "--set", "L4.schedule=auto"], "has no effect"),
        (["measure", str(DATA / "broken.c")], "does not compile as given"),
        (["measure", str(DATA / "fails.c")], "exit code 3"),
        (["measure", str(DATA / "silent.c")], "prints nothing"),
        (["measure", str(DATA / "forever.c"), "--baseline-timeout", "1"], "did not finish within 1 s"),
        (["measure", str(DATA / "random_output.c")], "prints different output from run to run"),
    ],
)
def test_bad_input_gives_one_line(args, message):
    one_line_error(autotune(*args), message)


def test_failed_candidate_is_a_status_not_a_crash():
    r = autotune("measure", str(DATA / "params.c"), "--set", "MODE=2", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["status"] == "runtime_error"


def test_no_loops_still_measures_flags():
    r = autotune("measure", str(DATA / "noloops.c"), "--set", "opt=O2", "--max-reps", "3", "--min-reps", "2")
    assert r.returncode == 0, r.stderr
    assert "speedup" in r.stdout


def test_set_without_value_names_the_flag_once():
    r = autotune("measure", str(DATA / "tricky.c"), "--set", "threads")
    one_line_error(r, "--set 'threads': expected NAME=VALUE")
    assert "--set: --set" not in r.stderr


def test_a_hanging_program_costs_two_minutes_not_ten_by_default():
    """The untransformed program's timeout: 120 s by default (it was 600 s), the same from the CLI and Python."""
    from autotune import cli
    from autotune.measure import Options

    a = cli.parser().parse_args(["measure", "x.c"])
    assert a.baseline_timeout == Options().baseline_timeout == 120.0
