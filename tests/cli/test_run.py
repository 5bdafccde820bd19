"""`autotune run` and `autotune report`: the search from the command line, and its outputs again."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from tests.cli.conftest import autotune, one_line_error
from tests.conftest import DATA, KERNELS, ROOT, needs_clang

_NO_SURROGATE = importlib.util.find_spec("autotune.surrogate") is None


@needs_clang
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


@pytest.mark.parametrize(
    "flags, keywords, flag_message, keyword_message",
    [
        (["--budget", "0"], {"budget": 0}, "--budget 0: must be", "budget=0: must be"),
        (["--time-budget", "-5"], {"time_budget": -5.0}, "--time-budget -5: must be", "time_budget=-5.0: must be"),
        (["--early-stop", "0"], {"early_stop": 0}, "--early-stop 0: must be", "early_stop=0: must be"),
        (["--strategy", "annealing"], {"strategy": "annealing"}, "unknown strategy 'annealing'", "unknown strategy"),
    ],
)
def test_cli_and_tune_refuse_a_bad_search_alike_before_reading_the_program(
    flags, keywords, flag_message, keyword_message, capsys
):
    """One check for both: the same rule, each in its own spelling, and before the (missing) file is read."""
    from autotune import UserError, cli, tune

    assert cli.main(["run", "nowhere.c", *flags]) == cli.EXIT_BAD_INPUT
    said = capsys.readouterr().err
    assert flag_message in said and "no such file" not in said
    with pytest.raises(UserError) as exc:
        tune("nowhere.c", **keywords)
    assert keyword_message in str(exc.value) and "no such file" not in str(exc.value)


@pytest.mark.parametrize(
    "flags, expected",
    [
        ([], {}),
        (["--time-budget", "5"], {"time_budget": 5.0}),
        (["--budget", "7", "--time-budget", "5"], {"budget": 7, "time_budget": 5.0}),
        (["--strategy", "random", "--seed", "3"], {"strategy": "random", "seed": 3}),
        (["--early-stop", "4"], {"early_stop": 4}),
        (["--storage", "j.log", "--study", "s", "--out", "o"], {"storage": "j.log", "study": "s", "out": "o"}),
        (["--allow-other-machine"], {"allow_other_machine": True}),
    ],
)
def test_run_asks_for_the_search_tune_would_with_the_same_words(flags, expected):
    """`autotune run FLAGS` and `tune(KEYWORDS)` make the same request, defaults included."""
    from autotune import cli
    from autotune.cli.run import request_of
    from autotune.search.api import SearchRequest

    assert request_of(cli.parser().parse_args(["run", "x.c", *flags])) == SearchRequest(**expected)


def test_time_budget_alone_sets_no_evaluation_cap():
    from autotune.search.api import DEFAULT_BUDGET, SearchRequest

    assert SearchRequest().budget == DEFAULT_BUDGET == 30
    assert SearchRequest(time_budget=5).budget is None
    assert SearchRequest(budget=4, time_budget=5).budget == 4


@needs_clang
def test_run_refuses_a_study_of_another_kernel_or_machine(tmp_path, monkeypatch):
    import optuna

    from autotune.kernel import Kernel
    from autotune.search.storage import default_study_name, make_meta, open_storage, open_study
    from autotune.search.strategies import make_sampler
    from autotune.space.discover import build_space

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


@needs_clang
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


@needs_clang
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


def _result(tmp_path, **kw):
    import pandas as pd

    from autotune.search.outputs import Result

    base = dict(
        best={},
        speedup=None,
        ci=None,
        verified=False,
        trials=pd.DataFrame({"trial": [0], "status": ["runtime_error"]}),
        variant_source=None,
        out_dir=tmp_path,
        study="s",
        storage="j.log",
    )
    return Result(**{**base, **kw})


@needs_clang
def test_run_exits_non_zero_when_nothing_was_verified(monkeypatch, tmp_path, capsys):
    """The exit status tells a script that the study holds no verified measurement."""
    from autotune import cli
    from autotune.search import api

    def nothing_verified(kernel, *a, **kw):
        return _result(tmp_path, failures={"runtime_error": 1}, stop_reason="budget")

    monkeypatch.setattr(api, "tune_kernel", nothing_verified)
    code = cli.main(["run", str(DATA / "noloops.c"), "--budget", "1"])
    assert code == cli.EXIT_NOT_OK
    assert "nothing was verified" in capsys.readouterr().err


def test_progress_and_table_say_when_results_were_taken_under_load(tmp_path, capsys):
    """The words in brackets are text, not rich markup (rich silently ate "[under load]" before)."""
    import io

    import pandas as pd
    from rich.console import Console

    from autotune.cli.progress import RunProgress
    from autotune.cli.run import print_result
    from autotune.measure import Measurement
    from autotune.search.session import Event

    show = RunProgress("gemm")
    show.console = Console(file=io.StringIO(), width=200)
    m = Measurement("ok", "verified", {"threads": 1}, {"threads": 1}, speedup=1.65, ci=(1.6, 1.7))
    m.under_load, m.load_before, m.load_during = True, 0.5, 0.49
    show.event(Event("measured", "ok", 2, 20, 1.65, 1, m))
    assert "1.650x [under load] best 1.650x" in show.console.file.getvalue()
    r = _result(
        tmp_path,
        best={"threads": 1},
        speedup=1.65,
        ci=(1.6, 1.7),
        verified=True,
        trials=pd.DataFrame({"trial": [0, 1]}),
        changed={"threads": 1},
        under_load=2,
        best_under_load=True,
        max_load=0.5,
    )
    print_result(r, as_json=False)
    out = capsys.readouterr().out
    assert "1.650x (95% CI 1.600-1.700) [measured under load]" in out
    assert "2 of 2 measurements taken under load, other work up to 50% of the CPUs" in out
