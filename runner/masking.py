"""No secret leaves in a message: what looks like one is shown as *** (`postgresql://user:***@host/db`).

Every finding's message passes through mask(), whatever the output format; a message that
echoes a value the file keeps under a secret-looking key also hides that value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

SECRET_WORDS = r"password|passwd|pwd|secret|token|api_?key|access_?key|private_key"
SECRET_KEY = re.compile(rf"(?:{SECRET_WORDS})$", re.IGNORECASE)
"""A mapping key whose value is a secret: password, db_password, bot_token, api_key..."""

SECRET_PARAMETER = re.compile(
    rf"(?P<keep>(?<![A-Za-z0-9_.-])[A-Za-z0-9_]*(?:{SECRET_WORDS})=)(?P<secret>[^&#;\s'\"]+)", re.IGNORECASE
)
"""`?password=...`, `&access_token=...`, `password=... ` in a keyword DSN."""

MASK = "***"

_RULES: tuple[re.Pattern[str], ...] = (  # each keeps its group "keep" and hides the rest
    # user:password@ in a URL; the password runs to the last @ before the host
    re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^\s/?#]+?(?=@[^\s/?#@]*(?:[/?#\s'\"]|$))", re.I),
    SECRET_PARAMETER,
    re.compile(r"(?P<keep>\b\d{6,12}:)[A-Za-z0-9_-]{30,}"),  # a Telegram bot token
    re.compile(r"(?P<keep>hooks\.slack\.com/services/)[^\s'\"]+", re.I),  # a Slack webhook
    re.compile(r"(?P<keep>\bAKIA)[0-9A-Z]{16}\b"),  # an AWS access key
)


def mask(text: str, hidden: Iterable[str] = ()) -> str:
    """text with every secret-looking part, and every value in hidden, replaced by ***."""
    for value in sorted(set(hidden), key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, MASK)
    for pattern in _RULES:
        text = pattern.sub(r"\g<keep>" + MASK, text)
    return text


def secret_values(data: Any) -> Iterator[str]:
    """Values the data keeps under secret-looking keys (`password: hunter2`), whatever the nesting."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(value, str | int | float):
                if not isinstance(value, bool):
                    yield str(value)
            else:
                yield from secret_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from secret_values(item)
