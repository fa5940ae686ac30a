"""No secrets in YAML: credentials belong in environment variables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from runner.document import Document
from runner.envref import is_reference
from runner.findings import Severity
from runner.kinds import KINDS
from runner.positions import JsonPath
from runner.static.check import Check, Context, Hit

_TELEGRAM_TOKEN = r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"
_SECRET_VALUE = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # a URL with user:password
    rf"|{_TELEGRAM_TOKEN}"  # a Telegram bot token
    r"|hooks\.slack\.com/services/"  # a Slack incoming-webhook URL
    r"|\bAKIA[0-9A-Z]{16}\b",  # an AWS access key
    re.IGNORECASE,
)
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|private_key)$", re.IGNORECASE)
_SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "hooks.slack.com", "akia")


def _strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any, str]]:
    """(path, key, string) for every string in the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield (*path, key), key, item
            else:
                yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield (*path, index), index, item
            else:
                yield from _strings(item, (*path, index))


def inline_credentials(document: Document, ctx: Context) -> Iterator[Hit]:
    """A password, token or secret URL written into a file instead of an environment reference."""
    if _might_hold_secrets(document.text):
        yield from _credentials_in(document.data)
    if document.kind.name == "subscriptions":
        yield from _literal_webhooks(document.data)


def _might_hold_secrets(text: str) -> bool:
    """A cheap look at the raw text; most files hold nothing secret-looking and skip the walk."""
    lowered = text.lower()
    return (
        any(word in lowered for word in _SECRET_WORDS)
        or ("://" in text and "@" in text)
        or re.search(_TELEGRAM_TOKEN, text) is not None
    )


def _credentials_in(data: Any) -> Iterator[Hit]:
    for path, key, text in _strings(data):
        if is_reference(text):
            continue
        if (isinstance(key, str) and _SECRET_KEY.search(key)) or _SECRET_VALUE.search(text):
            yield Hit(
                path,
                "this looks like a credential written into the repository; move it into an "
                "environment variable and write ${NAME} here",
            )


def _literal_webhooks(data: Any) -> Iterator[Hit]:
    for index, subscription in enumerate(data["subscriptions"]):
        if subscription["channel"] != "webhook":
            continue
        for position, recipient in enumerate(subscription["recipients"]):
            # a URL the pattern above already matched (Slack) is reported once, not twice
            if isinstance(recipient, str) and not is_reference(recipient) and not _SECRET_VALUE.search(recipient):
                yield Hit(
                    ("subscriptions", index, "recipients", position),
                    "a webhook URL is a secret (anyone with it can post); write ${NAME} and set "
                    "the URL in the environment",
                )


CHECKS = (
    Check(
        "security.inline_credentials",
        Severity.PROBLEM,
        "system",
        tuple(kind.name for kind in KINDS),
        "Replace the value with an environment reference ${NAME}.",
        inline_credentials,
    ),
)
