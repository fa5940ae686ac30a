"""JSON over HTTP POST for the Telegram and webhook channels: no redirects, no secrets in messages."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runner import __version__
from runner.notify.message import DeliveryError

USER_AGENT = f"campaign-guard/{__version__}"
_MAX_ANSWER = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET without a body and call that a success."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def redact(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries are credentials (`https://hooks.example.com/...`)."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    hidden = "/..." if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


def check_url(url: str, *, what: str) -> None:
    """Refuse what urllib would reject with the whole URL, secret path included, in its error."""
    parts = urlsplit(url)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        valid = False
    if not valid or any(char.isspace() or ord(char) < 32 for char in url):
        raise DeliveryError(f"{what} {redact(url)} is not an http(s) URL", retryable=False)


def post_json(
    url: str, payload: Mapping[str, Any], *, shown: str, timeout: float, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """The status and (the start of) the answer; network failures raise a retryable DeliveryError."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status), response.read(_MAX_ANSWER)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _read(error)
    except (http.client.HTTPException, ValueError) as error:  # their texts may quote the URL
        raise DeliveryError(f"{shown}: {type(error).__name__}", retryable=True) from None
    except (urllib.error.URLError, OSError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        raise DeliveryError(f"{shown}: {str(reason) or type(reason).__name__}", retryable=True) from None


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_MAX_ANSWER)
    except (OSError, http.client.HTTPException):
        return b""


def answer_text(answer: bytes, limit: int = 200) -> str:
    """The start of a server's answer on one line, for error messages."""
    text = " ".join(answer.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
