"""Deliver the outbox: claim a message, send it outside the lock, record the outcome.

A claim is a lease: two `notify` processes never send one message at once, and a process that
dies mid-way leaves a claim that the next process takes over at once, its holder being dead
(runner.store.holders), so the message is retried rather than lost. A failed
attempt is retried with exponential backoff (1 minute doubling to 1 hour) and stays visible with
its error; a refusal for good (a 4xx answer, a missing variable) marks the message failed.

A pass ends at its deadline: the messages it did not reach stay pending, no attempt counted, for
the next run; so do those of an endpoint the circuit breaker gave up on (runner.notify.breaker).

A message accepted by its server is marked sent at once, in a short transaction of its own that
does not wait for the store's lock. What is left is the window between the server accepting a
message and that commit: a process dying there sends the message again on the next run. Only
e-mail (Message-ID) and webhooks (Idempotency-Key) carry a key a receiver can drop the copy by;
Telegram messages carry none (docs/notifications.md, "Duplicates").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.deadlines import NOTIFY_DEADLINE, Deadline
from runner.notify.breaker import Breaker
from runner.notify.channels import endpoints as channel_endpoints
from runner.notify.channels import timeouts
from runner.notify.message import DeliveryError, Rendered
from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.holders import alive, hold
from runner.store.tables import outbox

LEASE = timedelta(minutes=5)
Sender = Callable[..., None]  # send(channel, recipients, rendered, *, key, environ, timeout)


@dataclass
class Delivered:
    sent: list[int] = field(default_factory=list)
    retrying: dict[int, str] = field(default_factory=dict)  # outbox id -> error
    failed: dict[int, str] = field(default_factory=dict)
    deferred: dict[int, str] = field(default_factory=dict)  # outbox id -> the endpoint the breaker gave up on
    left: int = 0  # messages due that the deadline did not leave time for
    breaker: Breaker = field(default_factory=Breaker)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = timedelta(minutes=1) * 2 ** max(0, attempts - 1)
    return min(timedelta(hours=1), delay)


def deliver(
    store: Store,
    now: datetime,
    send: Sender,
    environ: Mapping[str, str] | None = None,
    *,
    deadline: float = NOTIFY_DEADLINE,
    endpoints: Callable[..., list[str]] = channel_endpoints,
) -> Delivered:
    """Send every message due at `now`, one claim at a time, until `deadline` seconds have passed.

    Each message may take CAMPAIGN_GUARD_MESSAGE_TIMEOUT (the deadline, if shorter); one is started
    only while that still fits before the deadline, so the pass ends in time.
    """
    done = Delivered()
    token = uuid.uuid4().hex
    holder = hold(store).id
    ends = Deadline.start(deadline)
    each = min(timeouts(environ)[1], deadline)
    while _in_time(ends, each, done) and (claimed := _claim(store, now, token, holder)) is not None:
        message_id, channel, recipients, rendered, key = claimed
        servers = endpoints(channel, recipients, environ)
        tripped = done.breaker.tripped(servers)
        if tripped is not None:
            _release(store, message_id)
            done.breaker.defer(tripped)
            done.deferred[message_id] = tripped
            continue
        try:
            send(channel, recipients, rendered, key=key, environ=environ, timeout=each)
        except DeliveryError as error:
            _failed(store, message_id, now, str(error), retryable=error.retryable)
            (done.retrying if error.retryable else done.failed)[message_id] = str(error)
            if error.endpoint is not None:
                done.breaker.failed(error.endpoint)
            continue
        _sent(store, message_id, now)
        done.breaker.reached(servers)
        done.sent.append(message_id)
    if not _in_time(ends, each, done):
        done.left = _still_due(store, now, token)
    return done


def _in_time(ends: Deadline, each: float, done: Delivered) -> bool:
    """Whether a message's whole timeout still fits before the deadline; the first one always does."""
    return ends.left() >= each or not (done.sent or done.retrying or done.failed or done.deferred)


def _sent(store: Store, message_id: int, now: datetime) -> None:
    """Right after the server accepted it, in a transaction of its own: the duplicate window is this short."""
    with store.brief() as connection:
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


def _release(store: Store, message_id: int) -> None:
    """Back to pending as it was, no attempt counted; still marked as ours, so this pass does not take it again."""
    with store.brief() as connection:
        connection.execute(sa.update(outbox).where(outbox.c.id == message_id).values(claimed_until=None))


def _still_due(store: Store, now: datetime, token: str) -> int:
    with store.read() as connection:
        query = sa.select(sa.func.count()).select_from(outbox).where(*_claimable(now, token))
        return int(connection.execute(query).scalar_one())


def _claimable(now: datetime, token: str) -> tuple[sa.ColumnElement[bool], ...]:
    at = to_store(now)
    return (
        outbox.c.status == "pending",
        outbox.c.next_attempt_at <= at,
        sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < at),
        sa.or_(outbox.c.claimed_by.is_(None), outbox.c.claimed_by != token),  # one try per pass
    )


def _claim(
    store: Store, now: datetime, token: str, holder: str
) -> tuple[int, str, Sequence[str], Rendered, str] | None:
    at = to_store(now)
    with store.write() as connection:
        _release_dead(store, connection, at, holder)
        row = connection.execute(
            sa.select(outbox).where(*_claimable(now, token)).order_by(outbox.c.next_attempt_at, outbox.c.id).limit(1)
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
    with store.brief() as connection:
        attempts = connection.execute(sa.select(outbox.c.attempts).where(outbox.c.id == message_id)).scalar_one() + 1
        values = {"attempts": attempts, "last_error": error[:2000], "claimed_until": None}
        if retryable:
            values["next_attempt_at"] = to_store(now + backoff(attempts))
        else:
            values["status"] = "failed"
        connection.execute(sa.update(outbox).where(outbox.c.id == message_id).values(values))
