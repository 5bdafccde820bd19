"""Fixtures for the search tests: the recorded replay cache and a private store per test.

The replay (tests/data/replay/jacobi1d_small.csv) holds real measurements of
every configuration of a 60-configuration sub-space of jacobi-1d at SMALL;
the search logic runs against it without timing anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.search import ReplayMeasurer, tune
from autotune.search.testing import ReplayCase
from tests.conftest import DATA, KERNELS, ROOT

REPLAY = DATA / "replay" / "jacobi1d_small.csv"
JACOBI = KERNELS / "jacobi-1d.c"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Studies and builds of a test stay in its own folder (AUTOTUNE_CACHE)."""
    cache = tmp_path / ".autotune"
    monkeypatch.setenv("AUTOTUNE_CACHE", str(cache))
    return cache


@pytest.fixture
def replay() -> ReplayMeasurer:
    return ReplayMeasurer(REPLAY)


@pytest.fixture
def replay_case() -> ReplayCase:
    """The recording and its kernel, for the strategy contract (autotune.search.testing)."""
    return ReplayCase.from_recording(REPLAY, ROOT)


@pytest.fixture
def journal(tmp_path: Path) -> str:
    return str(tmp_path / "journal.log")


def replay_tune(tmp_path: Path, storage: str, measurer: ReplayMeasurer | None = None, **kw):
    """tune() on the replay's sub-space of jacobi-1d (SMALL, as recorded)."""
    m = measurer or ReplayMeasurer(REPLAY)
    kw.setdefault("out", tmp_path / f"out-{kw.get('study', 'default')}")
    return tune(JACOBI, defines=["SMALL_DATASET"], storage=storage, space=m.space, measurer=m, **kw), m
