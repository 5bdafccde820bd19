"""The one resumable recorder: an append-only CSV of fixed columns, one row per finished measurement.

Why one: the measurement database (`autotune collect`), the replay recordings
(experiments/record_replay.py) and the vectorization grid (experiments/vectorization.py)
each take hours, are killed and rerun, and must never mix rows of two machines or two
protocols. What they share lives here, once:

* resume: the rows already on disk are read back, and `keys` says which measurements they
  hold, so a rerun measures only what is missing;
* repair: a kill during an append can leave half a row; it is cut off
  (`encoder.atomic.drop_partial_line`; a row torn just after a newline inside a quoted field
  is recognised too) before anything else is appended;
* checks: a recording that keeps a JSON beside it (its sub-space, protocol options, machine)
  is resumed only when every `Same` the caller names matches that JSON, and never without it;
  a CSV whose columns are not the caller's is refused too (appending would shift them);
* durability: `append` writes one row, flushes and fsyncs before it returns.

The format is the `csv` module's default dialect (CRLF line ends, minimal quoting) with the
caller's values written as they come: the committed recordings are in it, and callers format
their numbers themselves, so the files stay byte-identical to what they were.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotune.errors import UserError
from encoder.atomic import atomic_write_bytes, atomic_write_text, drop_partial_line

__all__ = ["Recorder", "RecordingMismatch", "Same", "read_rows", "same_cpu"]

Row = dict[str, str]


class RecordingMismatch(UserError):
    """A recording on disk that this run must not append to (other machine, protocol, space or columns)."""


@dataclass(frozen=True)
class Same:
    """A value a resumed recording must share with this run, read from the JSON beside the CSV.

    `field` is a dotted path into that JSON ("options", "machine.cpu_model"); `value` is this
    run's value, compared as JSON (so a tuple equals the list it was recorded as); `message`
    says why the two must not mix and may use {path}, {was} and {now}.
    """

    field: str
    value: Any
    message: str

    def recorded(self, meta: Mapping[str, Any]) -> Any:
        v: Any = meta
        for part in self.field.split("."):
            v = v.get(part) if isinstance(v, Mapping) else None
        return v

    def holds(self, meta: Mapping[str, Any]) -> bool:
        return self.recorded(meta) == json.loads(json.dumps(self.value))


def same_cpu() -> Same:
    """The check every timed recording makes: speedups measured on two CPU models must not mix."""
    from autotune import machine

    return Same(
        "machine.cpu_model",
        machine.current().cpu_model,
        "{path}: recorded on {was}, this is {now}; speedups from two CPUs must not mix",
    )


def read_rows(path: Path) -> list[Row]:
    """Every row of a recording as text (what `csv` reads back); [] when there is no file."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _text(v: Any) -> str:
    """A value as the `csv` module writes it, so rows in memory equal rows read back."""
    return "" if v is None else str(v)


class Recorder:
    """An append-only CSV with fixed `fields`, resumed from what is on disk.

    key: what identifies a measurement in a row (read back as text); `keys` holds the keys of
    every row recorded, by earlier runs and by this one.
    with_meta: the recording keeps a JSON beside it (`path.with_suffix(".json")`); an existing
    CSV without it is refused, and `checks` are made against it. Without a JSON, `checks` must
    be empty.
    extend: a CSV whose columns are the first of `fields` (a recording of an earlier version, before
    columns were added at the end) is rewritten once, at once, with the new header and its rows'
    new cells empty; without it, such a CSV is refused like any other header.
    Raises RecordingMismatch before touching the file when a check fails.
    """

    def __init__(
        self,
        path: Path,
        fields: Sequence[str],
        key: Callable[[Mapping[str, str]], Hashable] | None = None,
        *,
        with_meta: bool = False,
        checks: Sequence[Same] = (),
        extend: bool = False,
    ) -> None:
        if checks and not with_meta:
            raise ValueError("checks are made against the JSON beside the CSV: pass with_meta=True")
        self.path = Path(path)
        self.fields = tuple(fields)
        self.meta_path = self.path.with_suffix(".json")
        self._key = key
        self.meta: dict[str, Any] = {}  # the JSON of the recording resumed ({} for a new one)
        self.rows: list[Row] = []
        if self.path.exists():
            if with_meta:
                self.meta = self._check(checks)
            self._check_columns(extend)
            drop_partial_line(self.path)  # a row cut mid-line
            self.rows = self._read_complete()  # ... or cut after a newline inside a quoted field
        self.keys: set[Hashable] = {key(r) for r in self.rows} if key is not None else set()

    def _check(self, checks: Sequence[Same]) -> dict[str, Any]:
        if not self.meta_path.exists():
            raise RecordingMismatch(f"{self.path}: exists without {self.meta_path.name}; move it away to record afresh")
        meta = json.loads(self.meta_path.read_text())
        for c in checks:
            if not c.holds(meta):
                raise RecordingMismatch(c.message.format(path=self.path, was=c.recorded(meta), now=c.value))
        return meta

    def _check_columns(self, extend: bool = False) -> None:
        """Appending under another header would shift every column: refuse (a torn header is repaired instead),
        or with `extend`, widen a header that is the start of this one (`_widen`)."""
        with self.path.open("rb") as f:
            first = f.readline()
        if not first.endswith(b"\n"):
            return
        header = tuple(next(csv.reader([first.decode()])))
        if header == self.fields:
            return
        if extend and len(header) < len(self.fields) and self.fields[: len(header)] == header:
            self._widen(len(header))
            return
        i = next(i for i in range(max(len(header), len(self.fields))) if header[i : i + 1] != self.fields[i : i + 1])
        was, now = (h[i] if i < len(h) else None for h in (header, self.fields))
        raise RecordingMismatch(
            f"{self.path}: recorded with other columns (column {i + 1}: {was!r} there, {now!r} here); "
            "move it away to record afresh"
        )

    def _widen(self, had: int) -> None:
        """Rewrite the file under this header, each complete row with its new cells empty (one atomic
        replace: a kill leaves the old file or the new one). A torn last row is dropped, as a resume would."""
        drop_partial_line(self.path)
        with self.path.open(newline="") as f:
            rows = [r for r in csv.reader(f) if r][1:]
        rows = [r for r in rows if len(r) == had]  # a row torn after a newline in a quoted field: cut off
        buf = io.StringIO(newline="")
        w = csv.writer(buf)
        w.writerow(self.fields)
        w.writerows(r + [""] * (len(self.fields) - had) for r in rows)
        atomic_write_bytes(self.path, buf.getvalue().encode("utf-8"))

    def _read_complete(self) -> list[Row]:
        """The rows on disk; a last row torn after a newline inside a quoted field is cut off too.

        Such a row ends in a newline, so `drop_partial_line` keeps it; it is told by its quotes:
        a whole row has an even number of them (fields are quoted in pairs, quotes inside doubled),
        a row cut inside a quoted field an odd one.
        """
        ends: list[int] = []  # byte offset after each physical line

        def lines():
            with self.path.open("rb") as f:
                for line in f:
                    ends.append((ends[-1] if ends else 0) + len(line))
                    yield line.decode()

        reader = csv.reader(lines())
        records = [(r, reader.line_num) for r in reader if r]
        if len(records) > 1:
            start = ends[records[-2][1] - 1]
            with self.path.open("r+b") as f:
                f.seek(start)
                if f.read().count(b'"') % 2:
                    f.truncate(start)
                    records.pop()
        rows = []
        for r, line in records[1:]:
            if len(r) != len(self.fields):
                raise RecordingMismatch(f"{self.path}:{line}: {len(r)} fields, not {len(self.fields)}; repair it")
            rows.append(dict(zip(self.fields, r, strict=True)))
        return rows

    def append(self, row: Mapping[str, Any]) -> None:
        """Write one row (missing fields empty, unknown ones refused) and fsync it before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields)
            if new:
                w.writeheader()
            w.writerow(row)
            f.flush()
            os.fsync(f.fileno())
        text = {k: _text(row.get(k)) for k in self.fields}
        self.rows.append(text)
        if self._key is not None:
            self.keys.add(self._key(text))

    def write_meta(self, meta: Mapping[str, Any]) -> None:
        """Replace the JSON beside the CSV at once (a reader sees the old one or the new one)."""
        atomic_write_text(self.meta_path, json.dumps(meta, indent=1) + "\n")
