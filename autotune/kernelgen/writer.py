"""Generate a set of kernels, keep the distinct verified ones, write them with their manifest.

Why quotas per template and candidate indexes: evaluation holds whole templates out, so every
template gets its share of the count (the first templates one more when it does not divide).
A template's candidates are drawn at index 0, 1, 2, ...; a candidate whose normalized source
equals an earlier one is skipped, one that fails verification is listed as rejected with its
reason, and drawing goes on until the quota is filled (or 4x the quota + 8 candidates were
tried). Since every candidate depends only on (seed, template, index), the whole set is
reproducible, and a kernel's name carries its index.

What is written: one `.c` per kernel, `manifest.json` (deterministic: no times, no dates, so a
re-run can be compared byte for byte) and `verification.json` (the region times of every check
run and the machine; a record, not an input).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotune.kernelgen.base import Generated, Template, generate
from autotune.kernelgen.cgen import DEFAULT_PRESET, PRESETS
from autotune.kernelgen.verify import RUN_TIMEOUT_S, SCHEDULES, Verification

Check = Callable[[Generated], Verification]
MANIFEST = "manifest.json"
VERIFICATION = "verification.json"


@dataclass
class Outcome:
    """What one generation produced."""

    kernels: list[tuple[Generated, Verification | None]] = field(default_factory=list)
    rejected: list[tuple[Generated, str]] = field(default_factory=list)
    duplicates: list[Generated] = field(default_factory=list)
    short: dict[str, int] = field(default_factory=dict)  # template -> kernels missing from its quota

    @property
    def candidates(self) -> int:
        return len(self.kernels) + len(self.rejected) + len(self.duplicates)


def quotas(count: int, templates: Sequence[Template]) -> list[int]:
    """Kernels per template: an even share, the remainder to the first templates."""
    base, extra = divmod(count, len(templates))
    return [base + (1 if i < extra else 0) for i in range(len(templates))]


def generate_set(
    seed: int,
    count: int,
    templates: Sequence[Template],
    check: Check | None = None,
    progress: Callable[[Generated, Verification | None, str], None] | None = None,
) -> Outcome:
    """Draw candidates template by template until each quota holds distinct (and, with `check`, verified) kernels."""
    out = Outcome()
    seen: set[str] = set()
    for template, quota in zip(templates, quotas(count, templates), strict=True):
        accepted, index = 0, 0
        while accepted < quota and index < 4 * quota + 8:
            g = generate(template, seed, index)
            index += 1
            key = g.normalized_sha256
            if key in seen:
                out.duplicates.append(g)
                if progress:
                    progress(g, None, "duplicate")
                continue
            seen.add(key)
            verdict = check(g) if check else None
            if verdict is not None and not verdict.ok:
                out.rejected.append((g, verdict.reason))
                if progress:
                    progress(g, verdict, "rejected")
                continue
            out.kernels.append((g, verdict))
            accepted += 1
            if progress:
                progress(g, verdict, "ok")
        if accepted < quota:
            out.short[template.name] = quota - accepted
    return out


def manifest(
    outcome: Outcome, seed: int, count: int, templates: Sequence[Template], sizes: Sequence[str] | None, command: str
) -> dict[str, Any]:
    """The manifest: same spirit as kernels/manifest.json, plus what the generator and verifier decided.

    `sizes`: the sizes every kernel was verified at (None: written without verification).
    """
    return {
        "version": 1,
        "about": (
            "Kernels written by autotune.kernelgen: complete deterministic C/OpenMP programs that keep the kernel "
            "contract (region timer, checksums, -D<SIZE>_DATASET presets whose size macros -D can override). "
            "Group by `template` (or `family`) to hold whole templates out of training. `sha256` is the file's "
            "hash, `normalized_sha256` that of its source without comments and whitespace runs (distinct for "
            "every kernel). `verified`: built with clang -O2 -fopenmp and run at the `verification` sizes with "
            "1 and 2 threads and every schedule, all outputs identical."
        ),
        "generator": "autotune.kernelgen",
        "command": command,
        "seed": seed,
        "count": count,
        "size_flag": "-D{size}_DATASET",
        "sizes": list(PRESETS),
        "default_size": DEFAULT_PRESET,
        "verification": {
            "sizes": list(sizes),
            "compiler": "clang-22 -O2 -fopenmp (autotune.variant with opt=O2)",
            "runs": ["threads=1 (reference)", "threads=2", *(f"threads=2 schedule={s}" for s in SCHEDULES)],
            "chunks": "1 at MINI, 16 above (guided: default)",
            "rule": "every output identical to the threads=1 output; region timer printed; no nan/inf",
            "run_timeout_s": RUN_TIMEOUT_S,
        }
        if sizes
        else None,
        "templates": {t.name: {"family": t.family, "summary": t.summary} for t in templates},
        "kernels": [
            {
                "name": g.name,
                "file": g.file,
                "template": g.template,
                "family": g.family,
                "seed": g.seed,
                "index": g.index,
                "rng_seed": g.rng_seed,
                "description": g.description,
                "params": g.params,
                "sizes": g.sizes,
                "sha256": g.sha256,
                "normalized_sha256": g.normalized_sha256,
                "verified": v is not None and v.ok,
            }
            for g, v in outcome.kernels
        ],
        "rejected": [
            {"name": g.name, "template": g.template, "index": g.index, "params": g.params, "reason": reason}
            for g, reason in outcome.rejected
        ],
        "duplicates_skipped": [g.name for g in outcome.duplicates],
    }


def write(out_dir: Path, outcome: Outcome, man: dict[str, Any], record: dict[str, Any] | None = None) -> None:
    """Write the sources and the manifest; files a previous manifest here listed and this one does not are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    old = out_dir / MANIFEST
    keep = {k["file"] for k in man["kernels"]}
    if old.exists():
        try:
            stale = [k["file"] for k in json.loads(old.read_text()).get("kernels", [])]
        except (json.JSONDecodeError, AttributeError, KeyError, TypeError):
            stale = []
        for name in stale:
            path = out_dir / Path(name).name
            if name not in keep and path.suffix == ".c" and path.exists():
                path.unlink()
    for g, _ in outcome.kernels:
        (out_dir / g.file).write_text(g.source)
    old.write_text(json.dumps(man, indent=1) + "\n")
    if record is not None:
        (out_dir / VERIFICATION).write_text(json.dumps(record, indent=1) + "\n")


def verification_record(outcome: Outcome, machine: dict[str, Any], wall_s: float) -> dict[str, Any]:
    """The region times of every check run (seconds, 4 significant digits) and where they were taken."""

    def rounded(v: Verification) -> dict[str, dict[str, float]]:
        return {size: {label: float(f"{s:.4g}") for label, s in runs.items()} for size, runs in v.seconds.items()}

    return {
        "about": "Region times of the verification runs (not a measurement: one run each, machine possibly busy).",
        "machine": machine,
        "wall_seconds": round(wall_s, 1),
        "kernels": {g.name: rounded(v) for g, v in outcome.kernels if v is not None},
    }
