"""No import cycle inside app/: the graph of every import (top level, inside functions and
under TYPE_CHECKING alike) that grimp builds must have no strongly connected component
larger than one module. The layers themselves are checked by `lint-imports`
(pyproject.toml)."""

from __future__ import annotations

from collections.abc import Iterator

import grimp
import pytest


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The groups of modules of `package` that import each other (directly or through each
    other), each sorted; Tarjan's algorithm, iterative."""
    mods = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(mods)

    def imported_by(m: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(m) & inside))

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in mods:
        if root in index:
            continue
        work = [(root, imported_by(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, imported_by(child)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    lines = []
    for a in group:
        for b in group:
            if a != b and graph.direct_import_exists(importer=a, imported=b):
                at = [d["line_number"] for d in graph.get_import_details(importer=a, imported=b)]
                lines.append(f"  {a} -> {b} (line {', '.join(map(str, at))})")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([], []),
        ([("p.a", "p.b"), ("p.b", "p.c")], []),
        ([("p.a", "p.b"), ("p.b", "p.a")], [["p.a", "p.b"]]),
        ([("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")], [["p.a", "p.b", "p.c"]]),
        (
            [("p.a", "p.b"), ("p.b", "p.a"), ("p.c", "p.d"), ("p.d", "p.c"), ("p.b", "p.c")],
            [["p.a", "p.b"], ["p.c", "p.d"]],
        ),
        ([("p.a", "q.b"), ("q.b", "p.a")], []),  # only modules of the package count
    ],
)
def test_cycle_finder(edges: list[tuple[str, str]], expected: list[list[str]]) -> None:
    graph = grimp.ImportGraph()
    for a, b in edges:
        graph.add_import(importer=a, imported=b)
    assert import_cycles(graph, "p") == expected


def test_no_import_cycle_inside_app() -> None:
    graph = grimp.build_graph("app")
    cycles = import_cycles(graph, "app")
    assert not cycles, "import cycles inside app/:\n" + "\n".join(
        describe(graph, g) for g in cycles
    )


def test_counts_are_said_with_one_plural_rule() -> None:
    """Issue 23: "1 days", "1 rows exported"."""
    from app.words import plural

    assert [plural(n, "day") for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert plural(1, "row") + " exported" == "1 row exported"
    assert plural(1200, "valid row") == "1,200 valid rows"
    assert plural(2, "salesperson", "salespeople") == "2 salespeople"
    assert plural(3, "category") == "3 categories" and plural(0.5, "day") == "0.5 days"
