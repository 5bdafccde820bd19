"""The command line: outputs for users and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import DATA, KERNELS, needs_clang

pytestmark = needs_clang


def autotune(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autotune.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def one_line_error(r: subprocess.CompletedProcess, pattern: str) -> None:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert pattern in lines[0], lines[0]


def test_space_json_and_table():
    r = autotune("space", str(DATA / "tricky.c"), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["size"] > 10**6 and d["timing"] == "region"
    knob = {k["name"]: k for k in d["knobs"]}["L7.chunk"]
    assert knob["kind"] == "env" and knob["choices"][0] == "auto" and knob["default"] == 4
    t = autotune("space", str(DATA / "tricky.c"))
    assert t.returncode == 0 and "distinct configurations" in t.stdout and "L7.schedule" in t.stdout


def test_variant_writes_source_and_commands(tmp_path):
    out = tmp_path / "v.c"
    r = autotune(
        "variant", str(DATA / "tricky.c"), "--set", "L6.unroll=4", "--set", "L7.schedule=guided", "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert "unroll_count(4)" in out.read_text()
    assert "AUTOTUNE_SCHEDULE_1=guided" in r.stdout and "clang-22" in r.stdout
    # the printed command builds the variant
    build = r.stdout.split("# build:\n")[1].split("\n")[0]
    assert subprocess.run(build, shell=True, capture_output=True).returncode == 0


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
        (["space", "nowhere.c"], "nowhere.c: no such file"),
        (["space", str(DATA / "readme.txt")], "not a C source file"),
        (["space", str(DATA)], "is a directory"),
        (["space", str(DATA / "notc.c")], "no C function found"),
        (["measure", str(DATA / "tricky.c"), "--set", "L99.unroll=2"], "unknown knob 'L99.unroll'"),
        (["measure", str(DATA / "tricky.c"), "--set", "threads=999"], "is not a choice of threads"),
        (["measure", str(DATA / "tricky.c"), "--set", "L4.chunk=16", "--set", "L4.schedule=auto"], "has no effect"),
        (["space", str(DATA / "tricky.c"), "--param", "BLOCK"], "expected NAME=v1,v2"),
        (["space", str(DATA / "tricky.c"), "-I", "/no/such/dir"], "no such directory"),
        (["variant", str(DATA / "tricky.c"), "-o", str(DATA / "tricky.c")], "would overwrite"),
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
    s = autotune("space", str(DATA / "noloops.c"))
    assert s.returncode == 0 and "no tunable loops found" in s.stdout
    r = autotune("measure", str(DATA / "noloops.c"), "--set", "opt=O2", "--max-reps", "3", "--min-reps", "2")
    assert r.returncode == 0, r.stderr
    assert "speedup" in r.stdout
