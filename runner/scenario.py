"""The campaign scenario as a graph of elements linked by next / then / else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

LINK_FIELDS = ("next", "then", "else")
Elements = Mapping[str, Mapping[str, Any]]


def links(element: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, target id) for every outgoing link of an element."""
    for field in LINK_FIELDS:
        target = element.get(field)
        if isinstance(target, str):
            yield field, target


def reachable(elements: Elements, start: str) -> list[str]:
    """Ids reachable from start, in visiting order (start first)."""
    if start not in elements:
        return []
    seen = [start]
    index = 0
    while index < len(seen):
        for _field, target in links(elements[seen[index]]):
            if target in elements and target not in seen:
                seen.append(target)
        index += 1
    return seen


def cycles(elements: Elements) -> list[list[str]]:
    """Strongly connected components that form a loop (Tarjan), in file order."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for _field, target in links(elements[node]):
            if target not in elements:
                continue
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            self_loop = any(target == node for _f, target in links(elements[node]))
            if len(component) > 1 or self_loop:
                found.append(sorted(component, key=list(elements).index))

    for node in elements:
        if node not in order:
            visit(node)
    return sorted(found, key=lambda component: list(elements).index(component[0]))


def elements_of(
    campaign: Mapping[str, Any], element_type: str | None = None
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for element_id, element in campaign.get("elements", {}).items():
        if element_type is None or element.get("type") == element_type:
            yield element_id, element
