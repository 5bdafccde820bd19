"""The template protocol, the seeded random stream of one kernel, and what a generated kernel is.

Why a derived seed per (seed, template, index): a kernel must come out byte-identical on every
run and machine, and must not change when another template is added or the count grows. So
every kernel draws from its own `random.Random`, seeded with an integer derived by SHA-256 from
the three values (never `hash()` of a string, which Python salts per process).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from autotune.kernelgen.cgen import CProgram, render

Params = dict[str, Any]


class Template(Protocol):
    """One kind of generated kernel: it draws parameters and turns them into a C program.

    `name` is unique across the registry (evaluation holds whole templates out by it);
    `family` groups templates that exercise the same thing (e.g. the three stencil templates).
    `draw` must use only `rng` (and no set or dict iteration order it does not control);
    `build` must be a pure function of the parameters.
    """

    name: str
    family: str
    summary: str

    def draw(self, rng: random.Random) -> Params: ...

    def build(self, params: Mapping[str, Any]) -> CProgram: ...


def derived_seed(seed: int, template: str, index: int) -> int:
    """A 64-bit seed for one kernel, the same on every machine and Python process."""
    digest = hashlib.sha256(f"autotune.kernelgen/{seed}/{template}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Generated:
    """One generated program, before verification."""

    name: str  # e.g. "stencil2d-007"; also the file stem
    template: str
    family: str
    seed: int  # the generation's seed
    index: int  # the candidate's index within its template
    rng_seed: int  # derived_seed(seed, template, index)
    params: Params
    sizes: dict[str, dict[str, int]]
    description: str
    source: str

    @property
    def file(self) -> str:
        return f"{self.name}.c"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    @property
    def normalized_sha256(self) -> str:
        return hashlib.sha256(normalize(self.source).encode()).hexdigest()


def generate(template: Template, seed: int, index: int) -> Generated:
    """The `index`-th candidate of `template` for generation `seed`."""
    rng_seed = derived_seed(seed, template.name, index)
    params = template.draw(random.Random(rng_seed))
    prog = template.build(params)
    name = f"{template.name}-{index:03d}"
    header = {"template": template.name, "family": template.family, "seed": seed, "index": index}
    source = render(name, header, params, prog)
    return Generated(
        name, template.name, template.family, seed, index, rng_seed, dict(params), prog.sizes, prog.description, source
    )


_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def normalize(source: str) -> str:
    """The program without comments and with whitespace runs collapsed: what 'distinct' is measured on.

    The header comment names the kernel, its seed and index, so two draws that produce the same
    program would otherwise always differ.
    """
    return " ".join(_COMMENT.sub(" ", source).split())
