"""Deliver the outbox: claim a message, send it outside the lock, record the outcome.

A claim is a lease: two `notify` processes never send one message at once, and a process that
dies mid-way leaves a claim that the next process takes over at once, its holder being dead
(runner.store.holders), so the message is retried rather than lost. A failed
attempt is retried with exponential backoff (1 minute doubling to 1 hour) and stays visible with
its error; a refusal for good (a 4xx answer, a missing variable) marks the message failed. The
window in which a message can go out twice - the server accepted it and the process died before
recording it - is covered by the idempotency key every channel carries (Message-ID,
Idempotency-Key).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.notify.message import DeliveryError, Rendered
from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.holders import alive, hold
from runner.store.tables import outbox

LEASE = timedelta(minutes=5)
Sender = Callable[..., None]  # send(channel, recipients, rendered, *, key, environ)


@dataclass
class Delivered:
    sent: list[int] = field(default_factory=list)
    retrying: dict[int, str] = field(default_factory=dict)  # outbox id -> error
    failed: dict[int, str] = field(default_factory=dict)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = timedelta(minutes=1) * 2 ** max(0, attempts - 1)
    return min(timedelta(hours=1), delay)


def deliver(store: Store, now: datetime, send: Sender, environ: Mapping[str, str] | None = None) -> Delivered:
    """Send every message due at `now`, one claim at a time."""
    done = Delivered()
    token = uuid.uuid4().hex
    holder = hold(store).id
    while (claimed := _claim(store, now, token, holder)) is not None:
        message_id, channel, recipients, rendered, key = claimed
        try:
            send(channel, recipients, rendered, key=key, environ=environ)
        except DeliveryError as error:
            _failed(store, message_id, now, str(error), retryable=error.retryable)
            (done.retrying if error.retryable else done.failed)[message_id] = str(error)
            continue
        with store.write() as connection:
            connection.execute(
                sa.update(outbox)
                .where(outbox.c.id == message_id)
                .values(
                    status="sent",
                    sent_at=to_store(now),
                    attempts=outbox.c.attempts + 1,
                    claimed_by=None,
                    claimed_until=None,
                    claim_holder=None,
                    last_error=None,
                )
            )
        done.sent.append(message_id)
    return done


def _claim(
    store: Store, now: datetime, token: str, holder: str
) -> tuple[int, str, Sequence[str], Rendered, str] | None:
    at = to_store(now)
    with store.write() as connection:
        _release_dead(store, connection, at, holder)
        row = connection.execute(
            sa.select(outbox)
            .where(
                outbox.c.status == "pending",
                outbox.c.next_attempt_at <= at,
                sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < at),
                sa.or_(outbox.c.claimed_by.is_(None), outbox.c.claimed_by != token),  # one try per pass
            )
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        connection.execute(
            sa.update(outbox)
            .where(outbox.c.id == row.id)
            .values(claimed_by=token, claimed_until=at + LEASE, claim_holder=holder)
        )
    return row.id, row.channel, json.loads(row.recipients), Rendered(row.subject, row.body, row.format), row.key


def _release_dead(store: Store, connection: Connection, at: datetime, holder: str) -> None:
    """End the leases of processes that died sending (killed): their messages are due again now."""
    leased = sa.select(outbox.c.claim_holder).where(
        outbox.c.status == "pending", outbox.c.claimed_until >= at, outbox.c.claim_holder != holder
    )
    holders = connection.execute(leased.distinct()).scalars().all()
    dead = sorted(other for other in holders if not alive(store, connection, other))
    if dead:
        connection.execute(
            sa.update(outbox).where(outbox.c.claim_holder.in_(dead)).values(claimed_until=None, claim_holder=None)
        )


def _failed(store: Store, message_id: int, now: datetime, error: str, *, retryable: bool) -> None:
    with store.write() as connection:
        attempts = connection.execute(sa.select(outbox.c.attempts).where(outbox.c.id == message_id)).scalar_one() + 1
        values = {"attempts": attempts, "last_error": error[:2000], "claimed_until": None}
        if retryable:
            values["next_attempt_at"] = to_store(now + backoff(attempts))
        else:
            values["status"] = "failed"
        connection.execute(sa.update(outbox).where(outbox.c.id == message_id).values(values))
