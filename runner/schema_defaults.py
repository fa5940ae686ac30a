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
    """Whether a default is declared at or below this node (a recursive schema counts as none below)."""
    key = id(schema)
    if key in memo:
        return memo[key]
    memo[key] = False  # while it is being looked at: a reference back to it adds nothing
    while "$ref" in schema:
        base, schema = resolve(base, schema["$ref"])
    properties = schema.get("properties", {})
    below = [*properties.values(), *schema.get("allOf", ())]
    below += [
        child for child in (schema.get("additionalProperties"), schema.get("items")) if isinstance(child, Mapping)
    ]
    found = "default" in schema or any(
        isinstance(child, Mapping) and _has_defaults(resolve, base, child, memo) for child in below
    )
    memo[key] = found
    return found
