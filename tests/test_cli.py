"""The command line: outputs for users and one clear line for every bad input."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import DATA, KERNELS, ROOT, needs_clang

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


# --- autotune run / report -------------------------------------------------------------------
_NO_SURROGATE = importlib.util.find_spec("autotune.surrogate") is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--budget", "0"], "--budget 0: must be a whole number of evaluations, at least 1"),
        (["--budget", "-3"], "--budget -3: must be"),
        (["--time-budget", "0"], "--time-budget 0: must be a positive number of seconds"),
        (["--time-budget", "-5"], "--time-budget -5: must be"),
        (["--early-stop", "0"], "--early-stop 0: must be at least 1"),
        (["--strategy", "annealing"], "unknown strategy 'annealing'; choose one of: guided, tpe, random, exhaustive"),
        (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open it"),
        (["--storage", "sqlite:////no/such/dir/x.db"], "cannot open it"),
        pytest.param(
            ["--strategy", "guided"],
            "guided needs the surrogate",
            marks=pytest.mark.skipif(not _NO_SURROGATE, reason="the surrogate exists now"),
        ),
    ],
)
def test_run_bad_input_gives_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path))
    one_line_error(autotune("run", str(DATA / "tricky.c"), *args), message)
    assert not (tmp_path / "builds").exists()  # refused before anything was built or measured


def test_run_refuses_a_study_of_another_kernel_or_machine(tmp_path, monkeypatch):
    import optuna

    from autotune.discover import build_space
    from autotune.kernel import Kernel
    from autotune.search.storage import default_study_name, make_meta, open_storage, open_study
    from autotune.search.strategies import make_sampler

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path))
    journal = str(tmp_path / "j.log")
    st, _ = open_storage(journal)
    k = Kernel.load(DATA / "tricky.c")
    space = build_space(k)
    meta = make_meta(k, space, "tpe", 0)
    open_study(st, "mine", meta, make_sampler("tpe", space))
    r = autotune("run", str(DATA / "params.c"), "--storage", journal, "--study", "mine")
    one_line_error(r, "study 'mine' exists for another kernel or other options")

    name = default_study_name(k, meta["fingerprint"])
    study = open_study(st, name, meta, make_sampler("tpe", space))
    study.set_user_attr("autotune", {**meta, "machine": {**meta["machine"], "cpu_model": "Imaginary CPU 9000"}})
    r = autotune("run", str(DATA / "tricky.c"), "--storage", journal)
    one_line_error(r, "was measured on another machine (Imaginary CPU 9000)")
    assert optuna.load_study(study_name=name, storage=st).trials == []


def test_report_of_unknown_study_is_one_line(tmp_path):
    one_line_error(autotune("report", "nothing", "--storage", str(tmp_path / "j.log")), "no study named 'nothing'")


@pytest.mark.slow
def test_run_end_to_end_then_report(tmp_path, monkeypatch):
    """The one real search in the tests: budget 3 on a MINI kernel, timed for real."""
    from autotune.measure.verify import compare

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    journal, out = str(tmp_path / "j.log"), tmp_path / "out"
    kernel = ["run", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET", "--budget", "3", "--max-reps", "8"]
    r = autotune(*kernel, "--storage", journal, "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["trials"] == 3 and d["out_dir"] == str(out)
    assert d["best"]["speedup"] > 0 and len(d["best"]["ci"]) == 2 and "threads" in d["best"]["config"]
    for f in ("trials.csv", "best.json", "best_variant.c", "best_variant.sh", "convergence.png"):
        assert (out / f).exists(), f
    assert r.stderr.count("trial ") == 3  # one progress line per measurement when stderr is not a terminal

    # the best variant's script builds and runs it, and it computes what the original program computes
    base = tmp_path / "base"
    build = ["clang-22", "-O3", "-fopenmp", "-DMINI_DATASET", f"-I{ROOT / 'autotune' / 'include'}"]
    subprocess.run([*build, str(KERNELS / "jacobi-1d.c"), "-o", str(base), "-lm"], check=True)
    ref = subprocess.run([str(base)], capture_output=True, text=True, check=True).stdout
    got = subprocess.run(["sh", str(out / "best_variant.sh")], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    assert compare(ref, got.stdout, 1e-6, 0.0).ok

    study = json.loads((out / "best.json").read_text())["study"]
    rep = autotune("report", study, "--storage", journal, "--out", str(tmp_path / "again"))
    assert rep.returncode == 0, rep.stderr
    assert "best of 3 measurements" in rep.stdout and "speedup" in rep.stdout and "verified" in rep.stdout
    assert (tmp_path / "again" / "trials.csv").read_text() == (out / "trials.csv").read_text()

    again = autotune(*kernel, "--storage", journal, "--out", str(out))  # the same command: nothing new to do
    assert again.returncode == 0 and "3 measured, 0 in this run" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect", "--kernels", "nosuch", "--max-records", "1"], "nosuch"),
        (["collect", "--sizes", "HUGE", "--max-records", "1"], "HUGE"),
        (["collect", "--hours", "0"], "--hours"),
        (["predict", str(KERNELS / "gemm.c"), "--top", "0"], "--top"),
        (["predict", str(KERNELS / "gemm.c"), "--top", "5", "--pool", "2"], "--pool"),
    ],
)
def test_collect_and_predict_bad_input_gives_one_line(args, message, tmp_path):
    one_line_error(
        autotune(*args, "--out", str(tmp_path / "db.csv")) if args[0] == "collect" else autotune(*args), message
    )


def test_predict_ranks_with_the_shipped_surrogate():
    from autotune.surrogate.scorer import WEIGHTS

    if not WEIGHTS.exists():
        pytest.skip("no shipped surrogate")
    r = autotune("predict", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET", "--top", "3", "--pool", "20", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 3
    assert [x["predicted_speedup"] for x in rows] == sorted((x["predicted_speedup"] for x in rows), reverse=True)
    assert all(x["low"] <= x["predicted_speedup"] <= x["high"] for x in rows)


# --- faults found by trying bad programs and interruptions ---------------------------------------
def test_racy_program_is_said_once_and_every_rerun_stops_at_once(tmp_path, monkeypatch):
    """A baseline whose output changes under threads: one line, exit 2, and reruns add no trials."""
    import optuna

    from autotune.search.storage import open_storage

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    journal = str(tmp_path / "j.log")
    args = ["run", str(DATA / "racy.c"), "--budget", "5", "--storage", journal, "--study", "race"]
    args += ["--out", str(tmp_path / "out"), "--max-reps", "6"]
    for _ in range(3):
        one_line_error(autotune(*args), "prints different output from run to run")
    st, _ = open_storage(journal)
    trials = optuna.load_study(study_name="race", storage=st).get_trials(deepcopy=False)
    measured = [t for t in trials if t.user_attrs.get("measured")]
    assert measured == []  # nothing is stored as a wrong_output of its own A/A trial
    assert len(trials) <= 1  # at most the attempt that found it; reruns stop before asking for a trial


def test_run_exits_non_zero_when_nothing_was_verified(monkeypatch, tmp_path, capsys):
    """The exit status tells a script that the study holds no verified measurement."""
    import pandas as pd

    from autotune import cli
    from autotune.search import api
    from autotune.search.outputs import Result

    def nothing_verified(kernel, *a, **kw):
        return Result(
            best={},
            speedup=None,
            ci=None,
            verified=False,
            trials=pd.DataFrame({"trial": [0], "status": ["runtime_error"]}),
            variant_source=None,
            out_dir=tmp_path,
            study="s",
            storage="j.log",
            failures={"runtime_error": 1},
            stop_reason="budget",
        )

    monkeypatch.setattr(api, "tune_kernel", nothing_verified)
    code = cli.main(["run", str(DATA / "noloops.c"), "--budget", "1"])
    assert code == cli.EXIT_NOT_OK
    assert "nothing was verified" in capsys.readouterr().err


def test_set_without_value_names_the_flag_once():
    r = autotune("measure", str(DATA / "tricky.c"), "--set", "threads")
    one_line_error(r, "--set 'threads': expected NAME=VALUE")
    assert "--set: --set" not in r.stderr


def _tagged_by(owner: int) -> list[int]:
    """Processes whose run tag names `owner` (the runner tags every process of a run)."""
    import psutil

    from autotune.measure.runner import TAG_VAR

    found = []
    for p in psutil.process_iter():
        try:
            tag = p.environ().get(TAG_VAR, "")
        except (psutil.Error, OSError):
            continue
        if tag.startswith(f"{owner}:"):
            found.append(p.pid)
    return found


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_stopping_autotune_kills_the_measured_program(sig, tmp_path):
    """Ctrl-C or `kill` of autotune while a hung program runs: autotune exits and the program is gone."""
    import signal
    import time

    env = {**__import__("os").environ, "AUTOTUNE_CACHE": str(tmp_path)}
    p = subprocess.Popen(
        [sys.executable, "-m", "autotune.cli", "measure", str(DATA / "forever.c"), "--baseline-timeout", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not _tagged_by(p.pid):  # wait until the hung program runs
            assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.poll() is not None else ""
            time.sleep(0.1)
        p.send_signal(getattr(signal, sig))
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode in (130, 143), err
    assert "Traceback" not in err
    assert _tagged_by(p.pid) == []


def test_a_hanging_program_costs_two_minutes_not_ten_by_default():
    """The untransformed program's timeout: 120 s by default (it was 600 s), the same from the CLI and Python."""
    from autotune import cli
    from autotune.measure import Options

    a = cli.parser().parse_args(["measure", "x.c"])
    assert a.baseline_timeout == Options().baseline_timeout == 120.0


def test_progress_and_table_say_when_results_were_taken_under_load(tmp_path, capsys):
    """The words in brackets are text, not rich markup (rich silently ate "[under load]" before)."""
    import pandas as pd
    from rich.console import Console

    from autotune import cli
    from autotune.measure import Measurement
    from autotune.search.outputs import Result
    from autotune.search.session import Event

    show = cli._RunProgress("gemm")
    show.console = Console(file=__import__("io").StringIO(), width=200)
    m = Measurement("ok", "verified", {"threads": 1}, {"threads": 1}, speedup=1.65, ci=(1.6, 1.7))
    m.under_load, m.load_before, m.load_during = True, 0.5, 0.49
    show.event(Event("measured", "ok", 2, 20, 1.65, 1, m))
    assert "1.650x [under load] best 1.650x" in show.console.file.getvalue()
    r = Result(
        best={"threads": 1},
        speedup=1.65,
        ci=(1.6, 1.7),
        verified=True,
        trials=pd.DataFrame({"trial": [0, 1]}),
        variant_source=None,
        out_dir=tmp_path,
        study="s",
        storage="j.log",
        changed={"threads": 1},
        under_load=2,
        best_under_load=True,
        max_load=0.5,
    )
    cli._print_result(r, as_json=False)
    out = capsys.readouterr().out
    assert "1.650x (95% CI 1.600-1.700) [measured under load]" in out
    assert "2 of 2 measurements taken under load, other work up to 50% of the CPUs" in out
