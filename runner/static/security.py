"""No secrets in YAML: credentials belong in environment variables.

This check runs on every file that parses, schema-valid or not: a pasted DSN under a misspelt or
unknown key is a leaked secret as much as one under a known key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from runner.document import Document
from runner.envref import default_of, is_reference
from runner.findings import Severity
from runner.kinds import KINDS
from runner.masking import SECRET_KEY
from runner.positions import JsonPath
from runner.static.check import Check, Context, Hit

_TELEGRAM_TOKEN = r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"
_SECRET_VALUE = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # a URL with user:password
    r"|[?&](?:[a-z0-9_]*(?:password|passwd|pwd|secret|token|api_?key))=(?!\$\{)[^&#\s]"  # ?password=... in a URL
    rf"|{_TELEGRAM_TOKEN}"  # a Telegram bot token
    r"|hooks\.slack\.com/services/"  # a Slack incoming-webhook URL
    r"|\bAKIA[0-9A-Z]{16}\b",  # an AWS access key
    re.IGNORECASE,
)
_SECRET_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "accesskey",
    "private_key",
    "hooks.slack.com",
    "akia",
)
_IN_REPOSITORY = (
    "this looks like a credential written into the repository; move it into an environment variable "
    "and write ${NAME} here"
)
_IN_DEFAULT = (
    "the default of this environment reference looks like a credential, and a default is written into "
    "the repository; drop the default (${NAME}) and set the value in the environment"
)


def _scalars(value: Any, path: JsonPath = (), key: Any = None) -> Iterator[tuple[JsonPath, Any, Any, bool]]:
    """(path, key, value, is_key) for every scalar of the document, mapping keys included."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield (*path, name), name, name, True
            yield from _scalars(item, (*path, name), name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scalars(item, (*path, index), index)
    else:
        yield path, key, value, False


def inline_credentials(document: Document, ctx: Context) -> Iterator[Hit]:
    """A password, token or secret URL written into a file instead of an environment reference, under any
    key (unknown ones too) or as the default of a reference."""
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
    for path, key, value, is_key in _scalars(data):
        if is_key:
            if isinstance(value, str) and _SECRET_VALUE.search(value):
                yield Hit(path, _IN_REPOSITORY, key=True)
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        text = str(value)
        secret_key = isinstance(key, str) and SECRET_KEY.search(key) is not None
        if isinstance(value, str) and is_reference(value):
            default = default_of(value)
            if default and (secret_key or _SECRET_VALUE.search(default)):
                yield Hit(path, _IN_DEFAULT)
        elif (secret_key and text) or _SECRET_VALUE.search(text):
            yield Hit(path, _IN_REPOSITORY)


def _literal_webhooks(data: Any) -> Iterator[Hit]:
    subscriptions = data.get("subscriptions") if isinstance(data, dict) else None
    for index, subscription in enumerate(subscriptions if isinstance(subscriptions, list) else []):
        if not isinstance(subscription, dict) or subscription.get("channel") != "webhook":
            continue
        recipients = subscription.get("recipients")
        for position, recipient in enumerate(recipients if isinstance(recipients, list) else []):
            if not isinstance(recipient, str):
                continue
            url = default_of(recipient) if is_reference(recipient) else recipient
            # a URL the pattern above already matched (Slack) is reported once, not twice
            if url and not _SECRET_VALUE.search(url):
                yield Hit(
                    ("subscriptions", index, "recipients", position),
                    "a webhook URL is a secret (anyone with it can post); write ${NAME} and set "
                    "the URL in the environment" + (", with no default" if url != recipient else ""),
                )


CHECKS = (
    Check(
        "security.inline_credentials",
        Severity.PROBLEM,
        "system",
        tuple(kind.name for kind in KINDS),
        "Replace the value with an environment reference ${NAME}, without a default that holds the secret.",
        inline_credentials,
        any_shape=True,
    ),
)
