"""Who works on a study: worker labels, liveness, and one measuring worker per machine.

Why labels: several processes can share a study (on one machine through the journal file,
on several through a database server). Each trial carries its worker's label (host, pid,
process start time), so a RUNNING trial whose process is gone can be told from one that is
still being measured. The start time guards against a recycled pid.

Why one worker per machine: two processes timing programs on the same cores time each other
(the same configuration was seen at 1.34x and 2.16x). A worker registers itself on the study
(a study user attribute per worker); one that finds an earlier live worker on its machine
is refused, unless both were given CPU sets (`--cpus`) that do not overlap.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from autotune import machine
from autotune.errors import UserError, option
from autotune.search.history import WORKER

PREFIX = "worker "  # study user attributes "worker <host> <pid>": the workers that opened the study
UNLABELLED_GRACE_S = 60.0  # a RUNNING trial without a worker label this old is a crash's leftover


me = machine.process_label  # this process's label; `cpus`: the CPUs its measurements are pinned to
alive = machine.process_alive  # the labelled process still runs (a zombie does not)


def dead(t: FrozenTrial) -> bool:
    """A RUNNING trial whose worker is gone: a dead process of this host, or an unlabelled leftover.

    A worker elsewhere is judged by its trial's heartbeat instead (`Session.recover`), where the
    storage keeps one.
    """
    w = t.user_attrs.get(WORKER)
    if w is None:
        started = t.datetime_start.timestamp() if t.datetime_start else time.time()
        return time.time() - started > UNLABELLED_GRACE_S
    return w.get("host") == socket.gethostname() and not alive(w)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("host") == b.get("host") and a.get("pid") == b.get("pid") and a.get("started") == b.get("started")


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The two workers may time on the same CPU (either unpinned, or their sets share one)."""
    if a.get("cpus") is None or b.get("cpus") is None:
        return True
    return bool(set(a["cpus"]) & set(b["cpus"]))


def claim(study: optuna.Study, cpus: Sequence[int] | None = None) -> dict[str, Any]:
    """Register this process as a measuring worker of `study`; refuse if it would time beside another.

    The earlier of two live workers on one machine keeps the study (both register first, then
    look, so two started together cannot both be refused nor both go on). Returns the label.
    """
    label = me(cpus)
    study.set_user_attr(f"{PREFIX}{label['host']} {label['pid']}", label)
    for name, w in study.user_attrs.items():
        if not name.startswith(PREFIX) or not isinstance(w, dict) or _same(w, label):
            continue
        if w.get("host") != label["host"] or not alive(w) or not _overlap(w, label):
            continue
        if (w["started"], w["pid"]) < (label["started"], label["pid"]):
            mine = f" on CPUs {','.join(map(str, w['cpus']))}" if w.get("cpus") is not None else ""
            raise UserError(
                f"study {study.study_name!r} already has a worker measuring on this machine (pid {w['pid']}{mine}); "
                f"two workers on one machine time each other: give each its own {option('cpus', flag='--cpus')} "
                "set (e.g. 0 and 1), or start this one on another machine"
            )
    return label
