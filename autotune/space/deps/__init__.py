"""Conservative dependence analysis on the tree-sitter AST: which loops may run in parallel or be reordered.

Why our own, and why so simple: a knob on a loop whose transformation breaks
a dependence costs a build and a run to be rejected as `wrong_output`, and a
search of 30 evaluations cannot afford many. So this module answers "proven
safe" only from *sufficient* conditions that can be checked on the syntax
tree, and "unsure" (no knob) for everything else. Output verification against
the untransformed program still checks every variant; this module only keeps
hopeless knobs out of the space.

What it assumes, stated once:
* Distinct array names do not alias (two parameters `A` and `B` never point
  into the same memory). Polly makes the same assumption and checks it at run
  time; here a violation would print a wrong result, which verification
  rejects.
* Distinct rows of one array do not overlap (`double **a` with `a[0] == a[1]`
  would break the disjoint-slice argument below).
* A variable declared outside the loop is one variable per function: a
  function that declares its name twice (shadowing) is not analysed for it.
  Names declared only inside the loop are private copies whatever they are.

The sufficient conditions:
* **Parallel / reversible** loop `L` with variable `i` (no iteration of `L`
  touches what another one writes):
  - `L` is canonical, its body has no break/return/goto leaving it, no
    pragma between nested loops, no OpenMP directive, no preprocessor
    conditional, and no call except pure math functions (`sqrt`, `exp`,
    `pow`, `fabs`, PolyBench's `SQRT_FUN`/`EXP_FUN`/`POW_FUN`/`SCALAR_VAL`,
    and function-like macros of the file whose bodies contain no assignment
    and no call);
  - no pointer dereference or field access at all (`*p`, `p->x`, `s.x`), no
    `&x`: every access is to a named scalar or a subscripted array name;
  - every array written in the body is accessed (read and write) only with
    the same number of subscripts, one of which, at one fixed position, is
    exactly `i`: iterations touch disjoint slices;
  - every scalar written in the body is declared inside it, or is
    *privatisable*: function-local, and every use of it in the function lies
    in a `for` loop that assigns it before any use (as its loop variable,
    or by a first statement `s = expr;` not reading `s`), that loop being
    `L`, inside `L`, or not enclosing `L`. Then no iteration reads another
    one's value and nothing after `L` reads its final value, so it may be
    made `private`; `L`'s own variable passes the same test;
  - nothing `L`'s bounds read is written in the body.
  Reversal needs no more than this: a loop that carries no dependence runs
  the same backwards.
* **Interchange** of a perfect, rectangular, canonical nest of depth 2 or 3
  (dependences along at most one of its loops):
  every written array is accessed with one identical subscript tuple in
  the whole nest; each subscript is either exactly a nest variable or
  mentions none; at most one nest variable is missing from the tuple. Two
  iterations touching one element then agree on all nest variables but at
  most one, so every dependence distance vector has at most one non-zero
  entry and stays lexicographically positive under every permutation.
  Written scalars must be privatisable in the sense above.

Modules: `accesses` (what a statement reads and writes, and which calls are
pure), `privatise` (may a written scalar be made private to a loop),
`analysis` (the questions: parallel, interchangeable nest, and the access
facts discovery ranks loop orders with).
"""

from autotune.space.deps.accesses import PURE_FUNCTIONS, PURE_MACROS, Ref, Unsure
from autotune.space.deps.analysis import Analysis, Nest, Verdict, analysis

__all__ = ["PURE_FUNCTIONS", "PURE_MACROS", "Analysis", "Nest", "Ref", "Unsure", "Verdict", "analysis"]
