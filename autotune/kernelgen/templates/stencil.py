"""Stencils in 1, 2 and 3 dimensions with time steps (one template per dimension, one family).

What varies: the neighbourhood (star of radius 1 or 2, box of radius 1) and its weights, the
scheme (Jacobi ping-pong between two arrays, a sweep followed by a copy-back, or an in-place
red-black Gauss-Seidel whose two half-sweeps each read only the other colour), a variable
coefficient array, float or double, where the parallel loop stands (outer, `collapse`, the
second spatial loop, or `omp for` inside one parallel region around the time loop) and the
schedule. Every point of a sweep is written once from values no other thread writes in it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import MAX_ELEMENTS, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0
VARS = ("i", "j", "k")


def offsets(dims: int, shape: str, radius: int) -> list[tuple[int, ...]]:
    """The neighbours of a point (the centre excluded), in a fixed order."""
    if shape == "box":
        return [o for o in itertools.product(range(-radius, radius + 1), repeat=dims) if any(o)]
    out = []
    for axis in range(dims):
        for dist in [*range(-radius, 0), *range(1, radius + 1)]:
            out.append(tuple(dist if a == axis else 0 for a in range(dims)))
    return out


class Stencil:
    family = "stencil"

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.name = f"stencil{dims}d"
        self.summary = f"{dims}-D stencil with time steps: star/box, Jacobi/copy/red-black, collapse or inner parallel"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        d = self.dims
        shape = rng.choice(["star", "star", "box"])
        radius = 1 if shape == "box" else rng.choice([1, 1, 2])
        scheme = rng.choice(["jacobi", "copy", "redblack"] if shape == "star" and radius == 1 else ["jacobi", "copy"])
        pars = ["outer", "region"] + (["collapse", "inner"] if d > 1 else [])
        if scheme == "redblack" and "collapse" in pars:
            pars.remove("collapse")  # the innermost bounds depend on the outer indices
        par = rng.choice(pars)
        n_off = len(offsets(d, shape, radius))
        return {
            "shape": shape,
            "radius": radius,
            "weights": [rng.randint(1, 9) for _ in range(n_off + 1)],  # centre first
            "scheme": scheme,
            "varcoef": rng.random() < 0.3,
            "dtype": rng.choices(["double", "float"], [3, 1])[0],
            "par": par,
            "schedule": schedule_clause(rng, fine=d == 1 or par in ("inner", "collapse")),
            "tsteps": rng.choice([4, 8, 16, 32]) if d > 1 else rng.choice([16, 32, 64]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        d, t, r = self.dims, p["dtype"], p["radius"]
        f = "f" if t == "float" else ""
        offs = offsets(d, p["shape"], r)
        total = sum(p["weights"])
        weights = [lit(w / total) + f for w in p["weights"]]
        sweeps = 2 if p["scheme"] in ("jacobi", "copy") else 2  # two sweeps (or half-sweeps) per time step
        collapse_cost = {"collapse": {2: 2.0, 3: 3.5}.get(d, 0.0)}.get(p["par"], 0.0)  # the index is recomputed
        per_point = 0.1 * (len(offs) + 1) + 0.2 + (0.15 if p["varcoef"] else 0.0) + collapse_cost
        steps = p["tsteps"]
        forks = (lambda n: sweeps * n) if p["par"] == "inner" else (lambda n: sweeps)
        if p["scheme"] == "redblack":
            per_point += 0.3  # half the points per half-sweep, at a stride of two
        if t == "float":
            per_point *= 0.6  # twice the vector lanes
        n = fit_presets(lambda n: steps * (sweeps * per_point * n**d + FORK * forks(n)), 8 + 2 * r, 50_000_000)
        n = {pr: min(v, int(MAX_ELEMENTS ** (1 / d))) for pr, v in n.items()}
        sizes = {pr: {"N": n[pr], "TSTEPS": steps if pr != "MINI" else min(steps, 4)} for pr in n}
        dims = "[N]" * d
        glob = [f"static {t} A{dims};", f"static {t} B{dims};"] + ([f"static {t} K{dims};"] if p["varcoef"] else [])
        count = " * ".join(["(long)N"] * d)
        first = "[0]" * d
        init = [
            f"for (long q = 0; q < {count}; q++) {{",
            f"    (&A{first})[q] = ({t})gen_val(q, 41);",
            f"    (&B{first})[q] = (&A{first})[q];",
        ]
        if p["varcoef"]:
            init.append(f"    (&K{first})[q] = ({t})(0.25 + 0.75 * gen_val(q, 42));")
        init.append("}")

        def ref(arr: str, off: tuple[int, ...]) -> str:
            return arr + "".join(
                f"[{v}{'+' if o > 0 else '-'}{abs(o)}]" if o else f"[{v}]" for v, o in zip(VARS[:d], off, strict=True)
            )

        def expr(src: str) -> str:
            terms = [f"{weights[0]} * {ref(src, (0,) * d)}"]
            terms += [f"{w} * {ref(src, o)}" for w, o in zip(weights[1:], offs, strict=True)]
            lines, cur = [], ""
            for term in terms:
                if len(cur) + len(term) > 70 and cur:
                    lines.append(cur)
                    cur = ""
                cur += (" + " if cur else "") + term
            lines.append(cur)
            return "\n    + ".join(lines) if len(lines) > 1 else lines[0]

        def update(dst: str, src: str) -> str:
            centre = ref(src, (0,) * d)
            if p["varcoef"]:
                return f"{ref(dst, (0,) * d)} = {centre} + {ref('K', (0,) * d)} * ({expr(src)} - {centre});"
            return f"{ref(dst, (0,) * d)} = {expr(src)};"

        ws = "for" if p["par"] == "region" else "parallel for"
        clause = {"collapse": f"collapse({d})"}.get(p["par"], "")

        def nest(stmt: str, redblack: bool = False, with_schedule: bool = True, base: int = 8) -> list[str]:
            sched = p["schedule"] if with_schedule else ""
            out: list[str] = []
            if p["par"] != "inner":
                out.append(omp(ws, clause, sched))
            for depth, v in enumerate(VARS[:d]):
                pad = " " * (base + 4 * depth)
                if redblack and depth == d - 1:
                    others = " + ".join(VARS[: d - 1]) or "0"
                    start = f"{r} + (({others}) + 1 + c) % 2" if d > 1 else f"{r} + (1 + c) % 2"
                    head = f"for (int {v} = {start}; {v} < N - {r}; {v} += 2)"
                else:
                    head = f"for (int {v} = {r}; {v} < N - {r}; {v}++)"
                if p["par"] == "inner" and depth == 1:
                    out.append(omp("parallel for", sched))
                out.append(pad + head + (" {" if p["par"] == "inner" and depth == 0 else ""))
            body = stmt.replace("\n", "\n" + " " * (base + 4 * d))
            out.append(" " * (base + 4 * d) + body)
            if p["par"] == "inner":
                out.append(" " * base + "}")
            return out

        if p["scheme"] == "jacobi":
            step = nest(update("B", "A")) + nest(update("A", "B"))
            what = "Jacobi ping-pong A -> B -> A"
        elif p["scheme"] == "copy":
            step = nest(update("B", "A")) + nest(f"{ref('A', (0,) * d)} = {ref('B', (0,) * d)};", with_schedule=False)
            what = "a sweep A -> B and a copy back"
        else:
            step = ["        for (int c = 0; c < 2; c++) {"]
            step += nest(update("A", "A"), redblack=True, base=12)
            step.append("        }")
            what = "in-place red-black Gauss-Seidel (two half-sweeps)"
        if p["par"] == "region":
            kern = [
                "static void kernel_run(void)",
                "{",
                omp("parallel"),
                "    for (int t = 0; t < TSTEPS; t++) {",
                *step,
                "    }",
                "}",
            ]
        else:
            kern = ["static void kernel_run(void)", "{", "    for (int t = 0; t < TSTEPS; t++) {", *step, "    }", "}"]
        where = {
            "outer": "outer spatial loop",
            "collapse": f"collapse({d})",
            "inner": "second spatial loop",
            "region": "omp for inside one parallel region around the time loop",
        }[p["par"]]
        printer = "print_sumf" if t == "float" else "print_sum"
        return CProgram(
            description=(
                f"{d}-D {p['shape']} stencil of radius {r} ({len(offs) + 1} points, weights summing to 1) over "
                f"{t}s, TSTEPS steps of {what}{', variable coefficients' if p['varcoef'] else ''}; "
                f"parallel {where}, schedule '{p['schedule'] or 'default'}'."
            ),
            sizes=sizes,
            globals="\n".join(glob),
            init="\n".join(init),
            kernel="\n".join(kern),
            results=f'{printer}("{self.name} A", &A{first}, {count});',
        )
