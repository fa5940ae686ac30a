"""The compiled fast path must agree with jsonschema on every document we can think of."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.kinds import KINDS, kind_of
from runner.repository import Repository
from runner.schema_compiler import Compiler, Unsupported
from runner.yaml_loader import parse

from .conftest import ROOT

REPLACEMENTS: list[Any] = [
    "",
    "x",
    "Not An Id!",
    0,
    -1,
    7,
    2.5,
    True,
    None,
    [],
    ["email"],
    {},
    {"type": "exit"},
    "1h",
    "daily",
    "problem",
    "${ENV}",
    "22:00-08:00",
    "0 * * * *",
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _mutations(document: Any, rng: random.Random, count: int) -> Iterator[Any]:
    paths = list(_paths(document))
    for _ in range(count):
        mutated = copy.deepcopy(document)
        path = rng.choice(paths)
        parent: Any = mutated
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if not path:
            yield rng.choice(REPLACEMENTS)
            continue
        last = path[-1]
        if action < 0.5:
            parent[last] = copy.deepcopy(rng.choice(REPLACEMENTS))
        elif action < 0.75 and isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent, dict):
            parent[rng.choice(["colour", "max_client", "type", "next", "released", "then"])] = rng.choice(REPLACEMENTS)
        else:
            parent.append(copy.deepcopy(rng.choice(REPLACEMENTS)))
        yield mutated


def _shipped_documents() -> list[tuple[str, Any]]:
    found = []
    for path in sorted(ROOT.glob("campaigns/**/*.yaml")) + sorted(ROOT.glob("rules/**/*.yaml")):
        rel = path.relative_to(ROOT).as_posix()
        kind = kind_of(rel)
        if kind is not None:
            found.append((kind.schema, parse(path.read_text(encoding="utf-8"))))
    return found


@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
def test_compiled_verdict_equals_jsonschema_on_mutations(kind: str) -> None:
    repo = Repository(ROOT)
    store = repo.schemas
    schema_name = f"{kind}.schema.json"
    documents = [data for name, data in _shipped_documents() if name == schema_name]
    assert documents, f"no shipped example of {kind}"
    compiled = Compiler(store._resolve).compile(schema_name, store.schema(schema_name))
    validator = store._validator(schema_name)
    rng = random.Random(f"campaign-guard-{kind}")
    checked = invalid = 0
    for document in documents:
        for candidate in [document, *_mutations(document, rng, 150)]:
            expected = validator.is_valid(candidate)
            assert compiled(candidate) is expected, (kind, candidate)
            checked += 1
            invalid += not expected
    assert invalid > checked // 4, "the mutations should mostly produce invalid documents"


def test_every_shipped_schema_compiles_without_falling_back() -> None:
    store = Repository(ROOT).schemas
    for kind in KINDS:
        Compiler(store._resolve).compile(kind.schema, store.schema(kind.schema))


def test_unknown_keyword_is_unsupported() -> None:
    with pytest.raises(Unsupported):
        Compiler(lambda base, ref: (base, {})).compile("x", {"dependentRequired": {"a": ["b"]}})


def test_booleans_are_not_integers_and_integral_floats_are() -> None:
    check = Compiler(lambda base, ref: (base, {})).compile("x", {"type": "integer"})
    assert (check(1), check(1.0), check(True), check("1")) == (True, True, False, False)


def test_enum_distinguishes_true_from_one() -> None:
    check = Compiler(lambda base, ref: (base, {})).compile("x", {"enum": [1]})
    assert (check(1), check(True)) == (True, False)


def test_repository_falls_back_to_jsonschema_for_unsupported_schemas(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "schemas").mkdir()
    for path in (ROOT / "schemas").glob("*.json"):
        (tmp_path / "schemas" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    schema = tmp_path / "schemas" / "thresholds.schema.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace(
            '"additionalProperties": false,',
            '"additionalProperties": false, "dependentRequired": {"anomaly": ["customer_types"]},',
            1,
        ),
        encoding="utf-8",
    )
    store = Repository(tmp_path).schemas
    assert store.is_valid("thresholds.schema.json", {"customer_types": ["vip"], "anomaly": {}}) is True
    assert store.is_valid("thresholds.schema.json", {"anomaly": {}}) is False
