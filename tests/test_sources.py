from __future__ import annotations

from pathlib import Path

import pytest

from runner.contract import DATASETS
from runner.envref import expand
from runner.errors import UsageError
from runner.repository import Repository
from runner.schemas import SchemaStore
from runner.sources import load_sources

from .conftest import ROOT


def test_reference_with_default_uses_the_variable_when_set():
    assert expand("${DB_URL:-sqlite:///x.db}", {"DB_URL": "postgresql://h/db"}, where="w") == "postgresql://h/db"


def test_reference_falls_back_when_unset_or_empty():
    assert expand("${DB_URL:-sqlite:///x.db}", {}, where="w") == "sqlite:///x.db"
    assert expand("${DB_URL:-sqlite:///x.db}", {"DB_URL": ""}, where="w") == "sqlite:///x.db"


def test_reference_without_default_must_be_set():
    with pytest.raises(UsageError) as caught:
        expand("${CRM_URL}", {}, where="rules/sources.yaml: source 'crm'")
    assert str(caught.value) == (
        "rules/sources.yaml: source 'crm': environment variable CRM_URL is not set; "
        "export it before running campaign-guard"
    )


def test_plain_text_is_not_a_reference():
    assert expand("no reference here", {}, where="w") == "no reference here"


def test_shipped_demo_source_is_the_sqlite_file_in_the_repository():
    sources = load_sources(Repository(ROOT), environ={})
    demo = sources.get(None)
    assert demo.name == "demo"
    assert demo.url == f"sqlite:///{ROOT / '.campaign-guard/demo.db'}"
    assert set(demo.datasets) == set(DATASETS)
    assert demo.datasets["messages"].table == "messages"
    assert demo.stop_actions == ("UPDATE outbound_switch SET enabled = 0",)


def test_the_environment_overrides_the_demo_url():
    sources = load_sources(Repository(ROOT), environ={"CAMPAIGN_GUARD_DEMO_URL": "postgresql+psycopg://h/crm"})
    assert sources.get("demo").url == "postgresql+psycopg://h/crm"


def test_unknown_source_name(repo_copy: Path):
    with pytest.raises(UsageError, match="no source named 'crm'"):
        load_sources(Repository(repo_copy), environ={}).get("crm")


def test_the_schema_lists_exactly_the_contract_datasets():
    schema = SchemaStore(ROOT / "schemas").schema("sources.schema.json")
    assert schema["$defs"]["source"]["properties"]["datasets"]["propertyNames"]["enum"] == list(DATASETS)
