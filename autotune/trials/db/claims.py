"""One collection plan shared by several machines: each draw is measured once, by whoever claims it.

Why: identical machines collecting into one server with the same seed follow the same plan
(every draw is derived from seed, kernel, size and index), so without coordination they
would all measure the same draws. A machine claims a draw (one row in `claims`, keyed by the
draw and the machine fingerprint) before measuring it and drops the claim once its record is
in `measurements`; the database's primary key decides a race, so two machines never both win.

Why a claim can be taken over: a worker killed mid-measurement leaves its claim behind. On
its own host that is seen at once (the process is gone); from another host only by age, so a
claim older than `ttl` (far longer than one measurement) is treated as abandoned.

Why per machine fingerprint: a draw measured on a different CPU or compiler is another
measurement, not a repeat, so only identical machines share a plan.

A failing database never stops the work (as `Appender`): claiming then says yes and warns
once; the worst case is a draw measured twice.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from autotune import machine
from autotune.trials.db.schema import claims, machine_columns, measurements, now_utc
from autotune.trials.db.store import Store, warn_on_stderr, why_not

CLAIM_TTL_S = 3 * 3600.0  # a claim from another host this old is abandoned (a measurement takes minutes)


class Claims:
    """The draws of one seed that this machine (fingerprint) and its twins have done or are doing."""

    def __init__(
        self,
        store: Store,
        seed: int,
        machine_id: str | None = None,
        ttl_s: float = CLAIM_TTL_S,
        warn: Callable[[str], None] = warn_on_stderr,
    ) -> None:
        self.store = store
        self.seed = seed
        self.machine_id = machine_id or machine_columns(machine.current().to_dict())["machine_id"]
        self.ttl_s = ttl_s
        self.warn = warn
        self.me = machine.process_label()
        self._failed = False

    def _key(self, kernel: str, size: str | None, index: int) -> dict[str, Any]:
        return {
            "kernel": kernel,
            "size": size or "",
            "seed": self.seed,
            "draw_index": index,
            "machine_id": self.machine_id,
        }

    def _recorded(self, kernel: str | None = None, size: str | None = None):
        """Records of identical machines in `measurements` (of `kernel@size`, where a size may be NULL)."""
        m = measurements.c
        conds = [m.machine_id == self.machine_id]
        if kernel is not None:
            conds += [m.kernel == kernel, m.size == size if size else m.size.is_(None)]
        return and_(*conds)

    def _where(self, table, key: dict[str, Any]):
        """The draw's row in `claims`, or its collect record in `measurements`."""
        if table is claims:
            return and_(*(claims.c[n] == v for n, v in key.items()))
        m = measurements.c
        return and_(
            self._recorded(key["kernel"], key["size"]),
            m.source == "collect",
            m.seed == key["seed"],
            m.draw_index == key["draw_index"],
        )

    def _abandoned(self, row: dict[str, Any], now: dt.datetime) -> bool:
        w = row["worker"] or {}
        if w.get("host") == socket.gethostname():
            return not machine.process_alive(w)
        return (now - row["claimed"]).total_seconds() > self.ttl_s

    def _fail(self, exc: BaseException) -> None:
        if not self._failed:
            self._failed = True
            self.warn(
                f"could not coordinate with other machines through {self.store.shown} "
                f"({why_not(exc, self.store.url)}); collecting on without claims (a draw may be measured twice)"
            )

    def done(self) -> dict[tuple[str, str], set[int]]:
        """(kernel, size) -> draw indices of this seed recorded or claimed (live) by identical machines."""
        out: dict[tuple[str, str], set[int]] = {}
        try:
            with self.store.engine.connect() as c:
                m = measurements.c
                q = select(m.kernel, m.size, m.draw_index).where(
                    self._recorded(), m.source == "collect", m.seed == self.seed
                )
                for k, s, i in c.execute(q):
                    if i is not None:
                        out.setdefault((k, s or ""), set()).add(int(i))
                now = now_utc()
                q2 = select(claims).where(claims.c.seed == self.seed, claims.c.machine_id == self.machine_id)
                for row in c.execute(q2).mappings():
                    if not self._abandoned(dict(row), now):
                        out.setdefault((row["kernel"], row["size"]), set()).add(int(row["draw_index"]))
        except Exception as exc:  # the server is away: plan from the local CSV alone
            self._fail(exc)
        return out

    def configs(self, kernel: str, size: str | None) -> set[str]:
        """Configuration keys of `kernel@size` that identical machines recorded (any seed)."""
        try:
            with self.store.engine.connect() as c:
                return {r[0] for r in c.execute(select(measurements.c.config_key).where(self._recorded(kernel, size)))}
        except Exception as exc:
            self._fail(exc)
            return set()

    def claim(self, kernel: str, size: str | None, index: int) -> bool:
        """True: this process now holds the draw; False: another machine recorded it or is measuring it."""
        key = self._key(kernel, size, index)
        try:
            with self.store.engine.begin() as c:
                if c.execute(select(measurements.c.id).where(self._where(measurements, key)).limit(1)).first():
                    return False
                row = c.execute(select(claims).where(self._where(claims, key))).mappings().first()
                if row is not None:
                    if not self._abandoned(dict(row), now_utc()):
                        return False
                    # take it over, unless another process took it over first (then it is no longer this row)
                    c.execute(delete(claims).where(self._where(claims, key), claims.c.claimed == row["claimed"]))
                c.execute(insert(claims), [{**key, "worker": self.me, "claimed": now_utc()}])
            return True
        except IntegrityError:  # another machine inserted the same draw first
            return False
        except Exception as exc:
            self._fail(exc)
            return True

    def take(self, kernel: str, size: str | None, indices: list[int], want: int) -> list[int]:
        """The first `want` of `indices` this process could claim.

        Why claims come before a cut to `--max-records`: cutting first would drop a draw another
        machine holds together with the free draws after it, and those would be left out of the
        plan for good (the plan's next block starts after them)."""
        got: list[int] = []
        for i in indices:
            if len(got) == want:
                break
            if self.claim(kernel, size, i):
                got.append(i)
        return got

    def release(self, kernel: str, size: str | None, index: int) -> None:
        """Drop this process's claim (its record is written, or it was stopped before measuring)."""
        key = self._key(kernel, size, index)
        try:
            with self.store.engine.begin() as c:
                c.execute(delete(claims).where(self._where(claims, key)))
        except Exception as exc:
            self._fail(exc)
