"""Turn jsonschema's errors into messages a marketer can act on, with the path to point at."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema

from runner.positions import JsonPath, path_text
from runner.schemas import SchemaIssue


def _leaf_errors(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield jsonschema.exceptions.best_match(error.context)
    else:
        yield error


Written = Callable[[JsonPath], "str | None"]  # the source text of the scalar at a path, as the author wrote it


def explain(
    error: jsonschema.ValidationError, data: Any = None, written: Written | None = None
) -> Iterator[SchemaIssue]:
    """data names list items in paths; written gives back the text YAML turned into a number or a boolean."""
    for leaf in _leaf_errors(error):
        path = tuple(leaf.absolute_path)
        where = path_text(path, data)
        prefix = f"{where}: " if where else ""
        extras = _unexpected_keys(leaf)
        if extras == [] and leaf.validator == "unevaluatedProperties":
            continue
        if extras is not None:
            allowed = sorted(_allowed_keys(leaf))
            for extra in extras:
                hint = difflib.get_close_matches(extra, allowed, n=1)
                suggestion = f"did you mean {hint[0]!r}?" if hint else "allowed: " + ", ".join(allowed)
                yield SchemaIssue((*path, extra), f"{prefix}unknown field {extra!r}; {suggestion}", key=True)
        elif leaf.validator == "required":
            missing = re.findall(r"^'([^']+)' is a required property", leaf.message)
            name = missing[0] if missing else leaf.message
            yield SchemaIssue(path, f"{prefix}missing required field {name!r}", key=bool(path))
        elif leaf.validator == "enum":
            options = [str(o) for o in leaf.validator_value]  # type: ignore[union-attr]  # an enum's value is a list
            hint = difflib.get_close_matches(str(leaf.instance), options, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            yield SchemaIssue(path, f"{prefix}{leaf.instance!r} is not one of: {', '.join(options)}{suggestion}")
        elif leaf.validator == "type":
            expected = f"expected {_type_name(leaf.validator_value)}, got {_type_name(_json_type(leaf.instance))}"
            misread = _misread(leaf.validator_value, leaf.instance, written(path) if written else None)
            yield SchemaIssue(path, prefix + (misread or expected))
        elif leaf.validator == "pattern" and isinstance(leaf.schema, dict) and "description" in leaf.schema:
            yield SchemaIssue(path, f"{prefix}{leaf.instance!r} is not valid here: {leaf.schema['description']}")
        else:
            yield SchemaIssue(path, f"{prefix}{leaf.message}")


def _unexpected_keys(error: jsonschema.ValidationError) -> list[str] | None:
    if error.validator not in ("additionalProperties", "unevaluatedProperties") or not isinstance(error.instance, dict):
        return None
    if error.validator_value is not False:
        return None
    found = re.findall(r"'([^']+)'", error.message.split("(")[-1]) if "(" in error.message else []
    if error.validator == "unevaluatedProperties":
        # a field some branch declares is unevaluated only because that branch failed, which is reported
        found = [key for key in found if key not in _allowed_keys(error)]
    return [key for key in found if key in error.instance]


def _allowed_keys(error: jsonschema.ValidationError) -> set[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = set(schema.get("properties", {}))
    for branch in schema.get("allOf", []):
        for part in ("then", "else"):
            allowed |= set(branch.get(part, {}).get("properties", {}))
    return allowed


_BOOLEAN_WORDS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}


def _misread(expected: Any, value: Any, raw: str | None) -> str | None:
    """What YAML made of the author's text, when that is why the type is wrong; None otherwise.

    `at: 10:30` is the number 630 to YAML 1.1, `code: 0123` the octal 83, `released: yes` a string."""
    names = [expected] if isinstance(expected, str) else list(expected)
    text = raw if raw is not None else str(value)
    if "string" in names and isinstance(value, (bool, int, float)):
        what = "true or false" if isinstance(value, bool) else "a number"
        shown = _json_text(value)
        read = f" ({shown})" if shown != text else ""
        quote = '"' if "'" in text else "'"
        return f"{text} was read as {what}{read}; quote it: {quote}{text}{quote}"
    if ("integer" in names or "number" in names) and isinstance(value, str):
        number = _number(value)
        if number is None or ("number" not in names and number != int(number)):
            return None
        shown = str(int(number)) if number == int(number) else str(number)
        if text[:1] in ("'", '"'):
            return f"{text} is quoted, so it is text; write the number without quotes: {shown}"
        return f"{text} was read as text, not a number; write it as {shown}"
    if "boolean" in names and isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
        return f"{text} is text here, not true or false; write {_BOOLEAN_WORDS[value.lower()]}"
    return None


def _number(text: str) -> float | None:
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None  # not nan, not inf


def _json_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    for name, kind in (("object", dict), ("array", list), ("string", str), ("integer", int), ("number", float)):
        if isinstance(value, kind):
            return name
    return type(value).__name__


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (an empty value)",
}


def _type_name(names: Any) -> str:
    names = [names] if isinstance(names, str) else list(names)
    return " or ".join(_TYPE_WORDS.get(n, n) for n in names)
