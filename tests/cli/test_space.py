"""`autotune space` and `autotune variant`: what can be tuned, and one configuration's source."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.cli.conftest import autotune, one_line_error
from tests.conftest import DATA, needs_clang

pytestmark = needs_clang


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


@pytest.mark.parametrize(
    "args, message",
    [
        (["space", "nowhere.c"], "nowhere.c: no such file"),
        (["space", str(DATA / "readme.txt")], "not a C source file"),
        (["space", str(DATA)], "is a directory"),
        (["space", str(DATA / "notc.c")], "no C function found"),
        (["space", str(DATA / "tricky.c"), "--param", "BLOCK"], "expected NAME=v1,v2"),
        (["space", str(DATA / "tricky.c"), "-I", "/no/such/dir"], "no such directory"),
        (["variant", str(DATA / "tricky.c"), "-o", str(DATA / "tricky.c")], "would overwrite"),
    ],
)
def test_bad_input_gives_one_line(args, message):
    one_line_error(autotune(*args), message)


def test_no_loops_still_has_flags_to_tune():
    s = autotune("space", str(DATA / "noloops.c"))
    assert s.returncode == 0 and "no tunable loops found" in s.stdout
