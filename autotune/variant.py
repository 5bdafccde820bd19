"""A configuration applied: transformed source, compile command, environment.

The untransformed program with default flags is the baseline. A config equal
to the default compiles the original source unchanged, so an A/A measurement
compares a binary with itself.

What each knob does to the source, the flags or the environment is written
by its family (`autotune.space.families`); this module puts the families'
parts together: the compile command, the environment (program-wide first,
then each loop's in source order), and the source edits. At one loop, the
edits of several families are written out in the ranks `families.base`
fixes: pragmas we insert stand right before their `for`, after any pragma
already there, in the one order clang accepts (parallel, loop order, tile,
hint), and the loop's work-sharing directive is rewritten once.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autotune.build import compilers
from autotune.kernel import Kernel
from autotune.machine import compiler_version
from autotune.space import Config, Space, families
from autotune.space.cparse import Loop
from autotune.space.families import LoopEdit, VariantDraft


@dataclass(frozen=True)
class DeviceCode:
    """The code a GPU-style variant runs on its device (the host program carries it built in).

    Why beside the host program: the encoder must read the kernel the knobs changed (its IR,
    `autotune.build.ir`), not the host program that launches it.
    """

    language: str  # opencl or cuda (the encoder's names)
    source: bytes  # the transformed kernel source
    options: tuple[str, ...]  # its build options (defines, math flags)


@dataclass(frozen=True)
class Variant:
    """Everything needed to build and run one configuration."""

    config: Config
    source: bytes | None  # transformed main file, None = the original file
    flags: list[str]  # compiler flags before the sources
    ldflags: list[str]
    env: dict[str, str]
    compiler: str  # compiler name (clang, gcc)
    device: DeviceCode | None = None  # GPU-style kernels: the device code inside the host program

    def build_key(self, kernel: Kernel) -> str:
        """Content hash of everything that determines the binary (not the env)."""
        h = hashlib.sha256()
        cc = compilers.resolve(self.compiler)
        h.update(json.dumps([self.compiler, cc, compiler_version(cc), self.flags, self.ldflags]).encode())
        h.update(self.source if self.source is not None else kernel.text)
        kernel.hash_files(h)
        return h.hexdigest()[:24]

    def compile_command(self, kernel: Kernel, main_file: Path, output: Path) -> list[str]:
        cc = compilers.resolve(self.compiler)
        srcs = [str(main_file), *(str(s.resolve()) for s in kernel.sources)]
        return [cc, *self.flags, *srcs, "-o", str(output), *self.ldflags]

    def commands(self, kernel: Kernel, main_file: Path | str, exe: Path | str) -> Commands:
        """How a person builds and runs this variant by hand (`autotune variant`, best_variant.sh)."""
        return Commands(self.compile_command(kernel, Path(main_file), Path(exe)), [str(exe), *kernel.args], self.env)


@dataclass(frozen=True)
class Commands:
    """A variant's build command, run command and run environment, as argument lists.

    Why one place: `autotune variant` prints them and `best_variant.sh` writes them; both must
    quote the same way, and a shell script needs some words (its own folder) left unquoted.
    """

    build: list[str]
    run: list[str]
    env: Mapping[str, str]

    def shell(self, literal: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(build line, run line); a word found in `literal` is written as its value there, unquoted."""
        lit = literal or {}

        def word(a: str) -> str:
            return lit[a] if a in lit else shlex.quote(a)

        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return " ".join(map(word, self.build)), " ".join([env, *map(word, self.run)]).strip()


def make_variant(kernel: Kernel, space: Space, config: Config) -> Variant:
    """Apply a (validated, canonical) configuration."""
    if kernel.language != "c":  # a GPU-style kernel applies its own knobs (autotune.gpu)
        return kernel.variant(space, config)  # type: ignore[attr-defined]
    draft = VariantDraft(kernel, space, space.canonical(config))
    for family in families.FAMILIES:
        family.apply(draft)
    defines = [*kernel.base_defines(), *draft.defines]
    flags = [*draft.flags, *kernel.cflags, *(f"-D{d}" for d in defines), *kernel.include_flags()]
    ldflags = [*kernel.ldflags, "-lm"]
    env = dict(draft.env)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the original bytes
    for loop in kernel.program.loops:
        edit = draft.loops.get(loop.index)
        if edit is not None:
            env.update(edit.env)
            edits += _source_edits(loop, edit)

    source: bytes | None = None
    if edits:
        src = kernel.text
        # apply back to front; at equal offsets keep insertion order stable
        for start, end, rep in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            src = src[:start] + rep.encode() + src[end:]
        source = "".join(draft.prelude).encode() + src
    return Variant(config=draft.config, source=source, flags=flags, ldflags=ldflags, env=env, compiler=draft.compiler)


def _source_edits(loop: Loop, edit: LoopEdit) -> list[tuple[int, int, str]]:
    """One loop's edits: the families' own, its work-sharing directive rewritten, then our pragmas inserted."""
    out = list(edit.edits)
    ws = loop.worksharing
    if ws is not None:
        text = ws.text
        for _, rewrite in sorted(edit.directive, key=lambda r: r[0]):
            text = rewrite(text)
        if text != ws.text:
            out.append((ws.arg_start, ws.arg_end, text))
    lines = [text for _, text in sorted(edit.pragmas, key=lambda p: p[0])]
    if lines:
        text = "".join(f"#pragma {ln}\n{loop.indent}" for ln in lines)
        out.append((loop.start, loop.start, ("\n" if loop.inline else "") + text))
    return out
