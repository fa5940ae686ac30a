"""New incidents since the last window: error-log rows (translated), dumps, cancelled jobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from runner.builtin.declarations import CANCELLED_JOBS, NEW_DUMPS, NEW_ERRORS
from runner.checktypes.measure import measure
from runner.checktypes.target import Target, plainly
from runner.durations import parse_duration
from runner.engine.evaluation import Evaluation
from runner.engine.levels import Levels
from runner.engine.result import Result, Status
from runner.findings import Severity

ANY_ROW = Levels.parse(fail="> 0")
NO_CODE = "(no code)"  # an error-log row without a code is still an error


def window(ev: Evaluation, key: str = "monitoring_window") -> timedelta:
    return parse_duration(ev.thresholds[key])


def new_errors(ev: Evaluation) -> Iterator[Result]:
    """New error_log rows, one result per code/subcode and campaign, in the words of the error-code dictionary.

    Severity, localization, owner and fix come from rules/error_codes.yaml; a code the
    dictionary does not know is still reported, as a warning marked unknown.
    """
    source = ev.source(None)
    log = source.dataset("error_log")
    since = window(ev)
    answer = source.rows(
        sa.select(
            log.c.code,
            log.c.subcode,
            log.c.campaign_id,
            sa.func.count().label("rows"),
            sa.func.max(log.c.message).label("example"),
        )
        .where(log.c.logged_at >= source.local(ev.now - since))
        .group_by(log.c.code, log.c.subcode, log.c.campaign_id),
        NEW_ERRORS.id,
    )
    dictionary = _dictionary(ev)
    span = ev.thresholds["monitoring_window"]
    for row in sorted(answer, key=lambda r: (str(r["code"]), str(r["subcode"]), str(r["campaign_id"]))):
        code = NO_CODE if row["code"] in (None, "") else str(row["code"])
        subcode, campaign = row["subcode"], row["campaign_id"]
        entry = dictionary.get((code, str(subcode))) or dictionary.get((code, None))
        key = f"{code}/{subcode}" if subcode not in (None, "") else code
        subject = f"{key}@{campaign}" if campaign else key
        about = NEW_ERRORS.about(campaign=campaign)
        if entry is None:
            yield about.result(
                subject,
                Status.FAIL,
                observed=int(row["rows"]),
                expected="no new errors",
                cause=f"unknown error code {key} ({row['rows']} rows in the last {span}), "
                f"e.g. {row['example']!r}; add it to rules/error_codes.yaml",
                severity=Severity.WARNING,
                title=f"Unknown error code {key}",
            )
            continue
        yield about.result(
            subject,
            Status.FAIL,
            observed=int(row["rows"]),
            expected="no new errors",
            cause=f"{row['rows']} rows with code {key} in the last {span}, e.g. {row['example']!r}",
            severity=Severity(entry["severity"]),
            localization=entry["localization"],
            title=entry["text"],
            hint=entry["fix"],
            owner=entry.get("owner"),
        )


def _dictionary(ev: Evaluation) -> Mapping[tuple[str, str | None], Mapping[str, Any]]:
    data = ev.repo.single("error_codes") or {"codes": []}
    return {(entry["code"], entry.get("subcode")): entry for entry in data["codes"]}


def new_dumps(ev: Evaluation) -> list[Result]:
    """Programs that crashed (new rows in dumps) within the monitoring window."""
    target = Target(dataset="dumps", timestamp="occurred_at", window=window(ev), group_by=("program",))
    return measure(ev, NEW_DUMPS.about(), target, ANY_ROW, describe=plainly("new dumps"))


def cancelled_jobs(ev: Evaluation) -> list[Result]:
    """Jobs that ended cancelled or failed within the jobs window (24 hours by default)."""
    target = Target(
        dataset="job_runs",
        where=lambda rows: rows.c.status.in_(("cancelled", "failed")),
        timestamp="started_at",
        window=window(ev, "jobs_window"),
        group_by=("job_name",),
    )
    return measure(ev, CANCELLED_JOBS.about(), target, ANY_ROW, describe=plainly("cancelled or failed runs"))
