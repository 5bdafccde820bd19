"""Shared fixtures: paths to test programs and a per-test build cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
KERNELS = ROOT / "kernels"

needs_clang = pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed")


@pytest.fixture(autouse=True)
def private_measurement_db(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test records into a database of its own, never into the checkout's .autotune/ (run and
    measure record by default; the CLI tests' subprocesses inherit the variable)."""
    db = tmp_path_factory.mktemp("db") / "measurements.db"
    monkeypatch.setenv("AUTOTUNE_DB", str(db))
    return db


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "builds"


@pytest.fixture
def quick():
    """Protocol options that keep end-to-end tests short (the logic is the same)."""
    from autotune.measure import Options

    return Options(min_pairs=6, max_pairs=6, baseline_timeout=60)  # 6: the fewest pairs that give a 95% CI


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test session (tests/postgres.py); `.new_database()` per test."""
    from tests.postgres import throwaway_server

    with throwaway_server() as server:
        yield server
