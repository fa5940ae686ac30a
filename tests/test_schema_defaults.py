"""Schema defaults: filled wherever a field is missing, however the schema reaches the default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.schema_defaults import with_defaults

COMMON: dict[str, Any] = {
    "$defs": {
        "severity": {"enum": ["problem", "warning"]},
        "node": {
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "common#/$defs/node"}},
                "kind": {"type": "string", "default": "leaf"},
            },
        },
    }
}


def resolve(base: str, ref: str) -> tuple[str, Mapping[str, Any]]:
    file, _, pointer = ref.partition("#")
    node: Any = COMMON
    for part in filter(None, pointer.split("/")):
        node = node[part]
    return file or base, node


def test_a_default_next_to_a_reference_is_filled_in_each_list_item():
    schema = {
        "type": "object",
        "properties": {
            "tables": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"severity": {"$ref": "common#/$defs/severity", "default": "problem"}},
                },
            }
        },
    }
    memo: dict[int, bool] = {}
    data = {"tables": [{"table": "a"}, {"table": "b", "severity": "warning"}]}
    assert with_defaults(resolve, "main", schema, data, memo) == {
        "tables": [{"table": "a", "severity": "problem"}, {"table": "b", "severity": "warning"}]
    }
    # the memo remembered the answer: a second document gets the same
    assert with_defaults(resolve, "main", schema, {"tables": [{}]}, memo) == {"tables": [{"severity": "problem"}]}
    assert data == {"tables": [{"table": "a"}, {"table": "b", "severity": "warning"}]}


def test_a_recursive_schema_fills_its_default_at_every_depth():
    schema = COMMON["$defs"]["node"]
    data = {"children": [{"children": [{}]}, {"kind": "branch"}]}
    assert with_defaults(resolve, "main", schema, data, {}) == {
        "kind": "leaf",
        "children": [{"kind": "leaf", "children": [{"kind": "leaf"}]}, {"kind": "branch"}],
    }


def test_a_part_without_any_default_below_it_is_passed_by_as_it_is():
    schema = {"type": "object", "properties": {"texts": {"type": "object", "additionalProperties": {"type": "string"}}}}
    texts = {"sms": "hello"}
    filled = with_defaults(resolve, "main", schema, {"texts": texts}, {})
    assert filled == {"texts": {"sms": "hello"}}
    assert filled["texts"] is texts
