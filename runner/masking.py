"""No secret leaves: what looks like one, and every value known to be one, is shown as ***.

`mask` is the one redaction function. It hides a URL's password (`postgresql://user:***@host/db`),
secret-named parameters (`?password=***`, `&api_key=***`, `token=***` in a driver's error), a
Telegram bot token and the `/bot***/` of its API path, a Slack webhook's path, and every value
`conceal` was told of: the values of environment variables the configuration references (`${NAME}`),
the state store's URL, the Telegram token, the SMTP password and the path of every webhook URL. A
concealed value is hidden as written, decoded and %-, JSON- or HTML-escaped.

It is applied where strings leave the process: everything `main` prints (`masked_output`), every
text column of the state store (runner.store.tables), and every message a channel sends.
"""

from __future__ import annotations

import html
import json
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

SECRET_WORDS = r"password|passwd|pwd|secret|token|api_?key|access_?key|private_key"
SECRET_KEY = re.compile(rf"(?:{SECRET_WORDS})$", re.IGNORECASE)
"""A mapping key whose value is a secret: password, db_password, bot_token, api_key..."""

_VALUE = r"""(?P<secret>[^&#;\s'"`<>]+)"""  # a parameter's value, after its = and an opening quote
SECRET_PARAMETER = re.compile(rf"(?P<keep>(?:{SECRET_WORDS})=['\"]?){_VALUE}", re.I)
"""`password=...` in a keyword DSN or a driver's error, `?password=...`, `&access_token=...`."""

_QUERY_NAME = rf"[A-Za-z0-9_.-]*(?:{SECRET_WORDS})|(?:[A-Za-z0-9.-]*[_.-])?(?:key|auth)"
SECRET_QUERY_NAME = re.compile(rf"(?:{_QUERY_NAME})$", re.IGNORECASE)
"""A URL query parameter that holds a secret: the secret words, and also `key`, `x_api_key`, `auth`."""

MASK = "***"
MIN_CONCEALED = 4  # a shorter value would hide parts of ordinary words; URL rules still cover it
_TOKEN_SEGMENT = 16  # a webhook path segment at least this long is concealed on its own too

_WORDS = ("pass", "pwd", "secret", "token", "key")  # one is in every secret parameter's name
_Rule = tuple[tuple[str, ...], tuple[str, ...], re.Pattern[str]]
_RULES: tuple[_Rule, ...] = (
    # (all of these and, if any given, one of those in the lower-cased text, else it cannot match; a rule)
    # user:password@ in a URL; the password runs to the last @ before the host
    (
        ("://", "@"),
        (),
        re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^\s/?#]+?(?=@[^\s/?#@]*(?:[/?#\s'\"<]|$))", re.I),
    ),
    (("=",), _WORDS, SECRET_PARAMETER),  # the name may run on before the word: db_password=, x.password=
    (("=",), (*_WORDS, "auth"), re.compile(rf"(?P<keep>[?&;](?:{_QUERY_NAME})=['\"]?){_VALUE}", re.I)),
    ((":",), (), re.compile(r"(?P<keep>\b\d{6,12}:)[A-Za-z0-9_-]{30,}")),  # a Telegram bot token
    (("/bot",), (), re.compile(r"(?P<keep>/bot)[^/\s:'\"<>]+:[^/\s'\"<>]+(?=/)")),  # the token in Bot API paths
    (("hooks.slack.com/",), (), re.compile(r"(?P<keep>hooks\.slack\.com/services/)[^\s'\"`<>]+", re.I)),
    (("akia",), (), re.compile(r"(?P<keep>\bAKIA)[0-9A-Z]{16}\b")),  # an AWS access key
)  # each needs ":", "=", "/" or "AKIA": mask skips them all for a text without any (keep it so)

_lock = threading.Lock()
_concealed: set[str] = set()
_literal: tuple[tuple[str, ...], re.Pattern[str]] | None = None  # the concealed forms, longest first, and a rule


def mask(text: str, hidden: Iterable[str] = ()) -> str:
    """text with every secret-looking part, every concealed value and every value in hidden as ***."""
    if hidden:
        for value in sorted(set(hidden), key=len, reverse=True):
            if len(value) >= 3:
                text = text.replace(value, MASK)
    literal = _literal
    if literal is not None:
        for form in literal[0]:  # `in` is far cheaper than the rule, and most texts hold no secret
            if form in text:
                text = literal[1].sub(_hide, text)
                break
    if ":" not in text and "=" not in text and "/" not in text and "AKIA" not in text:
        return text  # what every rule needs
    lower = text.lower()
    for every, some, pattern in _RULES:
        if _may_match(lower, every, some):
            text = pattern.sub(r"\g<keep>" + MASK, text)
    return text


def _may_match(lower: str, every: tuple[str, ...], some: tuple[str, ...]) -> bool:
    """A rule's cheap precondition: mask runs on every text printed or stored, and most hold no secret."""
    for needle in every:
        if needle not in lower:
            return False
    return not some or any(needle in lower for needle in some)


def _hide(match: re.Match[str]) -> str:
    """A concealed value as ***, a concealed path as /***: `https://hooks.example.com/***`."""
    return "/" + MASK if match.group().startswith("/") else MASK


def conceal(value: str, *, path: bool = False) -> None:
    """Hide value in everything masked from now on.

    A URL keeps what is not secret in it visible: its password and secret-named parameters are
    concealed, and with path (a webhook's URL, whose path is its credential) its path and query too.
    Any other value is concealed whole.
    """
    found = {form for part in _secret_parts(value.strip(), path) for form in _forms(part)}
    found = {form for form in found if len(form) >= MIN_CONCEALED} - _concealed
    if not found:
        return
    global _literal
    with _lock:
        _concealed.update(found)
        ordered = tuple(sorted(_concealed, key=len, reverse=True))  # the longest first: no half-hidden value
        _literal = ordered, re.compile("|".join(re.escape(form) for form in ordered))


def forget() -> None:
    """Conceal nothing anymore (a new command in the same process; tests)."""
    global _literal
    with _lock:
        _concealed.clear()
        _literal = None


def _secret_parts(value: str, path: bool) -> Iterator[str]:
    parts = urlsplit(value) if "://" in value else None
    if parts is None or not parts.scheme or not parts.netloc:
        if value and "://" not in value:
            yield value
        return
    if parts.password:
        yield parts.password
    for name, secret in parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_QUERY_NAME.match(name):
            yield secret
    if path:
        rest = value.split(parts.netloc, 1)[1]  # path, query and fragment as written
        if rest.strip("/?#"):
            yield rest if rest.startswith("/") else "/" + rest
            if parts.path.strip("/"):
                yield parts.path
            yield from (segment for segment in parts.path.split("/") if len(segment) >= _TOKEN_SEGMENT)


def _forms(value: str) -> set[str]:
    """The ways a value shows in a message: as written, decoded, %-, JSON- and HTML-escaped."""
    forms = {value, unquote(value)}
    for form in list(forms):
        escaped = {quote(form, safe=""), quote(form), quote(form, safe="/:"), quote_plus(form)}
        markup = {
            html.escape(form, quote=False),
            html.escape(form).replace("&quot;", "&#34;").replace("&#x27;", "&#39;"),
        }
        forms |= escaped | markup | {json.dumps(form)[1:-1], html.escape(form)}
    return forms


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


class MaskedStream:
    """A text stream that masks everything written to it; all else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def excepthook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """A traceback (a bug) masked too: it may quote a URL or a driver's error."""
    sys.stderr.write(mask("".join(traceback.format_exception(kind, error, trace))))


def verbatim(stream: TextIO) -> TextIO:
    """The stream under a masked one, for text shipped with campaign-guard itself (a docs page)."""
    return stream._stream if isinstance(stream, MaskedStream) else stream


@contextmanager
def masked_output() -> Iterator[None]:
    """sys.stdout and sys.stderr masked while the block runs, which starts concealing nothing."""
    forget()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskedStream(stdout), MaskedStream(stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
