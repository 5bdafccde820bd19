"""The README's Python example runs as written (a real, tiny search: budget 3 at MINI size)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import KERNELS, ROOT, needs_clang


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    tuning = text.split("## Tuning", 1)[1]
    return re.search(r"```python\n(.*?)```", tuning, re.S).group(1)


@needs_clang
@pytest.mark.slow
def test_readme_example_runs(tmp_path):
    (tmp_path / "kernels").mkdir()
    shutil.copy(KERNELS / "jacobi-1d.c", tmp_path / "kernels")
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp_path / ".autotune"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "verified: True" in r.stdout and "bytes of C in results/jacobi-1d/best_variant.c" in r.stdout
    assert (tmp_path / "results" / "jacobi-1d" / "trials.csv").exists()


def test_tune_and_result_are_exported():
    import autotune

    assert "tune" in autotune.__all__ and "Result" in autotune.__all__
    assert autotune.tune.__module__ == "autotune.search.api" and autotune.Result.__name__ == "Result"


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"budget": "3"}, "budget='3': must be a whole number"),
        ({"budget": 0}, "budget=0: must be a whole number"),
        ({"budget": None, "time_budget": -1.0}, "time_budget=-1.0: must be a positive number of seconds"),
        ({"early_stop": 0}, "early_stop=0: must be at least 1 evaluation"),
        ({"storage": "/no/such/dir/journal.log"}, "storage='/no/such/dir/journal.log': no such directory"),
    ],
)
def test_api_errors_name_the_python_keywords_not_cli_flags(tmp_path, kw, message):
    """`tune(budget='3')` must not tell a Python user about `--budget`."""
    from autotune import UserError, tune

    with pytest.raises(UserError) as exc:
        tune(KERNELS / "jacobi-1d.c", defines=["MINI_DATASET"], out=tmp_path / "out", **kw)
    assert message in str(exc.value)
    assert "--" not in str(exc.value)


@needs_clang
@pytest.mark.parametrize("make", ["file", "under_file"])
def test_unwritable_out_is_refused_before_anything_is_measured(tmp_path, make):
    """A file where the output folder should be gives one line before measuring, not a traceback after."""
    from autotune import UserError, tune
    from autotune.search import ReplayMeasurer

    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder\n")
    out = blocker if make == "file" else blocker / "sub"
    replay = ReplayMeasurer(ROOT / "tests" / "data" / "replay" / "jacobi1d_small.csv")
    with pytest.raises(UserError) as exc:
        tune(
            KERNELS / "jacobi-1d.c",
            budget=3,
            defines=["SMALL_DATASET"],
            storage=str(tmp_path / "j.log"),
            space=replay.space,
            measurer=replay,
            out=out,
        )
    assert "out=" in str(exc.value) and ("a file is in the way" in str(exc.value) or "cannot write" in str(exc.value))
    assert replay.calls == []  # refused before the first measurement


def test_time_budget_alone_sets_no_evaluation_cap_as_on_the_command_line(tmp_path):
    """`tune(time_budget=S)` runs for S seconds like `autotune run --time-budget S`, not for 30 measurements."""
    from autotune.search import ReplayMeasurer, tune

    starts = []
    replay = ReplayMeasurer(ROOT / "tests" / "data" / "replay" / "jacobi1d_small.csv")
    tune(
        KERNELS / "jacobi-1d.c",
        time_budget=1e-9,  # over at the first look: only the start is of interest
        defines=["SMALL_DATASET"],
        storage=str(tmp_path / "j.log"),
        space=replay.space,
        measurer=replay,
        out=tmp_path / "out",
        observe=lambda e: starts.append(e) if e.kind == "start" else None,
    )
    assert [e.target for e in starts] == [None]


def test_tune_takes_its_options_by_keyword_only(tmp_path):
    """Nine positional arguments invite swapped values (a seed given as a budget); keywords say what each is."""
    import inspect

    from autotune.search.api import tune, tune_kernel

    for f, positional in ((tune, ["path"]), (tune_kernel, ["kernel", "request"])):
        params = inspect.signature(f).parameters.values()
        assert [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
