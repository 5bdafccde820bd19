"""Atomic replacement: the suffix survives for numpy, and a failed write leaves nothing."""

from __future__ import annotations

import numpy as np
import pytest

from encoder.atomic import atomic_write, atomic_write_text


def test_numpy_writer_keeps_the_target_name(tmp_path):
    p = tmp_path / "sub" / "v.npy"
    atomic_write(p, lambda tmp: np.save(tmp, np.arange(3)))
    assert np.load(p).tolist() == [0, 1, 2]
    assert [q.name for q in p.parent.iterdir()] == ["v.npy"]


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(p, boom)
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["a.txt"]


def test_written_file_has_the_mode_a_plain_open_gives(tmp_path):
    """Not mkstemp's private 0600: caches and weights stay readable by whoever could read the folder."""
    import os

    p = tmp_path / "w.txt"
    atomic_write_text(p, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
