"""Where the measurement database is, and writing to it safely from several processes at once.

Why these rules:

* location: `--db URL` (or `db=`), else `$AUTOTUNE_DB`, else the embedded SQLite file under
  autotune.paths (`$AUTOTUNE_CACHE/measurements.db`, default `.autotune/measurements.db`); a
  plain path is a SQLite file, any SQLAlchemy URL a server shared by many machines;
* one transaction per record: a kill loses at most the record being written;
* two processes appending at once (a run and a collection on one machine): SQLite in WAL mode
  with a busy timeout, so a writer waits for the other instead of failing; the table is created
  race-safe (a creation that loses the race finds the table on its retry);
* passwords: a URL is shown only masked (`user:***@host`), and a driver's message is scrubbed
  of the password before it is shown;
* a database that cannot be opened is one line naming the (masked) URL and the fix;
* the work comes first: `Appender` turns a failed write into one warning, and the run goes on.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.engine import URL, Engine, make_url

from autotune.errors import UserError
from autotune.measure import Measurement
from autotune.paths import DB_ENV, database_path
from autotune.trials.db.schema import Program, entry, measurements, metadata

BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for another one before it gives up
EXAMPLE = "sqlite:///path/measurements.db or postgresql://user@host/dbname"


def resolve(url: str | None = None) -> tuple[str, bool]:
    """(the database URL, whether the user named it): `url`, else $AUTOTUNE_DB, else the default file."""
    given = url or os.environ.get(DB_ENV) or None
    text = given or str(database_path())
    if "://" not in text:  # a file path: the embedded SQLite database
        text = f"sqlite:///{Path(text).expanduser().resolve()}"
    return text, given is not None


def mask(url: str) -> str:
    """The URL with its password replaced by ***, for every message and every printout."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: mask what looks like user:password@
        return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", url)


def scrub(text: str, url: str) -> str:
    """A driver's message without the URL's password (some drivers echo their connection string)."""
    try:
        password = make_url(url).password
    except Exception:
        password = None
    out = text.replace(url, mask(url))
    return out.replace(str(password), "***") if password else out


def why_not(exc: BaseException, url: str) -> str:
    """One line: why the database cannot be used, and what to do about it."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = scrub(re.sub(r"\s*\(Background on this error.*$", "", first), url)
    if isinstance(exc, NoSuchModuleError):
        kind = url.split(":", 1)[0]
        return f"unknown database kind {kind!r}; give a SQLAlchemy URL such as {EXAMPLE}"
    if isinstance(exc, ArgumentError):
        return f"not a database URL ({first}); give one such as {EXAMPLE}"
    if isinstance(exc, ImportError):
        return f"its driver is not installed ({first}); install the driver, or use a SQLite file: {EXAMPLE}"
    return f"{first}; check the URL, that the server is up and that you may write there"


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, connection_record) -> None:  # every new connection: WAL, wait for writers
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    return engine


class Store:
    """An open measurement database (its table created if it was not there)."""

    def __init__(self, url: str) -> None:
        self.url = url
        u = make_url(url)
        self.engine = _sqlite_engine(u) if u.get_backend_name() == "sqlite" else create_engine(u, pool_pre_ping=True)
        self._create()

    @classmethod
    def open(cls, url: str | None = None, existing: bool = False) -> Store:
        """The database at `url` (see `resolve`), or UserError naming the masked URL and the fix.

        existing: a SQLite file must be there already (reading commands do not create an empty one).
        """
        text, _ = resolve(url)
        if existing and text.startswith("sqlite:///") and not Path(text.removeprefix("sqlite:///")).is_file():
            raise UserError(
                f"no measurement database at {mask(text)}; `autotune run`, `measure` and `collect` fill it, "
                "`autotune db import CSV` loads a collect CSV into it (or give another with --db)"
            )
        try:
            return cls(text)
        except Exception as exc:  # sqlalchemy, drivers and the OS raise many kinds; all mean "cannot use it"
            raise UserError(f"measurement database {mask(text)}: cannot open it: {why_not(exc, text)}") from None

    def _create(self, attempts: int = 5) -> None:
        """Create the table and its indexes unless there; another process creating them at once is fine."""
        for i in range(attempts):
            try:
                metadata.create_all(self.engine, checkfirst=True)
                return
            except Exception:
                if i == attempts - 1:
                    raise
                time.sleep(0.05 * (i + 1))  # the other process is creating it: look again

    @property
    def shown(self) -> str:
        return mask(self.url)

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one record in its own transaction."""
        with self.engine.begin() as c:
            c.execute(insert(measurements), [dict(record)])

    def add_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append records in one transaction (all or none: an import that fails leaves nothing half done)."""
        if records:
            with self.engine.begin() as c:
                c.execute(insert(measurements), [dict(r) for r in records])

    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(measurements)).scalar_one())

    def rows(self, sources: Iterable[str] | None = None, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Records in the order they were added, as dicts (only `columns` when given)."""
        cols = [measurements.c[n] for n in columns] if columns else [measurements]
        q = select(*cols).order_by(measurements.c.id)
        if sources is not None:
            q = q.where(measurements.c.source.in_(list(sources)))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def close(self) -> None:
        self.engine.dispose()


def warn_on_stderr(message: str) -> None:
    print(f"autotune: warning: {message}", file=sys.stderr)


class Appender:
    """Records measurements as they finish; a failed write warns once and the work goes on.

    Why never fail: the measurement is already in the study (or the collect CSV); losing its
    copy in the database costs a training record, failing the run would cost the user's time.
    `program`, `source` and `ci_target` are the defaults of every record; `record` may override.
    """

    def __init__(
        self,
        store: Store | None,
        program: Program | None = None,
        source: str = "run",
        ci_target: float | None = None,
        seed: int | None = None,
        warn: Callable[[str], None] = warn_on_stderr,
    ) -> None:
        self.store = store
        self.program = program
        self.source = source
        self.ci_target = ci_target
        self.seed = seed
        self.warn = warn
        self.written = 0
        self.failed = 0

    @classmethod
    def open(cls, url: str | None = None, record: bool = True, warn: Callable[[str], None] = warn_on_stderr, **kw):
        """An appender to the database at `url`, or one that records nothing (`record=False`).

        A database the user named (`url`, $AUTOTUNE_DB) that cannot be opened is bad input
        (UserError, before anything is measured); the default file failing only warns.
        """
        if not record:
            return cls(None, warn=warn, **kw)
        text, named = resolve(url)
        try:
            return cls(Store.open(text), warn=warn, **kw)
        except UserError as exc:
            if named:
                raise
            warn(f"{exc}; measurements are not recorded in it")
            return cls(None, warn=warn, **kw)

    def record(self, m: Measurement, program: Program | None = None, **extra: Any) -> bool:
        """Append `m` (extra: `entry`'s keywords); True when it was written."""
        if self.store is None:
            return False
        try:
            extra.setdefault("seed", self.seed)
            extra.setdefault("ci_target", self.ci_target)
            prog = program or self.program
            if prog is None:
                raise ValueError("no program to record the measurement under")
            self.store.add(entry(m, prog, source=extra.pop("source", self.source), **extra))
        except Exception as exc:  # the database is a copy: never let it stop the work
            self.failed += 1
            if self.failed == 1:
                self.warn(
                    f"could not record a measurement in {self.store.shown} ({why_not(exc, self.store.url)}); "
                    "the work goes on (--no-record skips the database)"
                )
            return False
        self.written += 1
        return True

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
