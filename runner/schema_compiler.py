"""Compile a JSON Schema into a fast yes/no predicate.

jsonschema is the authority on *why* a document is invalid, but it walks the
schema anew for every document and costs ten times the YAML parse. Nearly every
file in a commit is valid, so the common path asks a compiled predicate first and
only hands invalid documents to jsonschema for the detailed errors.

The compiler knows exactly the keywords listed in ``_KEYWORDS``; a schema that
uses anything else raises ``Unsupported`` and the caller falls back to
jsonschema. A differential test keeps the two verdicts equal.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]
Resolve = Callable[[str, str], tuple[str, Mapping[str, Any]]]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "format"}
)
_KEYWORDS = _ANNOTATIONS | {
    "$ref",
    "type",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
}


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise Unsupported(f"type {name!r}")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true and 1 differ, 1 and 1.0 do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


class Compiler:
    def __init__(self, resolve: Resolve) -> None:
        self._resolve = resolve
        self._cache: dict[tuple[str, str], Predicate] = {}

    def compile(self, base: str, schema: Any) -> Predicate:
        if schema is True:
            return lambda _value: True
        if schema is False:
            return lambda _value: False
        unknown = set(schema) - _KEYWORDS
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        compiled = (self._keyword(base, schema, key) for key in schema if key not in _ANNOTATIONS)
        checks = [check for check in compiled if check is not None]
        if "unevaluatedProperties" in schema:
            checks.append(self._unevaluated(base, schema))
        return _all_of(checks)

    def _ref(self, base: str, ref: str) -> Predicate:
        key = (base, ref)
        if key not in self._cache:
            self._cache[key] = _never  # a recursive $ref finds this marker and links lazily below
            target_base, target = self._resolve(base, ref)
            self._cache[key] = self.compile(target_base, target)
        if self._cache[key] is not _never:
            return self._cache[key]
        compiled = self._cache
        return lambda value: compiled[key](value)

    def _keyword(self, base: str, schema: Mapping[str, Any], key: str) -> Predicate | None:
        arg = schema[key]
        if key == "$ref":
            return self._ref(base, arg)
        if key == "type":
            names = [arg] if isinstance(arg, str) else list(arg)
            if len(names) == 1 and names[0] in _PLAIN_TYPES:
                plain = _PLAIN_TYPES[names[0]]
                return lambda v: isinstance(v, plain)
            return lambda v: any(_is_type(v, n) for n in names)
        if key == "enum":
            if all(isinstance(option, str) for option in arg):
                options = frozenset(arg)
                return lambda v: isinstance(v, str) and v in options
            return lambda v: any(_same(v, option) for option in arg)
        if key == "const":
            if isinstance(arg, str):
                return lambda v: v == arg and isinstance(v, str)
            return lambda v: _same(v, arg)
        if key == "pattern":
            search = re.compile(arg).search
            return lambda v: not isinstance(v, str) or search(v) is not None
        if key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties"):
            kind = dict if key == "minProperties" else (str if "Length" in key else list)
            low = key.startswith("min")
            return lambda v: not isinstance(v, kind) or (len(v) >= arg if low else len(v) <= arg)
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            compare = {
                "minimum": operator.ge,
                "maximum": operator.le,
                "exclusiveMinimum": operator.gt,
                "exclusiveMaximum": operator.lt,
            }[key]

            def bound(v: Any) -> bool:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    return True
                return bool(compare(v, arg))

            return bound
        if key == "uniqueItems":
            return (lambda v: not isinstance(v, list) or _unique(v)) if arg else None
        if key == "items":
            item = self.compile(base, arg)

            def items(v: Any) -> bool:
                if isinstance(v, list):
                    for x in v:
                        if not item(x):
                            return False
                return True

            return items
        if key == "required":
            required = frozenset(arg)
            return lambda v: not isinstance(v, dict) or required <= v.keys()
        if key == "properties":
            props = {name: self.compile(base, sub) for name, sub in arg.items()}

            def properties(v: Any) -> bool:
                if isinstance(v, dict):
                    for k, x in v.items():
                        check = props.get(k)
                        if check is not None and not check(x):
                            return False
                return True

            return properties
        if key == "patternProperties":
            pats = [(re.compile(p).search, self.compile(base, sub)) for p, sub in arg.items()]
            return lambda v: (
                not isinstance(v, dict) or all(check(x) for k, x in v.items() for search, check in pats if search(k))
            )
        if key == "additionalProperties":
            return self._additional(base, schema, arg)
        if key == "propertyNames":
            name_ok = self.compile(base, arg)
            return lambda v: not isinstance(v, dict) or all(name_ok(k) for k in v)
        if key in ("allOf", "anyOf", "oneOf"):
            subs = [self.compile(base, sub) for sub in arg]
            if key == "allOf":
                return _all_of(subs)
            if key == "anyOf":
                return lambda v: any(s(v) for s in subs)
            return lambda v: sum(1 for s in subs if s(v)) == 1
        if key == "not":
            inner = self.compile(base, arg)
            return lambda v: not inner(v)
        if key == "if":
            cond = self.compile(base, arg)
            then = self.compile(base, schema.get("then", True))
            other = self.compile(base, schema.get("else", True))
            return lambda v: then(v) if cond(v) else other(v)
        if key in ("then", "else", "unevaluatedProperties"):
            return None  # handled with "if" / after the other keywords
        raise Unsupported(key)

    def _additional(self, base: str, schema: Mapping[str, Any], arg: Any) -> Predicate:
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p).search for p in schema.get("patternProperties", {})]
        extra = self.compile(base, arg)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(extra(x) for k, x in v.items() if k not in known and not any(search(k) for search in patterns))

        return check

    def _unevaluated(self, base: str, schema: Mapping[str, Any]) -> Predicate:
        """Support the one shape we use: properties plus allOf of if/then adding properties."""
        if schema["unevaluatedProperties"] is not False or set(schema) & {
            "additionalProperties",
            "patternProperties",
            "$ref",
            "anyOf",
            "oneOf",
        }:
            raise Unsupported("unevaluatedProperties beyond the if/then-properties shape")
        own = set(schema.get("properties", {}))
        branches: list[tuple[Predicate, set[str], set[str]]] = []
        for sub in schema.get("allOf", []):
            parts = [sub.get("then", {}), sub.get("else", {})]
            if set(sub) - {"if", "then", "else"} or any(set(p) - {"required", "properties"} for p in parts):
                raise Unsupported("unevaluatedProperties with a complex allOf branch")
            cond = self.compile(base, sub["if"])
            when_true = set(sub["if"].get("properties", {})) | set(parts[0].get("properties", {}))
            branches.append((cond, when_true, set(parts[1].get("properties", {}))))

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            allowed = set(own)
            for cond, then_props, else_props in branches:
                allowed |= then_props if cond(v) else else_props
            return all(k in allowed for k in v)

        return check


_PLAIN_TYPES: dict[str, type] = {"string": str, "object": dict, "array": list}


def _all_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]

    def every(v: Any) -> bool:
        for check in checks:  # noqa: SIM110  # a plain loop: no generator per call on the hot path
            if not check(v):
                return False
        return True

    return every


def _never(_value: Any) -> bool:
    raise AssertionError("a $ref was called before its target was compiled")


def _unique(items: list[Any]) -> bool:
    seen: list[Any] = []
    for item in items:
        if any(_same(item, other) for other in seen):
            return False
        seen.append(item)
    return True
