"""Solvers whose outer loop carries a dependence: parallel loops nested at depth two, shrinking bounds.

What varies: the solver (LU factorisation without pivoting of a diagonally dominant matrix,
forward substitution for many right-hand sides, an integer dynamic-programming recurrence
computed by anti-diagonal wavefronts), where the parallel loop stands (rows or columns of the
trailing update, right-hand sides), the scoring constants and the schedule. Each element is
written by one thread per outer step from values finished in earlier steps.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import CProgram, fit_presets, omp, schedule_clause

FORK = 2000.0


class Sweep:
    name = "sweep"
    family = "solver"
    summary = "LU without pivoting, multi-RHS forward substitution, integer wavefront DP (inner parallel loops)"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        kind = rng.choice(["lu", "trsm", "wavefront"])
        return {
            "kind": kind,
            "par": rng.choice(["rows", "columns"]) if kind == "lu" else "inner",
            "direction": rng.choice(["forward", "backward"]),
            "layout": rng.choice(["rhs-major", "row-major"]),
            "match": rng.randint(1, 5),
            "mismatch": -rng.randint(1, 4),
            "gap": rng.randint(1, 4),
            "alphabet": rng.choice([2, 4, 20]),
            "schedule": schedule_clause(rng, fine=kind == "wavefront", dynamic_bias=0.5),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        return {"lu": self._lu, "trsm": self._trsm, "wavefront": self._wavefront}[p["kind"]](p)

    def _lu(self, p: Mapping[str, Any]) -> CProgram:
        per = 1.0 if p["par"] == "columns" else 0.3  # the column form walks down columns
        n = fit_presets(lambda n: n**3 / 3 * per + FORK * n * (2 if p["par"] == "columns" else 1), 16, 2000)
        sizes = {pr: {"N": n[pr]} for pr in n}
        if p["par"] == "rows":
            body = [
                omp("parallel for", p["schedule"]),
                "        for (int i = k + 1; i < N; i++) {",
                "            double l = A[i][k] / A[k][k];",
                "            A[i][k] = l;",
                "            for (int j = k + 1; j < N; j++)",
                "                A[i][j] -= l * A[k][j];",
                "        }",
            ]
            what = "parallel over the rows of the trailing matrix"
        else:
            body = [
                omp("parallel for", p["schedule"]),
                "        for (int i = k + 1; i < N; i++)",
                "            A[i][k] = A[i][k] / A[k][k];",
                omp("parallel for", p["schedule"]),
                "        for (int j = k + 1; j < N; j++)",
                "            for (int i = k + 1; i < N; i++)",
                "                A[i][j] -= A[i][k] * A[k][j];",
            ]
            what = "multipliers first, then parallel over the columns of the trailing matrix (column-wise access)"
        kern = ["static void kernel_run(void)", "{", "    for (int k = 0; k < N - 1; k++) {", *body, "    }", "}"]
        return CProgram(
            description=(
                f"LU factorisation without pivoting of a diagonally dominant N x N matrix, {what}; the bounds "
                f"shrink with k (triangular); schedule '{p['schedule'] or 'default'}'."
            ),
            sizes=sizes,
            globals="static double A[N][N];",
            init="\n".join(
                [
                    "for (int i = 0; i < N; i++)",
                    "    for (int j = 0; j < N; j++)",
                    "        A[i][j] = gen_val((long)i * N + j, 91) + (i == j ? N : 0);",
                ]
            ),
            kernel="\n".join(kern),
            results='print_sum("sweep LU", &A[0][0], (long)N * N);',
        )

    def _trsm(self, p: Mapping[str, Any]) -> CProgram:
        n = fit_presets(lambda n: n * n * 0.5 * (n // 2) * 1.0 + FORK * n, 16, 2000)
        sizes = {pr: {"N": n[pr], "R": max(4, n[pr] // 2)} for pr in n}
        fwd, rhs_major = p["direction"] == "forward", p["layout"] == "rhs-major"

        def x(r: str, j: str) -> str:
            return f"X[{r}][{j}]" if rhs_major else f"X[{j}][{r}]"

        outer = "for (int i = 0; i < N; i++) {" if fwd else "for (int i = N - 1; i >= 0; i--) {"
        inner = "for (int j = 0; j < i; j++)" if fwd else "for (int j = i + 1; j < N; j++)"
        kern = [
            "static void kernel_run(void)",
            "{",
            f"    {outer}",
            omp("parallel for", p["schedule"]),
            "        for (int r = 0; r < R; r++) {",
            f"            double s = {x('r', 'i')};",
            f"            {inner}",
            f"                s -= T[i][j] * {x('r', 'j')};",
            f"            {x('r', 'i')} = s / T[i][i];",
            "        }",
            "    }",
            "}",
        ]
        off = "j < i" if fwd else "j > i"
        shape = "[R][N]" if rhs_major else "[N][R]"
        return CProgram(
            description=(
                f"{'Forward' if fwd else 'Backward'} substitution with a {'lower' if fwd else 'upper'} triangular "
                f"T for R right-hand sides stored {'one per row' if rhs_major else 'one per column'} of X (solved in "
                "place): sequential over the rows of T, parallel over the right-hand sides, inner dot products of "
                f"{'growing' if fwd else 'shrinking'} length (triangular); schedule '{p['schedule'] or 'default'}'."
            ),
            sizes=sizes,
            globals=f"static double T[N][N];\nstatic double X{shape};",
            init="\n".join(
                [
                    "for (int i = 0; i < N; i++)",
                    "    for (int j = 0; j < N; j++)",
                    f"        T[i][j] = {off} ? gen_val((long)i * N + j, 92) / N"
                    " : (i == j ? 1.0 + gen_val(i, 93) : 0.0);",
                    "for (long q = 0; q < (long)R * N; q++)",
                    "    (&X[0][0])[q] = gen_val(q, 94);",
                ]
            ),
            kernel="\n".join(kern),
            results='print_sum("sweep X", &X[0][0], (long)R * N);',
        )

    def _wavefront(self, p: Mapping[str, Any]) -> CProgram:
        n = fit_presets(lambda n: n * n * 1.25 * 3.0 + FORK * 2.25 * n, 16, 20000)
        sizes = {pr: {"N": n[pr], "M": n[pr] + n[pr] // 4} for pr in n}
        kern = [
            "static void kernel_run(void)",
            "{",
            "    for (int d = 2; d <= N + M; d++) {",
            "        int lo = d - M > 1 ? d - M : 1;",
            "        int hi = d - 1 < N ? d - 1 : N;",
            omp("parallel for", p["schedule"]),
            "        for (int i = lo; i <= hi; i++) {",
            "            int j = d - i;",
            f"            int v = H[i - 1][j - 1] + (SA[i - 1] == SB[j - 1] ? {p['match']} : {p['mismatch']});",
            f"            int up = H[i - 1][j] - {p['gap']}, left = H[i][j - 1] - {p['gap']};",
            "            v = up > v ? up : v;",
            "            v = left > v ? left : v;",
            "            H[i][j] = v > 0 ? v : 0;",
            "        }",
            "    }",
            "}",
        ]
        results = "\n".join(
            [
                "long long total = 0;",
                "int best = 0;",
                "for (int i = 0; i <= N; i++)",
                "    for (int j = 0; j <= M; j++) {",
                "        total += H[i][j];",
                "        best = H[i][j] > best ? H[i][j] : best;",
                "    }",
                'printf("sweep wavefront total %lld best %d last %d\\n", total, best, H[N][M]);',
            ]
        )
        return CProgram(
            description=(
                f"Local-alignment scores (Smith-Waterman style, integers) of two sequences over {p['alphabet']} "
                f"symbols, computed along anti-diagonals: a parallel loop per diagonal, whose length grows and "
                f"shrinks; schedule '{p['schedule'] or 'default'}'. Each cell depends on three finished cells."
            ),
            sizes=sizes,
            globals="static int H[N + 1][M + 1];\nstatic int SA[N], SB[M];",
            init="\n".join(
                [
                    f"for (int i = 0; i < N; i++)\n    SA[i] = (int)(gen_hash(i, 95) % {p['alphabet']});",
                    f"for (int j = 0; j < M; j++)\n    SB[j] = (int)(gen_hash(j, 96) % {p['alphabet']});",
                    "for (int i = 0; i <= N; i++)",
                    "    for (int j = 0; j <= M; j++)",
                    "        H[i][j] = 0;",
                ]
            ),
            kernel="\n".join(kern),
            results=results,
        )
