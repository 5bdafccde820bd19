"""Data layout changes: transposes and tensor permutations of rank 2 to 4 (loop nests of depth 2-4).

What varies: the rank, the permutation, whether the loops follow the source's layout (writes
strided) or the destination's (reads strided), the dimension ratios, where the parallel loop
stands (outer, `collapse(2)`, `collapse(3)`), the schedule and a little arithmetic per element.
Each destination element is written once per repetition by one thread.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import MAX_ELEMENTS, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0


class Permute:
    name = "permute"
    family = "layout"
    summary = "transpose / tensor permutation of rank 2-4, source- or destination-ordered loops, collapse"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        rank = rng.choice([2, 3, 3, 4, 4])
        perm = list(range(rank))
        while perm == sorted(perm):
            rng.shuffle(perm)
        pars = ["outer", "collapse2"] + (["collapse3"] if rank >= 3 else [])
        par = rng.choice(pars)
        return {
            "rank": rank,
            "perm": perm,
            "ratios": [rng.choice([1, 1, 2]) for _ in range(rank)],
            "order": rng.choice(["source", "destination"]),
            "par": par,
            "scale": round(rng.uniform(0.5, 1.5), 3),
            "decay": rng.choice([0.0, 0.5]),
            "schedule": schedule_clause(rng, fine=par != "outer"),
            "reps": rng.choice([2, 4, 8, 16]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        rank, perm, ratios, reps = p["rank"], p["perm"], p["ratios"], p["reps"]
        scatter = perm[-1] != rank - 1  # the innermost index moves: one side is read or written with a stride
        total = 1
        for r in ratios:
            total *= r

        def work(n: int) -> float:
            elements = total * n**rank
            # a strided side costs little while both arrays fit in cache, a cache miss per element beyond
            stride_cost = (1.0 if elements * 16 < (16 << 20) else 3.0) if scatter else 0.0
            collapse_cost = {"outer": 0.0, "collapse2": 0.5, "collapse3": 1.0}[p["par"]]
            return reps * (elements * (1.3 + stride_cost + collapse_cost) + FORK)

        n = fit_presets(work, 4, 5000)
        n = {pr: min(v, int((MAX_ELEMENTS / total) ** (1 / rank))) for pr, v in n.items()}
        dims = [f"D{d}" for d in range(rank)]
        sizes = {pr: {**{dims[d]: n[pr] * ratios[d] for d in range(rank)}, "REPS": reps} for pr in n}
        idx = [f"i{d}" for d in range(rank)]
        a_ref = "A" + "".join(f"[{i}]" for i in idx)
        b_ref = "B" + "".join(f"[{idx[d]}]" for d in perm)
        order = list(range(rank)) if p["order"] == "source" else list(perm)
        collapse = {"outer": "", "collapse2": "collapse(2)", "collapse3": "collapse(3)"}[p["par"]]
        lines = [
            "static void kernel_run(void)",
            "{",
            "    for (int r = 0; r < REPS; r++) {",
            "        double s = 1.0 + 0.01 * r;",
            omp("parallel for", collapse, p["schedule"]),
        ]
        for depth, d in enumerate(order):
            lines.append(" " * (8 + 4 * depth) + f"for (int {idx[d]} = 0; {idx[d]} < {dims[d]}; {idx[d]}++)")
        lines.append(" " * (8 + 4 * rank) + f"{b_ref} = {lit(p['decay'])} * {b_ref} + {lit(p['scale'])} * s * {a_ref};")
        lines += ["    }", "}"]
        a_dims = "".join(f"[{d}]" for d in dims)
        b_dims = "".join(f"[{dims[d]}]" for d in perm)
        count = " * ".join(f"(long){d}" for d in dims)
        access = ("strided " + ("writes" if p["order"] == "source" else "reads")) if scatter else "unit stride"
        return CProgram(
            description=(
                f"B = decay * B + scale * permute(A, {perm}) for a rank-{rank} tensor, REPS times; loops in "
                f"{p['order']} order ({access}), parallel {p['par']}, schedule '{p['schedule'] or 'default'}'. "
                "Each element of B written by one thread."
            ),
            sizes=sizes,
            globals=f"static double A{a_dims};\nstatic double B{b_dims};",
            init="\n".join(
                [
                    f"for (long k = 0; k < {count}; k++) {{",
                    f"    (&A{'[0]' * rank})[k] = gen_val(k, 31);",
                    f"    (&B{'[0]' * rank})[k] = gen_val(k, 32);",
                    "}",
                ]
            ),
            kernel="\n".join(lines),
            results=f'print_sum("permute B", &B{"[0]" * rank}, {count});',
        )
