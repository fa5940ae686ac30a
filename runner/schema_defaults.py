"""Schema defaults filled into configuration, so that whatever `validate` accepts, the engine can read.

A schema's `default` is the single source of a field's default value: nothing downstream
writes `.get("severity", "problem")` of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

Resolve = Callable[[str, str], tuple[str, Mapping[str, Any]]]


def with_defaults(
    resolve: Resolve, base: str, schema: Mapping[str, Any], data: Any, memo: dict[int, bool] | None = None
) -> Any:
    """data with every missing property that has a default filled in, recursively; data itself is not changed.

    memo (per schema store) remembers which schema nodes have a default anywhere below them, so that
    the many parts of a document without one are passed by as they are, not copied.
    """
    memo = {} if memo is None else memo
    while "$ref" in schema:
        base, schema = resolve(base, schema["$ref"])
    if not _has_defaults(resolve, base, schema, memo):
        return data
    for part in schema.get("allOf", ()):
        data = with_defaults(resolve, base, part, data, memo)
    if isinstance(data, dict):
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        filled = {}
        for key, value in data.items():
            below = properties.get(key, extra if isinstance(extra, Mapping) else None)
            filled[key] = with_defaults(resolve, base, below, value, memo) if below is not None else value
        for key, below in properties.items():
            if key not in filled and isinstance(below, Mapping) and "default" in below:
                filled[key] = with_defaults(resolve, base, below, copy.deepcopy(below["default"]), memo)
        return filled
    if isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        return [with_defaults(resolve, base, schema["items"], item, memo) for item in data]
    return data


def _has_defaults(resolve: Resolve, base: str, schema: Mapping[str, Any], memo: dict[int, bool]) -> bool:
    """Whether a default is declared at or below this node."""
    return _look_below(resolve, base, schema, memo, set())[0]


def _look_below(
    resolve: Resolve, base: str, schema: Mapping[str, Any], memo: dict[int, bool], visiting: set[int]
) -> tuple[bool, bool]:
    """(a default is declared at or below this node, the answer leaned on a node still being looked at).

    A default may sit next to a `$ref` ({"$ref": "...severity", "default": "problem"}), so the node
    is asked before its reference is followed. A reference back to a node still being looked at adds
    nothing yet; an answer that leaned on one is not remembered, since that node may still find one.
    """
    key = id(schema)
    if key in memo:
        return memo[key], False
    if "default" in schema:
        memo[key] = True
        return True, False
    if key in visiting:
        return False, True
    visiting.add(key)
    while "$ref" in schema:
        base, schema = resolve(base, schema["$ref"])
    below = [*schema.get("properties", {}).values(), *schema.get("allOf", ())]
    below += [
        child for child in (schema.get("additionalProperties"), schema.get("items")) if isinstance(child, Mapping)
    ]
    found, leaned = "default" in schema, False
    for child in below:
        if found:
            break
        if isinstance(child, Mapping):
            child_found, child_leaned = _look_below(resolve, base, child, memo, visiting)
            found, leaned = child_found, leaned or child_leaned
    visiting.discard(key)
    if found or not leaned:
        memo[key] = found
    return found, leaned
