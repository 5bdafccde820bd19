"""Loop and pragma discovery on sources meant to trip up naive parsing."""

from __future__ import annotations

from autotune.space.cparse import parse, schedule_of, split_clauses
from tests.conftest import DATA


def loops_by_line(src: bytes):
    return {lp.line: lp for lp in parse(src).loops}


def test_tricky_source_loops_and_nesting():
    prog = parse((DATA / "tricky.c").read_bytes())
    # comments, strings and macro bodies contain `for` but are not loops
    assert len(prog.loops) == 17
    assert [lp.function for lp in prog.loops[:4]] == ["init"] * 4
    l4, l5, l6 = prog.loops[4:7]
    assert l4.worksharing is not None and "collapse(2)" in l4.worksharing.text
    assert (l4.children, l5.children, l6.innermost) == ([5], [6], True)
    assert prog.nest_depth(l4) == 3 and prog.nest_depth(prog.loops[2]) == 2
    assert not l4.declares_var and prog.loops[0].declares_var


def test_break_continuation_and_user_hint():
    prog = parse((DATA / "tricky.c").read_bytes())
    assert prog.loops[9].has_break
    l10, l11 = prog.loops[10], prog.loops[11]
    assert l10.worksharing.text == "omp parallel for schedule(guided)"  # continuation joined
    # `for (...) #pragma ... for (...)`: tree-sitter makes the pragma and the inner
    # loop siblings; discovery must still see the nesting
    assert l11.parent == 10 and l11.has_loop_hint and l10.body_loop is None


def test_orphaned_for_and_schedule_clause():
    prog = parse((DATA / "tricky.c").read_bytes())
    l7 = prog.loops[7]
    assert schedule_of(l7.worksharing) == ("dynamic", "4")
    assert "x" not in {lp.var for lp in prog.loops}


def test_clauses_with_nested_parentheses():
    got = split_clauses("omp parallel for reduction(+:s[0:f(n)]) schedule(dynamic, N/4) nowait")
    assert got == [
        ("omp", ""),
        ("parallel", ""),
        ("for", ""),
        ("reduction", "+:s[0:f(n)]"),
        ("schedule", "dynamic, N/4"),
        ("nowait", ""),
    ]


def test_several_functions_and_canonical_forms():
    src = b"""
void a(int n, double *x) { for (int i = n; i >= 0; i -= 2) x[i] = 0; }
void b(int n, double *x) { int i; for (i = 0; i < n; ++i) x[i] = 1; }
void c(int n, double *x) { for (int i = 0; x[i] > 0; i++) x[i] = 2; }
void d(int n, double *x) { for (;;) { if (n--) break; } }
int main(void) { return 0; }
"""
    prog = parse(src)
    assert prog.functions == ["a", "b", "c", "d", "main"]
    canon = {lp.function: lp.canonical for lp in prog.loops}
    assert canon == {"a": True, "b": True, "c": False, "d": False}
    assert prog.has_main


def test_declared_parameters_and_guards():
    prog = parse((DATA / "params.c").read_bytes())
    assert [(p.name, p.values) for p in prog.params] == [
        ("BLOCK", ("8", "16", "32")),
        ("MODE", ("0", "1", "2", "3", "4", "5")),
    ]
    assert prog.defines["BLOCK"].guarded and prog.defines["BLOCK"].value == "16"
    assert not prog.defines["N"].guarded


def test_only_loops_the_timed_region_runs_are_marked():
    prog = parse((DATA / "tricky.c").read_bytes())
    assert prog.timed_region
    inside = [lp.index for lp in prog.loops if lp.in_region]
    assert inside == list(range(4, 15))  # kernel(), called between the markers; not init() or main's checksum
    assert all(lp.in_region for lp in parse(b"int main(void){for(int i=0;i<3;i++);}").loops)


def test_openmp_uses_are_found_and_lookalikes_are_not():
    src = b"""
#include <omp.h>
/* #pragma omp parallel for  -- only a comment */
const char *s = "omp_get_wtime()";
double g(double *x, int n) {
#ifdef _OPENMP
#pragma omp parallel for
#endif
    for (int i = 0; i < n; i++) x[i] = 0;
    return omp_get_wtime();
}
#pragma ompx not_openmp
int main(void) { return 0; }
"""
    prog = parse(src)
    assert prog.openmp == [("g", 7), ("g", 10)] and prog.uses_openmp
    assert not parse(b'int main(void) { const char *s = "#pragma omp"; return 0; }').uses_openmp
    assert not parse((DATA / "seq_2mm.c").read_bytes()).uses_openmp
