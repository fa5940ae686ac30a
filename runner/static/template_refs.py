"""Checks of the templates a campaign's send elements use (the SAP form checks)."""

from __future__ import annotations

from collections.abc import Iterator

from runner.document import Document
from runner.findings import Severity
from runner.scenario import elements_of
from runner.static.check import Check, Context, Hit


def _sends(campaign: Document, ctx: Context) -> Iterator[tuple[str, dict[str, object], Document | None]]:
    for element_id, element in elements_of(campaign.data, "send"):
        yield element_id, dict(element), ctx.repo.find("template", str(element["template"]))


def template_missing(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A send element names a template that no file in campaigns/templates/ defines."""
    for element_id, element, _template in _sends(campaign, ctx):
        if not ctx.repo.definitions("template").get(str(element["template"])):
            yield Hit(
                ("elements", element_id, "template"),
                f"element {element_id!r} uses template {element['template']!r}, which does not exist; "
                "create campaigns/templates/<id>.yaml or fix the id",
            )


def channel_mismatch(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A send element sends through another channel than its template was made for."""
    for element_id, element, template in _sends(campaign, ctx):
        if template is not None and template.data["channel"] != element["channel"]:
            yield Hit(
                ("elements", element_id, "channel"),
                f"element {element_id!r} sends by {element['channel']} but template "
                f"{element['template']!r} is for {template.data['channel']}; pick a {element['channel']} "
                "template or change the channel",
            )


def customer_type_mismatch(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """The template is not written for the campaign's customer type (e.g. a VIP form in a mass campaign)."""
    wanted = campaign.data["customer_type"]
    for element_id, element, template in _sends(campaign, ctx):
        if template is not None and wanted not in template.data["customer_types"]:
            yield Hit(
                ("elements", element_id, "template"),
                f"template {element['template']!r} is for customer types "
                f"{', '.join(template.data['customer_types'])}, not {wanted!r} of this campaign; "
                "use a template for this type or add the type to the template",
            )


def template_closed(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A send element uses a template that is closed (retired)."""
    for element_id, element, template in _sends(campaign, ctx):
        if template is not None and template.data.get("closed", False):
            yield Hit(
                ("elements", element_id, "template"),
                f"template {element['template']!r} is closed; choose a current template "
                "or reopen it deliberately (closed: false) after review",
            )


CHECKS = (
    Check(
        "template.missing",
        Severity.PROBLEM,
        "mailing",
        ("campaign",),
        "Create the template or correct the id on the send element.",
        template_missing,
    ),
    Check(
        "template.channel_mismatch",
        Severity.PROBLEM,
        "mailing",
        ("campaign",),
        "Use a template of the element's channel, or change the element's channel.",
        channel_mismatch,
    ),
    Check(
        "template.customer_type_mismatch",
        Severity.PROBLEM,
        "mailing",
        ("campaign",),
        "Use a template written for the campaign's customer type, or add the type to the template.",
        customer_type_mismatch,
    ),
    Check(
        "template.closed",
        Severity.PROBLEM,
        "mailing",
        ("campaign",),
        "Switch the element to a current template.",
        template_closed,
    ),
)
