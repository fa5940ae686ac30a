"""The JSON Schemas: loaded once, asked fast, explained precisely when a file fails."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from runner.errors import UsageError
from runner.positions import JsonPath
from runner.schema_compiler import Compiler, Predicate, Unsupported


@dataclass(frozen=True)
class SchemaIssue:
    path: JsonPath
    message: str
    key: bool = False


def bundled_schema_dir() -> Path:
    """Schemas shipped in the wheel, or the source checkout's schemas/ in development."""
    packaged = Path(str(resources.files("runner"))) / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


class SchemaStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.documents: dict[str, Any] = {}
        for path in sorted(directory.glob("*.schema.json")):
            try:
                self.documents[path.name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UsageError(f"{path}: cannot read schema: {exc}") from None
        self._predicates: dict[str, Predicate] = {}

    @cached_property
    def _registry(self) -> Registry[Any]:
        return Registry().with_resources(
            (name, Resource.from_contents(contents)) for name, contents in self.documents.items()
        )

    def _validator(self, name: str) -> jsonschema.protocols.Validator:
        return jsonschema.Draft202012Validator(self.schema(name), registry=self._registry)

    def schema(self, name: str) -> Any:
        if name not in self.documents:
            raise UsageError(f"{self.directory / name}: schema is missing")
        return self.documents[name]

    def is_valid(self, name: str, data: Any) -> bool:
        if name not in self._predicates:
            try:
                self._predicates[name] = Compiler(self._resolve).compile(name, self.schema(name))
            except Unsupported:
                self._predicates[name] = self._validator(name).is_valid
        return self._predicates[name](data)

    def _resolve(self, base: str, ref: str) -> tuple[str, Mapping[str, Any]]:
        file, _, pointer = ref.partition("#")
        target_file = file or base
        node: Any = self.schema(target_file)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return target_file, node

    def issues(self, name: str, data: Any) -> list[SchemaIssue]:
        errors = sorted(self._validator(name).iter_errors(data), key=lambda e: list(e.absolute_path), reverse=False)
        return [issue for error in errors for issue in _explain(error)]

    def meta_issues(self, name: str) -> list[SchemaIssue]:
        """Problems of a schema file itself, against the 2020-12 meta-schema."""
        meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
        return [SchemaIssue(tuple(e.absolute_path), e.message) for e in meta.iter_errors(self.schema(name))]

    def defaults(self, name: str) -> dict[str, Any]:
        properties = self.schema(name).get("properties", {})
        return {key: prop["default"] for key, prop in properties.items() if "default" in prop}


def _leaf_errors(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield jsonschema.exceptions.best_match(error.context)
    else:
        yield error


def _explain(error: jsonschema.ValidationError) -> Iterator[SchemaIssue]:
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
