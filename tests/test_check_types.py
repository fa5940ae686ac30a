"""The generic check types, configured checks and levels against SQLite, PostgreSQL and MariaDB.

Every test runs on each backend: timestamps are text on SQLite, booleans 0/1 on MariaDB and
aggregates Decimal on PostgreSQL, and the results must not show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from runner.checktypes.anomaly import Baseline, anomaly
from runner.checktypes.failed_rows import failed_rows
from runner.checktypes.freshness import freshness
from runner.checktypes.measure import measure
from runner.checktypes.ratio import ratio
from runner.checktypes.target import Target, sql_condition
from runner.configured import ConfiguredCheck
from runner.contract import DATASETS
from runner.demo.tables import metadata
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.levels import Levels
from runner.engine.result import Result, Status
from runner.errors import UsageError
from runner.findings import Severity
from runner.repository import Repository
from runner.sources import DatasetMapping, SourceConfig, Sources

from .conftest import ROOT
from .databases import BACKENDS, scratch_database

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ABOUT = About("t.check", "Title", Severity.PROBLEM, "queue")
PASS, WARN, FAIL = Status.PASS, Status.WARN, Status.FAIL


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """One scratch database per backend with the contract's tables; each test empties them."""
    with scratch_database(backend, tmp_path_factory.mktemp(backend)) as url:
        engine = sa.create_engine(url)
        metadata.create_all(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def database(server: sa.Engine) -> sa.Engine:
    with server.begin() as connection:
        for table in metadata.sorted_tables:
            connection.execute(table.delete())
    return server


def open_evaluation(database: sa.Engine, timezone: str = "UTC") -> Evaluation:
    url = database.url.render_as_string(hide_password=False)
    datasets = {name: DatasetMapping(table=name) for name in DATASETS}
    config = SourceConfig(name="t", url=url, timezone=timezone, datasets=datasets)
    return Evaluation(Repository(ROOT), NOW, sources=Sources("t", {"t": config}))


@pytest.fixture
def ev(database: sa.Engine) -> Iterator[Evaluation]:
    evaluation = open_evaluation(database)
    yield evaluation
    evaluation.close()


def ago(**delta: float) -> datetime:
    """A moment before NOW as the tables store it: naive UTC."""
    return NOW.replace(tzinfo=None) - timedelta(**delta)


def insert(database: sa.Engine, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows with the columns they name; every other column NULL."""
    columns = metadata.tables[table].c
    full = [{column.name: row.get(column.name) for column in columns} for row in rows]
    assert all(set(row) <= set(columns.keys()) for row in rows)
    with database.begin() as connection:
        connection.execute(metadata.tables[table].insert(), full)


def verdicts(results: list[Result]) -> list[tuple[str, Status, Any]]:
    return [(result.subject, result.status, result.observed) for result in results]


# measure: row_count, new_rows, metric


def test_row_count_at_the_warn_level_is_a_warning(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"store_id": f"s{i}", "status": "ok"} for i in range(3)])
    [result] = measure(ev, ABOUT, Target(dataset="transactions"), Levels.parse(fail="< 2", warn="< 5"))
    assert verdicts([result]) == [("transactions", WARN, 3)]
    assert result.severity is Severity.WARNING
    assert result.expected == ">= 2; warn < 5"
    assert result.cause == "rows: 3 (expected >= 2; warn < 5)"
    assert (result.check, result.title, result.localization) == ("t.check", "Title", "queue")


def test_group_by_judges_each_subject_by_its_own_levels(database: sa.Engine, ev: Evaluation):
    per_campaign = {"c1": 1, "c2": 3, "c3": 6}
    insert(
        database,
        "messages",
        [
            {
                "message_id": n * 10 + i,
                "campaign_id": campaign,
                "channel": "sms" if campaign == "c2" and i == 0 else "email",
            }
            for n, (campaign, count) in enumerate(per_campaign.items())
            for i in range(count)
        ],
    )
    default = Levels.parse(fail="> 5", warn="> 2")
    results = measure(
        ev,
        ABOUT,
        Target(dataset="messages", group_by=("campaign_id",)),
        lambda subject: Levels.above(0) if subject == "c1" else default,
    )
    assert verdicts(results) == [("c1", FAIL, 1), ("c2", WARN, 3), ("c3", FAIL, 6)]
    assert [r.severity for r in results] == [Severity.PROBLEM, Severity.WARNING, Severity.PROBLEM]
    assert [r.expected for r in results] == ["<= 0", "<= 5; warn > 2", "<= 5; warn > 2"]
    assert [r.campaign for r in results] == ["c1", "c2", "c3"]

    two_keys = measure(ev, ABOUT, Target(dataset="messages", group_by=("campaign_id", "channel")), Levels())
    assert verdicts(two_keys) == [
        ("c1/email", PASS, 1),
        ("c2/email", PASS, 2),
        ("c2/sms", PASS, 1),
        ("c3/email", PASS, 6),
    ]


def test_expected_subjects_without_rows_count_zero(database: sa.Engine, ev: Evaluation):
    codes = [("p1", "free"), ("p1", "free"), ("p1", "issued"), ("p2", "issued"), ("p2", "issued"), ("p4", "free")]
    insert(
        database, "promo_codes", [{"pool_id": pool, "code": f"x{i}", "status": s} for i, (pool, s) in enumerate(codes)]
    )
    target = Target(
        dataset="promo_codes",
        where=lambda rows: rows.c.status == "free",
        group_by=("pool_id",),
        expect=("p1", "p2", "p3"),
    )
    results = measure(ev, ABOUT, target, Levels.below(1))
    assert verdicts(results) == [("p1", PASS, 2), ("p2", FAIL, 0), ("p3", FAIL, 0), ("p4", PASS, 1)]
    assert [r.cause for r in results] == ["", "rows: 0 (expected >= 1)", "rows: 0 (expected >= 1)", ""]


def test_window_keeps_a_row_at_its_edge_and_drops_an_older_one(database: sa.Engine, ev: Evaluation):
    stamps = [ago(hours=1), ago(hours=1, seconds=1), ago(minutes=1), ago(days=3)]
    insert(database, "error_log", [{"logged_at": stamp, "code": "E1"} for stamp in stamps])
    target = Target(dataset="error_log", timestamp="logged_at", window=timedelta(hours=1))
    [result] = measure(ev, ABOUT, target, Levels.above(1))
    assert verdicts([result]) == [("error_log", FAIL, 2)]
    assert result.cause == "rows: 2 (expected <= 1)"


def test_window_on_a_raw_table_with_untyped_columns(database: sa.Engine, ev: Evaluation):
    cards = [
        ("active", ago(hours=1)),
        ("active", ago(minutes=59, seconds=59)),
        ("active", ago(hours=1, seconds=1)),
        ("blocked", ago(hours=1, seconds=1)),
        ("blocked", ago(hours=30)),
    ]
    insert(database, "loyalty_cards", [{"card_id": i, "status": s, "updated_at": t} for i, (s, t) in enumerate(cards)])
    target = Target(table="loyalty_cards", timestamp="updated_at", window=timedelta(hours=1), group_by=("status",))
    assert verdicts(measure(ev, ABOUT, target, Levels.below(1))) == [("active", PASS, 2)]


@pytest.mark.parametrize(
    ("aggregate", "column", "observed", "status", "cause"),
    [
        ("count", None, 4, PASS, ""),
        ("count", "amount", 3, PASS, ""),
        ("sum", "amount", 61.5, FAIL, "sum(amount): 61.5 (expected <= 30)"),
        ("min", "amount", 10.25, PASS, ""),
        ("max", "amount", 30.75, FAIL, "max(amount): 30.75 (expected <= 30)"),
        ("avg", "amount", 20.5, PASS, ""),
    ],
)
def test_metric_aggregates_as_plain_numbers(
    database: sa.Engine, ev: Evaluation, aggregate: str, column: str | None, observed: float, status: Status, cause: str
):
    amounts = [10.25, 20.50, 30.75, None]
    insert(database, "bonus_accruals", [{"accrual_id": i, "amount": a} for i, a in enumerate(amounts)])
    target = Target(dataset="bonus_accruals")
    [result] = measure(ev, ABOUT, target, Levels.above(30), aggregate=aggregate, column=column)
    assert verdicts([result]) == [("bonus_accruals", status, observed)]
    assert type(result.observed) is type(observed)
    assert result.cause == cause


def test_metric_of_an_expected_subject_without_rows_is_none(database: sa.Engine, ev: Evaluation):
    insert(database, "bonus_accruals", [{"accrual_id": i, "campaign_id": "c1", "amount": 3} for i in range(3)])
    target = Target(dataset="bonus_accruals", group_by=("campaign_id",), expect=("c1", "c2"))
    results = measure(ev, ABOUT, target, Levels.below(10), aggregate="sum", column="amount")
    assert verdicts(results) == [("c1", FAIL, 9), ("c2", PASS, None)]
    assert results[1].expected == ">= 10"


def test_metric_max_per_group_within_the_window(database: sa.Engine, ev: Evaluation):
    samples = [
        ("q1", 50, ago(minutes=1)),
        ("q1", 120, ago(minutes=15)),
        ("q1", 500, ago(minutes=16)),
        ("q2", 30, ago()),
    ]
    insert(database, "queue_samples", [{"queue_name": q, "size": s, "sampled_at": t} for q, s, t in samples])
    target = Target(
        dataset="queue_samples", timestamp="sampled_at", window=timedelta(minutes=15), group_by=("queue_name",)
    )
    results = measure(ev, ABOUT, target, Levels.above(100), aggregate="max", column="size")
    assert verdicts(results) == [("q1", FAIL, 120), ("q2", PASS, 30)]
    assert [r.cause for r in results] == ["max(size): 120 (expected <= 100)", ""]
    assert [r.campaign for r in results] == [None, None]


# freshness


def test_freshness_is_the_age_of_the_newest_row_in_whole_minutes(database: sa.Engine, ev: Evaluation):
    runs = [
        ("nightly", ago(minutes=10, seconds=59)),
        ("nightly", ago(hours=5)),
        ("hourly", ago(minutes=11)),
        ("hourly", ago(minutes=70)),
    ]
    insert(database, "job_runs", [{"job_name": job, "finished_at": at} for job, at in runs])
    target = Target(dataset="job_runs", timestamp="finished_at", group_by=("job_name",))
    results = freshness(ev, ABOUT, target, Levels.above(10))
    assert verdicts(results) == [("hourly", FAIL, 11), ("nightly", PASS, 10)]
    assert [r.expected for r in results] == ["age in minutes <= 10"] * 2
    assert results[0].cause == "the newest finished_at is 2026-12-01 07:49, 11 minutes ago"


def test_freshness_without_rows_fails_with_nothing_observed(database: sa.Engine, ev: Evaluation):
    [empty] = freshness(ev, ABOUT, Target(dataset="transactions", timestamp="occurred_at"), Levels.above(30))
    assert verdicts([empty]) == [("transactions", FAIL, None)]
    assert empty.severity is Severity.PROBLEM
    assert empty.expected == "age in minutes <= 30"
    assert empty.cause == "transactions has no rows with a occurred_at at all"

    insert(database, "job_runs", [{"job_name": "hourly", "finished_at": ago(minutes=5)}, {"job_name": "weekly"}])
    target = Target(dataset="job_runs", timestamp="finished_at", group_by=("job_name",), expect=("nightly",))
    results = freshness(ev, ABOUT, target, Levels.above(30))
    assert verdicts(results) == [("hourly", PASS, 5), ("nightly", FAIL, None), ("weekly", FAIL, None)]
    assert results[2].cause == "weekly has no rows with a finished_at at all"


def test_freshness_at_the_warn_level(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"occurred_at": ago(minutes=20)}, {"occurred_at": ago(minutes=45)}])
    target = Target(dataset="transactions", timestamp="occurred_at")
    [result] = freshness(ev, ABOUT, target, Levels.parse(fail="> 30", warn="> 15"))
    assert verdicts([result]) == [("transactions", WARN, 20)]
    assert result.severity is Severity.WARNING
    assert result.expected == "age in minutes <= 30; warn > 15"


def test_freshness_in_the_source_time_zone(database: sa.Engine):
    """Moscow is UTC+3: the tables hold local times, NOW is 11:00 there."""
    insert(database, "loyalty_cards", [{"card_id": 1, "updated_at": datetime(2026, 12, 1, 10, 45)}])
    insert(database, "job_runs", [{"job_name": "sync", "finished_at": datetime(2026, 12, 1, 10, 50)}])
    ev = open_evaluation(database, timezone="Europe/Moscow")
    try:
        raw = freshness(ev, ABOUT, Target(table="loyalty_cards", timestamp="updated_at"), Levels.above(12))
        dataset = freshness(ev, ABOUT, Target(dataset="job_runs", timestamp="finished_at"), Levels.above(12))
    finally:
        ev.close()
    assert verdicts(raw + dataset) == [("loyalty_cards", FAIL, 15), ("job_runs", PASS, 10)]
    assert raw[0].cause == "the newest updated_at is 2026-12-01 10:45, 15 minutes ago"


# ratio


def test_ratio_in_percent_per_group(database: sa.Engine, ev: Evaluation):
    stores = {
        "s1": [False] * 4,
        "s2": [None] * 10 + [False] * 9 + [True],
        "s3": [False, None, None, True],
    }
    insert(
        database,
        "transactions",
        [{"store_id": store, "critical": critical} for store, flags in stores.items() for critical in flags],
    )
    healthy = lambda rows: sa.or_(rows.c.critical.is_(None), rows.c.critical == sa.false())  # noqa: E731
    target = Target(dataset="transactions", group_by=("store_id",))
    results = ratio(ev, ABOUT, target, healthy, Levels.parse(fail="< 90%", warn="< 99%"))
    assert verdicts(results) == [("s1", PASS, "100%"), ("s2", WARN, "95%"), ("s3", FAIL, "75%")]
    assert [r.severity for r in results] == [Severity.PROBLEM, Severity.WARNING, Severity.PROBLEM]
    assert [r.expected for r in results] == [">= 90%; warn < 99%"] * 3
    assert results[2].cause == "share: 75% (3 of 4) (expected >= 90%; warn < 99%)"


def test_ratio_below_min_rows_passes_without_an_observed_value(database: sa.Engine, ev: Evaluation):
    calls = [("w1", 500), ("w1", 502), ("w2", 500), ("w2", 200), ("w2", 204)]
    insert(database, "webhook_calls", [{"webhook_id": w, "status_code": code} for w, code in calls])
    target = Target(dataset="webhook_calls", group_by=("webhook_id",))
    results = ratio(ev, ABOUT, target, sql_condition("status_code >= 500"), Levels.parse(fail="> 10%"), min_rows=3)
    assert verdicts(results) == [("w1", PASS, None), ("w2", FAIL, "33.33%")]
    assert [r.expected for r in results] == ["<= 10%", "<= 10%"]
    assert [r.cause for r in results] == ["", "share: 33.33% (1 of 3) (expected <= 10%)"]


def test_ratio_with_sql_conditions_within_the_window(database: sa.Engine, ev: Evaluation):
    calls = [
        ("w1", 200, ago(minutes=5)),
        ("w1", 503, ago(minutes=30)),
        ("w1", 404, ago(hours=1)),
        ("w1", 200, ago(hours=1, seconds=1)),
        ("w2", 500, ago(minutes=5)),
    ]
    insert(database, "webhook_calls", [{"webhook_id": w, "status_code": c, "called_at": t} for w, c, t in calls])
    target = Target(
        dataset="webhook_calls",
        where=sql_condition("webhook_id = 'w1'"),
        timestamp="called_at",
        window=timedelta(hours=1),
        subject="webhook w1",
    )
    errors = sql_condition("status_code < 200 OR status_code >= 300")
    [result] = ratio(ev, ABOUT, target, errors, Levels.parse(fail="> 50%"))
    assert verdicts([result]) == [("webhook w1", FAIL, "66.67%")]
    assert result.cause == "share: 66.67% (2 of 3) (expected <= 50%)"


# failed_rows


def test_failed_rows_counts_every_row_and_keeps_at_most_the_samples(database: sa.Engine, ev: Evaluation):
    insert(
        database,
        "transactions",
        [{"store_id": f"s{i}", "status": "err", "error_code": f"E{i}"} for i in range(7)]
        + [{"store_id": "ok", "status": "ok"}] * 3,
    )
    query = "SELECT store_id, error_code FROM transactions WHERE status = 'err'"
    [result] = failed_rows(ev, ABOUT, query, subject="declines", samples=3)
    assert verdicts([result]) == [("declines", FAIL, 7)]
    assert (result.expected, result.cause) == ("<= 0", "the rule's query returned 7 rows")
    assert len(result.samples) == 3
    assert len({row["store_id"] for row in result.samples}) == 3
    assert all(row == {"store_id": row["store_id"], "error_code": "E" + row["store_id"][1:]} for row in result.samples)

    [unsampled] = failed_rows(ev, ABOUT, query, subject="declines", samples=0)
    assert (unsampled.observed, unsampled.samples) == (7, ())


def test_failed_rows_without_rows_passes(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"store_id": "s1", "status": "ok"}])
    [result] = failed_rows(ev, ABOUT, "SELECT * FROM transactions WHERE status = 'err'", subject="declines")
    assert verdicts([result]) == [("declines", PASS, 0)]
    assert (result.expected, result.cause, result.samples) == ("<= 0", "", ())


def test_failed_rows_with_row_levels_a_trailing_semicolon_and_own_words(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"store_id": "s1", "status": "err"}, {"store_id": "s2", "status": "err"}])
    [result] = failed_rows(
        ev,
        ABOUT,
        "SELECT store_id FROM transactions WHERE status = 'err';\n",
        subject="declines",
        levels=Levels.parse(fail=">= 3", warn=">= 1"),
        describe=lambda shown: f"{shown} declined at the till",
    )
    assert verdicts([result]) == [("declines", WARN, 2)]
    assert result.severity is Severity.WARNING
    assert (result.expected, result.cause) == ("< 3; warn >= 1", "2 rows declined at the till")
    assert sorted(row["store_id"] for row in result.samples) == ["s1", "s2"]


def test_failed_rows_of_a_select_keeps_typed_samples(
    database: sa.Engine, ev: Evaluation, backend: str, request: pytest.FixtureRequest
):
    insert(
        database,
        "transactions",
        [
            {"occurred_at": ago(hours=1), "store_id": "s1", "critical": True},
            {"occurred_at": ago(hours=2), "store_id": "s2", "critical": False},
        ],
    )
    rows = ev.source(None).dataset("transactions")
    query = sa.select(rows.c.occurred_at, rows.c.store_id, rows.c.critical).where(rows.c.critical == sa.true())
    [result] = failed_rows(ev, ABOUT, query, subject="critical")
    assert verdicts([result]) == [("critical", FAIL, 1)]
    typed = [{key: (value, type(value)) for key, value in row.items()} for row in result.samples]
    assert typed == [{"occurred_at": ("2026-12-01T07:00:00", str), "store_id": ("s1", str), "critical": (True, bool)}]


def test_failed_rows_as_a_percentage_of_a_dataset(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"status": "err" if i < 2 else "ok"} for i in range(25)])
    levels = Levels.parse(fail="> 10%", warn="> 5%")
    [result] = failed_rows(
        ev,
        ABOUT,
        "SELECT * FROM transactions WHERE status = 'err'",
        subject="declines",
        levels=levels,
        of_dataset="transactions",
    )
    assert verdicts([result]) == [("declines", WARN, "8% (2 of 25 transactions)")]
    assert result.severity is Severity.WARNING
    assert result.expected == "<= 10%; warn > 5%"
    assert result.cause == "the rule's query returned 8% (2 of 25 transactions)"
    assert len(result.samples) == 2

    [none] = failed_rows(
        ev,
        ABOUT,
        "SELECT * FROM transactions WHERE status = 'lost'",
        subject="lost",
        levels=levels,
        of_dataset="transactions",
    )
    assert verdicts([none]) == [("lost", PASS, "0% (0 of 25 transactions)")]


def test_failed_rows_query_ending_in_a_comment(database: sa.Engine, ev: Evaluation):
    insert(database, "transactions", [{"store_id": "s1", "status": "err"}])
    query = "SELECT store_id FROM transactions WHERE status = 'err' -- declined at the till"
    assert verdicts(failed_rows(ev, ABOUT, query, subject="declines")) == [("declines", FAIL, 1)]


# anomaly


def calls_per_hour(*counts: int, webhook: str = "w1") -> list[dict[str, Any]]:
    """counts[k] calls in the hour k periods back, mid-period (k = 0 is the current hour)."""
    return [
        {"called_at": ago(hours=k, minutes=30), "webhook_id": webhook}
        for k, count in enumerate(counts)
        for _ in range(count)
    ]


HOURLY = Target(dataset="webhook_calls", timestamp="called_at")


@pytest.mark.parametrize(
    ("current", "status", "cause"),
    [
        (40, FAIL, "40 is 4.0x the mean 10 of the last 5 periods"),
        (11, PASS, ""),
        (5, FAIL, "5 is 0.5x the mean 10 of the last 5 periods"),
    ],
)
def test_anomaly_against_three_sigma_of_the_history(
    database: sa.Engine, ev: Evaluation, current: int, status: Status, cause: str
):
    insert(database, "webhook_calls", calls_per_hour(current, 10, 11, 9, 10, 10, 50))  # the 50 are too old
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=Baseline(history=5, min_volume=0))
    assert verdicts(results) == [("webhook_calls", status, current)]
    assert results[0].expected == "between 8 and 12 (3 sigma of the last 5)"
    assert results[0].cause == cause


def test_anomaly_below_the_minimum_volume_passes(database: sa.Engine, ev: Evaluation):
    insert(database, "webhook_calls", calls_per_hour(40, 10, 11, 9, 10, 10))
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=Baseline(history=5, min_volume=100))
    assert verdicts(results) == [("webhook_calls", PASS, 40)]
    assert results[0].expected == "between 8 and 12 (3 sigma of the last 5); judged only above 100"


def test_anomaly_with_fewer_than_two_history_periods_passes(database: sa.Engine, ev: Evaluation):
    insert(database, "webhook_calls", calls_per_hour(40, 10))
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=Baseline(history=1, min_volume=0))
    assert verdicts(results) == [("webhook_calls", PASS, 40)]
    assert (results[0].expected, results[0].cause) == ("not enough history (1 period)", "")


def test_anomaly_of_a_dataset_without_history_warns_it_cannot_judge(database: sa.Engine, ev: Evaluation):
    insert(database, "webhook_calls", calls_per_hour(30))
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=Baseline(history=5, min_volume=0))
    assert verdicts(results) == [("webhook_calls", WARN, 30)]
    assert (results[0].expected, results[0].cause) == ("no history", "no history to compare 30 with")


def test_anomaly_leaves_out_periods_whose_value_is_null_and_says_how_many(database: sa.Engine, ev: Evaluation):
    """sum(status_code) of an hour whose calls all lack a status is NULL: no value, not a zero."""
    rows = [{**row, "status_code": 200} for row in calls_per_hour(1, 1, 0, 1, 1)]
    rows += [{**row, "status_code": None} for row in calls_per_hour(0, 0, 3)]
    insert(database, "webhook_calls", rows)
    results = anomaly(
        ev,
        ABOUT,
        HOURLY,
        period=timedelta(hours=1),
        baseline=Baseline(history=5, min_volume=0),
        aggregate="sum",
        column="status_code",
    )
    assert verdicts(results) == [("webhook_calls", PASS, 200)]
    assert results[0].expected == "between 200 and 200 (3 sigma of the last 3; 1 without a value left out)"


def test_anomaly_without_history_below_the_minimum_volume_passes(database: sa.Engine, ev: Evaluation):
    insert(database, "webhook_calls", calls_per_hour(30))
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=Baseline(history=5, min_volume=100))
    assert verdicts(results) == [("webhook_calls", PASS, 30)]
    assert results[0].expected == "no history; judged only above 100"


def test_anomaly_period_edges(database: sa.Engine, ev: Evaluation):
    stamps = [
        ago(seconds=1),
        ago(minutes=59, seconds=59),
        ago(minutes=30),  # current: 3
        ago(hours=1, seconds=1),
        ago(hours=1, minutes=30),
        ago(hours=1, minutes=59, seconds=59),  # one back: 3
        ago(hours=2, seconds=1),  # two back: 1
        ago(hours=3, seconds=1),  # older than the history
    ]
    insert(database, "webhook_calls", [{"called_at": stamp} for stamp in stamps])
    baseline = Baseline(history=2, min_volume=0, sigma=1)
    results = anomaly(ev, ABOUT, HOURLY, period=timedelta(hours=1), baseline=baseline)
    assert verdicts(results) == [("webhook_calls", PASS, 3)]
    assert results[0].expected == "between 1 and 3 (1 sigma of the last 2)"


def test_anomaly_per_group(database: sa.Engine, ev: Evaluation):
    insert(
        database,
        "webhook_calls",
        calls_per_hour(10, 10, 10, 10, 10, 10, webhook="w1")
        + calls_per_hour(40, 10, 10, 10, 10, 10, webhook="w2")
        + calls_per_hour(0, 10, 10, 10, 10, 10, webhook="w3"),
    )
    target = Target(dataset="webhook_calls", timestamp="called_at", group_by=("webhook_id",), expect=("w4",))
    results = anomaly(ev, ABOUT, target, period=timedelta(hours=1), baseline=Baseline(history=5, min_volume=0))
    assert verdicts(results) == [("w1", PASS, 10), ("w2", FAIL, 40), ("w3", FAIL, 0), ("w4", PASS, 0)]
    assert [r.expected for r in results] == ["between 10 and 10 (3 sigma of the last 5)"] * 3 + [
        "no history"  # w4 never had a row: no history, not five zeros; nothing now either
    ]
    assert results[2].cause == "0 is 0.0x the mean 10 of the last 5 periods"


def test_anomaly_of_a_decimal_sum(database: sa.Engine, ev: Evaluation):
    accruals = [(0, 250.25), (0, 250.25), (1, 90.25), (2, 100.50), (3, 110.25)]
    insert(
        database,
        "bonus_accruals",
        [{"accrual_id": i, "amount": a, "created_at": ago(hours=k, minutes=10)} for i, (k, a) in enumerate(accruals)],
    )
    target = Target(dataset="bonus_accruals", timestamp="created_at")
    baseline = Baseline(history=3, min_volume=0)
    results = anomaly(ev, ABOUT, target, period=timedelta(hours=1), baseline=baseline, aggregate="sum", column="amount")
    assert verdicts(results) == [("bonus_accruals", FAIL, 500.5)]
    assert results[0].expected == "between 76 and 125 (3 sigma of the last 3)"
    assert results[0].cause == "500.5 is 5.0x the mean 100 of the last 3 periods"


# configured checks (rules/checks/*.yaml)


@pytest.fixture
def world(database: sa.Engine) -> sa.Engine:
    """A little of every dataset the configured checks below read."""
    messages = [("c1", "email", "sent")] * 2 + [
        ("c1", "email", "failed"),
        ("c1", "sms", "sent"),
        ("c2", "email", "sent"),
    ]
    insert(
        database,
        "messages",
        [
            {"message_id": i, "campaign_id": c, "channel": ch, "status": s, "created_at": ago(minutes=10)}
            for i, (c, ch, s) in enumerate(messages)
        ],
    )
    insert(database, "error_log", [{"code": "E1", "logged_at": ago(minutes=m)} for m in (30, 59, 61)])
    insert(
        database,
        "bonus_accruals",
        [
            {"accrual_id": i, "campaign_id": c, "amount": a}
            for i, (c, a) in enumerate([("c1", 20.25), ("c1", 25.25), ("c2", 100)])
        ],
    )
    insert(
        database,
        "job_runs",
        [{"job_name": "nightly", "finished_at": ago(hours=5)}, {"job_name": "hourly", "finished_at": ago(minutes=5)}],
    )
    insert(
        database,
        "webhook_calls",
        [{"status_code": c, "called_at": ago(minutes=20)} for c in (200, 200, 204, 404)]
        + [{"status_code": 500, "called_at": ago(hours=2)}] * 2,
    )
    dumps = [0] * 9 + [1, 1, 2, 2, 3, 3]
    insert(database, "dumps", [{"program": "pos", "occurred_at": ago(hours=k, minutes=30)} for k in dumps])
    return database


CONFIGURED = [
    pytest.param(
        {
            "type": "row_count",
            "dataset": "messages",
            "filter": "channel = 'email'",
            "group_by": ["campaign_id"],
            "fail": "< 2",
        },
        [("c1", PASS, 3), ("c2", FAIL, 1)],
        ">= 2",
        id="row_count",
    ),
    pytest.param(
        {"type": "new_rows", "dataset": "error_log", "timestamp": "logged_at", "window": "1h"},
        [("error_log", FAIL, 2)],
        "<= 0",
        id="new_rows",
    ),
    pytest.param(
        {
            "type": "metric",
            "dataset": "bonus_accruals",
            "campaign": "c1",
            "filter": "campaign_id = 'c1'",
            "aggregate": "sum",
            "column": "amount",
            "fail": "> 50",
            "warn": "> 40",
        },
        [("c1", WARN, 45.5)],
        "<= 50; warn > 40",
        id="metric",
    ),
    pytest.param(
        {
            "type": "freshness",
            "dataset": "job_runs",
            "timestamp": "finished_at",
            "group_by": ["job_name"],
            "fail": "> 60",
        },
        [("hourly", PASS, 5), ("nightly", FAIL, 300)],
        "age in minutes <= 60",
        id="freshness",
    ),
    pytest.param(
        {
            "type": "ratio",
            "dataset": "webhook_calls",
            "timestamp": "called_at",
            "window": "1h",
            "matching": "status_code >= 400",
            "fail": "> 20%",
        },
        [("webhook_calls", FAIL, "25%")],
        "<= 20%",
        id="ratio",
    ),
    pytest.param(
        {
            "type": "failed_rows",
            "sql": "SELECT message_id, campaign_id FROM messages WHERE status <> 'sent'",
            "warn": ">= 1",
            "fail": ">= 2",
        },
        [("cfg.check", WARN, 1)],
        "< 2; warn >= 1",
        id="failed_rows",
    ),
    pytest.param(
        {
            "type": "failed_rows",
            "sql": "SELECT * FROM messages WHERE status = 'failed'",
            "of": "messages",
            "fail": "> 10%",
        },
        [("cfg.check", FAIL, "20% (1 of 5 messages)")],
        "<= 10%",
        id="failed_rows_percent",
    ),
    pytest.param(
        {"type": "anomaly", "dataset": "dumps", "timestamp": "occurred_at", "period": "1h", "history": 3},
        [("dumps", FAIL, 9)],
        "between 2 and 2 (3 sigma of the last 3)",
        id="anomaly",
    ),
]


def configured(spec: dict[str, Any], kind: str = "data_checks") -> ConfiguredCheck:
    about = About("cfg.check", "Title", Severity.PROBLEM, "queue", location="rules/checks/t.yaml:3")
    return ConfiguredCheck("cfg.check", about, spec, kind)


@pytest.mark.parametrize(("spec", "expected", "expected_text"), CONFIGURED)
def test_configured_check_of_each_type(
    world: sa.Engine, ev: Evaluation, spec: dict[str, Any], expected: list[tuple[str, Status, Any]], expected_text: str
):
    results = configured(spec).evaluate(ev)
    assert verdicts(results) == expected
    assert {r.expected for r in results} == {expected_text}
    assert {r.check for r in results} == {"cfg.check"}
    assert [r.severity for r in results] == [
        Severity.WARNING if s is WARN else Severity.PROBLEM for _, s, _ in expected
    ]


def test_configured_failed_rows_in_percent_needs_a_dataset_to_count_of(world: sa.Engine, ev: Evaluation):
    check = configured({"type": "failed_rows", "sql": "SELECT * FROM messages", "fail": "> 5%"})
    with pytest.raises(UsageError) as caught:
        check.evaluate(ev)
    assert str(caught.value) == (
        "rules/checks/t.yaml:3: check 'cfg.check' has levels in % but no 'of: DATASET' to count them of"
    )


@pytest.mark.parametrize(("failing", "status"), [(0, PASS), (2, WARN), (3, FAIL)])
def test_configured_functional_check_with_row_levels(database: sa.Engine, ev: Evaluation, failing: int, status: Status):
    insert(database, "messages", [{"message_id": i, "status": "failed" if i < failing else "sent"} for i in range(5)])
    spec = {
        "sql": "SELECT message_id FROM messages WHERE status = 'failed'",
        "source": "t",
        "campaign": "welcome_chain",
        "warn_rows": 1,
        "fail_rows": 3,
    }
    [result] = configured(spec, "functional_checks").evaluate(ev)
    assert verdicts([result]) == [("welcome_chain", status, failing)]
    assert result.expected == "< 3; warn >= 1"
    assert result.cause == ("" if status is PASS else f"the rule's query returned {failing} rows")


@pytest.mark.parametrize("level", ["=> 5", "> 5 rows", "5", "> 1e3", ">", "> 5%%"])
def test_configured_check_with_a_malformed_level(ev: Evaluation, level: str):
    check = configured({"type": "row_count", "dataset": "messages", "fail": level})
    with pytest.raises(ValueError, match=r"is not a level such as '> 100' or '< 99.7%'"):
        check.evaluate(ev)


# levels


@pytest.mark.parametrize(
    ("levels", "status", "expected"),
    [
        (Levels.above(40000), PASS, "<= 40000"),
        (Levels.below(2), PASS, ">= 2"),
        (Levels.parse(fail="> 2.5"), FAIL, "<= 2.5"),
        (Levels.parse(fail="> 3"), PASS, "<= 3"),
        (Levels.parse(fail=">= 3"), FAIL, "< 3"),
        (Levels.parse(fail="== 3"), FAIL, "!= 3"),
        (Levels.parse(fail="!= 3"), PASS, "== 3"),
        (Levels.parse(fail=">= -1"), FAIL, "< -1"),
        (Levels.parse(fail="  <=3  ", warn=">=3"), FAIL, "> 3; warn >= 3"),
        (Levels.parse(warn=">= 3"), WARN, "warn >= 3"),
        (Levels.parse(fail="< 99.7%", warn="< 99.9%"), FAIL, ">= 99.7%; warn < 99.9%"),
        (Levels(), PASS, ""),
    ],
)
def test_levels_judge_a_measured_count_and_say_what_is_healthy(
    database: sa.Engine, ev: Evaluation, levels: Levels, status: Status, expected: str
):
    insert(database, "transactions", [{"store_id": f"s{i}"} for i in range(3)])
    [result] = measure(ev, ABOUT, Target(dataset="transactions"), levels)
    assert verdicts([result]) == [("transactions", status, 3)]
    assert result.expected == expected


@pytest.mark.parametrize(
    ("fail", "status"),
    [("> 61.5", PASS), (">= 61.5", FAIL), ("< 61.5", PASS), ("<= 61.5", FAIL), ("== 61.5", FAIL), ("> 61.49", FAIL)],
)
def test_levels_at_the_edge_of_a_decimal_sum(database: sa.Engine, ev: Evaluation, fail: str, status: Status):
    insert(database, "bonus_accruals", [{"accrual_id": i, "amount": a} for i, a in enumerate([10.25, 20.50, 30.75])])
    [result] = measure(
        ev, ABOUT, Target(dataset="bonus_accruals"), Levels.parse(fail=fail), aggregate="sum", column="amount"
    )
    assert verdicts([result]) == [("bonus_accruals", status, 61.5)]


def test_levels_expected_text_of_a_large_fractional_level(database: sa.Engine, ev: Evaluation):
    insert(database, "bonus_accruals", [{"accrual_id": 1, "amount": 1234567.50}])
    levels = Levels.parse(fail="> 1234567.5")
    [result] = measure(ev, ABOUT, Target(dataset="bonus_accruals"), levels, aggregate="sum", column="amount")
    assert verdicts([result]) == [("bonus_accruals", PASS, 1234567.5)]
    assert result.expected == "<= 1234567.5"
