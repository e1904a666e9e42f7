"""No import cycle among actlab's modules: every import counts, those inside functions included.

The acyclic_siblings contract in pyproject.toml (run by `lint-imports`) checks siblings at every
depth, but a package is not one of its own children, so it misses a cycle through a package's
__init__ (`actlab` → `actlab.analysis.x` → `actlab`); this test checks the whole module graph.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp


def components(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's strongly connected components of two modules or more, each sorted (Tarjan,
    without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> Iterator[str]:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        return iter(sorted(graph.find_modules_directly_imported_by(m)))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, visit(root))]
        while work:
            m, todo = work[-1]
            for n in todo:
                if n not in index:
                    work.append((n, visit(n)))
                    break
                if n in on_stack:
                    low[m] = min(low[m], index[n])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[m])
                if low[m] == index[m]:
                    comp: list[str] = []
                    while not comp or comp[-1] != m:
                        comp.append(stack.pop())
                        on_stack.discard(comp[-1])
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return sorted(found)


def shortest_cycle(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as [m, ..., m]."""
    start = component[0]
    chains = [graph.find_shortest_chain(importer=n, imported=start)
              for n in sorted(graph.find_modules_directly_imported_by(start)) if n in component]
    return [start, *min((c for c in chains if c), key=len)]


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One component: its modules, and one of its cycles with the line of each import."""
    cycle = shortest_cycle(graph, component)
    steps = []
    for importer, imported in zip(cycle, cycle[1:]):
        lines = sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))
        steps.append(f"    {importer} -> {imported} (l.{', '.join(map(str, lines))})")
    return f"  {len(component)} modules: {', '.join(component)}\n  e.g.\n" + "\n".join(steps)


def test_actlab_has_no_import_cycle() -> None:
    graph = grimp.build_graph("actlab", cache_dir=None)
    assert {"actlab", "actlab.core.registry", "actlab.engine.population"} <= graph.modules
    found = components(graph)
    assert not found, (
        f"{len(found)} import cycle(s) among actlab's modules (every module of each below imports "
        "every other, directly or not):\n" + "\n".join(describe(graph, c) for c in found)
    )


def test_the_check_sees_cycles_through_an_init_and_across_levels() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("pkg", "pkg.a"), ("pkg.a", "pkg"),  # a package's __init__ and its child
        ("pkg.sub.x", "pkg.sub.y"), ("pkg.sub.y", "pkg.b"), ("pkg.b", "pkg.sub.x"),  # across levels
        ("pkg.c", "pkg.d"),  # no cycle
    ]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    found = components(graph)
    assert found == [["pkg", "pkg.a"], ["pkg.b", "pkg.sub.x", "pkg.sub.y"]]
    assert shortest_cycle(graph, found[1]) == ["pkg.b", "pkg.sub.x", "pkg.sub.y", "pkg.b"]
    assert "pkg.sub.y -> pkg.b (l.1)" in describe(graph, found[1])
