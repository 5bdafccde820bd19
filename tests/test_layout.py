"""The shape of the code base (issue 12): no import cycles, no private names across modules, small modules.

Why a test: each of these crept in once already (a nine-module cycle through `collect.main`,
experiments importing `encoder.corpus._read_csv`, a 1,067-line corpus module). The rules are
read from the source with `ast`, imports inside functions included, so a cycle hidden in a
function body counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autotune", "encoder", "experiments")
MAX_LINES = 400
# A module may exceed MAX_LINES only with its reason here (and at its top).
LONG_MODULES: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            parts = p.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = p
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, str]]:
    """(imported module, imported name or '') for every import of ours in the file."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for a in node.names:
                if f"{src}.{a.name}" in mods:
                    out.append((f"{src}.{a.name}", ""))
                elif src in mods:
                    out.append((src, a.name))
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name in mods]
    return out


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
                path.append(nxt)
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle():
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for target, _ in _imports(m, p, mods):
            # a package's __init__ importing its own submodules is how re-exports work, not a cycle
            if target != m and not (p.name == "__init__.py" and target.startswith(m + ".")):
                graph[m].add(target)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_no_private_name_imported_from_another_module():
    mods = _modules()
    bad = []
    for m, p in mods.items():
        for target, name in _imports(m, p, mods):
            leaf = target.rpartition(".")[2]
            private = (name.startswith("_") and not name.startswith("__")) or leaf.startswith("_")
            # a private module may be used inside its own package (encoder._llraw by encoder's readers)
            if private and not (leaf.startswith("_") and not name and m.split(".")[0] == target.split(".")[0]):
                bad.append(f"{m} imports {target}{'.' + name if name else ''}")
    assert not bad, bad


def test_modules_stay_small():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules().values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES and str(p.relative_to(ROOT)) not in LONG_MODULES
    }
    assert not long, f"split these, or give the reason in LONG_MODULES and at the module's top: {long}"
