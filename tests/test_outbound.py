"""The big red button: stop runs the sources' stop actions, fails every gate, opens a system problem."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import run_cli
from .databases import scratch_database

LAUNCH_DAY = "2026-12-01T11:00:00+03:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    with scratch_database(request.param, tmp_path) as url:
        built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, "--url", url)
        assert built.returncode == 0, built.stderr
        yield {"CAMPAIGN_GUARD_DEMO_URL": url, "CAMPAIGN_GUARD_USER": "olga"}, url


def switch(url: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        states = [int(value) for value in connection.execute(sa.text("SELECT enabled FROM outbound_switch")).scalars()]
    engine.dispose()
    return states


def test_stop_fails_every_gate_until_start(demo: tuple[dict[str, str], str]) -> None:
    env, url = demo
    unknown = run_cli("outbound", "status", env=env)  # no store yet: nothing says outbound runs
    assert (unknown.returncode, unknown.stdout) == (
        4,
        f"outbound: UNKNOWN: no state store at {os.environ['CAMPAIGN_GUARD_STATE_URL']} "
        "(none created yet, or CAMPAIGN_GUARD_STATE_URL is not set as for `run`)\n",
    )
    assert set(switch(url)) == {1}

    stop = run_cli("outbound", "stop", "--reason", "SMS gateway sends duplicates", "--now", LAUNCH_DAY, env=env)
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout == (
        "source 'demo': 1 statement(s) done\noutbound: STOPPED (olga: SMS gateway sends duplicates)\n"
    )
    assert set(switch(url)) == {0}
    status = run_cli("outbound", "status", env={**env, "CAMPAIGN_GUARD_TZ": "UTC"})
    assert (status.returncode, status.stdout) == (
        1,
        "outbound: STOPPED by olga at 2026-12-01 08:00 UTC: SMS gateway sends duplicates\n",
    )
    # --tz wins over CAMPAIGN_GUARD_TZ, and the offset is written
    moscow = run_cli("outbound", "status", "--tz", "Europe/Moscow", env={**env, "CAMPAIGN_GUARD_TZ": "UTC"})
    assert moscow.stdout == "outbound: STOPPED by olga at 2026-12-01 11:00 +03:00: SMS gateway sends duplicates\n"

    check = run_cli("check", "churn_reactivation", "--now", LAUNCH_DAY, "--format", "json", env=env)
    assert check.returncode == 1
    (stopped,) = [r for r in json.loads(check.stdout) if r["check"] == "gate.outbound_stopped"]
    assert (stopped["status"], stopped["localization"], stopped["cause"]) == (
        "fail",
        "system",
        "outbound stopped by olga at 2026-12-01 08:00 UTC: SMS gateway sends duplicates",
    )
    problems = json.loads(run_cli("problems", "list", "--format", "json", "--localization", "system", env=env).stdout)
    assert [(p["check"], p["subject"], p["severity"], p["status"]) for p in problems] == [
        ("system.outbound_stopped", "outbound", "problem", "open")
    ]

    run = run_cli("run", "--check", "gate.outbound_stopped", "--now", LAUNCH_DAY, "--format", "json", env=env)
    gates = {(r["subject"], r["status"]) for r in json.loads(run.stdout)}
    assert gates == {("birthday_bonus", "fail"), ("churn_reactivation", "fail"), ("vip_bonus_accrual", "fail")}

    start = run_cli("outbound", "start", "--reason", "gateway fixed", "--now", "2026-12-01T12:00:00+03:00", env=env)
    assert start.returncode == 0
    assert set(switch(url)) == {1}
    assert run_cli("outbound", "status", env=env).returncode == 0
    resolved = json.loads(
        run_cli(
            "problems", "list", "--format", "json", "--status", "resolved", "--localization", "system", env=env
        ).stdout
    )
    assert [(p["check"], p["status"]) for p in resolved] == [("system.outbound_stopped", "resolved")]


def test_a_failing_stop_action_still_stops_and_exits_4(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()  # a CRM database without the switch table
    env = {"CAMPAIGN_GUARD_DEMO_URL": f"sqlite:///{tmp_path / 'empty.db'}", "CAMPAIGN_GUARD_USER": "olga"}
    stop = run_cli("outbound", "stop", "--reason", "test", "--now", LAUNCH_DAY, env=env)
    assert stop.returncode == 4
    assert stop.stdout.splitlines() == [
        "source 'demo': FAILED: query failed: no such table: outbound_switch",
        "outbound: STOPPED (olga: test)",
    ]
    assert run_cli("outbound", "status", env=env).returncode == 1
