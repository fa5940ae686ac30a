"""The configuration kinds: where each lives, its schema, and the ids it defines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from runner.positions import JsonPath

Definitions = Iterator[tuple[str, JsonPath]]


@dataclass(frozen=True)
class Kind:
    name: str
    directory: str
    file_pattern: str
    ids: Callable[[Any], Definitions]
    single_id: bool = False

    @property
    def schema(self) -> str:
        return f"{self.name}.schema.json"

    @property
    def where(self) -> str:
        return f"{self.directory}/{self.file_pattern}"


def _top_id(data: Any) -> Definitions:
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        yield data["id"], ("id",)


def _listed(section: str, field: str) -> Callable[[Any], Definitions]:
    def ids(data: Any) -> Definitions:
        items = data.get(section) if isinstance(data, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and isinstance(item.get(field), str):
                yield item[field], (section, index, field)

    return ids


def _error_codes(data: Any) -> Definitions:
    for code, path in _listed("codes", "code")(data):
        item = data["codes"][path[1]]
        subcode = item.get("subcode")
        yield (f"{code}/{subcode}" if isinstance(subcode, str) else code), path


def _nothing(_data: Any) -> Definitions:
    return iter(())


KINDS: tuple[Kind, ...] = (
    Kind("template", "campaigns/templates", "*.yaml", _top_id, single_id=True),
    Kind("campaign", "campaigns", "*.yaml", _top_id, single_id=True),
    Kind("thresholds", "rules", "thresholds.yaml", _nothing),
    Kind("monitored_tables", "rules", "monitored_tables.yaml", _nothing),
    Kind("functional_checks", "rules", "functional_checks.yaml", _listed("checks", "id")),
    Kind("data_checks", "rules/checks", "*.yaml", _listed("checks", "id")),
    Kind("error_codes", "rules", "error_codes.yaml", _error_codes),
    Kind("sources", "rules", "sources.yaml", _nothing),
    Kind("subscriptions", "rules", "subscriptions.yaml", _listed("subscriptions", "name")),
    Kind("rule_tests", "rules/tests", "*.yaml", _listed("tests", "name")),
    Kind("schedules", "rules", "schedules.yaml", _listed("schedules", "name")),
)
BY_NAME = {kind.name: kind for kind in KINDS}
CONFIG_DIRECTORIES = ("campaigns", "rules")
SCHEMA_DIRECTORY = "schemas"


def kind_of(rel: str) -> Kind | None:
    """The kind of a repository-relative path; .yml counts as .yaml."""
    path = PurePosixPath(rel[:-4] + ".yaml" if rel.endswith(".yml") else rel)
    for kind in KINDS:
        if str(path.parent) == kind.directory and path.match(kind.file_pattern):
            return kind
    return None


_TOP_ID = re.compile(r"""^id:[ \t]*(["']?)([A-Za-z0-9_.-]+)\1[ \t]*(?:#.*)?$""", re.MULTILINE)


def scan_id(text: str) -> str | None:
    """The top-level id of a single-id file without parsing it, when written plainly."""
    matches = _TOP_ID.findall(text)
    return matches[0][1] if len(matches) == 1 else None
