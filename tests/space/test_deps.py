"""The dependence check: what it proves safe, and every case where it must say no."""

from __future__ import annotations

import pytest

from autotune.space.cparse import parse
from autotune.space.deps import analysis


def first_loop(body: str, decls: str = "int i, j, k; double s, t;", after: str = "", extra: str = ""):
    """Analysis and first loop of `void f(...) { decls body after }`."""
    src = f"""
{extra}
double A[64][64], B[64][64], C[64][64], x[64], y[64];
void f(int n, double alpha)
{{
    {decls}
    {body}
    {after}
}}
int main(void) {{ f(64, 1.0); return 0; }}
"""
    prog = parse(src.encode())
    return analysis(prog), prog.loops[0], prog


def parallel(body: str, **kw):
    an, loop, _ = first_loop(body, **kw)
    return an.parallel(loop)


def test_disjoint_rows_are_parallel_and_inner_variables_private():
    v = parallel("for (i = 0; i < n; i++) for (j = 0; j < n; j++) { C[i][j] = A[i][j] + B[j][i]; }")
    assert v.ok, v.why
    assert v.private == ("i", "j")  # its own variable too: under tile/interchange it is no longer associated


def test_loop_declared_variables_need_no_clause_and_pure_math_is_fine():
    v = parallel("for (int i = 0; i < n; i++) { double r = sqrt(x[i]); y[i] = fabs(r) + exp(alpha); }")
    assert v.ok and v.private == ()
    # the same name declared by two inner loops: both copies live inside the loop
    two = (
        "for (i = 0; i < n; i++) { for (int m = 0; m < n; m++) A[i][m] = 0; for (int m = 0; m < n; m++) B[i][m] = 1; }"
    )
    assert parallel(two).ok
    # ... but not when it is also declared outside and used there
    assert not parallel(two, after="{ int m = 3; x[m] = 0; }").ok


def test_reduction_into_a_scalar_is_refused():
    v = parallel("s = 0; for (i = 0; i < n; i++) s += x[i];", after="y[0] = s;")
    assert not v.ok and "s" in v.why


def test_stencil_reading_the_written_array_at_i_minus_1_is_refused():
    v = parallel("for (i = 1; i < n; i++) x[i] = x[i - 1] + y[i];")
    assert not v.ok and "x is written" in v.why


def test_same_array_with_another_subscript_is_refused():
    """A[i][j] = A[j][i]: one name, two different elements: iteration i reads what iteration j writes."""
    v = parallel("for (i = 0; i < n; i++) for (j = 0; j < n; j++) A[i][j] = A[j][i] + 1;")
    assert not v.ok and "A is written" in v.why


def test_unknown_call_is_refused():
    v = parallel("for (i = 0; i < n; i++) x[i] = g(y[i]);", extra="double g(double);")
    assert not v.ok and "calls g()" in v.why


def test_written_scalar_declared_outside_and_read_after_is_refused():
    body = "for (i = 0; i < n; i++) { t = x[i] * 2; y[i] = t * t; }"
    assert not parallel(body, after="x[0] = t;").ok  # the last iteration's t is used after the loop
    ok = parallel(body)  # set before use in every iteration and dead after: private
    assert ok.ok and ok.private == ("i", "t")


def test_scalar_set_at_the_top_of_each_iteration_is_private():
    """deriche's pattern: ym1 is reset per row, then carried along the inner loop."""
    body = """for (i = 0; i < n; i++) {
        s = 0.0;
        for (j = 0; j < n; j++) { C[i][j] = A[i][j] + s; s = C[i][j]; }
    }"""
    v = parallel(body)
    assert v.ok and set(v.private) == {"i", "j", "s"}
    # but the inner loop carries s from one j to the next: not parallel
    an, _, prog = first_loop(body)
    assert not an.parallel(prog.loops[1]).ok


def test_loop_variable_used_after_the_loop_is_refused():
    v = parallel("for (i = 0; i < n; i++) x[i] = 0;", after="y[0] = i;")
    assert not v.ok and "after the loop" in v.why
    # reassigned by the next loop before any read: fine
    assert parallel("for (i = 0; i < n; i++) x[i] = 0;", after="for (i = 0; i < n; i++) y[i] = i;").ok


def test_enclosing_loop_setting_the_scalar_does_not_count():
    """t is set at the top of the t-loop's body, but read there after our loop: our loop's value is live."""
    an, _, prog = first_loop(
        "for (k = 0; k < 4; k++) { s = 1; for (i = 0; i < n; i++) { s = x[i]; y[i] = s; } x[0] += s; }"
    )
    assert not an.parallel(prog.loops[1]).ok


def test_pointers_breaks_globals_and_shadowing_are_refused():
    assert not parallel("double *p = x; for (i = 0; i < n; i++) *p = i;").ok
    assert not parallel("for (i = 0; i < n; i++) { if (x[i] < 0) break; y[i] = 1; }").ok
    assert not parallel("for (i = 0; i < n; i++) { g = x[i]; y[i] = g; }", extra="double g;").ok
    # j would be privatised, but another j is declared in the function: names are not tracked per scope
    shadowed = parallel(
        "for (i = 0; i < n; i++) for (j = 0; j < n; j++) A[i][j] = 0;", after="{ int j = 5; x[0] = j; }"
    )
    assert not shadowed.ok and "j" in shadowed.why


def test_bounds_written_in_the_body_are_refused():
    assert not parallel("for (i = 0; i < n; i++) { n = n - 1; x[i] = 0; }", decls="int i;").ok


def test_function_like_macros_of_the_file():
    pure = "#define SQR(a) ((a) * (a))"
    assert parallel("for (i = 0; i < n; i++) x[i] = SQR(y[i]);", extra=pure).ok
    assert not parallel("for (i = 0; i < n; i++) x[i] = BUMP(j);", extra="#define BUMP(a) ((a)++)").ok


@pytest.mark.parametrize(
    ("body", "legal", "depth"),
    [
        # matrix product: C[i][j] over k (one loop of freedom): any order is legal
        (
            "for (i = 0; i < n; i++) for (j = 0; j < n; j++) for (k = 0; k < n; k++) C[i][j] += A[i][k] * B[k][j];",
            True,
            3,
        ),
        # x[i] over j and k: two loops of freedom at depth 3, one at depth 2
        ("for (i = 0; i < n; i++) for (j = 0; j < n; j++) for (k = 0; k < n; k++) x[i] += A[j][k];", True, 2),
        # a true loop-carried dependence
        ("for (i = 1; i < n; i++) for (j = 0; j < n; j++) A[i][j] = A[i - 1][j] + 1;", False, 0),
        # triangular: not rectangular
        ("for (i = 0; i < n; i++) for (j = 0; j < i; j++) A[i][j] = 0;", False, 0),
        # a reduction into an outer-declared scalar that is read after
        ("for (i = 0; i < n; i++) for (j = 0; j < n; j++) s += A[i][j];", False, 0),
    ],
)
def test_interchange_legality(body, legal, depth):
    an, loop, _ = first_loop(body, after="x[1] = s;")
    nest = an.nest(loop)
    assert (nest is not None) == legal
    if legal:
        assert len(nest.vars) == depth


def test_safe_loops_of_a_nest():
    an, loop, _ = first_loop("for (i = 0; i < n; i++) for (j = 0; j < n; j++) x[i] = x[i] + A[j][i] * y[j];")
    nest = an.nest(loop)
    assert nest.vars == ("i", "j") and nest.safe == {"i"} and nest.orders == [(1, 0)]
