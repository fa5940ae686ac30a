"""history_anomaly: 3 sigma over any metric the state store keeps, through `campaign-guard run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.store.connect import open_store
from runner.store.record import record
from runner.store.runs import start_run

from .conftest import run_cli

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CHECK = """checks:
  - id: queues.size_trend
    type: history_anomaly
    title: Queue size far from its usual level
    metric: monitor.queue_size
    history: 10
    min_volume: 100
    sigma: 3
    severity: warning
    localization: queue
    hint: Look at what fills the queue.
"""


def queue_sizes(minutes: int, sms: float, push: float) -> list[Result]:
    def size(subject: str, value: float) -> Result:
        return Result("monitor.queue_size", subject, Severity.PROBLEM, "queue", Status.PASS, "Queue", observed=value)

    return [size("sms_outbound", sms), size("push_outbound", push), size("tiny_queue", 5 + minutes % 7)]


@pytest.fixture
def repo(repo_copy: Path) -> Path:
    (repo_copy / "rules/checks/trend.yaml").write_text(CHECK, encoding="utf-8")
    return repo_copy


def run_trend(repo: Path, moment: datetime) -> list[tuple[str, str, str, object]]:
    done = run_cli("run", "--check", "queues.*", "--format", "json", "--now", moment.isoformat(), cwd=repo)
    assert done.returncode in (0, 2), done.stderr
    return [(r["subject"], r["status"], r["expected"], r["observed"]) for r in json.loads(done.stdout)]


def test_the_newest_value_is_judged_against_the_stored_ones_before_it(repo: Path) -> None:
    store = open_store(repo)
    for n in range(10):
        moment = NOW - timedelta(minutes=5 * (10 - n))
        record(
            store, start_run(store, "run", "", moment), queue_sizes(n, 1000 + 10 * (n % 3), 2000 + 20 * (n % 2)), moment
        )
    record(store, start_run(store, "run", "", NOW), queue_sizes(10, 5000, 2010), NOW)
    store.close()
    assert run_trend(repo, NOW + timedelta(minutes=1)) == [
        ("push_outbound", "pass", "between 1980 and 2040 (3 sigma of the last 10)", 2010),
        ("sms_outbound", "fail", "between 984 and 1034 (3 sigma of the last 10)", 5000),
        ("tiny_queue", "pass", "between 2 and 13 (3 sigma of the last 10); judged only above 100", 8),
    ]


def test_without_history_there_is_nothing_to_judge(repo: Path) -> None:
    assert run_trend(repo, NOW) == [("queues.size_trend", "pass", "nothing to judge", None)]


def test_a_history_anomaly_needs_its_metric_and_no_dataset(repo: Path) -> None:
    (repo / "rules/checks/trend.yaml").write_text(
        CHECK.replace("    metric: monitor.queue_size\n", "    dataset: queue_samples\n"), encoding="utf-8"
    )
    done = run_cli("validate", "rules/checks/trend.yaml", cwd=repo)
    assert done.returncode == 1
    assert "rules/checks/trend.yaml:2:" in done.stdout
