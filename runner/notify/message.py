"""What a notification carries, between the planner, the renderer and the channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Item:
    """One problem event a message tells of."""

    event: str  # opened, reopened, escalated, resolved, reminder
    at: datetime  # when the event happened (aware)
    fingerprint: str
    check: str
    subject: str
    severity: str  # problem, warning
    localization: str
    status: str  # open, acknowledged, muted, resolved (the problem now)
    title: str
    cause: str
    hint: str
    campaign: str | None
    owner: str | None
    link: str | None  # campaign file:line
    first_seen: datetime  # aware
    last_seen: datetime  # aware
    occurrences: int
    regressions: int
    observed: Any
    expected: str
    url: str | None = None  # the problem on the problems page, when a base URL is configured


@dataclass(frozen=True)
class Message:
    """One message of one subscription: immediate (a group), digest, reminder or escalation."""

    subscription: str
    kind: str  # immediate, digest, reminder, escalation
    items: tuple[Item, ...]
    more: int = 0  # further items summarised, not listed ("and 14 more problems")
    group: tuple[tuple[str, str], ...] = ()  # the group_by fields and their values
    since: datetime | None = None  # a digest's period
    until: datetime | None = None
    escalated_from: str | None = None  # escalation: the subscription nobody acknowledged in
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel."""

    subject: str  # e-mail subject; the first line elsewhere
    body: str
    format: str  # text, html, markdown


class DeliveryError(Exception):
    """A channel could not deliver; retryable unless the receiver refused for good (4xx but 429).

    `endpoint` names the server when it could not be reached at all (refused, reset, timed out):
    what the circuit breaker counts (runner.notify.breaker).
    """

    def __init__(self, message: str, *, retryable: bool = True, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.endpoint = endpoint
