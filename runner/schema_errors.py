"""Turn jsonschema's errors into messages a marketer can act on, with the path to point at."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

import jsonschema

from runner.schemas import SchemaIssue


def _leaf_errors(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield jsonschema.exceptions.best_match(error.context)
    else:
        yield error


def explain(error: jsonschema.ValidationError) -> Iterator[SchemaIssue]:
    for leaf in _leaf_errors(error):
        path = tuple(leaf.absolute_path)
        where = ".".join(str(p) for p in path)
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
            yield SchemaIssue(
                path,
                f"{prefix}expected {_type_name(leaf.validator_value)}, got {_type_name(_json_type(leaf.instance))}",
            )
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
