"""No output format of validate ever prints a secret: passwords planted in a schema-valid file, an
environment default, an unknown key, a schema-violating value and a broken check's error are all
reported, and shown as ***."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import runner.static
from runner.main import main
from runner.masking import mask

from .conftest import NOW
from .crashing_check import with_broken_check

PLANTED = "Pl4ntedS3cret"
DSN = f"postgresql://crm_reader:{PLANTED}@crm-db.romashka.local/crm"


def _edit(path: Path, old: str, new: str) -> int:
    """Replace old by new once; the line of the change."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.fixture
def planted(repo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The shipped repository with the password planted five ways; the line of each."""
    lines = {
        "valid_schema": _edit(
            repo_copy / "campaigns/templates/welcome_email.yaml",
            '"https://romashka-market.ru/catalog?utm_source=email&utm_campaign=welcome_chain"',
            f'"https://shop:{PLANTED}@romashka-market.ru/catalog?utm_source=email"',
        ),
        "env_default": _edit(
            repo_copy / "rules/sources.yaml",
            '"${CAMPAIGN_GUARD_DEMO_URL:-sqlite:///.campaign-guard/demo.db}"',
            f'"${{CRM_URL:-{DSN}}}"',
        ),
        "unknown_key": _edit(
            repo_copy / "rules/subscriptions.yaml",
            "    channel: telegram\n",
            f"    channel: telegram\n    smtp_url: smtp://alerts:{PLANTED}@mail.romashka-market.ru:587?password={PLANTED}\n",
        )
        + 1,
        "violating_value": _edit(
            repo_copy / "campaigns/welcome_chain.yaml", "customer_type: new", f"customer_type: {DSN}"
        ),
        "violating_mapping": _edit(
            repo_copy / "campaigns/welcome_chain.yaml", "    channel: sms", f"    channel: {{password: {PLANTED}}}"
        ),
    }

    error = ConnectionError(f"could not reach {DSN}?sslmode=require&token={PLANTED}")
    monkeypatch.setattr(runner.static, "CHECKS", with_broken_check("template.zero_bonus", error))
    monkeypatch.chdir(repo_copy)
    return lines


def _validate(output_format: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--root", ".", "validate", "--format", output_format, "--now", NOW])
    return code, capsys.readouterr().out


def test_every_planted_password_is_reported(planted: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _validate("json", capsys)
    found = {(f["path"], f["line"], f["check"]) for f in json.loads(out)}
    assert code == 3
    assert {
        ("campaigns/templates/welcome_email.yaml", planted["valid_schema"], "security.inline_credentials"),
        ("rules/sources.yaml", planted["env_default"], "security.inline_credentials"),
        ("rules/subscriptions.yaml", planted["unknown_key"], "schema.violation"),
        ("rules/subscriptions.yaml", planted["unknown_key"], "security.inline_credentials"),
        ("campaigns/welcome_chain.yaml", planted["violating_value"], "schema.violation"),
        ("campaigns/welcome_chain.yaml", planted["violating_value"], "security.inline_credentials"),
        ("campaigns/welcome_chain.yaml", planted["violating_mapping"], "schema.violation"),
        ("campaigns/welcome_chain.yaml", planted["violating_mapping"], "security.inline_credentials"),
        ("campaigns/templates/welcome_email.yaml", 1, "internal.check_failed"),
    } <= found
    messages = {
        (f["line"], f["check"]): f["message"] for f in json.loads(out) if f["path"] == "campaigns/welcome_chain.yaml"
    }
    assert (
        "'postgresql://crm_reader:***@crm-db.romashka.local/crm'"
        in messages[(planted["violating_value"], "schema.violation")]
    )
    assert "{'password': '***'}" in messages[(planted["violating_mapping"], "schema.violation")]


@pytest.mark.parametrize("output_format", ["text", "json", "github", "sarif", "gitlab"])
def test_no_output_format_prints_a_planted_password(
    planted: dict[str, int], output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _validate(output_format, capsys)
    assert code == 3
    assert "crm_reader:***@crm-db.romashka.local" in out  # the broken check's error, masked
    assert PLANTED not in out


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"'{DSN}' is not valid", "'postgresql://crm_reader:***@crm-db.romashka.local/crm' is not valid"),
        ("smtp://alerts:p@ss:w0rd@mail.example.com:587", "smtp://alerts:***@mail.example.com:587"),
        ("redis://:hunter22@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            "https://api.example.com/v1?user=a&access_token=abc123&x=1",
            "https://api.example.com/v1?user=a&access_token=***&x=1",
        ),
        ("host=db user=crm password=hunter22 dbname=crm", "host=db user=crm password=*** dbname=crm"),
        ("bot 123456789:AAHk3j5h8dq7fbxmc1yo4ns9rtwAAHk3j5h8d", "bot 123456789:***"),
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/***"),
        ("key AKIAABCDEFGHIJKLMNOP", "key AKIA***"),
        ("https://maps.example.com/api?key=abc123&q=x", "https://maps.example.com/api?key=***&q=x"),
        ("https://api.example.com/v1?AUTH=abc123&x_api_key=def", "https://api.example.com/v1?AUTH=***&x_api_key=***"),
        ("https://api.example.com/v1?a=1&amp;token=abc", "https://api.example.com/v1?a=1&amp;token=***"),
        ("sqlite:///state.db?Password=hunter22", "sqlite:///state.db?Password=***"),
        ("(psycopg) invalid dsn: password='hunter22' host=db", "(psycopg) invalid dsn: password='***' host=db"),
        ("DRIVER={ODBC};UID=crm;PWD=hunter22;", "DRIVER={ODBC};UID=crm;PWD=***;"),
        ("POST /bot123456:short-token/sendMessage: 404", "POST /bot***/sendMessage: 404"),
        ('<a href="https://hooks.slack.com/services/T0/B0/XX">', '<a href="https://hooks.slack.com/services/***">'),
        # nothing secret: left as written
        ("https://romashka-market.ru/catalog?utm_source=email", "https://romashka-market.ru/catalog?utm_source=email"),
        ("write to crm-marketing@romashka-market.ru at 10:30", "write to crm-marketing@romashka-market.ru at 10:30"),
        ("labels: team=crm, tier!=gold", "labels: team=crm, tier!=gold"),
        ("${CRM_URL:-sqlite:///.campaign-guard/demo.db}", "${CRM_URL:-sqlite:///.campaign-guard/demo.db}"),
        ("matchers: key=value, key!=value", "matchers: key=value, key!=value"),  # `key` alone is a URL's only
        ("a `password=` or `token=` parameter", "a `password=` or `token=` parameter"),
        ("https://example.com/bots/list", "https://example.com/bots/list"),
    ],
)
def test_mask(text: str, shown: str) -> None:
    assert mask(text) == shown


def test_mask_hides_given_values() -> None:
    assert mask("{'password': 'hunter22'} is not one of: email, sms", ["hunter22"]) == (
        "{'password': '***'} is not one of: email, sms"
    )


MASKED_DSN = "postgresql://crm_reader:***@crm-db.romashka.local/crm"


@pytest.mark.parametrize(
    ("output_format", "shown"),
    [
        ("markdown", MASKED_DSN),
        ("json", MASKED_DSN),
        ("github", "security.inline_credentials"),
        ("gitlab", "security.inline_credentials"),
    ],
)
def test_review_never_prints_a_planted_password(repo_copy: Path, output_format: str, shown: str) -> None:
    """review shows a changed field's values as written: the new URL is there, its password is not."""
    from .test_review import commit, git, review

    git(repo_copy, "init", "-q")
    commit(repo_copy, "base")
    url = "${CAMPAIGN_GUARD_DEMO_URL:-sqlite:///.campaign-guard/demo.db}"
    _edit(repo_copy / "rules/sources.yaml", url, f"${{CRM_URL:-{DSN}}}")
    result = review(repo_copy, "--format", output_format)
    assert result.returncode == 1, result.stderr
    assert shown in result.stdout
    assert PLANTED not in result.stdout
