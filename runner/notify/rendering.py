"""Render the outbox with no store lock held: planned messages wait as `rendering` rows.

The planning pass (planner.py) holds the store's write lock, so it renders nothing: each new outbox
row is written with status `rendering`, format `unrendered` and the Message as JSON in its body.
Then, with no lock held, the rows are leased (claimed_by / claimed_until, as delivery leases them),
rendered, and stored in one short write: `pending` with subject and body, or `failed` with the
reason when the subscription's template fails. One subscription's broken template fails its own
messages alone; once its template runs out of time, its other messages of the pass fail at once.
A process that dies while rendering leaves a lease that expires: the next pass renders the rows
again. `notify --retry-failed` makes a failed unrendered row `rendering` again.
"""

from __future__ import annotations

import json
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.notify.delivery import LEASE
from runner.notify.message import Item, Message, Rendered
from runner.notify.render import render_for
from runner.notify.subscriptions import Subscription
from runner.sandbox import TemplateTimeout
from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.tables import outbox

RENDERING = "rendering"  # outbox.status of a planned message not rendered yet
UNRENDERED = "unrendered"  # its outbox.format: the body is the Message as JSON
NOT_RENDERED = "(not rendered)"  # the subject of a message whose template failed
Renderer = Callable[[Subscription, Message], Rendered]
_TIMES = ("at", "first_seen", "last_seen")


def to_json(message: Message) -> str:
    """A Message as the body of an unrendered outbox row."""

    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    fields = dict(vars(message))  # shallow: asdict would deep-copy every item's observed value
    fields["items"] = [{**vars(item), **{key: moment(getattr(item, key)) for key in _TIMES}} for item in message.items]
    fields["since"], fields["until"] = moment(message.since), moment(message.until)
    return json.dumps(fields, ensure_ascii=False)


def from_json(text: str) -> Message:
    """The Message of an unrendered outbox row."""

    def moment(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    fields = json.loads(text)
    items = tuple(Item(**{**item, **{key: moment(item[key]) for key in _TIMES}}) for item in fields.pop("items"))
    group = tuple((str(name), str(value)) for name, value in fields.pop("group"))
    since, until = moment(fields.pop("since")), moment(fields.pop("until"))
    return Message(**fields, items=items, group=group, since=since, until=until)


@dataclass
class Outcome:
    """What rendering did: the rows now pending, and the ones whose template failed."""

    rendered: dict[int, str] = field(default_factory=dict)  # outbox id -> subscription
    failed: dict[int, tuple[str, str]] = field(default_factory=dict)  # outbox id -> (subscription, error)


def render_rows(
    rows: Sequence[Any], subscriptions: Sequence[Subscription], render: Renderer | None = None
) -> tuple[dict[int, Rendered], Outcome]:
    """Render unrendered rows (id, subscription, body) in memory, with render_for unless told; each row's
    failure is its own."""
    render = render or render_for
    by_name = {sub.name: sub for sub in subscriptions}
    done: dict[int, Rendered] = {}
    outcome = Outcome()
    slow: dict[str, int] = {}  # subscription -> the message its template ran out of time on
    for row in rows:
        sub = by_name.get(row.subscription)
        if sub is None:
            outcome.failed[row.id] = (row.subscription, f"subscription {row.subscription!r} was removed")
            continue
        if sub.name in slow:  # one slow render per pass: its other messages would take as long
            why = f"subscription {sub.name!r}: not rendered, its template ran out of time on message #{slow[sub.name]}"
            outcome.failed[row.id] = (sub.name, why)
            continue
        try:
            done[row.id] = render(sub, from_json(row.body))
        except Exception as error:  # a template runs the user's code: any error is this subscription's alone
            outcome.failed[row.id] = (sub.name, str(error) or type(error).__name__)
            if isinstance(error.__cause__, TemplateTimeout):
                slow[sub.name] = row.id
            continue
        outcome.rendered[row.id] = sub.name
    return done, outcome


def unrendered(connection: Connection, at: datetime | None = None) -> list[Any]:
    """The rows waiting to be rendered; at a moment, only those no lease holds then."""
    query = sa.select(outbox).where(outbox.c.status == RENDERING)
    if at is not None:
        query = query.where(sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < at))
    return list(connection.execute(query.order_by(outbox.c.id)))


def render_outbox(
    store: Store, subscriptions: Sequence[Subscription], now: datetime, render: Renderer | None = None
) -> Outcome:
    """Lease the rows to render, render them with no lock held, store the results in one short write."""
    token, at = uuid.uuid4().hex, to_store(now)
    with store.write() as connection:
        rows = unrendered(connection, at)  # not those another process has leased and is rendering
        if rows:
            connection.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(claimed_by=token, claimed_until=at + LEASE)
            )
    if not rows:
        return Outcome()
    done, outcome = render_rows(rows, subscriptions, render)
    with store.write() as connection:
        mine = (outbox.c.id == sa.bindparam("_id")) & (outbox.c.claimed_by == token)
        if done:
            connection.execute(
                sa.update(outbox).where(mine).values(
                    status="pending",
                    subject=sa.bindparam("_subject"),
                    body=sa.bindparam("_body"),
                    format=sa.bindparam("_format"),
                    claimed_by=None,
                    claimed_until=None,
                ),
                [{"_id": i, "_subject": r.subject, "_body": r.body, "_format": r.format} for i, r in done.items()],
            )  # fmt: skip
        if outcome.failed:
            connection.execute(
                sa.update(outbox).where(mine).values(
                    status="failed",
                    subject=NOT_RENDERED,
                    last_error=sa.bindparam("_error"),
                    claimed_by=None,
                    claimed_until=None,
                ),
                [{"_id": i, "_error": error[:2000]} for i, (_, error) in outcome.failed.items()],
            )  # fmt: skip
    return outcome


def requeue_failed(connection: Connection, now: datetime) -> None:
    """--retry-failed: failed messages are due again; one whose template failed is rendered again."""
    connection.execute(
        sa.update(outbox)
        .where(outbox.c.status == "failed")
        .values(
            status=sa.case((outbox.c.format == UNRENDERED, RENDERING), else_="pending"),
            next_attempt_at=to_store(now),
            claimed_until=None,
        )
    )


def subscriptions_of(outcome: Outcome) -> Mapping[str, str | None]:
    """subscription -> the first error of its failed messages, None when all of them rendered."""
    verdicts: dict[str, str | None] = {name: None for name in outcome.rendered.values()}
    for _, (name, error) in sorted(outcome.failed.items()):
        if verdicts.get(name) is None:
            verdicts[name] = error
    return verdicts


def failures(outcome: Outcome) -> dict[int, str]:
    """outbox id -> why its message was not rendered, as delivery failures are reported."""
    return {message_id: error for message_id, (_, error) in outcome.failed.items()}


def rendered_row(row: Any, rendered: Rendered | None) -> Any:
    """An unrendered outbox row as it will be once rendered, or failed (a dry run shows it)."""
    if rendered is None:
        return types.SimpleNamespace(**{**row._mapping, "subject": NOT_RENDERED})
    return types.SimpleNamespace(
        **{**row._mapping, "subject": rendered.subject, "body": rendered.body, "format": rendered.format}
    )
