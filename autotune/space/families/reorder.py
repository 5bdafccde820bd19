"""Loops run in another order: `parallel for`, `interchange` and `reverse`, where `deps` proves it legal.

`L<n>.parallel` (`#pragma omp parallel for` with the private clause the
dependence check asks for) goes only into programs without OpenMP of their
own, on the outermost loops proven safe; `L<n>.interchange` and
`L<n>.reverse` (OpenMP 6.0's `#pragma omp interchange` / `#pragma omp
reverse`, clang only) go on nest roots whose reordering is legal and can
plausibly pay. Which loops get them is decided once, in `loopplan`.

Why the conditions: clang cannot stack two transformations of one nest (a
pragma between the loops of an interchanged nest), so any pragma inside a
nest whose interchange knob is set is made unreachable; a nest root's
parallel knob is active only under orders that keep its outer loop safe.
The privatised variables: every outer-declared scalar `deps` found written
in the loop (inner loop variables, scalars set before use, its own
variable); under interchange or tile the original loops are no longer the
associated ones, so even its own variable needs the clause.
"""

from __future__ import annotations

from collections.abc import Iterator

from autotune.space import deps
from autotune.space.cparse import Loop
from autotune.space.families.base import ORDER, PARALLEL, KnobFamily, SpaceDraft, VariantDraft, site_of, when
from autotune.space.knobs import Condition, Knob


def nests_kept(space: SpaceDraft, idx: int) -> list[Condition]:
    """Conditions that keep every interchanged nest with loop `idx` at an inner level in its original order.

    Why: a pragma of ours on such a loop would stand between the loops of that nest.
    """
    plan, loops = space.plan, space.prog.loops
    return [when(f"{loops[r].name}.interchange", plan.original_order(r)) for r in plan.enclosing_roots(idx)]


def own_order_kept(space: SpaceDraft, loop: Loop) -> list[Condition]:
    """Conditions that leave this loop's own interchange and reverse knobs (if any) untransformed."""
    plan = space.plan
    out = []
    if loop.index in plan.interchange:
        out.append(when(f"{loop.name}.interchange", plan.original_order(loop.index)))
    if loop.index in plan.reverse:
        out.append(when(f"{loop.name}.reverse", "off"))
    return out


class Reorder(KnobFamily):
    name = "reorder"

    def program_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        plan, loops = space.plan, space.prog.loops
        for root, orders in plan.interchange.items():
            lp = loops[root]
            orig = plan.original_order(root)
            yield Knob(
                f"{lp.name}.interchange",
                "source",
                (orig, *orders),
                orig,
                "loop order of the nest, outermost first (#pragma omp interchange)",
                (*space.clang_only, *nests_kept(space, root)),
                site=site_of(lp),
            )
        for idx in plan.parallel:
            lp = loops[idx]
            conds = []
            if idx in plan.interchange:  # only orders whose outer loop is still safe
                conds.append(when(f"{lp.name}.interchange", plan.original_order(idx), *plan.parallel_orders[idx]))
            conds += nests_kept(space, idx)  # a pragma inside another loop's interchanged nest
            yield Knob(
                f"{lp.name}.parallel",
                "source",
                ("off", "on"),
                "off",
                "#pragma omp parallel for (dependence check passed)",
                tuple(conds),
                site=site_of(lp),
            )
            space.parallel_on.append(when(f"{lp.name}.parallel", "on"))

    def loop_knobs(self, space: SpaceDraft, loop: Loop) -> Iterator[Knob]:
        plan = space.plan
        if loop.index not in plan.reverse:
            return
        conds = [*space.clang_only]
        if loop.index in plan.interchange:
            conds.append(when(f"{loop.name}.interchange", plan.original_order(loop.index)))
        conds += nests_kept(space, loop.index)
        if loop.index in plan.parallel:
            conds.append(when(f"{loop.name}.parallel", "off"))
        yield Knob(
            f"{loop.name}.reverse",
            "source",
            ("off", "on"),
            "off",
            "#pragma omp reverse",
            tuple(conds),
            site=site_of(loop),
        )

    def closing_knobs(self, space: SpaceDraft) -> Iterator[Knob]:
        # no knobs: the notes that list the loops chosen, after every loop's own notes
        space.notes.extend(space.plan.notes(space.prog))
        return iter(())

    def apply(self, variant: VariantDraft) -> None:
        space, config = variant.space, variant.config
        for loop in variant.prog.loops:
            if config.get(f"{loop.name}.parallel") == "on":
                verdict = deps.analysis(variant.prog).parallel(loop)
                if not verdict.ok:  # the space offered the knob, so the analysis said yes then
                    raise ValueError(f"{loop.name}: not parallel ({verdict.why})")
                priv = f" private({', '.join(verdict.private)})" if verdict.private else ""
                variant.at(loop).pragma(PARALLEL, f"omp parallel for{priv}")
            name = f"{loop.name}.interchange"
            if name in space and config[name] != space[name].default:
                old = str(space[name].default).split("-")
                new = str(config[name]).split("-")
                perm = ", ".join(str(old.index(v) + 1) for v in new)
                variant.at(loop).pragma(ORDER, f"omp interchange permutation({perm})")
            if config.get(f"{loop.name}.reverse") == "on":
                variant.at(loop).pragma(ORDER, "omp reverse")
