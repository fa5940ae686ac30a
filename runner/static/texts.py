"""Checks of template texts: placeholders, a sample render, test markers and '0 points'."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from runner.document import Document
from runner.findings import Severity
from runner.static.check import Check, Context, Hit
from runner.static.markers import find_marker

TEXT_FIELDS = ("subject", "body")


def environment(channel: str) -> SandboxedEnvironment:
    """How templates are rendered: sandboxed, undefined names are errors, HTML escaped for email."""
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=channel in ("email", "web"))


def _texts(template: Document) -> Iterator[tuple[str, str]]:
    for field in TEXT_FIELDS:
        if field in template.data:
            yield field, template.data[field]


def _parsed(template: Document, field: str, source: str) -> tuple[Any, str | None]:
    env = environment(template.data["channel"])
    try:
        return env.parse(source), None
    except jinja2.TemplateSyntaxError as exc:
        return None, f"{field} line {exc.lineno}: {exc.message}"


def _sample(template: Document) -> Iterator[tuple[str, str]]:
    """(field, rendered text) with the declared examples; fields that fail to render are skipped."""
    examples = {name: spec["example"] for name, spec in template.data.get("attributes", {}).items()}
    env = environment(template.data["channel"])
    for field, source in _texts(template):
        try:
            yield field, env.from_string(source).render(examples)
        except jinja2.TemplateError:
            continue


def undeclared_placeholder(template: Document, ctx: Context) -> Iterator[Hit]:
    """The text uses a placeholder that no declared attribute provides, so the message would break or go out blank."""
    declared = set(template.data.get("attributes", {}))
    for field, source in _texts(template):
        tree, _error = _parsed(template, field, source)
        if tree is None:
            continue
        for name in sorted(meta.find_undeclared_variables(tree) - declared):
            yield Hit(
                (field,),
                f"{field} uses {{{{ {name} }}}} but attributes does not declare {name!r}; "
                "declare it with a type and an example, or remove it",
            )


def render_error(template: Document, ctx: Context) -> Iterator[Hit]:
    """The text is not valid Jinja2, or fails to render with the declared example values."""
    examples = {name: spec["example"] for name, spec in template.data.get("attributes", {}).items()}
    declared = set(examples)
    env = environment(template.data["channel"])
    for field, source in _texts(template):
        tree, error = _parsed(template, field, source)
        if error:
            yield Hit((field,), f"{error}; fix the template syntax")
            continue
        if meta.find_undeclared_variables(tree) - declared:
            continue  # reported by template.undeclared_placeholder
        try:
            env.from_string(source).render(examples)
        except jinja2.TemplateError as exc:
            yield Hit(
                (field,),
                f"{field} fails to render with the example values: {str(exc).rstrip('.')}; "
                "fix the expression or the attribute's example",
            )


def marker_words(template: Document, ctx: Context) -> Iterator[Hit]:
    """The rendered text contains a test marker ("test", "тест", "lorem ipsum"...) that must never reach a customer.

    Markers are whole words ("testimonials" and "тесто" pass); thresholds.test_marker_allow lists words that
    are never markers."""
    thresholds = ctx.repo.thresholds
    for field, text in _sample(template):
        found = find_marker(text, thresholds["test_markers"], thresholds.get("test_marker_allow", ()))
        if found:
            yield Hit(
                (field,),
                f"{field} contains the test marker {found!r}; replace the placeholder text with the real one",
            )


def zero_bonus(template: Document, ctx: Context) -> Iterator[Hit]:
    """The rendered text promises zero bonus points ("0 баллов"), literally or through a zero example."""
    words = "|".join(re.escape(w) for w in ctx.repo.thresholds["zero_bonus_words"])
    # not the last group of a number written with spaces, as Russian texts do: "1 000 бонусов"
    pattern = re.compile(r"(?<![\d.,])(?<!\d\s)0+\s*(?:" + words + ")", re.IGNORECASE)
    for field, text in _sample(template):
        found = pattern.search(text)
        if found:
            yield Hit(
                (field,),
                f"{field} says {found.group(0)!r}; a message must never promise zero bonus - "
                "use an attribute with the real amount",
            )


CHECKS = (
    Check(
        "template.undeclared_placeholder",
        Severity.PROBLEM,
        "mailing",
        ("template",),
        "Declare every placeholder under attributes (type and example), or remove it.",
        undeclared_placeholder,
    ),
    Check(
        "template.render_error",
        Severity.PROBLEM,
        "mailing",
        ("template",),
        "Fix the Jinja2 syntax or the example value it fails on.",
        render_error,
    ),
    Check(
        "template.test_marker",
        Severity.PROBLEM,
        "mailing",
        ("template",),
        "Remove test words and placeholder text from the template.",
        marker_words,
    ),
    Check(
        "template.zero_bonus",
        Severity.PROBLEM,
        "mailing",
        ("template",),
        "Write the amount through an attribute; never a literal 0.",
        zero_bonus,
    ),
)
