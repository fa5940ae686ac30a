"""Checks of template texts: placeholders, a sample render, test markers and '0 points'."""

from __future__ import annotations

import difflib
import re
import traceback
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import meta, nodes

from runner.document import Document
from runner.findings import Severity
from runner.sandbox import BoundedSandbox, refusal
from runner.static.check import Check, Context, Hit
from runner.static.markers import find_marker
from runner.static.subscription_texts import template_errors

TEXT_FIELDS = ("subject", "body")


def environment(channel: str) -> BoundedSandbox:
    """How templates are rendered: sandboxed and bounded, undefined names are errors, HTML escaped for email."""
    return BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=channel in ("email", "web"))


def _render(env: BoundedSandbox, source: str, values: dict[str, Any]) -> str:
    """The sample render, within the sandbox's budget (runner/sandbox.py)."""
    return env.from_string(source).render(values)


def _texts(template: Document) -> Iterator[tuple[str, str]]:
    for field in TEXT_FIELDS:
        if field in template.data:
            yield field, template.data[field]


def _placeholders(template: Document, field: str, source: str) -> tuple[set[str], Hit | None]:
    """The names the text uses, or why it is not valid Jinja2 (an unknown filter or test too), at its line."""
    env = environment(template.data["channel"])
    try:
        tree = env.parse(source)
        loads = next(tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)), None)
        if loads is not None:
            message = f"{field}: a template stands alone and cannot load another one (extends, include, import); "
            return set(), Hit((field,), message + "write the text out here", text_line=loads.lineno)
        return meta.find_undeclared_variables(tree), None  # compiles: unknown filters raise here
    except jinja2.TemplateSyntaxError as exc:
        message = _unknown_name(env, exc.message or "") or f"{(exc.message or '').rstrip('.')}; fix the template syntax"
        return set(), Hit((field,), f"{field}: {message}", text_line=exc.lineno or 1)
    except Exception as exc:  # RecursionError of a text nested too deeply, and whatever Jinja2 may raise
        return set(), Hit((field,), f"{field} cannot be read as Jinja2: {_reason(exc)}; simplify the template")


def _unknown_name(env: BoundedSandbox, message: str) -> str | None:
    """'No filter named 'capitalise'.' in the user's terms, with the nearest real name."""
    found = re.match(r"No (filter|test) named '([^']+)'", message)
    if found is None:
        return None
    kind, name = found.groups()
    known = env.filters if kind == "filter" else env.tests
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f"there is no Jinja2 {kind} {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _template_line(exc: BaseException) -> int:
    """The line of the text a render failed at: the innermost frame Jinja2 rewrote to the template's line."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == "<template>"]
    return (lines[-1] or 1) if lines else 1


def _sample(template: Document) -> Iterator[tuple[str, str]]:
    """(field, rendered text) with the declared examples; fields that fail to render are skipped."""
    examples = {name: spec["example"] for name, spec in template.data.get("attributes", {}).items()}
    env = environment(template.data["channel"])
    for field, source in _texts(template):
        try:
            yield field, _render(env, source, examples)
        except Exception:  # reported by template.render_error
            continue


def undeclared_placeholder(template: Document, ctx: Context) -> Iterator[Hit]:
    """The text uses a placeholder that no declared attribute provides, so the message would break or go out blank."""
    declared = set(template.data.get("attributes", {}))
    for field, source in _texts(template):
        used, _broken = _placeholders(template, field, source)  # a broken text is template.render_error's
        for name in sorted(used - declared):
            yield Hit(
                (field,),
                f"{field} uses {{{{ {name} }}}} but attributes does not declare {name!r}; "
                "declare it with a type and an example, or remove it",
            )


def render_error(template: Document, ctx: Context) -> Iterator[Hit]:
    """The text is not valid Jinja2 (its syntax, an unknown filter or test), fails to render with the
    declared example values, or breaks the sandbox or one of its limits (output, loops, integer size,
    time); a subscription's own template is rendered with a sample problem.

    Both run in runner/sandbox.py, as run and notify render them."""
    if template.kind.name == "subscriptions":
        yield from template_errors(template, ctx)
        return
    examples = {name: spec["example"] for name, spec in template.data.get("attributes", {}).items()}
    env = environment(template.data["channel"])
    for field, source in _texts(template):
        used, broken = _placeholders(template, field, source)
        if broken is not None:
            yield broken
            continue
        if used - set(examples):
            continue  # reported by template.undeclared_placeholder
        try:
            _render(env, source, examples)
        except Exception as exc:  # a sample render runs the template's own code: any error is the template's
            unknown = _unknown_name(env, str(exc))  # a test inside {% if %} is looked up only when rendering
            refused = refusal(exc)
            if unknown:
                message = f"{field}: {unknown}"
            elif refused:
                message = f"{field} {refused}"
            else:
                message = (
                    f"{field} fails to render with the example values: {_reason(exc)}; "
                    "fix the expression or the attribute's example"
                )
            yield Hit((field,), message, text_line=_template_line(exc))


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
        ("template", "subscriptions"),
        "Fix the Jinja2 syntax or the example value it fails on; render less than the sandbox's limits.",
        render_error,
    ),
    Check(
        "template.test_marker",
        Severity.PROBLEM,
        "mailing",
        ("template",),
        "Remove test words and placeholder text from the template; a real word that is also a marker "
        "goes in thresholds.test_marker_allow.",
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
