"""Who is related to whom among the recorded kernels: the groups a transfer evaluation must hold out whole.

Why this exists: a surrogate "transfers" only if it predicts kernels it never saw. Two records
are the same kernel when their sources are the same program (the normalised source hash: the
same C without comments and whitespace runs, whatever its file name), and two generated kernels
are close relatives when one template wrote both. Holding out a kernel while its twin, or a
sibling of its template, stays in training measures memory, not transfer. So every split of the
evaluation goes through `folds`, and `leaks` is the check a test runs on each fold.

Suite kernels are hand-written, one program each: their template is the kernel itself.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.kernelgen.base import normalize
from autotune.trials.workloads import Workload

__all__ = ["GROUPINGS", "Fold", "Identity", "folds", "identity", "leaks", "with_groups"]

GROUPINGS = ("kernel", "template")  # what `folds` can hold out whole


@dataclass(frozen=True)
class Identity:
    """What a recorded kernel is: its kernel set, its template and its normalised source hash."""

    kernel: str
    kernel_set: str  # "suite" or "generated"
    template: str  # the generator's template; a suite kernel's own name
    source_hash: str  # sha256 of the source without comments and whitespace runs


@functools.cache
def _generated_templates() -> dict[str, str]:
    from autotune.trials.workloads import KERNEL_SETS, ROOT

    path = ROOT / KERNEL_SETS["generated"] / "manifest.json"
    if not path.is_file():
        return {}
    import json

    return {k["name"]: k["template"] for k in json.loads(path.read_text())["kernels"]}


@functools.cache
def identity(kernel: str) -> Identity:
    """The identity of a recorded kernel name, found where `Workload.named` finds its file."""
    w = Workload.named(kernel, "MEDIUM")
    path = Path(__file__).resolve().parents[2] / w.folder / f"{kernel}.c"
    text = path.read_text() if path.is_file() else kernel
    digest = hashlib.sha256(normalize(text).encode()).hexdigest()
    templates = _generated_templates()
    if kernel in templates and w.folder != "kernels":
        return Identity(kernel, "generated", templates[kernel], digest)
    return Identity(kernel, "suite", kernel, digest)


def with_groups(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with columns kernel_set, template and source_hash from each row's kernel (a copy)."""
    ids = {k: identity(k) for k in df["kernel"].unique()}
    out = df.copy()
    out["kernel_set"] = out["kernel"].map(lambda k: ids[k].kernel_set)
    out["template"] = out["kernel"].map(lambda k: ids[k].template)
    out["source_hash"] = out["kernel"].map(lambda k: ids[k].source_hash)
    return out


@dataclass(frozen=True)
class Fold:
    """One held-out group: the row positions to train on and to test on."""

    name: str  # the held-out kernels or templates, joined by "+"
    train: np.ndarray
    test: np.ndarray


def folds(df: pd.DataFrame, by: str, only: Sequence[str] | None = None, k: int | None = None) -> Iterator[Fold]:
    """Leave-group-out folds of a frame from `with_groups`.

    `by="kernel"` holds out kernels, and with each every record whose source is the same
    program (same source hash); their template siblings stay in training, which is what
    "leave-kernel-out" means. `by="template"` holds out whole generator templates (a suite
    kernel is its own template), so no sibling is left to remember. `only` restricts which
    groups are held out (the others only ever train). `k` puts the held-out groups into `k`
    folds (every k-th in sorted order) instead of one fold per group: fewer models to fit,
    and still no held-out group is seen in training.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by={by!r}: one of {', '.join(GROUPINGS)}")
    key = df["kernel"] if by == "kernel" else df["template"]
    present = set(key)
    names = sorted(present) if only is None else sorted(n for n in only if n in present)
    sets = [names[i::k] for i in range(min(k, len(names)))] if k else [[n] for n in names]
    for held_names in sets:
        held = key.isin(held_names)
        # the same program under another name leaves training too (and, by template, every sibling)
        out = held | df["source_hash"].isin(set(df.loc[held, "source_hash"]))
        if by == "template":
            out |= df["template"].isin(set(df.loc[held, "template"]))
        yield Fold("+".join(held_names), np.flatnonzero(~out.to_numpy()), np.flatnonzero(held.to_numpy()))


def leaks(df: pd.DataFrame, fold: Fold, by: str) -> list[str]:
    """What of `fold`'s test rows is also in its training rows; [] when clean.

    Checked: the kernel and its source hash, and for `by="template"` the template too.
    """
    train, test = df.iloc[fold.train], df.iloc[fold.test]
    out = []
    for col in ("kernel", "source_hash") + (("template",) if by == "template" else ()):
        both = sorted(set(train[col]) & set(test[col]))
        if both:
            out.append(f"{col}: {', '.join(map(str, both[:5]))}")
    return out
