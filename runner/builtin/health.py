"""The health of what campaigns depend on: queues, integrations, availability, webhooks, promo pools."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import sqlalchemy as sa

from runner.adapter import SourceError
from runner.builtin.declarations import AVAILABILITY, PROMO_POOL_LOW, QUEUE_SIZE, TABLE_FRESHNESS, WEBHOOK_ERROR_RATE
from runner.builtin.incidents import window
from runner.checktypes.freshness import freshness
from runner.checktypes.measure import measure
from runner.checktypes.ratio import ratio
from runner.checktypes.target import Target, plainly
from runner.contract import DATASETS, time_columns
from runner.durations import parse_duration
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Evaluation
from runner.engine.execute import check_error, source_error
from runner.engine.levels import Bound, Levels
from runner.engine.result import Result, Status
from runner.findings import Severity

MONITORED_TABLES_FILE = "rules/monitored_tables.yaml"


def queue_size(ev: Evaluation) -> list[Result]:
    """A queue held more entries than its limit at some sample within the window.

    Limits per queue, the default and the window are thresholds.queue_limits.
    """
    limits = ev.thresholds["queue_limits"]
    target = Target(
        dataset="queue_samples",
        timestamp="sampled_at",
        window=parse_duration(limits["window"]),
        group_by=("queue_name",),
        expect=tuple(limits.get("queues", {})),
    )
    return [
        result
        for result in measure(
            ev,
            QUEUE_SIZE.about(),
            target,
            lambda queue: Levels.above(limits.get("queues", {}).get(queue, limits["default"])),
            aggregate="max",
            column="size",
            describe=plainly(f"largest size in the last {limits['window']}"),
        )
        if result.observed is not None or result.subject in limits.get("queues", {})
    ]


def table_freshness(ev: Evaluation) -> Iterator[Result]:
    """A monitored table received no new row for longer than its max_silence_minutes.

    Tables come from rules/monitored_tables.yaml (the SAP but000 check); each keeps its own
    severity and owner. A table is found through its source (the default source unless it names
    one): a dataset of the contract as mapped there, a table mapped under `tables:`, or the table
    of that name. A table the source lacks is an error of that table alone.
    """
    document = next((d for d in ev.repo.documents("monitored_tables") if d.schema_valid), None)
    if document is None:
        return
    for index, table in enumerate(document.data["tables"]):
        line, _column = document.position(("tables", index))
        source = table.get("source") or ev.sources.default
        about = TABLE_FRESHNESS.about(
            severity=Severity(table["severity"]),
            owner=table.get("owner"),
            hint=" ".join(table.get("description", "").split()) or TABLE_FRESHNESS.fix,
            location=f"{document.rel}:{line}",
            source=source,
        )
        subject = f"{source}.{table['table']}"
        stamp = table["timestamp_column"]
        if table["table"] in DATASETS and stamp not in DATASETS[table["table"]]:
            columns = ", ".join(time_columns(table["table"]))
            cause = f"dataset {table['table']} has no column {stamp}; name its time by the contract: {columns}"
            yield about.result(subject, Status.ERROR, expected="the check evaluates", cause=cause)
            continue
        target = Target(table=table["table"], timestamp=stamp, source=source, subject=subject)
        try:  # one table that cannot be judged is an error of that table alone
            yield from freshness(ev, about, target, Levels.above(table["max_silence_minutes"]))
        except SourceError as error:
            yield source_error(about, subject, error)
        except Exception as error:
            yield check_error(about, subject, error)


def availability(ev: Evaluation) -> list[Result]:
    """The share of transactions without a critical error fell below the availability floor.

    X5 hot line: normal is 99.7-100 %; below the floor loyalty processing is failing customers
    at the tills. Floor and window: thresholds.availability_floor_percent / availability_window.
    """
    floor = ev.thresholds["availability_floor_percent"]
    target = Target(
        dataset="transactions",
        timestamp="occurred_at",
        window=window(ev, "availability_window"),
        subject="transactions",
    )
    return ratio(
        ev,
        AVAILABILITY.about(),
        target,
        lambda rows: sa.or_(rows.c.critical.is_(None), rows.c.critical == sa.false()),
        Levels(Bound("<", floor, percent=True)),
        describe=plainly("transactions without critical errors"),
    )


def webhook_error_rate(ev: Evaluation) -> list[Result]:
    """A webhook answered too many calls with a non-2xx status (or none) within the monitoring window.

    The limit is thresholds.webhook_error_rate_percent.
    """
    limit = ev.thresholds["webhook_error_rate_percent"]
    target = Target(dataset="webhook_calls", timestamp="called_at", window=window(ev), group_by=("webhook_id",))
    return ratio(
        ev,
        WEBHOOK_ERROR_RATE.about(),
        target,
        lambda rows: sa.or_(rows.c.status_code.is_(None), rows.c.status_code < 200, rows.c.status_code >= 300),
        Levels(Bound(">", limit, percent=True)),
        describe=plainly("calls answered with an error"),
    )


def promo_pool_low(ev: Evaluation) -> list[Result]:
    """A promo-code pool has fewer free codes than thresholds.promo_pool_min_free (Mindbox: 100).

    Every pool in the data is judged, and every pool a campaign's send element names - a pool
    with no codes at all is the emptiest.
    """
    users: dict[str, tuple[Campaign, str]] = {}
    for document in ev.repo.documents("campaign"):
        if document.schema_valid:
            campaign = Campaign(document)
            for element_id, element in campaign.elements("send"):
                if "promo_pool" in element:
                    users.setdefault(element["promo_pool"], (campaign, element_id))
    target = Target(
        dataset="promo_codes",
        where=lambda rows: rows.c.status == "free",
        group_by=("pool_id",),
        expect=tuple(users),
    )
    results = measure(
        ev,
        PROMO_POOL_LOW.about(),
        target,
        Levels.below(ev.thresholds["promo_pool_min_free"]),
        describe=plainly("free codes"),
    )
    located = []
    for result in results:
        if result.subject in users:
            campaign, element_id = users[result.subject]
            result = replace(
                result,
                campaign=campaign.id,
                owner=campaign.data.get("owner"),
                location=campaign.location(("elements", element_id, "promo_pool")),
            )
        located.append(result)
    return located
