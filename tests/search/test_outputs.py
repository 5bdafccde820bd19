"""What a run leaves behind, and `report` rebuilding it from storage alone."""

from __future__ import annotations

import json

import pandas as pd

from autotune.search import report
from autotune.trials.records import config_key
from tests.search.conftest import replay_tune

FILES = ("trials.csv", "best.json", "best_variant.c", "best_variant.sh", "convergence.png")


def test_outputs_and_report_agree(tmp_path, journal):
    result, m = replay_tune(tmp_path, journal, budget=12, strategy="random", study="s", out=tmp_path / "run")
    for f in FILES:
        assert (tmp_path / "run" / f).stat().st_size > 0, f
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert best["config"] == result.best and best["speedup"] == result.speedup and best["ci"] == list(result.ci)
    assert best["verified"] is True and best["study"] == "s" and best["storage"] == journal
    assert best["machine"]["cpu_model"] and best["trials"] == 12
    table = pd.read_csv(tmp_path / "run" / "trials.csv")
    assert len(table) == 12 and list(table["key"]) == m.calls
    assert table["speedup"].max() == result.speedup
    script = (tmp_path / "run" / "best_variant.sh").read_text()
    assert "clang" in script and "best_variant.c" in script and "OMP_NUM_THREADS=" in script
    assert (tmp_path / "run" / "convergence.png").read_bytes()[:4] == b"\x89PNG"

    again = report("s", journal, tmp_path / "report")
    assert again.best == result.best and again.speedup == result.speedup and again.n_trials == 12
    for f in ("trials.csv", "best.json", "best_variant.c", "best_variant.sh"):
        assert (tmp_path / "report" / f).read_text() == (tmp_path / "run" / f).read_text(), f
    assert again.variant_source == result.variant_source


def test_variant_source_applies_the_best_config(tmp_path, journal):
    result, m = replay_tune(tmp_path, journal, budget=15, strategy="random", seed=2, study="s")
    assert config_key(result.best) == result.trials.loc[result.trials.speedup.idxmax(), "key"]
    if result.best["L2.unroll"] != "auto":
        assert f"unroll_count({result.best['L2.unroll']})" in result.variant_source
    if result.best["L2.schedule"] != "static" or result.best["L2.chunk"] != "auto":
        assert "autotune_set_schedule_(0)" in result.variant_source


def test_a_run_writes_the_variant_of_the_program_it_measured(tmp_path, journal):
    """The run hands its kernel to the outputs: a file edited during the run does not lose the best variant.

    A report made later reloads the program from the study's record and, finding the file
    changed, says so instead of writing a variant of code that was never measured.
    """
    import shutil

    from autotune.search import ReplayMeasurer, tune
    from tests.search.conftest import JACOBI, REPLAY

    program = tmp_path / "jacobi-1d.c"
    shutil.copy(JACOBI, program)
    measured = program.read_text()

    def edit_at_the_end(e) -> None:
        if e.kind == "stop":
            program.write_text(measured + "\n/* edited while the run was finishing */\n")

    m = ReplayMeasurer(REPLAY)
    run = tune(
        program,
        defines=["SMALL_DATASET"],
        storage=journal,
        space=m.space,
        measurer=m,
        budget=3,
        strategy="random",
        study="s",
        out=tmp_path / "run",
        observe=edit_at_the_end,
    )
    assert run.variant_source is not None and "edited" not in run.variant_source
    assert (tmp_path / "run" / "best_variant.c").read_text() == run.variant_source
    assert "note" not in json.loads((tmp_path / "run" / "best.json").read_text())

    later = report("s", journal, tmp_path / "report")
    assert later.variant_source is None and not (tmp_path / "report" / "best_variant.c").exists()
    assert "changed since the study began" in json.loads((tmp_path / "report" / "best.json").read_text())["note"]


def test_best_json_and_the_result_never_hold_a_storage_password(tmp_path, journal):
    import optuna

    from autotune.search import outputs

    replay_tune(tmp_path, journal, budget=6, strategy="random", study="s", out=tmp_path / "run")
    study = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal))
    )
    url = "postgresql://tuner:s3cret-pw@db.example/studies"  # as a worker on a shared server would have it
    result = outputs.write(study, url, tmp_path / "shared")
    assert result.storage == "postgresql://tuner:***@db.example/studies"
    for f in (tmp_path / "shared").iterdir():
        if f.suffix != ".png":
            assert "s3cret-pw" not in f.read_text(), f.name
