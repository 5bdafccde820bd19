"""The three recordings keep their exact bytes: measurement database, replay recordings, vectorization grid.

The expected files in tests/trials/data/ were written by the recorders as they were before the
one `Recorder` replaced their CSV code (autotune/collect.py's Database, experiments/record_replay.py's
record_space and experiments/vectorization.py's record stage), from the measurements built below.
A change of header, column order, number formatting, quoting or line ends fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.kernel import Kernel
from autotune.measure import Measurement, Options
from autotune.space import Knob, Space
from autotune.trials import collect as col
from autotune.trials.records import restrict
from autotune.trials.replay import ReplayMeasurer
from tests.conftest import DATA, KERNELS

EXPECTED = Path(__file__).resolve().parent / "data"
MACHINE = {"cpu_model": "Test CPU, 2 cores", "usable_cores": 2, "compilers": {"clang": "clang 22"}}


def ok_measurement(config: dict, changed: dict) -> Measurement:
    return Measurement(
        status="ok", message="", config=config, changed=changed, speedup=1.2345678912, ci=(1.1000049, 1.39999951),
        baseline_seconds=0.012345678, candidate_seconds=0.0100000001, repetitions=7, verified=True, timing="region",
        stop_reason="ci", baseline_times=[0.0123, 0.01234567891], candidate_times=[0.01, 0.0099999],
        build_seconds=0.42424242, build_cached=False, build_key="0123456789abcdef01234567",
        harness_seconds=1.23456789, run_wall_seconds=1.1, runs=16, load_before=0.05, load_during=None,
        load_waited=0.0, under_load=False, machine=MACHINE,
    )  # fmt: skip


def failed_measurement(config: dict, changed: dict) -> Measurement:
    return Measurement(
        status="compile_error", message='error: "x", y\nsecond line, \u00e9', config=config, changed=changed,
        build_key="fedcba9876543210fedcba98", build_seconds=0.5, machine=MACHINE,
    )  # fmt: skip


def test_the_measurement_database_is_written_as_before(tmp_path: Path):
    space = Space(
        [
            Knob("threads", "env", (1, 2), 2, "threads"),
            Knob("L1.unroll", "source", ("auto", 1, 4), "auto", "unroll"),
        ]
    )
    db = col.Database(tmp_path / "collect.csv")
    work = col.Workload("jacobi-1d", "MINI")
    for i, (cfg, make, ir_hash) in enumerate(
        [
            ({"threads": 1, "L1.unroll": 4}, ok_measurement, "0123456789abcdef"),
            ({"threads": 2, "L1.unroll": 1}, failed_measurement, ""),
        ]
    ):
        rec = col.record(work, i, make(cfg, space.changed(cfg)), ir_hash, 7)
        rec["time_utc"] = "2025-01-02T03:04:05Z"  # the one field that is the clock's
        db.append(rec, space)
    assert (tmp_path / "collect.csv").read_bytes() == (EXPECTED / "collect.csv").read_bytes()
    assert len(col.Database(tmp_path / "collect.csv").records) == 2


def test_a_replay_recording_is_written_as_before_and_resumes_into_the_same_bytes(tmp_path: Path):
    from autotune.trials.replay import record_space

    replay = ReplayMeasurer(DATA / "replay" / "jacobi1d_small.csv")
    choices = {"threads": (1, 2), "L2.schedule": ("static", "auto"), "L2.chunk": ("auto", 16), "L2.unroll": ("auto",)}
    sub = restrict(replay.space, choices)
    fails = {"threads": 1, "L2.schedule": "static", "L2.chunk": 16, "L2.unroll": "auto"}

    class Measurer:
        """The recorded measurements, one of them replaced by a failure (quotes, commas, a newline)."""

        def __init__(self, stop_after: int | None = None) -> None:
            self.stop_after, self.calls = stop_after, 0

        def measure(self, cfg):
            if self.stop_after is not None and self.calls == self.stop_after:
                raise KeyboardInterrupt  # as Ctrl-C between two measurements
            self.calls += 1
            return failed_measurement(cfg, sub.changed(cfg)) if cfg == fails else replay.measure(cfg)

    kernel = Kernel.load(KERNELS / "jacobi-1d.c", defines=["SMALL_DATASET"])
    out = tmp_path / "replay.csv"
    with pytest.raises(KeyboardInterrupt):
        record_space(kernel, sub, out, {"kernel": "x"}, Options(), lambda s: None, Measurer(stop_after=4))
    with out.open("ab") as f:
        f.write(b'"{""L2.chunk"":')  # and a kill in the middle of the fifth row
    rest = Measurer()
    record_space(kernel, sub, out, {"kernel": "x"}, Options(), lambda s: None, rest)
    assert rest.calls == sub.size() - 4
    assert out.read_bytes() == (EXPECTED / "replay.csv").read_bytes()


def test_the_vectorization_grid_is_written_as_before(tmp_path: Path):
    from autotune.trials.recorder import Recorder
    from experiments import vectorization_data as vd
    from experiments.vectorization_grid import cell_key, grid_row

    rec = Recorder(tmp_path / "grid.csv", vd.GRID_FIELDS, cell_key)
    for row in (
        grid_row("s1_1024_add_0.c", "L3", "main:12", 4, 2, 17, ok_measurement({}, {})),
        grid_row("s1_1024_add_0.c", "L3", "main:12", 8, 1, 17, failed_measurement({}, {})),
        grid_row("s9_1024_1024_0.c", "", "", 1, 1, 0, error="the -O3 program fails (exit 1)\nmore"),
    ):
        row.update(date="2025-01-02T03:04:05+00:00", cpu_model="Test CPU")  # the clock's and the machine's
        rec.append(row)
    assert (tmp_path / "grid.csv").read_bytes() == (EXPECTED / "grid.csv").read_bytes()
    assert rec.keys == {("s1_1024_add_0.c", 4, 2), ("s1_1024_add_0.c", 8, 1), ("s9_1024_1024_0.c", 1, 1)}
