"""An OpenCL kernel as the engine's `Kernel`: its source, its launch description, and what a build depends on.

Why a Kernel at all: studies, the build cache, the measurement protocol and the trial records all
take a `Kernel`. An OpenCL kernel's variants are C programs (`autotune.gpu.program`), so the
engine can take it as it takes C, once the space and the variants come from this package
(`autotune.space.discover.build_space` and `autotune.variant.make_variant` hand over here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from autotune.errors import UserError
from autotune.gpu import describe
from autotune.gpu.clsource import Function
from autotune.gpu.program import HOST
from autotune.kernel import Kernel, TimingSource, read_source
from autotune.space import Config, Space

if TYPE_CHECKING:  # variant imports the build package, which imports variant: read it once that is done
    from autotune.variant import Variant

CL_SUFFIXES = (".cl",)


@dataclass
class ClKernel(Kernel):
    """An OpenCL C kernel file plus the description of its launch (`kernel.toml` beside it)."""

    description: describe.Description | None = field(default=None, repr=False)
    language = "opencl"

    @classmethod
    def load(cls, path: str | Path, **kw) -> ClKernel:
        """Read the kernel and its description; `-D NAME=VALUE` overrides a size of the description."""
        k = cls.fresh(path, **kw)
        if k.sources or k.include_dirs or k.cflags or k.ldflags or k.params or k.args:
            raise UserError(
                f"{k.path}: an OpenCL kernel takes its launch from {describe.description_path(k.path).name}; "
                "--source, -I, --cflags, --ldflags, --param and program arguments apply to C programs only"
            )
        k.text = read_source(k.path, "OpenCL C")
        k.description = describe.load(k.path, k.text, _overrides(k.path, k.defines))
        if "rtol" not in kw:
            k.rtol = k.description.rtol
        if "atol" not in kw:
            k.atol = k.description.atol
        return k

    @cached_property
    def function(self) -> Function:
        """The described kernel's parse."""
        assert self.description is not None
        return describe.kernel_of(self.description, self.text)

    @property
    def main_name(self) -> str:
        """The variant's C main file: the host program with the spec and kernel built in."""
        return f"{self.path.stem}.host.c"

    @cached_property
    def timing(self) -> TimingSource:  # type: ignore[override]
        return "region"  # clhost prints the kernel's profiling-event time as a region line

    def base_defines(self) -> list[str]:
        return []  # sizes reach the kernel through its build options, not the host program's compile

    def include_flags(self) -> list[str]:
        return []

    def space(self) -> Space:
        """The search space on the device that will run it (`autotune.gpu.clspace`)."""
        from autotune.gpu import clspace, device

        return clspace.build_space(self, device.current())

    def variant(self, space: Space, config: Config) -> Variant:
        """A configuration applied (`autotune.gpu.clspace.make_variant`)."""
        from autotune.gpu import clspace

        return clspace.make_variant(self, space, config)

    def hash_files(self, h) -> None:
        """The description and the host program: both are part of every variant's binary."""
        assert self.description is not None
        h.update(self.description.path.read_bytes())
        h.update(HOST.read_bytes())


def _overrides(path: Path, defines: list[str]) -> dict[str, int]:
    out = {}
    for d in defines:
        m = re.fullmatch(r"([A-Za-z_]\w*)=(\d+)", d)
        if not m:
            raise UserError(f"-D {d}: an OpenCL kernel's -D sets a size of its description: NAME=INTEGER ({path})")
        out[m.group(1)] = int(m.group(2))
    return out
