"""Delivery channels: e-mail, Telegram and webhooks, chosen by name; failures are DeliveryError only.

Recipients may be environment references (`${NAME}`, `${NAME:-default}`): the repository holds
webhook URLs and chat ids only that way. Server settings and credentials come from environment
variables, never from YAML (docs/notifications.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Protocol

from runner import envref
from runner.errors import UsageError
from runner.masking import conceal, mask
from runner.notify.message import DeliveryError, Rendered

from . import email, telegram, webhook
from ._exchange import Exchange, connect_timeout, message_timeout
from ._http import endpoint

FORMATS = ("text", "html", "markdown")


class Channel(Protocol):
    def __call__(
        self,
        recipients: Sequence[str],
        rendered: Rendered,
        *,
        key: str,
        environ: Mapping[str, str],
        exchange: Exchange,
    ) -> None: ...


CHANNELS: dict[str, Channel] = {"email": email.send, "telegram": telegram.send, "webhook": webhook.send}


def send(
    channel: str,
    recipients: Sequence[str],
    rendered: Rendered,
    *,
    key: str,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Deliver one message to all recipients, or raise DeliveryError (retryable unless retrying cannot help).

    `key` is unique per message: the e-mail Message-ID and the webhook Idempotency-Key are made of it.
    `timeout` bounds everything the message does on the network (CAMPAIGN_GUARD_MESSAGE_TIMEOUT by
    default); each connection waits CAMPAIGN_GUARD_CONNECT_TIMEOUT at most.
    """
    deliver = CHANNELS.get(channel)
    if deliver is None:
        raise DeliveryError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}", retryable=False)
    if rendered.format not in FORMATS:
        raise DeliveryError(
            f"{channel}: unknown format {rendered.format!r}; use one of {', '.join(FORMATS)}", retryable=False
        )
    if not key:
        raise DeliveryError(f"{channel}: a message needs an idempotency key", retryable=False)
    if not recipients:
        raise DeliveryError(f"{channel}: no recipients", retryable=False)
    environ = os.environ if environ is None else environ
    expanded = [_expand(channel, recipient, environ) for recipient in recipients]
    deadline = message_timeout(environ) if timeout is None else min(timeout, message_timeout(environ))
    _conceal(channel, expanded, environ)
    masked = Rendered(mask(rendered.subject), mask(rendered.body), rendered.format)  # no message shows a secret
    with Exchange(deadline, connect_timeout(environ)) as exchange:
        deliver(expanded, masked, key=key, environ=environ, exchange=exchange)


def timeouts(environ: Mapping[str, str] | None = None) -> tuple[float, float]:
    """The connect and message timeouts (seconds); a UsageError when a variable is not a number."""
    environ = os.environ if environ is None else environ
    return connect_timeout(environ), message_timeout(environ)


def endpoints(channel: str, recipients: Sequence[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The servers a message goes to, as DeliveryError.endpoint names them; [] when it cannot be sent anyway."""
    environ = os.environ if environ is None else environ
    try:
        if channel == "email":
            return [email.settings(environ).endpoint]
        if channel == "telegram":
            return [endpoint(telegram.api_base(environ))]
        if channel == "webhook":
            return [endpoint(_expand(channel, recipient, environ)) for recipient in recipients]
    except DeliveryError:
        pass
    return []


def _conceal(channel: str, recipients: Sequence[str], environ: Mapping[str, str]) -> None:
    """What no message or error may show: a webhook's path and query (its credential), the bot token, the
    SMTP password. Recipients from environment references are concealed whole as they are expanded."""
    if channel == "webhook":
        for url in recipients:
            conceal(url, path=True)
    for variable in (telegram.TOKEN_VARIABLE, email.URL_VARIABLE):
        conceal(environ.get(variable, ""))


def _expand(channel: str, recipient: str, environ: Mapping[str, str]) -> str:
    try:
        value = envref.expand(recipient, environ, where=f"{channel} recipient {recipient}")
    except UsageError as error:
        raise DeliveryError(str(error), retryable=False) from None
    if not value.strip():
        raise DeliveryError(f"{channel} recipient {recipient} is empty", retryable=False)
    return value.strip()
