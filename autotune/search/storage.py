"""Where studies live, and what each records about itself.

Why a journal file by default: Optuna's JournalStorage appends every
operation to one file with an fsync, so a finished measurement survives
Ctrl-C, a crash or `kill -9`, and a second process (or `autotune report`)
can read the study while a run is writing it. Any Optuna RDB URL
(`sqlite:///...`, `postgresql://...`) works too, for several machines (autotune.search.server).

Why a fingerprint: measurements only make sense for the program and options
they were taken with. A study records its kernel, a hash of the kernel's
files, options and search space, and the machine; reopening it for another
program, or on another CPU model, is refused with one clear line instead of
silently mixing numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import optuna
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend

from autotune import machine, programs
from autotune.errors import UserError, option
from autotune.kernel import Kernel
from autotune.paths import cache_dir
from autotune.search import server
from autotune.space import Space
from autotune.trials.records import space_from_spec, space_spec

META = "autotune"  # the study user attribute that holds what the study records


def default_location() -> Path:
    """The embedded store: one journal file for all studies of this project (under autotune.paths)."""
    return cache_dir("studies") / "journal.log"


def open_storage(url: str | None = None, heartbeat: tuple[int, int] | None = None) -> tuple[BaseStorage, str]:
    """An Optuna storage and the text that reopens it (an RDB URL or a journal file path).

    `heartbeat`: (interval, grace period) in seconds of an RDB storage's trial heartbeats
    (default `server.HEARTBEAT`); a trial whose worker stopped beating that long is stale.
    """
    if url is None:
        path = default_location()
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path))), str(path)
    if "://" in url:
        return server.open_rdb(url, heartbeat), url
    path = Path(url)
    if path.is_dir():
        raise UserError(
            f"{option('storage', url)}: is a directory; give a journal file (e.g. {path}/journal.log) or a URL"
        )
    if not path.parent.is_dir():
        raise UserError(f"{option('storage', url)}: no such directory {path.parent}")
    try:
        return JournalStorage(JournalFileBackend(str(path))), str(path)
    except OSError as exc:
        raise UserError(f"{option('storage', url)}: cannot open it ({exc.strerror})") from None


def trial_id(storage: BaseStorage, study_name: str, number: int) -> int:
    """The storage's id of trial `number`: what BaseStorage's trial setters take, found by public calls.

    Why here: writing to a trial outside ask/tell (marking one a dead process left
    RUNNING) needs the storage and this id; Optuna's public API offers both, given
    the storage the study was opened on (`open_storage` returns it).
    """
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study_name), number)


# --- what a study records -----------------------------------------------------------
def text_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(kernel: Kernel, space: Space) -> str:
    """Hash of the program's files, its options and the search space."""
    h = hashlib.sha256()
    h.update(kernel.text)
    kernel.hash_files(h)
    h.update(json.dumps([kernel.options(), space_spec(space)], sort_keys=True).encode())
    return h.hexdigest()


def default_study_name(kernel: Kernel, fp: str) -> str:
    """Readable and unique per program and options: `<stem>[-<define>...]-<fingerprint[:8]>`."""
    parts = [kernel.name, *(re.sub(r"[^A-Za-z0-9_.=+]", "_", d) for d in kernel.defines), fp[:8]]
    return "-".join(parts)


def make_meta(kernel: Kernel, space: Space, strategy: str, seed: int) -> dict[str, Any]:
    return {
        "kernel": str(kernel.path),
        "kernel_path": str(kernel.path.resolve()),
        "kernel_sha256": text_hash(kernel.text),
        "fingerprint": fingerprint(kernel, space),
        "program": kernel.options(),
        "space": space_spec(space),
        "machine": machine.current().to_dict(),
        "strategy": strategy,
        "seed": seed,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def open_study(
    storage: BaseStorage,
    name: str,
    meta: dict[str, Any],
    sampler: BaseSampler,
    allow_other_machine: bool = False,
) -> optuna.Study:
    """Create the study, or reopen it after checking it is the same program on the same CPU model.

    Workers started together race to create it: the one that loses (Optuna's
    DuplicatedStudyError) opens the study the winner made, as a later worker would.
    """
    try:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
    except KeyError:
        try:
            study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, direction="maximize")
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
        else:
            study.set_user_attr(META, meta)
            return study
    old = study.user_attrs.get(META)
    if old is None:
        if study.get_trials(deepcopy=False):
            raise UserError(
                f"study {name!r} exists but was not made by autotune run; choose another {option('study')} name"
            )
        study.set_user_attr(META, meta)  # created, then killed before it was labelled
        return study
    if old.get("fingerprint") != meta["fingerprint"]:
        defines = " ".join(f"-D{d}" for d in old.get("program", {}).get("defines", []))
        raise UserError(
            f"study {name!r} exists for another kernel or other options ({old.get('kernel')} {defines}".rstrip()
            + f"); choose another {option('study')} name"
        )
    was, now = old.get("machine", {}).get("cpu_model"), meta["machine"]["cpu_model"]
    if was != now and not allow_other_machine:
        raise UserError(
            f"study {name!r} was measured on another machine ({was}), this is {now}; "
            f"speedups do not transfer between CPUs: choose another {option('study')} name, "
            f"or pass {option('allow_other_machine', True)}"
        )
    if old.get("strategy") != meta["strategy"]:
        study.set_user_attr(META, {**old, "strategy": meta["strategy"]})
    return study


def load_study(storage: BaseStorage, spec: str, name: str) -> optuna.Study:
    """An existing autotune study, for reports."""
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False))
        have = f"; it has: {', '.join(names)}" if names else "; it has no studies"
        raise UserError(f"no study named {name!r} in {spec}{have}") from None
    if META not in study.user_attrs:
        raise UserError(f"study {name!r} in {spec} was not made by autotune run")
    return study


def meta_of(study: optuna.Study) -> dict[str, Any]:
    return dict(study.user_attrs[META])


def space_of(study: optuna.Study) -> Space:
    """The search space exactly as the study recorded it (not rediscovered on this machine)."""
    return space_from_spec(meta_of(study)["space"])


def kernel_of(study: optuna.Study) -> Kernel | None:
    """The study's program, reloaded; None when its main file is gone or has changed since."""
    meta = meta_of(study)
    path = Path(meta.get("kernel_path", meta["kernel"]))
    if not path.exists() or text_hash(path.read_bytes()) != meta.get("kernel_sha256"):
        return None
    return programs.from_options(path, meta["program"])
