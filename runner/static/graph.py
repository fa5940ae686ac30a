"""Checks of the scenario graph: start, links, reachability, loops, release, audience caps."""

from __future__ import annotations

from collections.abc import Iterator

from runner.document import Document
from runner.findings import Severity
from runner.scenario import cycles, elements_of, links, reachable
from runner.static.check import Check, Context, Hit


def start_missing(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """The campaign's start names no element, so nothing ever runs."""
    start = campaign.data["start"]
    if start not in campaign.data["elements"]:
        yield Hit(
            ("start",),
            f"start element {start!r} does not exist; set start to one of: " + ", ".join(campaign.data["elements"]),
        )


def dangling_link(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A next, then or else points at an element that does not exist."""
    elements = campaign.data["elements"]
    for element_id, element in elements.items():
        for field, target in links(element):
            if target not in elements:
                yield Hit(
                    ("elements", element_id, field),
                    f"element {element_id!r}: {field} points at {target!r}, which does not exist; "
                    "add that element or fix the id",
                )


def unreachable(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """An element that no path from start reaches; it is dead configuration or a missing link."""
    elements = campaign.data["elements"]
    if campaign.data["start"] not in elements:
        return
    reached = set(reachable(elements, campaign.data["start"]))
    for element_id in elements:
        if element_id not in reached:
            yield Hit(
                ("elements", element_id),
                f"element {element_id!r} is never reached from start; link it from another element or delete it",
                key=True,
            )


def cycle_without_wait(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A loop in the scenario with no wait element, which would message a customer endlessly."""
    elements = campaign.data["elements"]
    for component in cycles(elements):
        if not any(elements[member].get("type") == "wait" for member in component):
            yield Hit(
                ("elements", component[0]),
                f"elements {' -> '.join(component)} form a loop without a wait; "
                "add a wait element to the loop or break it",
                key=True,
            )


def not_released(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """An element reachable from start is not released, so the chain silently stops there."""
    if campaign.data["status"] == "draft":
        return
    elements = campaign.data["elements"]
    for element_id in reachable(elements, campaign.data["start"]):
        if not elements[element_id].get("released", False):
            yield Hit(
                ("elements", element_id),
                f"element {element_id!r} is not released but the "
                f"{campaign.data['status']} campaign reaches it; set released: true after review",
                key=True,
            )


def max_clients_missing(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A send or bonus element has no max_clients, the upper bound that cancels a runaway launch."""
    for element_id, element in elements_of(campaign.data):
        if element.get("type") in ("send", "bonus") and "max_clients" not in element:
            yield Hit(
                ("elements", element_id),
                f"{element['type']} element {element_id!r} has no max_clients; "
                "set the largest audience you expect for one launch",
                key=True,
            )


CHECKS = (
    Check(
        "graph.start_missing",
        Severity.PROBLEM,
        "scenario",
        ("campaign",),
        "Point start at an existing element.",
        start_missing,
    ),
    Check(
        "graph.dangling_link",
        Severity.PROBLEM,
        "scenario",
        ("campaign",),
        "Add the missing element or correct the link.",
        dangling_link,
    ),
    Check(
        "graph.unreachable",
        Severity.WARNING,
        "scenario",
        ("campaign",),
        "Link the element from the scenario or remove it.",
        unreachable,
    ),
    Check(
        "graph.cycle_without_wait",
        Severity.PROBLEM,
        "scenario",
        ("campaign",),
        "Put a wait element inside the loop or break the loop.",
        cycle_without_wait,
    ),
    Check(
        "element.not_released",
        Severity.PROBLEM,
        "scenario",
        ("campaign",),
        "Review the element and set released: true, or unlink it.",
        not_released,
    ),
    Check(
        "element.max_clients_missing",
        Severity.PROBLEM,
        "campaign",
        ("campaign",),
        "Set max_clients to the largest audience one launch may have.",
        max_clients_missing,
    ),
)
