"""The Trial stage sits below search, surrogate and the CLI: none of its modules imports them.

Why: `collect.main` importing the CLI closed a cycle through nine modules (cli -> search/api ->
strategies -> surrogate -> scorer -> surrogate/data -> collect -> cli). Imports inside functions
count too: they close the same cycle, only later.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

TRIALS = sorted((ROOT / "autotune" / "trials").rglob("*.py"))
ABOVE = ("autotune.cli", "autotune.search", "autotune.surrogate", "autotune.__main__")


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("path", TRIALS, ids=lambda p: p.name)
def test_trials_imports_nothing_above_it(path: Path):
    bad = sorted(m for m in imports(path) if m.startswith(ABOVE))
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize(
    "path",
    [
        *TRIALS,
        *sorted((ROOT / "autotune" / "surrogate").glob("*.py")),
        *sorted((ROOT / "experiments").glob("vectorization*.py")),
        ROOT / "experiments" / "record_replay.py",
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_private_name_of_another_module_or_object_is_used(path: Path):
    """`from m import _x` and `obj._x` (but `self._x`): what is needed elsewhere is made public."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            bad += [f"{node.module}.{n}" for n in private]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                bad.append(f"line {node.lineno}: .{node.attr}")
    assert not bad, f"{path.name} uses {bad}"
