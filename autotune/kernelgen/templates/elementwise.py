"""Elementwise maps: depth-1 loops (inside a time loop) whose arithmetic intensity is a parameter.

What varies: flops per element (1 to 64 affine steps, optionally a division and a square root),
the number of inputs, unit or strided reads, float or double, where the parallel region stands
(a `parallel for` per repetition, or one `parallel` around the repetitions with an `omp for`
inside) and the schedule as written. Every output element is computed by one thread from the
same inputs, so the result cannot depend on the thread count or the schedule.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autotune.kernelgen.cgen import MAX_ELEMENTS, CProgram, fit_presets, lit, omp, schedule_clause

FORK = 2000.0  # work units of one parallel region (fork and join)


def _coef(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 4)


class Map:
    name = "map"
    family = "elementwise"
    summary = "depth-1 elementwise map in a time loop; flops per element, inputs, stride, float/double"

    def draw(self, rng: random.Random) -> dict[str, Any]:
        flops = rng.choice([1, 2, 3, 4, 8, 16, 32, 64])
        return {
            "dtype": rng.choices(["double", "float"], [3, 1])[0],
            "inputs": rng.randint(1, 3),
            "stride": rng.choice([1, 1, 1, 2, 4, 8]),
            "flops": flops,
            "a": [_coef(rng, 0.3, 0.95) for _ in range(flops)],
            "b": [_coef(rng, -0.5, 0.5) for _ in range(flops)],
            "mix": [_coef(rng, 0.1, 1.0) for _ in range(3)],
            "divide": rng.random() < 0.25,
            "sqrt": rng.random() < 0.2,
            "decay": rng.choice([0.25, 0.5, 0.75]),
            "region": rng.choice(["parallel-for", "parallel-outside"]),
            "schedule": schedule_clause(rng, fine=True),
            "reps": rng.choice([4, 8, 16, 32]),
        }

    def build(self, p: Mapping[str, Any]) -> CProgram:
        t, s, k = p["dtype"], p["stride"], p["flops"]
        f = "f" if t == "float" else ""
        # calibrated on the development machine: a dependent chain of more than 4 steps (a loop over the
        # coefficient tables) costs its latency; up to 4 steps vectorise and memory dominates
        chain = 0.65 * k if k > 4 else 0.1 * k
        cost = 0.6 + 0.1 * p["inputs"] * (3 if s > 1 else 1) + chain + 0.3 * p["divide"] + 0.3 * p["sqrt"]
        reps = p["reps"]
        n = fit_presets(lambda n: reps * (n * cost + FORK), 1000, MAX_ELEMENTS // (s * p["inputs"]))
        sizes = {pr: {"N": n[pr], "REPS": reps if pr != "MINI" else min(reps, 4)} for pr in n}
        ins = [f"X{i}" for i in range(p["inputs"])]
        idx = "i" if s == 1 else f"(long)i * {s}"
        glob = [f"static {t} {x}[(long)N * {s}];" for x in ins] + [f"static {t} Y[N];"]
        init = [f"for (long i = 0; i < (long)N * {s}; i++) {{"]
        init += [f"    {x}[i] = ({t})(0.5 + gen_val(i, {j + 1}));" for j, x in enumerate(ins)]
        init += ["}", "for (long i = 0; i < N; i++)", f"    Y[i] = ({t})0;"]
        terms = " + ".join(f"{lit(m)}{f} * {x}[{idx}]" for m, x in zip(p["mix"], ins, strict=False))
        body = [f"{t} v = {terms};"]
        tables = ""
        if k <= 4:
            body += [f"v = v * {lit(a)}{f} + {lit(b)}{f};" for a, b in zip(p["a"], p["b"], strict=True)]
        else:
            tables = (
                f"static const {t} CA[{k}] = {{{', '.join(lit(a) + f for a in p['a'])}}};\n"
                f"static const {t} CB[{k}] = {{{', '.join(lit(b) + f for b in p['b'])}}};\n\n"
            )
            body += [f"for (int k = 0; k < {k}; k++)", "    v = v * CA[k] + CB[k];"]
        if p["divide"]:
            body.append(f"v = v / (1.0{f} + v * v);")
        if p["sqrt"]:
            body.append(f"v = sqrt{f}(v * v + 0.25{f});")
        body.append(f"Y[i] = {lit(p['decay'])}{f} * Y[i] + v;")
        inner = "\n".join("            " + ln for ln in body)
        loop = f"        for (int i = 0; i < N; i++) {{\n{inner}\n        }}"
        if p["region"] == "parallel-for":
            kern = f"    for (int r = 0; r < REPS; r++) {{\n{omp('parallel for', p['schedule'])}\n{loop}\n    }}"
        else:
            kern = (
                f"{omp('parallel')}\n    for (int r = 0; r < REPS; r++) {{\n{omp('for', p['schedule'])}\n{loop}\n    }}"
            )
        printer = "print_sumf" if t == "float" else "print_sum"
        where = "an omp for inside one parallel region" if p["region"] != "parallel-for" else "a parallel for"
        return CProgram(
            description=(
                f"Y = {p['decay']} * Y + f(X) over N {t}s, REPS times; f has {k} affine steps"
                f"{', a division' if p['divide'] else ''}{', a square root' if p['sqrt'] else ''}, "
                f"{p['inputs']} input(s) read with stride {s}; {where} per repetition, "
                f"schedule '{p['schedule'] or 'default'}'. Per-element outputs: thread-count independent."
            ),
            sizes=sizes,
            globals="\n".join(glob),
            init="\n".join(init),
            kernel=f"{tables}static void kernel_run(void)\n{{\n{kern}\n}}",
            results=f'{printer}("map Y", Y, N);',
        )
