"""Schema defaults filled into configuration, so that whatever `validate` accepts, the engine can read.

A schema's `default` is the single source of a field's default value: nothing downstream
writes `.get("severity", "problem")` of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

Resolve = Callable[[str, str], tuple[str, Mapping[str, Any]]]


def with_defaults(resolve: Resolve, base: str, schema: Mapping[str, Any], data: Any) -> Any:
    """data with every missing property that has a default filled in, recursively; data itself is not changed."""
    while "$ref" in schema:
        base, schema = resolve(base, schema["$ref"])
    for part in schema.get("allOf", ()):
        data = with_defaults(resolve, base, part, data)
    if isinstance(data, dict):
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        filled = {}
        for key, value in data.items():
            below = properties.get(key, extra if isinstance(extra, Mapping) else None)
            filled[key] = with_defaults(resolve, base, below, value) if below is not None else value
        for key, below in properties.items():
            if key not in filled and isinstance(below, Mapping) and "default" in below:
                filled[key] = with_defaults(resolve, base, below, copy.deepcopy(below["default"]))
        return filled
    if isinstance(data, list) and isinstance(schema.get("items"), Mapping):
        return [with_defaults(resolve, base, schema["items"], item) for item in data]
    return data
