"""The user's program: its files, how to build it, and what the parser found.

Why one object: discovery, variants, builds and measurement all need the same
facts (sources, include dirs, defines, timing source), and reading and parsing
happen once, here, with every bad-input case turned into one clear line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from autotune.errors import UserError
from autotune.space import cparse

INCLUDE_DIR = Path(__file__).parent / "include"
TimingSource = Literal["region", "polybench", "wall"]
C_SUFFIXES = (".c",)


def _read_c(path: Path, role: str) -> bytes:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give the C file of the program")
    if path.suffix not in C_SUFFIXES:
        gpu = ", an OpenCL .cl kernel or a CUDA .cu program" if role == "program" else ""
        raise UserError(f"{path}: not a C source file (expected a .c file as the {role}{gpu})")
    return read_source(path, "C")


def read_source(path: Path, what: str) -> bytes:
    """A source file's bytes: it exists and is UTF-8 text, not binary, or one UserError naming it (`what`: "C"...)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    data = path.read_bytes()
    if b"\0" in data:
        raise UserError(f"{path}: binary file, not {what} source")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; is it {what} source?") from None
    return data


@dataclass
class Kernel:
    """A C program to tune: one main file whose loops we rewrite, plus extras."""

    path: Path
    sources: list[Path] = field(default_factory=list)  # extra .c files, compiled as they are
    include_dirs: list[Path] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)  # NAME or NAME=VALUE
    cflags: list[str] = field(default_factory=list)
    ldflags: list[str] = field(default_factory=list)
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # from --param
    args: list[str] = field(default_factory=list)  # program arguments
    rtol: float = 1e-6
    atol: float = 0.0
    text: bytes = field(default=b"", repr=False)  # the main file, read once by load()
    language = "c"  # what the main file is: c, opencl (`autotune.gpu.clkernel`) or cuda (`autotune.gpu.cukernel`)

    @classmethod
    def load(cls, path: str | Path, **kw) -> Kernel:
        """Read and check a program; raises UserError with the fix on bad input.

        The keywords are the fields above, as any sequences (a tuple, a list of str or
        Path); they are stored as the field types, so every caller gets the same Kernel.
        (OpenCL and CUDA kernels are `autotune.gpu`'s `ClKernel` and `CudaKernel`; `autotune.programs.load`
        picks by suffix.)
        """
        k = cls.fresh(path, **kw)
        for d in k.include_dirs:
            if not d.is_dir():
                raise UserError(f"-I {d}: no such directory")
        k.text = _read_c(k.path, "program")
        for s in k.sources:
            _read_c(s, "extra source")
        prog = k.program
        if not prog.functions:
            raise UserError(f"{k.path}: no C function found; is this a C program?")
        if not prog.has_main and not any(b"main" in s.read_bytes() for s in k.sources):
            raise UserError(
                f"{k.path}: no main() function; autotune runs whole programs (add extra files with --source)"
            )
        for name in k.params:
            if not name.isidentifier():
                raise UserError(f"--param {name}: not a valid C macro name")
        return k

    @classmethod
    def fresh(cls, path: str | Path, **kw):
        """An unread kernel of this class, the keywords stored as the field types (every `load` starts here)."""
        k = cls(Path(path), **kw)
        k.sources = [Path(s) for s in k.sources]
        k.include_dirs = [Path(d) for d in k.include_dirs]
        k.defines, k.cflags, k.ldflags, k.args = list(k.defines), list(k.cflags), list(k.ldflags), list(k.args)
        k.params = {name: tuple(values) for name, values in k.params.items()}
        return k

    @classmethod
    def from_options(cls, path: str | Path, options: Mapping[str, Any]) -> Kernel:
        """The program `options()` described, read and checked again (e.g. a study's kernel, reloaded)."""
        return cls.load(path, **options)

    def options(self) -> dict[str, Any]:
        """Everything besides the main file that defines the program, as JSON-able values.

        Why one place: a study records this dict and hashes it into its fingerprint, and
        `from_options` reads it back; the keys and their order are part of that record.
        """
        return {
            "sources": [str(s.resolve()) for s in self.sources],
            "include_dirs": [str(d.resolve()) for d in self.include_dirs],
            "defines": list(self.defines),
            "cflags": list(self.cflags),
            "ldflags": list(self.ldflags),
            "params": {k: list(v) for k, v in self.params.items()},
            "args": list(self.args),
            "rtol": self.rtol,
            "atol": self.atol,
        }

    @cached_property
    def program(self) -> cparse.Program:
        return cparse.parse(self.text)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def main_name(self) -> str:
        """The file name a variant's main source is compiled under (the build folder's copy)."""
        return self.path.name

    @cached_property
    def timing(self) -> TimingSource:
        """Which timer decides the time of a run (DESIGN.md section 2)."""
        incs = [Path(i).name for i in self.program.includes]
        if "autotune.h" in incs:
            return "region"
        if "polybench.h" in incs:
            return "polybench"
        return "wall"

    def base_defines(self) -> list[str]:
        """User defines plus those the timing source needs."""
        extra = ["POLYBENCH_TIME", "POLYBENCH_DUMP_ARRAYS"] if self.timing == "polybench" else []
        return [*self.defines, *(d for d in extra if d not in self.defines)]

    def hash_files(self, h) -> None:
        """Feed the extra sources and the headers beside the program (and in -I dirs) into hash `h`.

        One definition of "the files a build depends on besides the main text",
        shared by the build cache key and the study fingerprint.
        """
        for s in self.sources:
            h.update(s.read_bytes())
        for d in [self.path.resolve().parent, *self.include_dirs]:
            for hdr in sorted(Path(d).glob("*.h")):
                h.update(hdr.name.encode())
                h.update(hdr.read_bytes())

    def include_flags(self) -> list[str]:
        # the main file's own directory first, so `#include "x.h"` beside it
        # still resolves when a variant is compiled from the build folder
        dirs = [self.path.resolve().parent, *(d.resolve() for d in self.include_dirs), INCLUDE_DIR]
        return [f"-I{d}" for d in dirs]
