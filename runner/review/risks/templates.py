"""Risk flags of templates: reopened, other placeholders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import meta

from runner.review.model import Compared, Risk
from runner.review.risks.flags import as_dict, listing, risk, users

# --- templates --------------------------------------------------------------------------------------------


def template_reopened(c: Compared) -> Iterator[Risk]:
    """A closed (retired) template is open again."""
    for change in c.of("template", "changed"):
        assert change.before is not None and change.after is not None
        if change.before.data.get("closed") is True and change.after.data.get("closed") is not True:
            yield risk(
                "review.template_reopened",
                change.after,
                ("closed",),
                change.key,
                f"template {change.key} was closed (retired) and is open again: campaigns may send it; "
                "make sure its texts are still right",
            )


def placeholders(template: Any) -> set[str] | None:
    """The names the texts use ({{ name }}, {% if name %}); None when a text does not parse."""
    environment = jinja2.Environment()
    names: set[str] = set()
    for field in ("subject", "body"):
        text = as_dict(template).get(field)
        if isinstance(text, str):
            try:
                names |= meta.find_undeclared_variables(environment.parse(text))
            except jinja2.TemplateSyntaxError:
                return None
    return names


def _difference(label: str, old: set[str], new: set[str]) -> list[str]:
    parts = [f"{label} added: {', '.join(sorted(new - old))}"] if new - old else []
    return parts + ([f"{label} removed: {', '.join(sorted(old - new))}"] if old - new else [])


def template_placeholders_changed(c: Compared) -> Iterator[Risk]:
    """A template declares other attributes, or its texts use other placeholders."""
    for change in c.of("template", "changed"):
        assert change.before is not None and change.after is not None
        parts = _difference(
            "attributes",
            set(as_dict(change.before.data.get("attributes"))),
            set(as_dict(change.after.data.get("attributes"))),
        )
        old, new = placeholders(change.before.data), placeholders(change.after.data)
        if old is not None and new is not None:
            parts += _difference("placeholders in the texts", old, new)
        if parts:
            yield risk(
                "review.template_placeholders_changed",
                change.after,
                ("attributes",),
                change.key,
                f"template {change.key}: {'; '.join(parts)}. Every campaign sending it must provide the values: "
                f"{listing(users(c.head, change.key))}",
                key=True,
            )
