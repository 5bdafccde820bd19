"""A study on a database server that several workers share (PostgreSQL, or any Optuna RDB URL).

What a shared server adds to the embedded journal, and how each is met:

* a worker elsewhere can die with its trial RUNNING: trials beat (Optuna's heartbeat, recorded
  by `Session` while it measures), and a trial silent for the grace period is failed by
  `Session.recover` and its configuration retried once;
* workers started together on a fresh database race to create Optuna's tables: the losers
  (UniqueViolation, "already exists") look again and find the tables made;
* the server restarts, or the network drops, during a study: every pooled connection is
  tested before use (`pool_pre_ping`), and a call that finds the server away waits for it
  (up to `WAIT_FOR_SERVER_S`, saying so once on stderr) instead of killing a worker with a
  measurement in hand. The waiting wraps whole storage calls (the public ones, and the
  private ones Optuna's cache calls behind them, `CACHE_CALLS`); a call cut off while its
  commit was in flight may be done twice, which Optuna's trial states make harmless except
  for an extra, unlabelled trial that the next recovery fails;
* a password never appears in a message (`mask`, `scrub`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage

from autotune.errors import UserError, option
from autotune.trials.db.store import mask, scrub

HEARTBEAT = (15, 60)  # seconds between a running trial's heartbeats, and silence after which it is stale
CREATE_ATTEMPTS = 5  # workers that open a fresh database together race to create its tables
WAIT_FOR_SERVER_S = 180.0  # how long a storage call waits for a server that went away


def transient(exc: BaseException) -> BaseException | None:
    """The error (in `exc`'s chain) of a server that is away (restarting, unreachable); None: a real error."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OperationalError | InterfaceError | PendingRollbackError):
            return e  # PendingRollbackError: a session whose connection the restart broke; Optuna rolled it back
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return e
        e = e.__cause__ or e.__context__
    return None


def _waiting(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, retried while the server is away, for up to WAIT_FOR_SERVER_S."""

    @functools.wraps(fn)
    def call(self: ServerStorage, *args: Any, **kwargs: Any) -> Any:
        deadline, pause, told = time.monotonic() + WAIT_FOR_SERVER_S, 0.25, False
        while True:
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:
                away = transient(exc)
                if away is None or time.monotonic() > deadline:
                    raise
                if not told:
                    print(
                        f"autotune: storage {mask(self.url)}: the server is away; waiting up to "
                        f"{WAIT_FOR_SERVER_S:.0f} s for it ({scrub(_first_line(away), self.url)})",
                        file=sys.stderr,
                        flush=True,
                    )
                    told = True
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    return call


class ServerStorage(RDBStorage):
    """Optuna's RDB storage whose every public call waits out a server restart (see the module)."""


# Optuna's cache (_CachedStorage, which every study puts in front of an RDB storage) calls these
# private methods of its backend directly; a restart can cut any of them off as well.
CACHE_CALLS = ("_create_new_trial", "_set_trial_param", "_get_best_trial_id", "_get_trials", "_get_stale_trial_ids")

for _name, _fn in inspect.getmembers(RDBStorage, inspect.isfunction):
    if not _name.startswith("_") or _name in CACHE_CALLS:
        setattr(ServerStorage, _name, _waiting(_fn))


def beats(storage: BaseStorage | None) -> bool:
    """The storage keeps trial heartbeats (an RDB storage opened by `open_rdb`)."""
    return isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None


@contextlib.contextmanager
def heartbeat(storage: BaseStorage | None, tid: Callable[[], int]) -> Iterator[None]:
    """Record a trial's heartbeat while it runs, so workers elsewhere see it live (RDB storages).

    `tid`: the trial's storage id (`storage.trial_id`), asked only where the storage keeps heartbeats.
    """
    if not beats(storage):
        yield
        return
    assert isinstance(storage, RDBStorage)
    trial = tid()
    stop = threading.Event()

    def beat() -> None:
        while True:
            with contextlib.suppress(Exception):  # the server is away (a restart): beat again next time
                storage.record_heartbeat(trial)
            if stop.wait(storage.get_heartbeat_interval()):
                return

    thread = threading.Thread(target=beat, name="autotune-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def open_rdb(url: str, heartbeat: tuple[int, int] | None = None) -> ServerStorage:
    """The storage of an RDB URL, with heartbeats (interval, grace period; default HEARTBEAT) on.

    A URL that cannot be opened (no driver, wrong password, no server there) is one line
    naming the masked URL, as a UserError.
    """
    interval, grace = heartbeat or HEARTBEAT
    last: Exception | None = None
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():  # heartbeat_interval is marked experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return ServerStorage(
                    url, engine_kwargs={"pool_pre_ping": True}, heartbeat_interval=interval, grace_period=grace
                )
        except Exception as exc:  # sqlalchemy, drivers and Optuna raise many kinds; all mean the same here
            last = exc
            if not _creation_race(exc):
                break
            time.sleep(0.2 * (attempt + 1))
    assert last is not None
    reason = _first_line(last)
    if "Failed to import DB access module" in reason:
        reason = f"no database driver for {url.split(':', 1)[0]} is installed (pip install 'psycopg[binary]')"
    # never a password in a message: the URL masked, and the driver's echo of it scrubbed
    raise UserError(f"{option('storage', mask(url))}: cannot open it ({scrub(reason, url)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _creation_race(exc: Exception) -> bool:
    """The error of a worker that lost the race to create the tables (another worker made them)."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    text = str(exc)
    return isinstance(exc, IntegrityError | ProgrammingError) and (
        "already exists" in text or "UniqueViolation" in text or "duplicate key" in text
    )
