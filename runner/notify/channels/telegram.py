"""Telegram through the Bot API's sendMessage; the token comes from CAMPAIGN_GUARD_TELEGRAM_TOKEN.

Formats: `html` goes out with parse_mode HTML when it uses only the tags and entities Telegram
understands and fits into one message; any other HTML (a full e-mail page, say) is sent as its
text rendering. `text` and `markdown` go out as plain text without parse_mode: Telegram refuses a
whole message over one unbalanced `*` or `_`, and Markdown source reads well as it is.

Telegram cannot deduplicate, so the idempotency key is not used. A body longer than 4096
characters is sent as several messages, cut at line breaks; should one of them fail, the whole
message is retried, so recipients may see earlier parts twice but never miss one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from runner.masking import mask
from runner.notify.message import DeliveryError, Rendered

from ._exchange import Exchange
from ._http import answer_text, check_target, check_url, is_redirect, post_json, redirected
from ._text import html_to_text, split, utf16_length

TOKEN_VARIABLE = "CAMPAIGN_GUARD_TELEGRAM_TOKEN"
API_VARIABLE = "CAMPAIGN_GUARD_TELEGRAM_API_URL"
DEFAULT_API = "https://api.telegram.org"
LIMIT = 4096  # characters of one message, counted in UTF-16 units
_STYLES = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"}
_TAGS = frozenset(_STYLES | {"a", "code", "pre", "span", "blockquote", "tg-emoji"})  # what Bot API HTML accepts
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w-]*)")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


def send(
    recipients: Sequence[str], rendered: Rendered, *, key: str, environ: Mapping[str, str], exchange: Exchange
) -> None:
    token = environ.get(TOKEN_VARIABLE)
    if not token:
        raise DeliveryError(
            f"telegram: {TOKEN_VARIABLE} is not set; export the bot token from @BotFather", retryable=False
        )
    base = api_base(environ)
    check_url(base, what=f"telegram: {API_VARIABLE}")
    url = f"{base}/bot{quote(token, safe=':')}/sendMessage"
    shown = f"Telegram {mask(url)}"  # http://host/bot***/sendMessage
    check_target(base, shown=shown, environ=environ)  # before any message: a refused API refuses them all
    pieces, parse_mode = payload(rendered)
    for chat in recipients:
        for piece in pieces:
            body: dict[str, Any] = {"chat_id": chat, "text": piece, "disable_web_page_preview": True}
            if parse_mode:
                body["parse_mode"] = parse_mode
            _send_one(url, body, shown=shown, exchange=exchange, environ=environ)


def api_base(environ: Mapping[str, str]) -> str:
    return (environ.get(API_VARIABLE) or DEFAULT_API).rstrip("/")


def payload(rendered: Rendered) -> tuple[list[str], str | None]:
    """The texts of the messages and their parse_mode."""
    if rendered.format == "html":
        if _telegram_html(rendered.body):
            return [rendered.body], "HTML"
        text = html_to_text(rendered.body)
    else:
        text = rendered.body
    if not text.strip():  # Telegram refuses an empty message
        text = rendered.subject
    return split(text, LIMIT), None


def _telegram_html(body: str) -> bool:
    """Only what Bot API HTML accepts, and short enough that it need not be cut between tags."""
    return (
        utf16_length(body) <= LIMIT
        and bool(body.strip())
        and all(tag.lower() in _TAGS for tag in _TAG.findall(body))
        and all(name in _ENTITIES for name in _NAMED_ENTITY.findall(body))
    )


def _send_one(url: str, body: dict[str, Any], *, shown: str, exchange: Exchange, environ: Mapping[str, str]) -> None:
    status, answer = post_json(url, body, shown=shown, exchange=exchange, environ=environ)
    if is_redirect(status):
        raise DeliveryError(redirected(shown, status), retryable=False)
    try:
        data = json.loads(answer)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    if 200 <= status < 300 and data.get("ok") is True:
        return
    description = str(data.get("description") or answer_text(answer) or f"HTTP {status}")
    error_code = data.get("error_code")
    code = error_code if isinstance(error_code, int) else status
    if data.get("ok") is False:
        retryable = code == 429 or code >= 500
    else:  # not Telegram's answer but a proxy's or gateway's
        retryable = not 400 <= status < 500 or status in (408, 429)
    parameters = data.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    message = f"{shown} refused the message for chat {body['chat_id']}: {code} {description}"
    if retry_after is not None:
        message += f"; retry after {retry_after} s"
    raise DeliveryError(mask(message), retryable=retryable)
