"""The package's shape: the stages of a row's journey import only downwards, and no
module imports itself back through another (README, "Design notes")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "batch_claims"

# Lower layers never import higher ones; a layer may import its own modules and any
# layer below. The shared vocabulary sits at the bottom, the CLI at the top.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "batch_claims",
        "batch_claims.clock",
        "batch_claims.redact",
        "batch_claims.netloc",
        "batch_claims.columns",
        "batch_claims.ticket_types",
        "batch_claims.currency",
        "batch_claims.limits",
        "batch_claims.errors",
        "batch_claims.outcome",
        "batch_claims.settings",
        "batch_claims.results_layout",
        "batch_claims.heap",
        "batch_claims.forked",
        "batch_claims.idle",
    ),
    ("batch_claims.api", "batch_claims.sandbox"),
    ("batch_claims.read",),
    ("batch_claims.validate",),
    ("batch_claims.send",),
    ("batch_claims.report",),
    ("batch_claims.cli", "batch_claims.__main__"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module of the package that ``name`` imports, at any depth of its code
    (imports inside functions and under TYPE_CHECKING are dependencies too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> int:
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or (prefix != "batch_claims" and name.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), rank)
    if best is None:
        raise AssertionError(f"{name} belongs to no layer: add it to LAYERS and the README")
    return best[1]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer_of(name)


def test_no_module_imports_a_higher_stage() -> None:
    upward = sorted(
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in GRAPH.items()
        for target in targets
        if layer_of(target) > layer_of(name)
    )
    assert upward == []


def test_no_import_cycles() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle between stages.
    graph = {
        name: {
            t
            for t in targets
            if not (MODULES[name].name == "__init__.py" and t.startswith(name + "."))
        }
        for name, targets in GRAPH.items()
    }
    assert cycles(graph) == []


def test_the_check_sees_a_cycle_and_an_upward_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert layer_of("batch_claims.read.sheet") < layer_of("batch_claims.validate.schema")
    assert "batch_claims.read.table" in GRAPH["batch_claims.read.csvfile"]


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        (
            "batch_claims.cli",
            ("pandas", "pandera", "openpyxl", "flask", "requests", "xlsxwriter")
            + ("batch_claims.read", "batch_claims.validate", "batch_claims.send")
            + ("batch_claims.report", "batch_claims.sandbox", "batch_claims.api.client"),
        ),
        ("batch_claims.read.sheet", ("batch_claims.validate", "batch_claims.send", "pandera")),
    ],
)
def test_importing_a_stage_loads_only_what_it_needs(module: str, absent: tuple[str, ...]) -> None:
    code = (
        f"import sys, {module}\n"
        f"print('\\n'.join(m for m in sys.modules if m.split('.')[0] in "
        f"{{'pandas','pandera','openpyxl','flask','requests','xlsxwriter','batch_claims'}}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if any(m == a or m.startswith(a + ".") for a in absent)] == []


# Data tables, not code: the canonical columns with their aliases in five languages.
DATA_TABLES = {"batch_claims.columns"}


def test_no_module_is_over_400_lines_but_the_data_tables() -> None:
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert set(long) <= DATA_TABLES, long


def test_every_module_says_what_it_owns() -> None:
    silent = [
        name
        for name, path in MODULES.items()
        if path.name != "__main__.py" and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert silent == []
