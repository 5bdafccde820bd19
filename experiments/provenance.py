"""Where a report's numbers came from: machine, commit, time, compiler, file digests.

Why a module of its own: every table in results/ states the command, machine, data version and
seeds beside its numbers (DESIGN.md section 5); the experiments share one way to say each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256_many(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def weights_digest() -> str:
    from encoder.embedding import WEIGHTS, file_digest

    return file_digest(WEIGHTS)


def machine_line() -> str:
    try:
        from autotune import machine

        m = machine.current()
        base = f"{m.cpu_model}, {machine.usable_cores()} usable cores"
    except Exception:
        base = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    # the run time depends on what else shares the machine: say how loaded it was
    return base + f" (1-min load average at the end: {os.getloadavg()[0]:.1f})"


def git_commit() -> str:
    """HEAD, with " + uncommitted changes" when tracked code differs from it (the numbers then come
    from a tree no commit holds yet: say so rather than name a commit that did not make them)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "autotune", "encoder", "experiments"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except Exception:
        return "unknown"
    return f"{head} + uncommitted changes" if changed else head


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def clang_version() -> str:
    try:
        from encoder.ir import clang_path

        out = subprocess.run([clang_path(), "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "clang"
    except Exception:
        return "clang (unknown version)"
