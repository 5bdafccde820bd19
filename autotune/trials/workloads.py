"""What a collection samples: kernels of the kernel sets (our suite, the generator's programs) at size presets.

Why apart from `collect`: the surrogate's featurizer finds a recorded kernel's file by name
(`Workload.named`) without needing the collection machinery.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autotune.errors import UserError
from autotune.kernel import Kernel

ROOT = Path(__file__).resolve().parents[2]

# The kernel sets a collection can sample, each a folder with a manifest.json: our hand-written suite and
# the generator's verified programs (autotune.kernelgen), which are there to teach the surrogate transfer.
KERNEL_SETS = {"suite": "kernels", "generated": "kernels/generated"}


@dataclass(frozen=True)
class Workload:
    """A kernel of one of the KERNEL_SETS at one size preset: what a collection samples configurations of."""

    kernel: str  # kernel name (file stem), unique across the sets
    size: str  # MINI / SMALL / MEDIUM / LARGE
    folder: str = "kernels"  # where it lives, relative to the repository (KERNEL_SETS)

    @property
    def study(self) -> str:
        return f"{self.kernel}@{self.size}"

    def load(self, kernel_dir: Path | None = None) -> Kernel:
        """The kernel at this size preset (from `kernel_dir` when given, else from its own folder)."""
        base = kernel_dir if kernel_dir is not None else ROOT / self.folder
        return Kernel.load(base / f"{self.kernel}.c", defines=[f"{self.size}_DATASET"])

    @classmethod
    def named(cls, kernel: str, size: str) -> Workload:
        """The workload of a recorded kernel name, whichever set it belongs to (the suite first)."""
        for folder in KERNEL_SETS.values():
            if (ROOT / folder / f"{kernel}.c").is_file():
                return cls(kernel, size, folder)
        return cls(kernel, size)


def manifest_of(kernel_dir: Path) -> tuple[list[str], list[str]]:
    """(kernel names, size presets) of a kernel set's manifest.json: the one reader of it."""
    manifest = json.loads((kernel_dir / "manifest.json").read_text())
    return [k["file"].removesuffix(".c") for k in manifest["kernels"]], list(manifest["sizes"])


def suite_tasks(
    kernels: Sequence[str] | None, sizes: Sequence[str], kernel_dir: Path = ROOT / "kernels"
) -> list[Workload]:
    """Every (kernel, size) of a kernel set's manifest, or those named; a bad name is one clear error."""
    names, presets = manifest_of(kernel_dir)
    unknown = sorted(set(kernels or ()) - set(names))
    if unknown:
        raise UserError(f"--kernels: not in {kernel_dir}/manifest.json: {', '.join(unknown)}")
    bad = sorted(set(sizes) - set(presets))
    if bad:
        raise UserError(f"--sizes: unknown size {', '.join(bad)}; choose from {', '.join(presets)}")
    folder = str(kernel_dir.resolve().relative_to(ROOT)) if kernel_dir.resolve().is_relative_to(ROOT) else "kernels"
    return [Workload(n, s, folder) for s in sizes for n in names if not kernels or n in kernels]


def set_tasks(sets: Sequence[str], kernels: Sequence[str] | None, sizes: Sequence[str]) -> list[Workload]:
    """The workloads of the named KERNEL_SETS (`--set suite,generated`); `kernels` may name kernels of any of them."""
    unknown = sorted(set(sets) - set(KERNEL_SETS))
    if unknown:
        raise UserError(f"--set: unknown kernel set {', '.join(unknown)}; choose from {', '.join(KERNEL_SETS)}")
    out: list[Workload] = []
    for s in sets:
        folder = ROOT / KERNEL_SETS[s]
        names = set(manifest_of(folder)[0])
        mine = [k for k in kernels if k in names] if kernels else None
        if kernels and not mine:
            continue
        out += suite_tasks(mine, sizes, folder)
    missing = sorted(set(kernels or ()) - {w.kernel for w in out})
    if missing:
        raise UserError(f"--kernels: in none of the sets {', '.join(sets)}: {', '.join(missing)}")
    return out
