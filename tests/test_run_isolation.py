"""Nothing crashes a run: a check that raises is an error result of its own, and opens system.check_failed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from runner.main import main

from .conftest import LAUNCH_DAY, ROOT

LATER = "2026-12-01T11:05:00+03:00"


@pytest.fixture
def demo(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", demo_url)
    monkeypatch.chdir(ROOT)
    yield


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["run", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def problems(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["problems", "list", "--format", "json", "--status", "all", "--now", LATER, *args]) in (0, 1)
    return list(json.loads(capsys.readouterr().out))


def broken(*_args: object, **_kwargs: object) -> list[object]:
    """A check that meets something its author did not expect, while reading a dataset."""
    import runner.engine.evaluation as evaluation

    evaluation.touch("dataset queue_samples of source 'demo'")
    return [float(None)]  # type: ignore[arg-type]


def test_a_check_that_raises_is_one_error_result_and_the_run_goes_on(
    demo: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("runner.builtin.health.queue_size", broken)
    code, results = run_json(capsys, "--now", LAUNCH_DAY)
    assert code == 4
    errors = [r for r in results if r["status"] == "error"]
    assert [(r["check"], r["subject"], r["cause"]) for r in errors] == [
        (
            "monitor.queue_size",
            "monitor.queue_size",
            "check monitor.queue_size failed while reading dataset queue_samples of source 'demo': TypeError: "
            "float() argument must be a string or a real number, not 'NoneType'",
        )
    ]
    # every other check was evaluated and judged as usual
    assert ("monitor.promo_pool_low", "WELCOME10", "fail") in {(r["check"], r["subject"], r["status"]) for r in results}
    assert len({r["check"] for r in results}) > 30
    failed = [p for p in problems(capsys, "--check", "system.*") if p["check"] == "system.check_failed"]
    assert [(p["subject"], p["status"], p["severity"]) for p in failed] == [("monitor.queue_size", "open", "problem")]
    assert main(["run", "--now", LAUNCH_DAY, "--check", "monitor.*"]) == 4
    summary = capsys.readouterr().out.splitlines()[-2]  # the last line counts the store's problems
    counted = r"\d+ results: \d+ problems, \d+ warnings, 0 source errors, 1 checks failed, \d+ passed"
    assert re.fullmatch(counted, summary), summary


def test_the_next_run_that_evaluates_the_check_resolves_system_check_failed(
    demo: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    with monkeypatch.context() as patched:
        patched.setattr("runner.builtin.health.queue_size", broken)
        assert run_json(capsys, "--now", LAUNCH_DAY)[0] == 4
    code, results = run_json(capsys, "--now", LATER)
    assert code == 1  # the demo's problems, no error
    assert not [r for r in results if r["status"] == "error"]
    failed = [p for p in problems(capsys, "--check", "system.*") if p["check"] == "system.check_failed"]
    assert [(p["subject"], p["status"]) for p in failed] == [("monitor.queue_size", "resolved")]


def test_a_monitored_table_the_source_lacks_is_an_error_of_that_table_alone(
    demo: None, capsys: pytest.CaptureFixture[str], repo_copy: Any
):
    tables = repo_copy / "rules" / "monitored_tables.yaml"
    text = tables.read_text(encoding="utf-8").replace("table: loyalty_cards", "table: loyalty_cardz")
    tables.write_text(text, encoding="utf-8")
    code = main(["--root", str(repo_copy), "run", "--format", "json", "--now", LAUNCH_DAY, "--check", "monitor.table*"])
    results = json.loads(capsys.readouterr().out)
    assert code == 4
    verdicts = {r["subject"]: (r["status"], r["cause"]) for r in results}
    assert set(verdicts) == {
        "demo.customers",
        "demo.transactions",
        "demo.messages",
        "demo.webhook_calls",
        "demo.queue_samples",
        "demo.loyalty_cardz",
    }
    status, cause = verdicts["demo.loyalty_cardz"]
    assert status == "error"
    assert cause == "source 'demo': table loyalty_cardz -> loyalty_cardz (rules/sources.yaml): no such table"
    assert all(v[0] != "error" for s, v in verdicts.items() if s != "demo.loyalty_cardz")


def test_a_monitored_table_without_severity_is_evaluated_with_the_schema_default(
    demo: None, capsys: pytest.CaptureFixture[str], repo_copy: Any
):
    tables = repo_copy / "rules" / "monitored_tables.yaml"
    text = tables.read_text(encoding="utf-8").replace("    severity: problem\n", "")
    tables.write_text(text, encoding="utf-8")
    assert main(["--root", str(repo_copy), "validate", str(tables)]) == 0
    capsys.readouterr()
    code = main(["--root", str(repo_copy), "run", "--format", "json", "--now", LAUNCH_DAY, "--check", "monitor.table*"])
    results = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {(r["subject"], r["severity"]) for r in results if r["status"] == "fail"} == {
        ("demo.loyalty_cards", "problem")
    }


def test_a_monitored_table_that_cannot_be_judged_leaves_every_other_table_its_verdict(
    demo: None, capsys: pytest.CaptureFixture[str], repo_copy: Any, demo_url: str
):
    """A dataset column that does not exist, and a raw table whose timestamp holds day-first text
    (compared as text, 30.11 would be newer than 01.12)."""
    import sqlalchemy as sa

    engine = sa.create_engine(demo_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE IF NOT EXISTS lc_text (upd_ts VARCHAR(19))"))
        connection.execute(sa.text("INSERT INTO lc_text VALUES ('30.11.2026 23:50:00')"))
    engine.dispose()
    tables = repo_copy / "rules" / "monitored_tables.yaml"
    added = (
        "  - {table: dumps, timestamp_column: created_at, max_silence_minutes: 30}\n"
        "  - {table: lc_text, timestamp_column: upd_ts, max_silence_minutes: 30}\n"
    )
    tables.write_text(tables.read_text(encoding="utf-8") + added, encoding="utf-8")
    code = main(["--root", str(repo_copy), "run", "--format", "json", "--now", LAUNCH_DAY, "--check", "monitor.table*"])
    results = json.loads(capsys.readouterr().out)
    assert code == 4
    errors = {r["subject"]: r["cause"] for r in results if r["status"] == "error"}
    assert errors == {
        "demo.dumps": "dataset dumps has no column created_at; name its time by the contract: occurred_at",
        "demo.lc_text": "source 'demo': table lc_text, column upd_ts -> lc_text.upd_ts (rules/sources.yaml): holds "
        "text such as '30.11.2026 23:50:00', not a timestamp; declare how it is written: "
        'upd_ts: {column: ..., type: text, format: "%d.%m.%Y %H:%M:%S"}',
    }
    judged = {r["subject"] for r in results if r["status"] in ("pass", "fail")}
    assert judged == {"demo.customers", "demo.transactions", "demo.messages", "demo.queue_samples",
                      "demo.webhook_calls", "demo.loyalty_cards"}  # fmt: skip


def test_personal_data_stays_masked_in_subjects_summaries_and_samples(
    demo: None, capsys: pytest.CaptureFixture[str], repo_copy: Any
):
    """A check grouped by customer names its subjects by pseudonym; a `show` list of one dataset
    limits that dataset's samples only."""
    (repo_copy / "rules" / "checks" / "per_customer.yaml").write_text(
        "checks:\n"
        "  - id: messages.per_customer\n"
        "    type: row_count\n"
        "    title: Messages per customer of the welcome chain\n"
        "    dataset: messages\n"
        "    filter: \"campaign_id = 'welcome_chain'\"\n"
        "    group_by: [customer_id]\n"
        '    fail: "> 0"\n'
        "    severity: warning\n"
        "    localization: mailing\n"
        "    hint: A test check.\n",
        encoding="utf-8",
    )
    thresholds = repo_copy / "rules" / "thresholds.yaml"
    thresholds.write_text(thresholds.read_text(encoding="utf-8") + "max_subjects: 3\n", encoding="utf-8")
    sources = repo_copy / "rules" / "sources.yaml"
    text = sources.read_text(encoding="utf-8").replace(
        "promo_codes: {table: promo_codes, samples: {mask: [customer_id]}}",
        "promo_codes: {table: promo_codes, samples: {show: [pool_id, code_type]}}",
    )
    sources.write_text(text, encoding="utf-8")
    args = ["--root", str(repo_copy), "run", "--format", "json", "--now", LAUNCH_DAY]
    code = main([*args, "--check", "messages.per_customer", "--check", "promo.*", "--check", "gate.dedup_window"])
    results = {(r["check"], r["subject"]): r for r in json.loads(capsys.readouterr().out)}
    assert code == 1
    (summary,) = [r for (check, _), r in results.items() if check == "messages.per_customer"]
    assert summary["subject"] == "messages"  # more subjects than max_subjects: one summarising result
    pseudonyms = [sample["subject"] for sample in summary["samples"]]
    assert pseudonyms and all(re.fullmatch(r"\*\*\*\d{1,4}#[0-9a-f]{6}", p) for p in pseudonyms), pseudonyms
    assert re.search(r"the worst: \*\*\*\d{1,4}#[0-9a-f]{6}: ", summary["cause"]), summary["cause"]
    dedup = results[("gate.dedup_window", "churn_reactivation")]
    assert dedup["samples"] and all(re.fullmatch(r"\*\*\*\d{1,4}", str(s["customer_id"])) for s in dedup["samples"])
    codes = results[("promo.two_codes_same_type", "promo.two_codes_same_type")]
    assert [set(sample) for sample in codes["samples"]] == [{"code_type", "issued_codes"}]
