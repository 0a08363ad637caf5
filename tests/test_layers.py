"""The package's folders are its layers, and imports run downward only (docs/architecture.md):

    cli.py        on top: may import any layer
    run/          touches Ray, Tune and RLlib; imports core/, never analysis/
    analysis/     reads files, never starts Ray; imports core/, never run/
    core/         pure: imports nothing of Ray and nothing of the package outside core/

Read from the AST of every module, imports inside functions (lazy ones) included, so a layer cannot
reach up by importing late. Needs no Ray.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from ray_processes import REPO

PACKAGE = REPO / "src" / "scaling_study"
# layer -> the package layers it may import (besides itself)
ALLOWED = {"core": set(), "analysis": {"core"}, "run": {"core"}, "top": {"core", "run", "analysis"}}
THIRD_PARTY_FORBIDDEN = {"core": {"ray"}, "analysis": {"ray"}, "run": set(), "top": set()}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """scaling_study.core.spec -> core; scaling_study.cli -> top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("core", "run", "analysis") else "top"


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, lazily or not, as absolute dotted names."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[:len(package) - node.level + 1], *([base] if base else [])])
            found.add(base)
            # `from scaling_study.core import stats` imports the module scaling_study.core.stats
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if (PACKAGE.parent / Path(*f"{base}.{alias.name}".split("."))).with_suffix(".py").exists())
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def graph() -> dict[str, set[str]]:
    return {m: {i for i in imports_of(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def test_the_layers_are_folders():
    layers = {layer_of(m) for m in MODULES}
    assert layers == {"core", "run", "analysis", "top"}
    top = sorted(m for m in MODULES if layer_of(m) == "top")
    assert top == ["scaling_study", "scaling_study.__main__", "scaling_study.cli"], top


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downward_only(module):
    layer = layer_of(module)
    inside = {i for i in imports_of(MODULES[module]) if i in MODULES and i != "scaling_study"}
    wrong = sorted(i for i in inside if layer_of(i) not in ALLOWED[layer] | {layer})
    assert not wrong, f"{module} ({layer}/) imports {wrong}"
    third = sorted(i for i in imports_of(MODULES[module]) if i.split(".")[0] in THIRD_PARTY_FORBIDDEN[layer])
    assert not third, f"{module} ({layer}/) imports {third}"


def test_no_import_cycle():
    edges = graph()
    seen, on_path, cycles = set(), [], []

    def visit(node):
        if node in on_path:
            cycles.append(on_path[on_path.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for nxt in sorted(edges[node]):
            # a package's __init__ importing nothing is the norm; a module and its package are not a cycle
            if not node.startswith(nxt + "."):
                visit(nxt)
        on_path.pop()

    for module in sorted(edges):
        visit(module)
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles[:3])


def test_the_checker_sees_a_lazy_upward_import(tmp_path):
    """The rules above are only as good as imports_of: a function-level import of analysis/ from core/
    must be found."""
    fake = PACKAGE / "core" / "_probe_for_test.py"
    fake.write_text("def f():\n    from scaling_study.analysis import report\n    import ray\n")
    try:
        found = imports_of(fake)
    finally:
        fake.unlink()
    assert "scaling_study.analysis.report" in found and "ray" in found
