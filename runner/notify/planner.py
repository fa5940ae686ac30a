"""Turn problem events into messages in the outbox, in one locked transaction that renders nothing.

match (parameters 4, 11-23) -> hold (26 quiet_hours, 27 working_days, 30 group_wait, 32 rate_limit)
-> batch (24 mode, 25 digest_schedule, 29 group_by, 31 max_items, 33 send_empty), plus reminders
(28 repeat_interval) and escalations (34 escalate_after, 35 escalate_to).

A notification is keyed by subscription and event, so it is made once however often or however
many processes plan; held notifications wait in the store, never dropped. A subscription new to
the store starts with the events of the last day, not the whole backlog. A new message is written
unrendered (status `rendering`); rendering.py renders it once the lock is released.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.notify.matching import CampaignFacts, refusal, waiting
from runner.notify.message import Item, Message
from runner.notify.rendering import RENDERING, UNRENDERED, to_json
from runner.notify.subscriptions import Subscription
from runner.notify.timing import held_until, last_digest
from runner.store.clock import from_store, to_store
from runner.store.tables import notifications, notify_state, outbox, problem_events, problems

NOTIFIED_EVENTS = ("opened", "reopened", "escalated", "resolved")
NEW_SUBSCRIPTION_LOOKBACK = timedelta(days=1)
HELD = "quiet hours or not a working day: held until"


@dataclass
class Planned:
    """What one planning pass did, for the command's output and for --dry-run."""

    matched: dict[str, int] = field(default_factory=dict)  # subscription -> new notifications
    held: dict[str, str] = field(default_factory=dict)  # subscription -> why its messages wait
    held_until: dict[str, datetime] = field(default_factory=dict)  # subscription -> until when (quiet hours)
    messages: list[int] = field(default_factory=list)  # new outbox ids


def plan(
    connection: Connection,
    subscriptions: Sequence[Subscription],
    facts: Mapping[str, CampaignFacts],
    now: datetime,
    base_url: str | None = None,
) -> Planned:
    """Everything due at `now`, its messages unrendered; the caller holds the store's write lock (Store.write)."""
    planned = Planned()
    by_name = {sub.name: sub for sub in subscriptions}
    cursors = _cursors(connection, subscriptions, now)
    fresh = _match_events(connection, subscriptions, cursors, facts, now, planned)
    _release_waiting(connection, by_name, now)
    for sub in subscriptions:
        if sub.enabled and sub.repeat_interval is not None and "reminder" in sub.events:
            _remind(connection, sub, now, planned)
        target = by_name.get(sub.escalate_to or "")
        if sub.enabled and sub.escalate_after is not None and target is not None and target.enabled:
            _escalate(connection, sub, target, now, planned)
    batching = _Batching(connection, now, base_url, planned, fresh)
    for sub in subscriptions:
        if sub.enabled:
            _batch(batching, sub)
    batching.flush()
    return planned


class _Row(dict[str, Any]):
    """A notification's fields; the problem's are looked up in its (shared) problem row."""

    def __init__(self, fields: Mapping[Any, Any], problem: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self.problem = problem

    def __missing__(self, key: str) -> Any:
        return self.problem[key]


# -- matching ---------------------------------------------------------------------------------


def _cursors(connection: Connection, subscriptions: Sequence[Subscription], now: datetime) -> dict[str, int]:
    """Each subscription's place; a new one starts a day back, its first digest at the next fire."""
    known = {row.subscription: row.cursor for row in connection.execute(sa.select(notify_state))}
    fresh = [sub for sub in subscriptions if sub.name not in known]
    if fresh:
        start = connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(problem_events.c.id), 0)).where(
                problem_events.c.at < to_store(now - NEW_SUBSCRIPTION_LOOKBACK)
            )
        ).scalar_one()
        rows = [
            {
                "subscription": sub.name,
                "cursor": start,
                "digest_until": to_store(last_digest(sub, now)) if sub.mode == "digest" else None,
            }
            for sub in fresh
        ]
        connection.execute(sa.insert(notify_state), rows)
        known.update({sub.name: start for sub in fresh})
    return known


def _match_events(
    connection: Connection,
    subscriptions: Sequence[Subscription],
    cursors: Mapping[str, int],
    facts: Mapping[str, CampaignFacts],
    now: datetime,
    planned: Planned,
) -> list[_Row]:
    """The new notifications, in event order; written with their final state when the pass flushes."""
    oldest = min(cursors.values(), default=0)
    query = (
        sa.select(problem_events.c.id.label("event_id"), problem_events.c.kind, problem_events.c.at, problems)
        .join(problems, problems.c.id == problem_events.c.problem_id)
        .where(problem_events.c.id > oldest, problem_events.c.kind.in_(NOTIFIED_EVENTS))
        .order_by(problem_events.c.id)
    )
    rows = [dict(row) for row in connection.execute(query).mappings()]
    newest = max((row["event_id"] for row in rows), default=oldest)
    enabled = [sub for sub in subscriptions if sub.enabled]
    by_kinds: dict[tuple[str, str], list[Subscription]] = {}  # (severity, localization) -> who may care
    reaches: dict[tuple[str, int], bool] = {}  # (subscription, problem) -> every static filter holds
    told = _told_pairs(connection) if any(row["kind"] == "resolved" for row in rows) else set()
    created: list[_Row] = []
    for row in rows:
        kinds = (row["severity"], row["localization"])
        if kinds not in by_kinds:
            by_kinds[kinds] = [
                sub
                for sub in enabled
                if (not sub.severities or kinds[0] in sub.severities)
                and (not sub.localizations or kinds[1] in sub.localizations)
            ]
        problem = _problem(row)
        for sub in by_kinds[kinds]:
            if row["event_id"] <= cursors[sub.name] or row["kind"] not in sub.events:
                continue
            pair = (sub.name, row["id"])
            if pair not in reaches:
                reaches[pair] = refusal(sub, problem, facts) is None
            if not reaches[pair]:
                continue  # a filter says no for good
            if row["kind"] == "resolved" and pair not in told:
                continue  # nobody told them it opened: its end is no news
            # min_duration of a problem already resolved counts until it resolved, not until this pass
            until = now if row["resolved_at"] is None else min(now, problem["resolved_at"])
            state = "ready" if waiting(sub, problem, until) is None else "waiting"
            fields = _notification(sub.name, row["id"], row["kind"], row["at"], now, state, row["event_id"])
            created.append(
                _Row({**fields, "event": row["kind"], "event_at": row["at"], "noticed_at": fields["created_at"]}, row)
            )
            if row["kind"] != "resolved":
                told.add(pair)
            planned.matched[sub.name] = planned.matched.get(sub.name, 0) + 1
    if rows:
        advanced = sa.case((notify_state.c.cursor < newest, newest), else_=notify_state.c.cursor)
        connection.execute(sa.update(notify_state).values(cursor=advanced))
    return created


def _problem(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored problem as the filters read it (aware times, `check` for check_id)."""
    return {
        **row,
        "check": row["check_id"],
        "first_seen": from_store(row["first_seen"]),
        "last_seen": from_store(row["last_seen"]),
        "resolved_at": from_store(row["resolved_at"]),
    }


def _notification(
    subscription: str, problem_id: int, kind: str, at: datetime, now: datetime, state: str, event_id: int | None,
    key: str | None = None, note: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "subscription": subscription,
        "problem_id": problem_id,
        "event_id": event_id,
        "kind": kind,
        "key": key or f"{subscription}:event:{event_id}",
        "at": at,
        "created_at": to_store(now),
        "state": state,
        "message_id": None,
        "note": note,
    }


def _told_pairs(connection: Connection) -> set[tuple[str, int]]:
    """(subscription, problem) pairs whose subscription was told the problem opened."""
    query = (
        sa.select(notifications.c.subscription, notifications.c.problem_id)
        .where(notifications.c.state.in_(("ready", "batched")), notifications.c.kind != "resolved")
        .distinct()
    )
    return {(name, problem_id) for name, problem_id in connection.execute(query)}


def _release_waiting(connection: Connection, by_name: Mapping[str, Subscription], now: datetime) -> None:
    """min_occurrences / min_duration reached: ready; the problem resolved first: dropped (no news)."""
    query = (
        sa.select(notifications.c.id, notifications.c.subscription, problems)
        .join(problems, problems.c.id == notifications.c.problem_id)
        .where(notifications.c.state == "waiting")
    )
    for row in connection.execute(query).mappings().all():
        sub = by_name.get(row["subscription"])
        values: dict[str, Any]
        if sub is None or row["status"] == "resolved":
            note = "resolved before it reached min_occurrences / min_duration" if sub else "subscription removed"
            values = {"state": "dropped", "note": note}
        elif waiting(sub, _problem(row), now) is None:
            values = {"state": "ready", "created_at": to_store(now)}  # group_wait counts from here
        else:
            continue
        connection.execute(sa.update(notifications).where(notifications.c.id == row["id"]).values(values))


# -- reminders and escalations ----------------------------------------------------------------


def _told_open(connection: Connection, sub: Subscription) -> list[dict[str, Any]]:
    """Open (unacknowledged, unmuted) problems this subscription told of, with its last notification."""
    last = (
        sa.select(
            notifications.c.problem_id,
            sa.func.max(notifications.c.id).label("last_id"),
            sa.func.max(notifications.c.created_at).label("last_at"),
        )
        .where(notifications.c.subscription == sub.name, notifications.c.state.in_(("ready", "batched")))
        .group_by(notifications.c.problem_id)
        .subquery()
    )
    query = (
        sa.select(problems, last.c.last_id, last.c.last_at)
        .join(last, last.c.problem_id == problems.c.id)
        .where(problems.c.status == "open")
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def _remind(connection: Connection, sub: Subscription, now: datetime, planned: Planned) -> None:
    assert sub.repeat_interval is not None
    created = [
        _notification(
            sub.name,
            row["id"],
            "reminder",
            to_store(now),
            now,
            "ready",
            None,
            key=f"{sub.name}:reminder:{row['id']}:{row['last_id']}",
        )
        for row in _told_open(connection, sub)
        if row["last_at"] <= to_store(now - sub.repeat_interval)
    ]
    _insert_new(connection, created, planned, sub.name)


def _escalate(connection: Connection, sub: Subscription, target: Subscription, now: datetime, planned: Planned) -> None:
    """Told of, still unacknowledged escalate_after after it (re)opened: the target hears of it, once."""
    assert sub.escalate_after is not None
    created = []
    for row in _told_open(connection, sub):
        opening = connection.execute(
            sa.select(problem_events.c.id, problem_events.c.at)
            .where(problem_events.c.problem_id == row["id"], problem_events.c.kind.in_(("opened", "reopened")))
            .order_by(problem_events.c.id.desc())
            .limit(1)
        ).first()
        if opening is None or opening.at > to_store(now - sub.escalate_after):
            continue
        created.append(
            _notification(
                target.name,
                row["id"],
                "escalated",
                to_store(now),
                now,
                "ready",
                None,
                key=f"{target.name}:escalation:{row['id']}:{opening.id}:{sub.name}",
                note=f"escalated from {sub.name}: unacknowledged for {sub.escalate_after}",
            )
        )
    _insert_new(connection, created, planned, target.name)


def _insert_new(connection: Connection, created: list[dict[str, Any]], planned: Planned, name: str) -> None:
    """Insert the notifications whose keys are new (a reminder or escalation is made once)."""
    if not created:
        return
    keys = [row["key"] for row in created]
    existing = set(connection.execute(sa.select(notifications.c.key).where(notifications.c.key.in_(keys))).scalars())
    fresh = [row for row in created if row["key"] not in existing]
    if fresh:
        connection.execute(sa.insert(notifications), fresh)
        planned.matched[name] = planned.matched.get(name, 0) + len(fresh)


# -- batching into messages -------------------------------------------------------------------


class _Batching:
    """One pass's batching: the ready notifications read once, the new messages written at the end."""

    def __init__(
        self,
        connection: Connection,
        now: datetime,
        base_url: str | None,
        planned: Planned,
        fresh: list[_Row],
    ) -> None:
        self.connection, self.now, self.base_url, self.planned = connection, now, base_url, planned
        self.ready = self._ready()
        self.fresh = fresh  # made by this pass, not yet in the store
        for order, row in enumerate(
            fresh, start=1 + max((r["order"] for rs in self.ready.values() for r in rs), default=0)
        ):
            row["order"] = order
            if row["state"] == "ready":
                self.ready.setdefault(row["subscription"], []).append(row)
        hour_ago = to_store(now - timedelta(hours=1))
        self.sent_last_hour: dict[str, int] = {
            name: count
            for name, count in connection.execute(
                sa.select(outbox.c.subscription, sa.func.count())
                .where(outbox.c.created_at > hour_ago)
                .group_by(outbox.c.subscription)
            )
        }
        self.digest_until = {row.subscription: row.digest_until for row in connection.execute(sa.select(notify_state))}
        self.messages: list[dict[str, Any]] = []
        self.batched: list[list[_Row]] = []  # the notifications of each new message

    def _ready(self) -> dict[str, list[_Row]]:
        rows = (
            self.connection.execute(
                sa.select(
                    notifications.c.id.label("notification_id"),
                    notifications.c.key,
                    notifications.c.subscription,
                    notifications.c.problem_id,
                    notifications.c.kind.label("event"),
                    notifications.c.at.label("event_at"),
                    notifications.c.created_at.label("noticed_at"),
                    notifications.c.note,
                )
                .where(notifications.c.state == "ready")
                .order_by(notifications.c.id)
            )
            .mappings()
            .all()
        )
        wanted = sorted({row["problem_id"] for row in rows})
        problem_rows: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            query = sa.select(problems).where(problems.c.id.in_(wanted[start : start + 500]))
            problem_rows.update({row["id"]: dict(row) for row in self.connection.execute(query).mappings()})
        ready: dict[str, list[_Row]] = {}
        for row in rows:
            ready.setdefault(row["subscription"], []).append(
                _Row({**row, "order": row["notification_id"]}, problem_rows[row["problem_id"]])
            )
        return ready

    def enqueue(
        self,
        sub: Subscription,
        kind: str,
        rows: Sequence[_Row],
        *,
        key: str,
        group: tuple[tuple[str, str], ...] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        escalated_from: str | None = None,
    ) -> None:
        """max_items listed, the rest summarised; written to the outbox at flush, to be rendered after the lock."""
        listed = tuple(_item(row, self.base_url) for row in rows[: sub.max_items])
        more = max(0, len(rows) - sub.max_items)
        message = Message(sub.name, kind, listed, more, group, since, until, escalated_from)
        at = to_store(self.now)
        self.messages.append(
            {
                "key": key,
                "subscription": sub.name,
                "kind": kind,
                "channel": sub.channel,
                "recipients": json.dumps(list(sub.recipients)),
                "subject": "",
                "body": to_json(message),
                "format": UNRENDERED,
                "items": len(rows),
                "more": more,
                "status": RENDERING,
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
        )
        self.batched.append(list(rows))
        self.sent_last_hour[sub.name] = self.sent_last_hour.get(sub.name, 0) + 1

    def flush(self) -> None:
        """Write the new messages, then the new notifications with their final state, then the stored ones
        that were batched (executemany: a pass may make hundreds of thousands)."""
        ids: dict[str, int] = {}
        if self.messages:
            self.connection.execute(sa.insert(outbox), self.messages)
            keys = [message["key"] for message in self.messages]
            for start in range(0, len(keys), 500):
                query = sa.select(outbox.c.key, outbox.c.id).where(outbox.c.key.in_(keys[start : start + 500]))
                ids.update({key: id_ for key, id_ in self.connection.execute(query)})
            self.planned.messages.extend(ids[key] for key in keys)
        stored = []
        for message, members in zip(self.messages, self.batched, strict=True):
            for row in members:
                if "notification_id" in row:
                    stored.append({"_id": row["notification_id"], "_message": ids[message["key"]]})
                else:
                    row.update(state="batched", message_id=ids[message["key"]])
        columns = [column.name for column in notifications.columns if column.name != "id"]
        new = [{column: row[column] for column in columns} for row in self.fresh]
        for start in range(0, len(new), 10_000):
            self.connection.execute(sa.insert(notifications), new[start : start + 10_000])
        if stored:
            self.connection.execute(
                sa.update(notifications)
                .where(notifications.c.id == sa.bindparam("_id"))
                .values(state="batched", message_id=sa.bindparam("_message")),
                stored,
            )


def _group_key(sub: Subscription, row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    columns = {"check": "check_id"}
    return tuple((name, str(row[columns.get(name, name)] or "")) for name in sub.group_by)


def _newest_problems_first(rows: Sequence[_Row]) -> list[_Row]:
    return sorted(rows, key=lambda r: (r["severity"], -r["order"]))


def _batch(batching: _Batching, sub: Subscription) -> None:
    if sub.mode == "digest":
        _digest(batching, sub)
        return
    ready = batching.ready.get(sub.name, [])
    if not ready:
        return
    now, planned = batching.now, batching.planned
    held = held_until(sub, now, immediate=True)
    if held is not None:
        planned.held[sub.name] = f"{HELD} {held:%Y-%m-%d %H:%M %Z}"
        planned.held_until[sub.name] = held
        return
    groups: dict[tuple[tuple[str, str], ...], list[_Row]] = {}
    for row in ready:
        groups.setdefault(_group_key(sub, row), []).append(row)
    due = {
        key: rows
        for key, rows in groups.items()
        if min(r["noticed_at"] for r in rows) + sub.group_wait <= to_store(now)
    }
    if not due:
        planned.held[sub.name] = f"group_wait {sub.group_wait}"
        return
    batches = list(due.items())
    if sub.rate_limit is not None:
        budget = sub.rate_limit - batching.sent_last_hour.get(sub.name, 0)
        if budget <= 0:
            planned.held[sub.name] = f"rate_limit {sub.rate_limit} messages per hour reached"
            return
        if len(batches) > budget:  # the last message the budget allows carries the rest: never dropped or exceeded
            rest = [row for _, rows in batches[budget - 1 :] for row in rows]
            batches = [*batches[: budget - 1], ((), rest)]
    for group, rows in batches:
        kind = _kind(rows)
        escalated_from = rows[0]["note"].split(":")[0].removeprefix("escalated from ") if kind == "escalation" else None
        key = f"{sub.name}:{kind}:{rows[0]['key'].removeprefix(sub.name + ':')}"  # e.g. ops:immediate:event:17
        batching.enqueue(sub, kind, _newest_problems_first(rows), key=key, group=group, escalated_from=escalated_from)


def _kind(rows: Sequence[Mapping[str, Any]]) -> str:
    if all(r["event"] == "escalated" and r["note"] for r in rows):
        return "escalation"
    if all(r["event"] == "reminder" for r in rows):
        return "reminder"
    return "immediate"


def _digest(batching: _Batching, sub: Subscription) -> None:
    now = batching.now
    fire = last_digest(sub, now)
    since = from_store(batching.digest_until.get(sub.name))
    if since is not None and fire <= since:
        return  # this period's digest went out
    if held_until(sub, now, immediate=False) is not None:
        batching.planned.held[sub.name] = "not a working day: the digest waits for the next one"
        return
    rows = _newest_problems_first(batching.ready.get(sub.name, []))
    if rows or sub.send_empty:
        batching.enqueue(sub, "digest", rows, key=f"{sub.name}:digest:{to_store(fire).isoformat()}", since=since,
                         until=fire)  # fmt: skip
    batching.connection.execute(
        sa.update(notify_state).where(notify_state.c.subscription == sub.name).values(digest_until=to_store(fire))
    )


def _item(row: Mapping[str, Any], base_url: str | None) -> Item:
    first_seen, last_seen, at = (from_store(row[key]) for key in ("first_seen", "last_seen", "event_at"))
    assert first_seen is not None and last_seen is not None and at is not None
    return Item(
        event=row["event"],
        at=at,
        fingerprint=row["fingerprint"],
        check=row["check_id"],
        subject=row["subject"],
        severity=row["severity"],
        localization=row["localization"],
        status=row["status"],
        title=row["title"],
        cause=row["cause"],
        hint=row["hint"],
        campaign=row["campaign"],
        owner=row["owner"],
        link=row["location"],
        first_seen=first_seen,
        last_seen=last_seen,
        occurrences=row["occurrences"],
        regressions=row["regressions"],
        observed=json.loads(row["observed"]) if row["observed"] else None,
        expected=row["expected"],
        url=f"{base_url.rstrip('/')}/problems/{row['fingerprint']}" if base_url else None,
    )
