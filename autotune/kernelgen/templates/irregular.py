"""Indirect accesses through index arrays: gathers, permutation scatters, and CSR sparse products.

What varies: the index pattern (uniformly random, local within a window, shuffled within blocks,
a random permutation), the number of gathered terms per element, gathering single elements or
whole rows, the CSR row-length distribution (uniform, skewed with a heavy tail, a ramp, hub
rows) and column pattern, and the schedule. Writes go to distinct elements only (a gather
writes its own element; a scatter goes through a permutation, built serially by Fisher-Yates),
and each element sums its terms in index order in one thread.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import MAX_ELEMENTS, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0

_PATTERNS = {
    "random": "(int)(gen_hash(q, 51) % (unsigned long long)N)",
    "local": "(int)(((long)i + (long)(gen_hash(q, 52) % {w2}) - {w} + N) % N)",
    "blocked": "(int)(((long)i / {b} * {b} + (long)(gen_hash(q, 53) % {b})) % N)",
}


class Gather:
    name = "gather"
    family = "irregular"
    summary = "indirect gathers (random/local/blocked index arrays, elements or rows) and permutation scatters"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        mode = rng.choice(["elements", "elements", "rows", "scatter"])
        terms = rng.choice([1, 2, 4, 8, 16]) if mode != "scatter" else 1
        w = [rng.randint(1, 9) for _ in range(terms)]
        row = rng.choice([16, 64, 256])
        return {
            "mode": mode,
            "pattern": rng.choice(list(_PATTERNS)) if mode != "scatter" else "permutation",
            "terms": terms,
            "weights": w,
            "window": rng.choice([8, 64, 1024]),
            "block": rng.choice([64, 512, 4096]),
            "row": row,
            "schedule": schedule_clause(rng, fine=mode != "rows" or row < 256),
            "reps": rng.choice([4, 8, 16]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        mode, k, reps = p["mode"], p["terms"], p["reps"]
        total = sum(p["weights"])
        wts = ", ".join(lit(w / total) for w in p["weights"])
        row = p["row"] if mode == "rows" else 1
        far = p["pattern"] in ("random", "permutation")

        def work(n: int) -> float:
            # a random access is a cache miss once X no longer fits in the caches
            miss = (1.0 if n * row * 8 < (4 << 20) else 5.0) if far else 0.4
            return reps * (n * (k * (row * 0.25 + miss) + row * 0.4 + 0.5) + 2 * FORK)

        n = fit_presets(work, 256, MAX_ELEMENTS // max(k, row))
        sizes = {pr: {"N": n[pr], "REPS": reps if pr != "MINI" else 2} for pr in n}
        glob = [f"static int IDX[(long)N * {k}];"]
        x_shape = f"[N][{row}]" if row > 1 else "[N]"
        glob.append(f"static double X{x_shape}, Y{x_shape};")
        if mode != "scatter":
            glob.append(f"static const double W[{k}] = {{{wts}}};")
        first = "[0][0]" if row > 1 else "[0]"
        init = [
            f"for (long q = 0; q < (long)N * {row}; q++) {{",
            f"    (&X{first})[q] = gen_val(q, 50);",
            f"    (&Y{first})[q] = 0.0;",
            "}",
        ]
        if mode == "scatter":
            init += [
                "for (int i = 0; i < N; i++)",
                "    IDX[i] = i;",
                "for (int i = N - 1; i > 0; i--) {",
                "    int j = (int)(gen_hash(i, 54) % (unsigned long long)(i + 1));",
                "    int tmp = IDX[i];",
                "    IDX[i] = IDX[j];",
                "    IDX[j] = tmp;",
                "}",
            ]
            body = [
                omp("parallel for", p["schedule"]),
                "        for (int i = 0; i < N; i++)",
                "            Y[IDX[i]] = 0.75 * X[i] + 0.25 * Y[IDX[i]];",
            ]
            what = "a scatter through a random permutation (Y[P[i]] = f(X[i], Y[P[i]]))"
        else:
            pat = _PATTERNS[p["pattern"]].format(w=p["window"], w2=2 * p["window"] + 1, b=p["block"])
            init += [
                "for (int i = 0; i < N; i++)",
                f"    for (int t = 0; t < {k}; t++) {{",
                f"        long q = (long)i * {k} + t;",
                f"        IDX[q] = {pat};",
                "    }",
            ]
            if row > 1:
                acc = [
                    f"for (int c = 0; c < {row}; c++) {{",
                    "    double s = 0.0;",
                    f"    for (int t = 0; t < {k}; t++)",
                    f"        s += W[t] * X[IDX[(long)i * {k} + t]][c];",
                    "    Y[i][c] = s;",
                    "}",
                ]
            else:
                acc = [
                    "double s = 0.0;",
                    f"for (int t = 0; t < {k}; t++)",
                    f"    s += W[t] * X[IDX[(long)i * {k} + t]];",
                    "Y[i] = s;",
                ]
            body = [
                omp("parallel for", p["schedule"]),
                "        for (int i = 0; i < N; i++) {",
                *("            " + ln for ln in acc),
                "        }",
            ]
            what = f"a gather of {k} weighted {'rows' if row > 1 else 'elements'} per element, {p['pattern']} indices"
        relax = "X[i][c] = 0.5 * X[i][c] + 0.5 * Y[i][c];" if row > 1 else "X[i] = 0.5 * X[i] + 0.5 * Y[i];"
        inner_relax = (
            [f"            for (int c = 0; c < {row}; c++)", "                " + relax]
            if row > 1
            else ["            " + relax]
        )
        kern = [
            "static void kernel_run(void)",
            "{",
            "    for (int r = 0; r < REPS; r++) {",
            *body,
            omp("parallel for"),
            "        for (int i = 0; i < N; i++)" + (" {" if row > 1 else ""),
            *inner_relax,
            *(["        }"] if row > 1 else []),
            "    }",
            "}",
        ]
        count = f"(long)N * {row}"
        return CProgram(
            description=(
                f"REPS times: {what}, then X relaxed towards Y (a second parallel loop); weights sum to 1. "
                f"Schedule '{p['schedule'] or 'default'}'. Each output element written by one thread."
            ),
            sizes=sizes,
            globals="\n".join(glob),
            init="\n".join(init),
            kernel="\n".join(kern),
            results=f'print_sum("gather X", &X{first}, {count});\nprint_sum("gather Y", &Y{first}, {count});',
        )


_LENGTHS = {
    "uniform": "{L}",
    "skewed": "(gen_hash(i, 61) % 16 == 0 ? {L} * 8 : 1 + (int)(gen_hash(i, 62) % {L}))",
    "ramp": "1 + (int)((2L * {L} * i) / N)",
    "hubs": "(i % 97 == 0 ? {L} * 24 : {L} / 2 + 1)",
}
_COLUMNS = {
    "band": "(int)(((long)i + (long)(gen_hash(q, 63) % 65) - 32 + N) % N)",
    "random": "(int)(gen_hash(q, 64) % (unsigned long long)N)",
    "mixed": "(q % 2 ? (int)(gen_hash(q, 65) % (unsigned long long)N) : (int)(((long)i + (long)(q % 17) - 8 + N) % N))",
}


class Csr:
    name = "csr"
    family = "irregular"
    summary = "CSR sparse matrix-vector products with data-dependent row bounds and imbalanced row lengths"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        dist = rng.choice(list(_LENGTHS))
        return {
            "lengths": dist,
            "avg": rng.choice([4, 8, 16, 32]),
            "columns": rng.choice(list(_COLUMNS)),
            "schedule": schedule_clause(rng, fine=True, dynamic_bias=1.0 if dist in ("skewed", "hubs") else 0.0),
            "relax": rng.choice([0.5, 0.25]),
            "reps": rng.choice([4, 8, 16, 32]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        avg, reps = p["avg"], p["reps"]
        nnz_row = {"uniform": avg, "skewed": avg * 0.5 + avg * 0.5 + 1, "ramp": avg + 1, "hubs": avg / 2 + 1 + avg / 4}
        per = nnz_row[p["lengths"]] * (1.5 if p["columns"] != "band" else 0.6) + 1.5
        n = fit_presets(lambda n: reps * (n * per + 2 * FORK), 256, MAX_ELEMENTS // (2 * avg))
        sizes = {pr: {"N": n[pr], "REPS": reps if pr != "MINI" else 2} for pr in n}
        length = _LENGTHS[p["lengths"]].format(L=avg)
        init = [
            "rowptr = malloc(sizeof(int) * ((size_t)N + 1));",
            "x = malloc(sizeof(double) * (size_t)N);",
            "y = malloc(sizeof(double) * (size_t)N);",
            "long nnz = 0;",
            "for (long i = 0; i < N; i++) {",
            "    rowptr[i] = (int)nnz;",
            f"    nnz += {length};",
            "}",
            "rowptr[N] = (int)nnz;",
            "col = malloc(sizeof(int) * (size_t)nnz);",
            "val = malloc(sizeof(double) * (size_t)nnz);",
            "if (!rowptr || !x || !y || !col || !val) {",
            '    fprintf(stderr, "out of memory\\n");',
            "    exit(1);",
            "}",
            "for (long i = 0; i < N; i++) {",
            "    int len = rowptr[i + 1] - rowptr[i];",
            "    for (long q = rowptr[i]; q < rowptr[i + 1]; q++) {",
            f"        col[q] = {_COLUMNS[p['columns']]};",
            "        val[q] = (0.5 + gen_val(q, 66)) / (1.5 * len);",
            "    }",
            "    x[i] = 1.0 + gen_val(i, 67);",
            "    y[i] = 0.0;",
            "}",
        ]
        relax = lit(p["relax"])
        kern = [
            "static void kernel_run(void)",
            "{",
            "    for (int r = 0; r < REPS; r++) {",
            omp("parallel for", p["schedule"]),
            "        for (int i = 0; i < N; i++) {",
            "            double s = 0.0;",
            "            for (int q = rowptr[i]; q < rowptr[i + 1]; q++)",
            "                s += val[q] * x[col[q]];",
            "            y[i] = s;",
            "        }",
            omp("parallel for"),
            "        for (int i = 0; i < N; i++)",
            f"            x[i] = {relax} * x[i] + (1.0 - {relax}) * y[i];",
            "    }",
            "}",
        ]
        return CProgram(
            description=(
                f"REPS steps of y = A x, x relaxed towards y, with A in CSR: {p['lengths']} row lengths around "
                f"{avg} nonzeros, {p['columns']} columns, row sums below 1. Inner bounds come from the row "
                f"pointer (data-dependent trip counts), x is read through the column index; schedule "
                f"'{p['schedule'] or 'default'}'. Each y[i] summed in CSR order by one thread."
            ),
            sizes=sizes,
            globals="static int *rowptr, *col;\nstatic double *val, *x, *y;",
            init="\n".join(init),
            kernel="\n".join(kern),
            results='printf("csr nnz %d\\n", rowptr[N]);\nprint_sum("csr y", y, N);\nprint_sum("csr x", x, N);',
        )
