"""Imbalanced work: triangular loop bounds, and per-element work that varies along the iteration space.

What varies (triangular): the kernel (lower or upper triangular matrix-vector product, a
symmetric rank-k update over one triangle, symmetrising a matrix from its transposed triangle),
which triangle, and the schedule. What varies (varwork): how the work per element is shaped
(a ramp, periodic spikes, random, a heavy first block, decreasing), whether the trip count is
read from an array or computed inline, floating or integer work, and the schedule. These are
the kernels where static, dynamic and guided schedules differ most. Outputs are per element.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import TARGET_WORK, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0


class Triangular:
    name = "triangular"
    family = "imbalanced"
    summary = "triangular bounds: trmv (lower/upper), syrk on one triangle, symmetrise from the transpose"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        return {
            "kind": rng.choice(["trmv", "syrk", "symmetrize"]),
            "triangle": rng.choice(["lower", "upper"]),
            "alpha": round(rng.uniform(0.5, 1.5), 3),
            "beta": rng.choice([0.25, 0.5]),
            "schedule": schedule_clause(rng, fine=False, dynamic_bias=1.0),
            "reps": rng.choice([2, 4, 8]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        kind, low, reps = p["kind"], p["triangle"] == "lower", p["reps"]
        jb = ("0", "i + 1") if low else ("i", "N")
        alpha, beta = lit(p["alpha"]), lit(p["beta"])
        sched = p["schedule"]
        if kind == "trmv":
            one = lambda n: 0.5 * n * n * 0.8 + 2 * FORK  # noqa: E731 - one repetition
            n = fit_presets(lambda n: reps * one(n), 16, 2800)
            body = [
                omp("parallel for", sched),
                "        for (int i = 0; i < N; i++) {",
                "            double s = 0.0;",
                f"            for (int j = {jb[0]}; j < {jb[1]}; j++)",
                "                s += A[i][j] * x[j];",
                f"            y[i] = {alpha} * s;",
                "        }",
                omp("parallel for"),
                "        for (int i = 0; i < N; i++)",
                f"            x[i] = {beta} * x[i] + y[i];",
            ]
            glob = "static double A[N][N];\nstatic double x[N], y[N];"
            init = [
                "for (long q = 0; q < (long)N * N; q++)",
                "    (&A[0][0])[q] = gen_val(q, 71) / N;",
                "for (int i = 0; i < N; i++) {",
                "    x[i] = gen_val(i, 72);",
                "    y[i] = 0.0;",
                "}",
            ]
            results = 'print_sum("triangular y", y, N);\nprint_sum("triangular x", x, N);'
            what = f"y = {p['triangle']}-triangular A times x, x = beta * x + y"
        elif kind == "syrk":
            one = lambda n: 0.5 * n * n * (0.75 * n) * 0.7 + FORK  # noqa: E731
            n = fit_presets(lambda n: reps * one(n), 8, 1500)
            body = [
                omp("parallel for", sched),
                "        for (int i = 0; i < N; i++)",
                f"            for (int j = {jb[0]}; j < {jb[1]}; j++) {{",
                "                double s = 0.0;",
                "                for (int k = 0; k < M; k++)",
                "                    s += A[i][k] * A[j][k];",
                f"                C[i][j] = {beta} * C[i][j] + {alpha} * s / M;",
                "            }",
            ]
            glob = "static double A[N][M];\nstatic double C[N][N];"
            init = [
                "for (long q = 0; q < (long)N * M; q++)",
                "    (&A[0][0])[q] = gen_val(q, 73) - 0.25;",
                "for (long q = 0; q < (long)N * N; q++)",
                "    (&C[0][0])[q] = gen_val(q, 74);",
            ]
            results = 'print_sum("triangular C", &C[0][0], (long)N * N);'
            what = f"C = beta * C + alpha * A A^T / M on the {p['triangle']} triangle (syrk)"
        else:
            one = lambda n: 0.5 * n * n * 3.0 + FORK  # noqa: E731
            n = fit_presets(lambda n: reps * one(n), 16, 2800)
            body = [
                omp("parallel for", sched),
                "        for (int i = 0; i < N; i++)",
                f"            for (int j = {jb[0]}; j < {jb[1]}; j++)",
                f"                S[i][j] = {beta} * S[i][j] + 0.5 * (A[i][j] + A[j][i]);",
            ]
            glob = "static double A[N][N];\nstatic double S[N][N];"
            init = [
                "for (long q = 0; q < (long)N * N; q++) {",
                "    (&A[0][0])[q] = gen_val(q, 75);",
                "    (&S[0][0])[q] = 0.0;",
                "}",
            ]
            results = 'print_sum("triangular S", &S[0][0], (long)N * N);'
            what = f"S = beta * S + (A + A^T) / 2 on the {p['triangle']} triangle (one side read transposed)"
        # where the matrix size hit its memory cap, more repetitions make up the preset's work
        rp = {pr: max(reps, int(TARGET_WORK[pr] / one(n[pr]))) for pr in n}
        sizes = {
            pr: {"N": n[pr], **({"M": max(8, 3 * n[pr] // 4)} if kind == "syrk" else {}), "REPS": rp[pr]} for pr in n
        }
        kern = ["static void kernel_run(void)", "{", "    for (int r = 0; r < REPS; r++) {", *body, "    }", "}"]
        return CProgram(
            description=(
                f"REPS times: {what}. The inner bound depends on i, so rows carry different work; "
                f"schedule '{sched or 'default'}'. Per-element outputs."
            ),
            sizes=sizes,
            globals=glob,
            init="\n".join(init),
            kernel="\n".join(kern),
            results=results,
        )


_SHAPES = {
    "ramp": "1 + (int)(((long)i * {M}) / N)",
    "spikes": "(i % {P} == 0 ? {M} : 1 + {M} / 64)",
    "random": "1 + (int)(gen_hash(i, 81) % {M})",
    "block": "(i < N / 4 ? {M} : 1 + {M} / 16)",
    "decreasing": "1 + (int)(((long)(N - i) * {M}) / N)",
}


class VarWork:
    name = "varwork"
    family = "imbalanced"
    summary = "per-element iteration counts shaped as ramp/spikes/random/block/decreasing, float or integer work"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        return {
            "shape": rng.choice(list(_SHAPES)),
            "max_work": rng.choice([16, 64, 256]),
            "period": rng.choice([7, 32, 101]),
            "trips": rng.choice(["array", "inline"]),
            "work": rng.choice(["float", "integer", "newton"]),
            "a": round(rng.uniform(0.5, 0.99), 4),
            "b": round(rng.uniform(-0.5, 0.5), 4),
            "schedule": schedule_clause(rng, fine=True, dynamic_bias=1.5),
            "reps": rng.choice([1, 2, 4]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        m, reps, shape = p["max_work"], p["reps"], p["shape"]
        mean = {
            "ramp": m / 2,
            "spikes": m / p["period"] + m / 64,
            "random": m / 2,
            "block": m / 4 + m / 16,
            "decreasing": m / 2,
        }[shape] + 1
        per_iter = {"float": 1.2, "integer": 1.0, "newton": 3.0}[p["work"]]
        n = fit_presets(lambda n: reps * (n * (mean * per_iter + 2) + FORK), 64, 4_000_000)
        sizes = {pr: {"N": n[pr], "REPS": reps} for pr in n}
        trips = _SHAPES[shape].format(M=m, P=p["period"])
        bound = "TRIPS[i]" if p["trips"] == "array" else trips
        glob = ["static double X[N];", "static double Y[N];"]
        init = ["for (int i = 0; i < N; i++) {", "    X[i] = 0.5 + gen_val(i, 82);", "    Y[i] = 0.0;"]
        if p["trips"] == "array":
            glob.append("static int TRIPS[N];")
            init.append(f"    TRIPS[i] = {trips};")
        init.append("}")
        if p["work"] == "float":
            body = [
                "double v = X[i] + 0.001 * r;",
                f"for (int k = 0; k < {bound}; k++)",
                f"    v = v * {lit(p['a'])} + {lit(p['b'])} * X[(i + k) % N];",
                "Y[i] += v;",
            ]
            what = "an affine recurrence reading neighbours"
        elif p["work"] == "integer":
            body = [
                "unsigned long long h = (unsigned long long)(X[i] * 4294967296.0) + (unsigned long long)r;",
                f"for (int k = 0; k < {bound}; k++) {{",
                "    h = h * 6364136223846793005ull + 1442695040888963407ull;",
                "    h ^= h >> 29;",
                "}",
                "Y[i] += (double)(h >> 40) * 0x1.0p-24;",
            ]
            what = "integer hashing (64-bit LCG with xorshift)"
        else:
            body = [
                "double target = X[i] * (2.0 + 0.01 * r);",
                "double v = 1.0;",
                f"for (int k = 0; k < {bound}; k++)",
                "    v = 0.5 * (v + target / v);",
                "Y[i] += v;",
            ]
            what = "Newton iterations for a square root (a division per step)"
        kern = [
            "static void kernel_run(void)",
            "{",
            "    for (int r = 0; r < REPS; r++) {",
            omp("parallel for", p["schedule"]),
            "        for (int i = 0; i < N; i++) {",
            *("            " + ln for ln in body),
            "        }",
            "    }",
            "}",
        ]
        return CProgram(
            description=(
                f"REPS times, element i runs {what} for a trip count shaped '{shape}' (up to {m}, "
                f"{'read from an array' if p['trips'] == 'array' else 'computed inline'}); "
                f"schedule '{p['schedule'] or 'default'}'. Per-element outputs."
            ),
            sizes=sizes,
            globals="\n".join(glob),
            init="\n".join(init),
            kernel="\n".join(kern),
            results='print_sum("varwork Y", Y, N);',
        )
