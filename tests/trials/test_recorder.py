"""The one Recorder: resume, repair of a half-written row, the machine/protocol checks, and the format.

The format tests compare bytes: the committed recordings (results/, autotune/data/, tests/data/)
were written by the recorders this one replaced, and a resumed or new recording must continue
them in exactly the same dialect.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autotune import machine
from autotune.trials import collect as col
from autotune.trials.recorder import Recorder, RecordingMismatch, Same, read_rows, same_cpu
from tests.conftest import ROOT

FIELDS = ("name", "value", "note")
ROWS = [
    {"name": "a", "value": 1.25, "note": 'says "hi", twice'},
    {"name": "b", "value": None, "note": "two\nlines"},
    {"name": "c", "value": True},  # a missing field is written empty
]
# what the replaced recorders wrote for these rows: csv's default dialect (CRLF, minimal quoting)
EXPECTED = b'name,value,note\r\na,1.25,"says ""hi"", twice"\r\nb,,"two\nlines"\r\nc,True,\r\n'


def test_rows_are_written_in_the_committed_dialect_and_read_back_as_text(tmp_path: Path):
    path = tmp_path / "sub" / "r.csv"
    rec = Recorder(path, FIELDS, key=lambda r: r["name"])
    for row in ROWS:
        rec.append(row)
    assert path.read_bytes() == EXPECTED
    assert rec.rows == read_rows(path)  # in memory as a reader would see it
    assert rec.keys == {"a", "b", "c"}
    again = Recorder(path, FIELDS, key=lambda r: r["name"])
    assert again.rows == rec.rows and again.keys == rec.keys and again.meta == {}


def test_an_unknown_field_is_refused_before_anything_is_written(tmp_path: Path):
    rec = Recorder(tmp_path / "r.csv", FIELDS)
    rec.append(ROWS[0])
    with pytest.raises(ValueError):
        rec.append({"name": "x", "typo": 1})
    assert Recorder(tmp_path / "r.csv", FIELDS).rows == rec.rows[:1]


def test_a_kill_at_any_byte_is_repaired_and_the_resumed_file_is_what_one_run_writes(tmp_path: Path):
    """Every cut: in the header, mid-row, and just after the newline inside row b's quoted field."""
    path = tmp_path / "r.csv"
    assert b'"two\n' in EXPECTED  # the cut after this newline leaves a torn row that ends in a newline
    for cut in range(len(EXPECTED)):
        path.write_bytes(EXPECTED[:cut])
        rec = Recorder(path, FIELDS, key=lambda r: r["name"])
        for row in ROWS:
            if row["name"] not in rec.keys:
                rec.append(row)
        assert path.read_bytes() == EXPECTED, cut


def test_whole_rows_are_never_cut_whatever_their_line_ends(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(EXPECTED.replace(b"\r\n", b"\n"))  # as an editor or git may leave it
    assert [r["name"] for r in Recorder(path, FIELDS).rows] == ["a", "b", "c"]
    assert path.read_bytes() == EXPECTED.replace(b"\r\n", b"\n")


def test_a_row_with_missing_fields_in_the_middle_is_one_clear_error(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"name,value,note\r\na,1\r\nb,2,x\r\n")
    with pytest.raises(RecordingMismatch, match=r"r\.csv:2: 2 fields, not 3"):
        Recorder(path, FIELDS)


def test_a_recording_with_a_json_resumes_only_when_the_checks_hold(tmp_path: Path):
    path = tmp_path / "r.csv"
    opts = Same("options", {"pairs": (3, 12)}, "{path}: other options {was}, not {now}")
    rec = Recorder(path, FIELDS, with_meta=True, checks=[opts, same_cpu()])
    rec.write_meta({"options": {"pairs": [3, 12]}, "machine": machine.current().to_dict(), "seconds": 5.0})
    rec.append(ROWS[0])
    assert json.loads(path.with_suffix(".json").read_text())["seconds"] == 5.0
    assert Recorder(path, FIELDS, with_meta=True, checks=[opts, same_cpu()]).meta["seconds"] == 5.0  # tuple == list

    other = Same("options", {"pairs": (5, 60)}, "{path}: other options {was}, not {now}")
    with pytest.raises(RecordingMismatch, match=r"other options \{'pairs': \[3, 12\]\}, not \{'pairs': \(5, 60\)\}"):
        Recorder(path, FIELDS, with_meta=True, checks=[other])

    rec.write_meta({"options": {"pairs": [3, 12]}, "machine": {"cpu_model": "Some Other CPU"}})
    with pytest.raises(RecordingMismatch, match="recorded on Some Other CPU, this is .*two CPUs must not mix"):
        Recorder(path, FIELDS, with_meta=True, checks=[opts, same_cpu()])
    rec.write_meta({"options": {"pairs": [3, 12]}})  # no machine recorded at all: not this one either
    with pytest.raises(RecordingMismatch, match="recorded on None"):
        Recorder(path, FIELDS, with_meta=True, checks=[same_cpu()])

    path.with_suffix(".json").unlink()
    with pytest.raises(RecordingMismatch, match=r"exists without r\.json; move it away"):
        Recorder(path, FIELDS, with_meta=True)
    assert path.read_bytes() == EXPECTED.splitlines(keepends=True)[0] + EXPECTED.splitlines(keepends=True)[1]


def test_a_json_without_its_csv_is_a_fresh_start(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.with_suffix(".json").write_text('{"options": "old"}')
    rec = Recorder(path, FIELDS, with_meta=True, checks=[Same("options", "new", "{path}: other")])
    assert rec.meta == {} and rec.rows == []


def test_checks_need_the_json():
    with pytest.raises(ValueError, match="with_meta"):
        Recorder(Path("/nonexistent/r.csv"), FIELDS, checks=[same_cpu()])


def test_other_columns_are_refused_not_shifted(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"name,value\r\na,1\r\n")
    with pytest.raises(RecordingMismatch, match=r"column 3: None there, 'note' here"):
        Recorder(path, FIELDS)
    assert path.read_bytes() == b"name,value\r\na,1\r\n"


# --- the committed recordings ---------------------------------------------------------------


def _copy(src: Path, dest: Path) -> Path:
    shutil.copy(src, dest / src.name)
    if src.with_suffix(".json").exists():
        shutil.copy(src.with_suffix(".json"), dest / src.with_suffix(".json").name)
    return dest / src.name


def test_the_committed_measurement_database_resumes_with_its_own_columns(tmp_path: Path):
    path = _copy(ROOT / "autotune" / "data" / "measurements.csv", tmp_path)
    before = path.read_bytes()
    db = col.Database(path)
    assert len(db.records) == before.count(b"\r\n") - 1 > 0
    assert before.startswith(",".join(col.FIELDS).encode() + b"\r\n")
    assert path.read_bytes() == before  # opening changes nothing


def test_the_committed_vectorization_grid_resumes_under_its_protocol(tmp_path: Path):
    from experiments import vectorization_data as vd
    from experiments.vectorization_grid import cell_key

    path = _copy(ROOT / "results" / "vectorization_grid.csv", tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    protocol = Same("options", meta["options"], "{path}: other options")
    rec = Recorder(path, vd.GRID_FIELDS, cell_key, with_meta=True, checks=[protocol])
    assert len(rec.keys) == len(rec.rows) == meta["rows"]
    with pytest.raises(RecordingMismatch, match="other options"):
        Recorder(
            path,
            vd.GRID_FIELDS,
            with_meta=True,
            checks=[Same("options", {**meta["options"], "seed": 1}, "{path}: other options")],
        )


def test_a_recording_of_fewer_leading_columns_is_widened_once_when_asked(tmp_path: Path):
    path = tmp_path / "r.csv"
    old = b'name,value\r\na,"1,5"\r\nb,2\r\nc,'  # the last row torn by a kill
    for fields in (("name", "value", "note"), ("value", "name", "note")):  # not the start of the header: refused
        path.write_bytes(old)
        with pytest.raises(RecordingMismatch):
            Recorder(path, fields)
        assert path.read_bytes() == old
    with pytest.raises(RecordingMismatch):
        Recorder(path, ("value", "name", "note"), extend=True)
    rec = Recorder(path, ("name", "value", "note"), extend=True)
    assert path.read_bytes() == b'name,value,note\r\na,"1,5",\r\nb,2,\r\n'
    assert rec.rows == [{"name": "a", "value": "1,5", "note": ""}, {"name": "b", "value": "2", "note": ""}]
    rec.append({"name": "d", "value": 4, "note": "new"})
    assert Recorder(path, ("name", "value", "note"), extend=True).rows[-1] == {"name": "d", "value": "4", "note": "new"}
