"""The package layout is the architecture: data flows one way, generate -> warehouse ->
modeling -> gate / operations -> report, with the CLI on top. Each subpackage of `ml` may
import only from the layers below it (its `__init__` docstring says which)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ML = Path(__file__).resolve().parents[1] / "ml"
SHARED = {"errors", "failpoints"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "failpoints": set(),
    "generate": SHARED,
    "warehouse": SHARED,
    "modeling": SHARED | {"warehouse"},
    "gate": SHARED | {"warehouse", "modeling"},
    "operations": SHARED | {"warehouse", "modeling"},
    "report": SHARED | {"warehouse", "modeling", "gate", "operations"},
    "cli": SHARED | {"generate", "warehouse", "modeling", "gate", "operations", "report"},
}


def _layer(path: Path) -> str:
    return path.relative_to(ML).parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    """The `ml` layers a module imports from (top-level or inside functions)."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ml" and len(parts) > 1:
                layers.add(parts[1])
                break
    return layers


MODULES = sorted(p for p in ML.rglob("*.py") if p.name != "__init__.py" or p.parent != ML)


def test_every_module_belongs_to_a_layer() -> None:
    assert {_layer(p) for p in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ML)))
def test_imports_flow_one_way(path: Path) -> None:
    layer = _layer(path)
    foreign = _imported_layers(path) - {layer} - ALLOWED[layer]
    assert not foreign, f"ml/{path.relative_to(ML)} ({layer}) imports from {sorted(foreign)}"
