"""The message attributes a template requires, and when a value counts as empty.

Shared by the launch gate (gate.empty_attribute) and the dry run's exclusions, so that both
judge "0 points" alike: a numeric attribute (integer, number) is empty when blank or written as
zero - 0, 0.00, 0,00, -0; a text attribute (string, date, url) when blank once trimmed. A
required attribute without a row at all is empty too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause, Subquery

from runner.repository import Repository

NUMERIC = ("integer", "number")


class Attribute(NamedTuple):
    name: str
    numeric: bool


def required_attributes(repo: Repository, element: Mapping[str, Any]) -> tuple[Attribute, ...]:
    """The attributes of a send element's template that must not be empty, by name."""
    template = repo.find("template", str(element.get("template")))
    declarations = template.data.get("attributes", {}) if template is not None else {}
    return tuple(
        Attribute(name, spec["type"] in NUMERIC) for name, spec in sorted(declarations.items()) if spec["required"]
    )


def declared(required: Mapping[str, Sequence[Attribute]]) -> Subquery | None:
    """(element_id, name, numeric) of every required attribute of every send element, as a derived table."""
    rows = [(element_id, attribute) for element_id, attributes in required.items() for attribute in attributes]
    if not rows:
        return None
    return sa.union_all(
        *(
            sa.select(
                sa.literal(element_id, sa.String).label("element_id"),
                sa.literal(attribute.name, sa.String).label("name"),
                sa.literal(int(attribute.numeric), sa.Integer).label("numeric"),
            )
            for element_id, attribute in rows
        )
    ).subquery("declared")


def empty_value(attributes: FromClause, names: FromClause) -> ColumnElement[bool]:
    """A missing row (outer join), a blank value, or - for a numeric attribute - a zero."""
    value = sa.func.trim(sa.func.coalesce(attributes.c.value, ""))
    return sa.or_(value == "", sa.and_(names.c.numeric == 1, _zero(value)))


def _zero(value: ColumnElement[str]) -> ColumnElement[bool]:
    """Nothing is left once zeros, signs, separators and spaces are taken out: 0, 00, 0.00, 0,00, -0."""
    stripped: ColumnElement[str] = value
    for char in ("0", ".", ",", "+", "-", " "):
        stripped = sa.func.replace(stripped, char, "")
    return stripped == ""
