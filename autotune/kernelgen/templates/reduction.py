"""Reductions whose result cannot depend on the thread count or the schedule.

Why these and not a plain floating-point `reduction(+:s)`: a floating sum regrouped by another
thread count changes its last digits, and the kernel contract asks for identical output. So
every reduction here is exact under any order: sums of fixed-point integers (each term rounded
to a multiple of 2^-24 before it is added), integer counts, `max`/`min` of doubles, and integer
array reductions (`reduction(+:H[:B])`, a histogram). The verifier proves it by running the
kernel with one and two threads and several schedules.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import MAX_ELEMENTS, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0
FIX = "16777216.0"  # 2^24: the fixed-point scale of a summed term


class Reduce:
    name = "reduce"
    family = "reduction"
    summary = "exact reductions: fixed-point sums, counts, max/min, integer histograms, 1-D or collapsed 2-D"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        kind = rng.choice(["fixsum", "maxmin", "hist", "dot2d"])
        flops = rng.choice([1, 2, 4, 8])
        collapse = kind == "dot2d" and rng.random() < 0.6
        return {
            "kind": kind,
            "access": rng.choice(["unit", "strided", "reverse"]) if kind != "dot2d" else "2d",
            "transposed": kind == "dot2d" and rng.random() < 0.5,
            "collapse": collapse,
            "flops": flops,
            "a": [round(rng.uniform(0.3, 0.95), 4) for _ in range(flops)],
            "b": [round(rng.uniform(-0.5, 0.5), 4) for _ in range(flops)],
            "threshold": round(rng.uniform(0.2, 0.8), 3),
            "bins": rng.choice([8, 16, 32, 64]),
            "schedule": schedule_clause(rng, fine=kind != "dot2d" or collapse),
            "reps": rng.choice([2, 4, 8, 16]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        kind, reps = p["kind"], p["reps"]
        chain = [f"v = v * {lit(a)} + {lit(b)};" for a, b in zip(p["a"], p["b"], strict=True)]
        cost = 0.6 * (
            0.4 * p["flops"] + 1.0 + (4.0 if kind == "hist" else 0.0) + (1.5 if p["access"] == "strided" else 0)
        )
        if kind == "dot2d":
            return self._dot2d(p, chain, cost)
        stride = 8 if p["access"] == "strided" else 1
        n = fit_presets(lambda n: reps * (n * cost + FORK), 1000, MAX_ELEMENTS // stride)
        sizes = {pr: {"N": n[pr], "REPS": reps if pr != "MINI" else min(reps, 2)} for pr in n}
        read = {"unit": "X[i]", "strided": f"X[(long)i * {stride}]", "reverse": "X[N - 1 - i]"}[p["access"]]
        glob = [f"static double X[(long)N * {stride}];"]
        init = [f"for (long i = 0; i < (long)N * {stride}; i++)", "    X[i] = gen_val(i, 3);"]
        body = [f"double v = {read} * scale;", *chain]
        if kind == "fixsum":
            glob.append("static long long result_acc, result_cnt;")
            clause, decl = "reduction(+:acc, cnt)", "long long acc = 0, cnt = 0;"
            body += [f"acc += (long long)(v * {FIX});", f"cnt += {read} > {lit(p['threshold'])};"]
            after = ["result_acc += acc;", "result_cnt += cnt;"]
            results = 'printf("reduce fixed-point sum %lld count %lld\\n", result_acc, result_cnt);'
            what = "a fixed-point sum (terms rounded to 2^-24) and a count, reduction(+)"
        elif kind == "maxmin":
            glob.append("static double result_max, result_min;")
            clause, decl = "reduction(max:hi) reduction(min:lo)", "double hi = -1e300, lo = 1e300;"
            body += ["hi = v > hi ? v : hi;", "lo = v < lo ? v : lo;"]
            after = ["result_max += hi;", "result_min += lo;"]
            results = 'printf("reduce max %.17e min %.17e\\n", result_max, result_min);'
            what = "max and min of doubles (exact under any order), reduction(max/min)"
        else:
            b = p["bins"]
            glob.append(f"static long long H[{b}];")
            clause, decl = f"reduction(+:hist[:{b}])", f"long long hist[{b}] = {{0}};"
            body += [
                "v = v * 13.0 - floor(v * 13.0);",
                f"int bin = (int)(v * {b});",
                f"hist[bin < {b} ? bin : {b - 1}]++;",
            ]
            after = [f"for (int b = 0; b < {b}; b++)", "    H[b] += hist[b];"]
            results = "\n".join(
                [
                    "long long total = 0, weighted = 0;",
                    f"for (int b = 0; b < {b}; b++) {{",
                    "    total += H[b];",
                    "    weighted += H[b] * (b + 1) * (b + 3);",
                    "}",
                    'printf("reduce histogram total %lld weighted %lld first %lld last %lld\\n",'
                    f" total, weighted, H[0], H[{b - 1}]);",
                ]
            )
            what = f"a {b}-bin integer histogram, array reduction(+:hist[:{b}])"
        inner = "\n".join("            " + ln for ln in body)
        kern = "\n".join(
            [
                "static void kernel_run(void)",
                "{",
                "    for (int r = 0; r < REPS; r++) {",
                "        double scale = 1.0 + 0.001 * r;",
                f"        {decl}",
                omp("parallel for", clause, p["schedule"]),
                "        for (int i = 0; i < N; i++) {",
                inner,
                "        }",
                *("        " + ln for ln in after),
                "    }",
                "}",
            ]
        )
        return CProgram(
            description=(
                f"REPS times, over N doubles read with {p['access']} access and {p['flops']} affine steps each: "
                f"{what}; schedule '{p['schedule'] or 'default'}'. Exact under any iteration order."
            ),
            sizes=sizes,
            globals="\n".join(glob),
            init="\n".join(init),
            kernel=kern,
            results=results,
        )

    def _dot2d(self, p: Mapping[str, Any], chain: list[str], cost: float) -> CProgram:
        reps = p["reps"]
        cost += (1.5 if p["transposed"] else 0.0) + (1.5 if p["collapse"] else 0.0)  # collapse recomputes i, j
        n = fit_presets(lambda n: reps * (n * n * cost + FORK), 16, 4000)
        sizes = {pr: {"N": n[pr], "M": n[pr] + n[pr] // 4, "REPS": reps if pr != "MINI" else 2} for pr in n}
        b_decl, b_read = (
            ("static double B[M][N];", "B[j][i]") if p["transposed"] else ("static double B[N][M];", "B[i][j]")
        )
        pragma = omp("parallel for", "collapse(2)" if p["collapse"] else "", "reduction(+:acc)", p["schedule"])
        body = [f"double v = A[i][j] * {b_read} * scale;", *chain, f"acc += (long long)(v * {FIX});"]
        kern = "\n".join(
            [
                "static void kernel_run(void)",
                "{",
                "    for (int r = 0; r < REPS; r++) {",
                "        double scale = 1.0 - 0.002 * r;",
                "        long long acc = 0;",
                pragma,
                "        for (int i = 0; i < N; i++)",
                "            for (int j = 0; j < M; j++) {",
                *("                " + ln for ln in body),
                "            }",
                "        result_acc += acc;",
                "    }",
                "}",
            ]
        )
        init = "\n".join(
            [
                "for (long k = 0; k < (long)N * M; k++) {",
                "    (&A[0][0])[k] = gen_val(k, 5);",
                "    (&B[0][0])[k] = 0.5 + gen_val(k, 6);",
                "}",
            ]
        )
        return CProgram(
            description=(
                f"REPS times, a fixed-point (2^-24) sum over the N x M products A[i][j] * "
                f"{b_read} with {p['flops']} affine steps each; "
                f"{'collapse(2)' if p['collapse'] else 'outer-loop'} parallel for with reduction(+), "
                f"schedule '{p['schedule'] or 'default'}'. Exact under any iteration order."
            ),
            sizes=sizes,
            globals=f"static double A[N][M];\n{b_decl}\nstatic long long result_acc;",
            init=init,
            kernel=kern,
            results='printf("reduce fixed-point dot %lld\\n", result_acc);',
        )
