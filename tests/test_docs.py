"""Reference docs are generated, never hand-synced, and the schemas document every field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.catalogue import catalogue

from .conftest import ROOT, run_cli

SPEC_PARAMETERS = [
    "name",
    "description",
    "owner",
    "enabled",
    "channel",
    "recipients",
    "format",
    "language",
    "template",
    "timezone",
    "severities",
    "localizations",
    "campaigns",
    "exclude_campaigns",
    "checks",
    "exclude_checks",
    "campaign_channels",
    "customer_types",
    "owners",
    "labels",
    "min_occurrences",
    "min_duration",
    "events",
    "mode",
    "digest_schedule",
    "quiet_hours",
    "working_days",
    "repeat_interval",
    "group_by",
    "group_wait",
    "max_items",
    "rate_limit",
    "send_empty",
    "escalate_after",
    "escalate_to",
]


def test_committed_docs_are_up_to_date():
    result = run_cli("docs", "--check")
    assert result.returncode == 0, result.stderr


def test_docs_check_reports_stale_pages(tmp_path: Path):
    result = run_cli("docs", "--check", "--output", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'checks.md'}: stale; run `campaign-guard docs` and commit the result",
        f"{tmp_path / 'configuration.md'}: stale; run `campaign-guard docs` and commit the result",
        f"{tmp_path / 'demo.md'}: stale; run `campaign-guard docs` and commit the result",
    ]
    assert run_cli("docs", "--output", str(tmp_path)).returncode == 0
    assert run_cli("docs", "--check", "--output", str(tmp_path)).returncode == 0


def test_every_check_is_documented_with_severity_localization_and_fix():
    text = (ROOT / "docs/checks.md").read_text(encoding="utf-8")
    for info in catalogue():
        # each id is an anchor (docs/checks.md#template.missing): SARIF's helpUri points there
        row = next(line for line in text.splitlines() if line.startswith(f'| <a id="{info.id}"></a>`{info.id}` |'))
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[1:3] == [info.severity.value, info.localization]
        assert cells[3] and cells[4], info.id


def _properties(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            if key == "properties":
                for name, prop in sub.items():
                    yield from _properties(prop, f"{where}.{name}")
            else:
                yield from _properties(sub, f"{where}.{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _properties(sub, f"{where}[{index}]")


def test_every_schema_property_has_a_description():
    missing = []
    for path in sorted((ROOT / "schemas").glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        for where, prop in _properties(schema, path.name):
            if isinstance(prop, dict) and "description" not in prop and not _is_if_condition(where):
                missing.append(where)
    assert missing == []


def _is_if_condition(where: str) -> bool:
    return ".if." in where


def test_subscription_schema_has_exactly_the_35_spec_parameters_in_order():
    schema = json.loads((ROOT / "schemas/subscriptions.schema.json").read_text(encoding="utf-8"))
    properties = schema["$defs"]["subscription"]["properties"]
    assert list(properties) == SPEC_PARAMETERS
    numbers = [int(re.match(r"(\d+)\. ", p["description"]).group(1)) for p in properties.values()]
    assert numbers == list(range(1, 36))


def test_configuration_reference_lists_every_subscription_parameter():
    text = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    for name in SPEC_PARAMETERS:
        assert f"| `subscriptions[].{name}` |" in text
