"""`campaign-guard dry-run CAMPAIGN` against the demo CRM: exact figures, the gate, --record, errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from runner.demo.tables import CONTRACT_TABLES
from runner.dryrun.figures import compute
from runner.dryrun.record import stored_launches
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Evaluation
from runner.engine.plan import find_campaign
from runner.repository import Repository
from runner.store.connect import open_store, upgrade
from runner.store.problems import ProblemFilter, list_problems
from runner.store.tables import HEAD_REVISION, metadata

from .conftest import LAUNCH_DAY, ROOT, run_cli
from .databases import scratch_database

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def dry_run(url: str, *args: str, cwd: Path = ROOT) -> tuple[int, dict[str, Any]]:
    done = run_cli(
        "dry-run", *args, "--now", LAUNCH_DAY, "--format", "json", cwd=cwd, env={"CAMPAIGN_GUARD_DEMO_URL": url}
    )
    assert done.stderr == "", done.stderr
    return done.returncode, json.loads(done.stdout)


def element(document: dict[str, Any], element_id: str) -> dict[str, Any]:
    return next(e for e in document["figures"]["elements"] if e["element"] == element_id)


def audiences(document: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {e["element"]: (e["audience"], e["excluded"], e["final"]) for e in document["figures"]["elements"]}


def sha256(url: str) -> str:
    return hashlib.sha256(Path(sa.engine.make_url(url).database or "").read_bytes()).hexdigest()


@pytest.fixture
def store_rows() -> Iterator[Any]:
    """Rows of a state-store table (the test's own store, from CAMPAIGN_GUARD_STATE_URL)."""
    stores = []

    def rows(table: str) -> list[Any]:
        store = open_store(ROOT)
        stores.append(store)
        with store.read() as connection:
            return list(connection.execute(sa.text(f"SELECT * FROM {table}")))

    yield rows
    for store in stores:
        store.close()


# -- the figures ---------------------------------------------------------------------------


def test_churn_figures_exclude_the_wrong_type_and_the_dedup_repeats(demo_url: str):
    code, document = dry_run(demo_url, "churn_reactivation")
    assert code == 1  # gate.dedup_window is a problem
    assert (document["campaign"], document["file"], document["day"], document["timezone"]) == (
        "churn_reactivation",
        "campaigns/churn_reactivation.yaml",
        "2026-12-01",
        "Europe/Moscow",
    )
    figures = document["figures"]
    assert audiences(document) == {"comeback_email": (1234, 70, 1164), "last_chance_email": (0, 0, 0)}
    comeback = element(document, "comeback_email")
    assert comeback["reasons"] == {"type_mismatch": 40, "dedup": 30, "empty_attributes": 0}
    assert comeback["overlaps"] == {}
    assert (comeback["channel"], comeback["messages_today"]) == ("email", 0)
    assert figures["channels"] == {
        "email": {
            "audience": 1234,
            "excluded": 70,
            "messages": 1164,
            "elements": ["comeback_email", "last_chance_email"],
        }
    }
    assert figures["exclusions"] == {
        "audience": 1234,
        "excluded": 70,
        "final": 1164,
        "reasons": {"type_mismatch": 40, "dedup": 30, "empty_attributes": 0},
        "overlaps": {},
    }
    assert figures["bonus"]["total"] == 0 and figures["bonus"]["elements"] == []
    assert figures["notes"] == [
        "comeback_email: no messages prepared yet, so empty attributes are not judged",
        "last_chance_email: no target group built for today",
    ]


def test_churn_figures_agree_with_the_data_counted_independently(demo_url: str):
    _code, document = dry_run(demo_url, "churn_reactivation")
    engine = sa.create_engine(demo_url)
    members = "FROM target_group_members WHERE campaign_id = 'churn_reactivation' AND run_date = '2026-12-01'"
    with engine.connect() as connection:
        audience = connection.execute(sa.text(f"SELECT COUNT(DISTINCT customer_id) {members}")).scalar()
        vip = connection.execute(sa.text(f"SELECT COUNT(*) {members} AND customer_type <> 'regular'")).scalar()
        # the day starts 2026-12-01 00:00 Moscow = 2026-11-30 21:00 UTC; the window is 30 days before it
        repeated = connection.execute(
            sa.text(
                f"SELECT COUNT(DISTINCT customer_id) {members} AND customer_id IN (SELECT customer_id FROM messages"
                " WHERE campaign_id = 'churn_reactivation' AND created_at >= '2026-10-31 21:00:00'"
                " AND created_at < '2026-11-30 21:00:00')"
            )
        ).scalar()
    engine.dispose()
    assert (audience, vip, repeated) == (1234, 40, 30)
    assert document["figures"]["exclusions"]["reasons"]["type_mismatch"] == vip
    assert document["figures"]["exclusions"]["reasons"]["dedup"] == repeated


def test_birthday_figures_plan_the_bonus_and_see_the_zero_point_sms(demo_url: str):
    code, document = dry_run(demo_url, "birthday_bonus")
    assert code == 1
    figures = document["figures"]
    assert audiences(document) == {
        "accrue_bonus": (12000, 0, 12000),
        "birthday_push": (0, 0, 0),
        "birthday_sms": (0, 0, 0),
    }
    assert figures["bonus"] == {
        "total": 6_000_000,
        "elements": [{"element": "accrue_bonus", "amount": 500, "customers": 12000, "total": 6_000_000}],
        "customers": 12000,
        "per_client": [{"amount": 500, "customers": 12000}],
        "other_customers": 0,
        "credited_today": {"total": 0, "customers": 0, "per_client": [], "other_customers": 0},
    }
    sms = element(document, "birthday_sms")
    assert (sms["messages_today"], sms["empty_messages"], sms["empty_customers"]) == (200, 12, 12)
    assert sms["required_attributes"] == ["bonus_amount", "bonus_valid_until", "first_name"]
    assert element(document, "birthday_push")["messages_today"] == 0
    assert figures["channels"] == {
        "push": {"audience": 0, "excluded": 0, "messages": 0, "elements": ["birthday_push"]},
        "sms": {"audience": 0, "excluded": 0, "messages": 0, "elements": ["birthday_sms"]},
    }
    assert figures["exclusions"]["excluded"] == 0
    assert (
        "birthday_sms: 12 of 200 messages prepared today (12 customers) have an empty or 0 attribute; the element "
        "has no target group today, so none of them is counted as excluded" in figures["notes"]
    )
    failing = {(r["check"], r["subject"]) for r in document["gate"] if r["status"] == "fail"}
    assert failing == {
        ("gate.segmentation_not_done", "SEG_BIRTHDAY_DAILY"),
        ("gate.audience_anomaly", "birthday_bonus/accrue_bonus"),
        ("gate.empty_attribute", "birthday_bonus/birthday_sms"),
    }


def test_vip_figures_use_the_amounts_already_credited_today(demo_url: str):
    code, document = dry_run(demo_url, "vip_bonus_accrual")
    assert code == 1
    assert audiences(document) == {
        "accrue_bonus": (0, 0, 0),
        "vip_email_ru": (0, 0, 0),
        "vip_email_en": (3400, 0, 3400),
    }
    bonus = document["figures"]["bonus"]
    assert (bonus["total"], bonus["customers"], bonus["per_client"]) == (0, 0, [])  # no target group to plan on
    assert bonus["credited_today"] == {
        "total": 18_799_650,
        "customers": 12500,
        "per_client": [
            {"amount": 1500, "customers": 12473},
            {"amount": 3000, "customers": 25},  # the re-run
            {"amount": 150, "customers": 1},
            {"amount": 15000, "customers": 1},  # the typo
        ],
        "other_customers": 0,
    }
    assert document["figures"]["channels"]["email"]["messages"] == 3400
    en = element(document, "vip_email_en")
    assert (en["max_clients"], en["messages_today"]) == (3000, 627)


def test_one_customer_counts_once_and_overlapping_reasons_are_named(demo_url: str, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    shutil.copy(sa.engine.make_url(demo_url).database or "", tmp_path / "demo.db")
    engine = sa.create_engine(url)
    messages, attributes = CONTRACT_TABLES["messages"], CONTRACT_TABLES["message_attributes"]
    members = CONTRACT_TABLES["target_group_members"]
    today = datetime(2026, 12, 1, 7, 0)  # 10:00 Moscow
    with engine.begin() as connection:
        group = "FROM target_group_members WHERE campaign_id = 'churn_reactivation'"
        repeated = connection.execute(
            sa.text(
                f"SELECT MIN(customer_id) {group} AND customer_id IN (SELECT customer_id FROM messages"
                " WHERE campaign_id = 'churn_reactivation' AND created_at >= '2026-10-31 21:00:00')"
            )
        ).scalar_one()
        vip = connection.execute(sa.text(f"SELECT MIN(customer_id) {group} AND customer_type = 'vip'")).scalar_one()
        regular = connection.execute(
            sa.text(
                f"SELECT MAX(customer_id) {group} AND customer_type = 'regular' AND customer_id NOT IN"
                " (SELECT customer_id FROM messages WHERE campaign_id = 'churn_reactivation')"
            )
        ).scalar_one()
        # the repeated customer also appears as a VIP: dedup and type mismatch at once, still one customer
        connection.execute(
            sa.insert(members).values(
                campaign_id="churn_reactivation",
                element_id="comeback_email",
                run_date=datetime(2026, 12, 1).date(),
                customer_id=repeated,
                customer_type="vip",
            )
        )
        # messages prepared today: a regular member without attributes, the VIP with a 0 discount, and a
        # customer outside the target group
        for message_id, customer in ((900_001, regular), (900_002, vip), (900_003, 1)):
            connection.execute(
                sa.insert(messages).values(
                    message_id=message_id,
                    launch_id=None,
                    campaign_id="churn_reactivation",
                    element_id="comeback_email",
                    customer_id=customer,
                    channel="email",
                    status="prepared",
                    created_at=today,
                )
            )
        connection.execute(sa.insert(attributes).values(message_id=900_002, name="discount_percent", value="0"))
    engine.dispose()

    _code, document = dry_run(url, "churn_reactivation")
    comeback = element(document, "comeback_email")
    assert (comeback["audience"], comeback["excluded"], comeback["final"]) == (1234, 71, 1163)
    assert comeback["reasons"] == {"type_mismatch": 41, "dedup": 30, "empty_attributes": 2}
    assert comeback["overlaps"] == {"dedup+type_mismatch": 1, "empty_attributes+type_mismatch": 1}
    assert (comeback["messages_today"], comeback["empty_messages"], comeback["empty_customers"]) == (3, 3, 3)
    assert document["figures"]["exclusions"]["overlaps"] == comeback["overlaps"]
    assert document["figures"]["channels"]["email"]["messages"] == 1163
    assert (
        "comeback_email: 3 of 3 messages prepared today (3 customers) have an empty or 0 attribute; "
        "2 of these customers are in the element's target group" in document["figures"]["notes"]
    )
    text = run_cli("dry-run", "churn_reactivation", "--now", LAUNCH_DAY, env={"CAMPAIGN_GUARD_DEMO_URL": url})
    assert (
        "  overlapping reasons: dedup window and customer type mismatch: 1, "
        "empty attributes and customer type mismatch: 1\n" in text.stdout
    )
    assert "  excluded: 71 of 1,234 customers; 1,163 remain" in text.stdout


def test_the_figures_are_a_few_aggregate_queries_with_bound_parameters(demo_url: str, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", demo_url)
    repo = Repository(ROOT)
    campaign: Campaign = find_campaign(repo, "churn_reactivation")
    ev = Evaluation(repo, datetime.fromisoformat(LAUNCH_DAY))
    try:
        compute(ev, campaign)
        (source,) = ev.opened
        executed = source.adapter.executed  # type: ignore[attr-defined]
    finally:
        ev.close()
    assert 1 <= len(executed) <= 7
    for query in executed:
        assert "churn_reactivation" not in query.sql and "comeback_email" not in query.sql
        assert "GROUP BY" in query.sql or "count(" in query.sql.lower()
    assert any("churn_reactivation" in query.params.values() for query in executed)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_the_figures_are_the_same_on_postgresql_and_mariadb(backend: str, demo_url: str, tmp_path: Path):
    with scratch_database(backend, tmp_path) as url:
        built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, "--url", url)
        assert built.returncode == 0, built.stderr
        for campaign in ("birthday_bonus", "churn_reactivation", "vip_bonus_accrual"):
            code, document = dry_run(url, campaign)
            expected_code, expected = dry_run(demo_url, campaign)
            assert (code, document["figures"]) == (expected_code, expected["figures"])
            assert [(r["check"], r["subject"], r["status"]) for r in document["gate"]] == [
                (r["check"], r["subject"], r["status"]) for r in expected["gate"]
            ]


# -- the gate, exit codes and text ---------------------------------------------------------------


def test_the_gate_part_is_exactly_what_check_reports(demo_url: str):
    _code, document = dry_run(demo_url, "vip_bonus_accrual")
    done = run_cli(
        "check", "vip_bonus_accrual", "--now", LAUNCH_DAY, "--format", "json", env={"CAMPAIGN_GUARD_DEMO_URL": demo_url}
    )
    assert document["gate"] == json.loads(done.stdout)
    assert document["exit_code"] == done.returncode == 1


def test_exit_codes_follow_check(demo_url: str, repo_copy: Path):
    assert dry_run(demo_url, "welcome_chain")[0] == 0
    assert dry_run(demo_url, "churn_reactivation")[0] == 1
    # without its dedup window the churn campaign has only a warning left: the customer type mismatch
    path = repo_copy / "campaigns" / "churn_reactivation.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("dedup_window: 30d\n", ""), encoding="utf-8")
    code, document = dry_run(demo_url, "churn_reactivation", cwd=repo_copy)
    assert code == 0
    assert document["figures"]["exclusions"]["reasons"] == {"type_mismatch": 40, "dedup": 0, "empty_attributes": 0}
    assert dry_run(demo_url, "churn_reactivation", "--strict", cwd=repo_copy)[0] == 2


def test_text_is_written_for_a_marketer(demo_url: str):
    env = {"CAMPAIGN_GUARD_DEMO_URL": demo_url, "CAMPAIGN_GUARD_TZ": "Europe/Moscow"}
    done = run_cli("dry-run", "churn_reactivation", "--now", LAUNCH_DAY, env=env)
    assert done.returncode == 1 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "Dry run of churn_reactivation (campaigns/churn_reactivation.yaml) for 2026-12-01"
    assert lines[1] == (
        "as of 2026-12-01 11:00 +03:00 (campaign zone Europe/Moscow); nothing is launched and nothing is written"
    )
    sections = [line for line in lines if line and not line.startswith(" ") and line[0].isupper()]
    assert sections[:7] == [
        lines[0],
        "Elements (today's target groups)",
        "Messages per channel",
        "Bonus",
        "Exclusions by reason (customers of today's target groups; each customer once)",
        "Notes",
        "Launch gate",
    ]
    table = lines[lines.index("Elements (today's target groups)") + 1 :][:3]
    assert [row.split() for row in table] == [
        ["ELEMENT", "TYPE", "CHANNEL", "MAX", "CLIENTS", "AUDIENCE", "EXCLUDED", "FINAL", "MESSAGES", "TODAY"],
        ["comeback_email", "send", "email", "70,000", "1,234", "70", "1,164", "0"],
        ["last_chance_email", "send", "email", "60,000", "0", "0", "0", "0"],
    ]
    assert "  email       1,164     1,234        70  comeback_email, last_chance_email" in lines
    assert "  no bonus elements" in lines
    assert any(line.split()[:5] == ["customer", "type", "mismatch", "40", "customer_type"] for line in lines)
    assert any(line.split()[:4] == ["dedup", "window", "30", "reached"] for line in lines)
    assert "FAIL problem  gate.dedup_window  churn_reactivation  observed 30  expected <= 0" in lines
    assert lines[-1] == "11 results: 1 problems, 1 warnings, 0 source errors, 9 passed"


def test_text_shows_the_bonus_per_client(demo_url: str):
    env = {"CAMPAIGN_GUARD_DEMO_URL": demo_url}
    birthday = run_cli("dry-run", "birthday_bonus", "--now", LAUNCH_DAY, env=env).stdout.splitlines()
    assert birthday[birthday.index("Bonus") + 1 :][:3] == [
        "  accrue_bonus: 500 points x 12,000 customers = 6,000,000",
        "  total: 6,000,000 points",
        "  per client: 12,000 customers get 500",
    ]
    vip = run_cli("dry-run", "vip_bonus_accrual", "--now", LAUNCH_DAY, env=env).stdout
    assert (
        "  already credited today (bonus_accruals): 18,799,650 points to 12,500 customers; "
        "per client: 12,473 customers get 1,500; 25 get 3,000; 1 gets 150; 1 gets 15,000\n" in vip
    )


# -- --record and nothing else written ----------------------------------------------------------


def test_without_record_nothing_is_written(demo_url: str, store_rows):
    before = sha256(demo_url)
    for output in ("text", "json"):
        done = run_cli(
            "dry-run",
            "vip_bonus_accrual",
            "--now",
            LAUNCH_DAY,
            "--format",
            output,
            env={"CAMPAIGN_GUARD_DEMO_URL": demo_url},
        )
        assert done.returncode == 1
    assert sha256(demo_url) == before
    for table in ("test_launches", "runs", "results", "problems", "problem_events"):
        assert store_rows(table) == [], table


def test_record_stores_exactly_one_test_launch_with_the_figures(demo_url: str, store_rows):
    before = sha256(demo_url)
    code, document = dry_run(demo_url, "churn_reactivation", "--record")
    assert code == 1
    assert sha256(demo_url) == before  # the source is only read
    store = open_store(ROOT)
    try:
        (launch,) = stored_launches(store)
    finally:
        store.close()
    assert launch["id"] == document["test_launch"]
    assert (launch["campaign"], launch["mode"], launch["evaluated_at"]) == (
        "churn_reactivation",
        "test",
        datetime.fromisoformat(LAUNCH_DAY),
    )
    figures = launch["figures"]
    assert figures.pop("gate") == [
        {
            "check": r["check"],
            "subject": r["subject"],
            "severity": r["severity"],
            "status": r["status"],
            "observed": r["observed"],
        }
        for r in document["gate"]
    ]
    assert figures == {
        "file": "campaigns/churn_reactivation.yaml",
        "day": "2026-12-01",
        "timezone": "Europe/Moscow",
        **document["figures"],
    }
    assert len(store_rows("test_launches")) == 1
    assert store_rows("problems") == [] and store_rows("runs") == []


def test_record_prints_the_id_of_the_test_launch(demo_url: str, store_rows):
    done = run_cli(
        "dry-run",
        "welcome_chain",
        "--record",
        "--now",
        LAUNCH_DAY,
        "--tz",
        "UTC",
        env={"CAMPAIGN_GUARD_DEMO_URL": demo_url},
    )
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[1] == "as of 2026-12-01 08:00 UTC (campaign zone Europe/Moscow); nothing is launched"
    (row,) = store_rows("test_launches")
    assert lines[-1] == f"Recorded as test launch {row.id}"
    assert (row.campaign, row.mode) == ("welcome_chain", "test")


# -- errors --------------------------------------------------------------------------------------


def test_an_unknown_campaign_is_one_line_and_exit_3(store_rows):
    done = run_cli("dry-run", "no_such_campaign", "--record")
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr.startswith("campaign-guard: no campaign 'no_such_campaign' in campaigns/; known: ")
    assert len(done.stderr.splitlines()) == 1


def test_an_unreachable_source_is_exit_4_and_nothing_is_recorded(store_rows):
    code, document = dry_run(NOWHERE, "churn_reactivation")
    assert code == 4
    assert document["figures"] is None
    assert document["error"].startswith(
        "source 'demo': cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    )
    assert document["gate"] and {r["status"] for r in document["gate"]} <= {"error", "pass"}

    done = run_cli("dry-run", "churn_reactivation", "--record", env={"CAMPAIGN_GUARD_DEMO_URL": NOWHERE})
    assert done.returncode == 4
    assert "Figures: could not be computed: source 'demo': cannot connect to" in done.stdout
    assert done.stderr == "campaign-guard: not recorded: the figures could not be computed\n"
    assert store_rows("test_launches") == []


def test_an_unreachable_state_store_is_one_line_and_exit_4(demo_url: str):
    done = run_cli(
        "dry-run",
        "churn_reactivation",
        "--record",  # only --record opens the store for writing; without it a missing store is no store yet
        env={"CAMPAIGN_GUARD_DEMO_URL": demo_url, "CAMPAIGN_GUARD_STATE_URL": "sqlite:////proc/no-such/state.db"},
    )
    assert (done.returncode, done.stdout) == (4, "")
    assert len(done.stderr.splitlines()) == 1


# -- the state store migration ----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_store_at_0003_is_upgraded_to_the_newest_with_its_problems_kept(backend: str, tmp_path: Path):
    with scratch_database(backend, tmp_path) as url:
        environ = {"CAMPAIGN_GUARD_STATE_URL": url}
        old = open_store(tmp_path, environ, migrate=False)
        upgrade(old, "0003")
        with old.write() as connection:
            assert not sa.inspect(connection).has_table("test_launches")
            connection.execute(
                sa.text(
                    "INSERT INTO problems (fingerprint, check_id, subject, severity, localization, status, title,"
                    " first_seen, last_seen, last_evaluated_at)"
                    " VALUES ('00000000000000aa', 'gate.dedup_window', 'churn_reactivation', 'problem', 'campaign',"
                    " 'open', 'Customers repeated inside the dedup window', :at, :at, :at)"
                ),
                {"at": datetime(2026, 11, 24, 8, 0)},
            )
        old.close()

        store = open_store(tmp_path, environ)
        try:
            (problem,), _total = list_problems(store, ProblemFilter())
            assert (problem["fingerprint"], problem["status"]) == ("00000000000000aa", "open")
            with store.read() as connection:
                assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
                assert {c["name"] for c in sa.inspect(connection).get_columns("test_launches")} == {
                    "id",
                    "campaign",
                    "evaluated_at",
                    "mode",
                    "figures",
                    "recorded_at",
                }
                assert compare_metadata(MigrationContext.configure(connection), metadata) == []
            assert stored_launches(store) == []
            config = Config()  # and back down: the table goes, the problems stay
            config.set_main_option("script_location", "runner.store:migrations")
            with store.write() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0003")
            with store.read() as connection:
                assert not sa.inspect(connection).has_table("test_launches")
            assert list_problems(store, ProblemFilter())[1] == 1
        finally:
            store.close()
