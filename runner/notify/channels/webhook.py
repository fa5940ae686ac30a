"""A JSON POST to each recipient URL; `text` is what Slack and Mattermost incoming webhooks show.

The body is `{"text": ..., "subject": ..., "format": ...}`; for HTML `text` holds its text rendering.
Every request carries `Idempotency-Key`, so a receiver that honours it can drop the copies a retry
sends to the URLs that had already accepted the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.masking import mask
from runner.notify.message import DeliveryError, Rendered

from ._exchange import Exchange
from ._http import answer_text, check_target, check_url, is_redirect, post_json, redirected
from ._text import html_to_text

_RETRYABLE_4XX = frozenset({408, 429})


def send(
    recipients: Sequence[str], rendered: Rendered, *, key: str, environ: Mapping[str, str], exchange: Exchange
) -> None:
    text = html_to_text(rendered.body) if rendered.format == "html" else rendered.body
    body = {"text": text, "subject": rendered.subject, "format": rendered.format}
    for url in recipients:  # every target is checked before the first connection
        check_url(url, what="webhook")
        check_target(url, shown=f"webhook {mask(url)}", environ=environ)
    for url in recipients:
        shown = f"webhook {mask(url)}"
        status, answer = post_json(
            url, body, shown=shown, exchange=exchange, environ=environ, headers={"Idempotency-Key": key}
        )
        if 200 <= status < 300:
            continue
        if is_redirect(status):
            raise DeliveryError(redirected(shown, status), retryable=False)
        detail = answer_text(answer)
        raise DeliveryError(
            f"{shown} answered HTTP {status}" + (f": {detail}" if detail else ""),
            retryable=not 400 <= status < 500 or status in _RETRYABLE_4XX,
        )
