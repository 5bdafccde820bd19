"""Dense linear algebra: matrix-vector and matrix-matrix products, row-major or transposed.

What varies: the product (gemv as a dot per row, gemv in axpy form with the parallel loop at the
inner depth, gemm), the loop order of gemm (i-j-k with a private accumulator, or i-k-j
updating a row of C), whether an operand is read transposed (column-wise), where the parallel
loop stands (outer, `collapse(2)`, inner) and the schedule. Each output element accumulates its
terms in one thread in a fixed order, so no result depends on the thread count or the schedule.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0


class Dense:
    name = "dense"
    family = "dense"
    summary = "gemv (dot or axpy form, row or column access) and gemm (ijk/ikj, transposed B), depth 2-4"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        kind = rng.choice(["gemv", "gemv", "gemm", "gemm"])
        if kind == "gemv":
            form = rng.choice(["dot", "axpy"])
            par = "outer" if form == "dot" else "inner"
            order = "ij" if form == "dot" else "ji"
        else:
            form = rng.choice(["dot", "row-update"])
            order = "ijk" if form == "dot" else "ikj"
            par = rng.choice(["outer", "collapse", "inner"] if form == "dot" else ["outer", "outer", "inner"])
        return {
            "kind": kind,
            "form": form,
            "order": order,
            "transposed": rng.random() < 0.4,
            "par": par,
            "alpha": round(rng.uniform(0.5, 1.5), 3),
            "beta": rng.choice([0.0, 0.5, 0.25]),
            "schedule": schedule_clause(rng, fine=par == "inner"),
            "reps": rng.choice([1, 2, 4]) if kind == "gemm" else rng.choice([4, 8, 16]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        return self._gemv(p) if p["kind"] == "gemv" else self._gemm(p)

    def _gemv(self, p: Mapping[str, Any]) -> CProgram:
        reps, tr = p["reps"], p["transposed"]
        a = "A[j][i]" if tr else "A[i][j]"
        strided = tr == (p["form"] == "dot")  # the inner loop walks down a column
        per = 2.0 if strided else 0.95
        forks = 2 if p["form"] == "dot" else 1  # axpy form: one region per column j, plus the update
        n = fit_presets(lambda n: reps * (n * n * per + FORK * (forks if p["form"] == "dot" else n + 1)), 16, 4000)
        sizes = {pr: {"N": n[pr], "REPS": reps if pr != "MINI" else 2} for pr in n}
        alpha = lit(p["alpha"])
        if p["form"] == "dot":
            mv = [
                omp("parallel for", p["schedule"]),
                "        for (int i = 0; i < N; i++) {",
                "            double s = 0.0;",
                "            for (int j = 0; j < N; j++)",
                f"                s += {a} * x[j];",
                f"            y[i] = {alpha} * s;",
                "        }",
            ]
            what = f"y = alpha * A{'^T' if tr else ''} x as one dot product per row (parallel over rows)"
        else:
            mv = [
                "        for (int i = 0; i < N; i++)",
                "            y[i] = 0.0;",
                "        for (int j = 0; j < N; j++) {",
                f"            double xj = {alpha} * x[j];",
                omp("parallel for", p["schedule"]),
                "            for (int i = 0; i < N; i++)",
                f"                y[i] += {a} * xj;",
                "        }",
            ]
            what = f"y = alpha * A{'^T' if tr else ''} x in axpy form (sequential over columns, parallel inner loop)"
        kern = [
            "static void kernel_run(void)",
            "{",
            "    for (int r = 0; r < REPS; r++) {",
            *mv,
            omp("parallel for"),
            "        for (int i = 0; i < N; i++)",
            "            x[i] = 0.5 * x[i] + 0.5 * y[i];",
            "    }",
            "}",
        ]
        return CProgram(
            description=(
                f"{what}, REPS times, x relaxed towards y after each product; A holds entries in [0, 1/N), "
                f"read {'column-wise' if strided else 'row-wise'} by the inner loop; schedule "
                f"'{p['schedule'] or 'default'}'. Per-element accumulation in a fixed order."
            ),
            sizes=sizes,
            globals="static double A[N][N];\nstatic double x[N], y[N];",
            init="\n".join(
                [
                    "for (long k = 0; k < (long)N * N; k++)",
                    "    (&A[0][0])[k] = gen_val(k, 11) / N;",
                    "for (int i = 0; i < N; i++) {",
                    "    x[i] = 0.5 + gen_val(i, 12);",
                    "    y[i] = 0.0;",
                    "}",
                ]
            ),
            kernel="\n".join(kern),
            results='print_sum("dense y", y, N);\nprint_sum("dense x", x, N);',
        )

    def _gemm(self, p: Mapping[str, Any]) -> CProgram:
        reps, tr, par = p["reps"], p["transposed"], p["par"]
        b = "BT[j][k]" if tr else "B[k][j]"
        per = {("dot", False): 1.5, ("dot", True): 0.7, ("row-update", False): 0.2, ("row-update", True): 0.4}[
            (p["form"], tr)
        ]
        if par != "inner":
            regions = lambda n: 1  # noqa: E731
        else:  # a region per row (i-j-k), or per row and k (i-k-j)
            regions = (lambda n: n) if p["form"] == "dot" else (lambda n: n * n)  # noqa: E731
        n = fit_presets(lambda n: reps * (1.25 * n**3 * per + FORK * regions(n)), 8, 2000)
        sizes = {pr: {"NI": n[pr], "NJ": n[pr] + n[pr] // 4, "NK": n[pr] - n[pr] // 8, "REPS": reps} for pr in n}
        alpha, beta = lit(p["alpha"]), lit(p["beta"])
        if p["form"] == "dot":
            body = [
                "double s = 0.0;",
                "for (int k = 0; k < NK; k++)",
                f"    s += A[i][k] * {b};",
                f"C[i][j] = {beta} * C[i][j] + {alpha} * s;",
            ]
            if par == "inner":
                loops = [
                    "        for (int i = 0; i < NI; i++)",
                    omp("parallel for", p["schedule"]),
                    "            for (int j = 0; j < NJ; j++) {",
                ]
            else:
                clause = "collapse(2)" if par == "collapse" else ""
                loops = [
                    omp("parallel for", clause, p["schedule"]),
                    "        for (int i = 0; i < NI; i++)",
                    "            for (int j = 0; j < NJ; j++) {",
                ]
            nest = [*loops, *("                " + ln for ln in body), "            }"]
        else:
            bk = "BT[j][k]" if tr else "B[k][j]"
            inner = [
                "for (int j = 0; j < NJ; j++)",
                f"    C[i][j] *= {beta};",
                "for (int k = 0; k < NK; k++) {",
                f"    double aik = {alpha} * A[i][k];",
                "    for (int j = 0; j < NJ; j++)",
                f"        C[i][j] += aik * {bk};",
                "}",
            ]
            if par == "inner":
                # parallel over j inside each (i, k): C[i][j] is still summed in k order by one thread
                inner = [
                    omp("parallel for", p["schedule"]),
                    "for (int j = 0; j < NJ; j++)",
                    f"    C[i][j] *= {beta};",
                    "for (int k = 0; k < NK; k++) {",
                    f"    double aik = {alpha} * A[i][k];",
                    omp("parallel for", p["schedule"]),
                    "    for (int j = 0; j < NJ; j++)",
                    f"        C[i][j] += aik * {bk};",
                    "}",
                ]
                nest = [
                    "        for (int i = 0; i < NI; i++) {",
                    *(ln if ln.startswith("#") else "            " + ln for ln in inner),
                    "        }",
                ]
            else:
                nest = [
                    omp("parallel for", p["schedule"]),
                    "        for (int i = 0; i < NI; i++) {",
                    *("            " + ln for ln in inner),
                    "        }",
                ]
        b_decl = "static double BT[NJ][NK];" if tr else "static double B[NK][NJ];"
        b_init = "(&BT[0][0])" if tr else "(&B[0][0])"
        kern = ["static void kernel_run(void)", "{", "    for (int r = 0; r < REPS; r++) {", *nest, "    }", "}"]
        form = "private accumulator per element" if p["form"] == "dot" else "row update"
        where = {"outer": "outer loop", "collapse": "collapse(2) over i, j", "inner": "inner loop"}[par]
        return CProgram(
            description=(
                f"C = beta * C + alpha * A B{'^T (B stored transposed)' if tr else ''}, REPS times, "
                f"loop order {p['order']} ({form}), parallel {where}, schedule '{p['schedule'] or 'default'}'. "
                "Each C[i][j] sums over k in order."
            ),
            sizes=sizes,
            globals=f"static double A[NI][NK];\n{b_decl}\nstatic double C[NI][NJ];",
            init="\n".join(
                [
                    "for (long k = 0; k < (long)NI * NK; k++)",
                    "    (&A[0][0])[k] = gen_val(k, 21);",
                    "for (long k = 0; k < (long)NK * NJ; k++)",
                    f"    {b_init}[k] = gen_val(k, 22) - 0.5;",
                    "for (long k = 0; k < (long)NI * NJ; k++)",
                    "    (&C[0][0])[k] = gen_val(k, 23);",
                ]
            ),
            kernel="\n".join(kern),
            results='print_sum("dense C", &C[0][0], (long)NI * NJ);',
        )
