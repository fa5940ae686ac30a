"""JSON over HTTP POST for the Telegram and webhook channels: no redirects, no secrets in messages.

The target host is checked by the egress policy (runner.notify.egress) before any connection, and
the connection goes to an address that was checked, not to a second DNS answer (no rebinding).
Behind an HTTP(S) proxy (`https_proxy`, ...) the proxy resolves the host again: that is not pinned.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from runner import __version__
from runner.masking import mask
from runner.notify import egress
from runner.notify.message import DeliveryError

from ._exchange import Exchange

USER_AGENT = f"campaign-guard/{__version__}"
_MAX_ANSWER = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET without a body and call that a success."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Pin:
    """Connections to `host` go to its checked addresses (tried in order), never to a new DNS answer.

    Every connection is opened by the message's exchange, under its connect timeout and deadline.
    """

    def __init__(self, host: str, addresses: Sequence[str], exchange: Exchange) -> None:
        self.host = host.lower()
        self.addresses = addresses
        self.exchange = exchange

    def connect(self, address: tuple[str, int], timeout: Any = None, source: Any = None) -> socket.socket:
        failure: OSError | None = None
        for ip in self.addresses:
            try:
                return self.exchange.open((ip, address[1]), source)
            except OSError as error:
                failure = error
        assert failure is not None
        raise failure

    def proxy(self, address: tuple[str, int], timeout: Any = None, source: Any = None) -> socket.socket:
        return self.exchange.open(address, source)

    def factory(self, kind: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        def make(target: str, **kwargs: Any) -> http.client.HTTPConnection:
            connection = kind(target, **kwargs)
            pinned = connection.host.lower() == self.host  # else a proxy, which resolves the host itself
            connection._create_connection = self.connect if pinned else self.proxy  # type: ignore[attr-defined]
            return connection

        return make


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, pin: _Pin) -> None:
        super().__init__()
        self._pin = pin

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._pin.factory(http.client.HTTPConnection), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    """TLS still checks the certificate against the host name: only the TCP connection is pinned."""

    def __init__(self, pin: _Pin) -> None:
        super().__init__()
        self._pin = pin

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = self._context  # type: ignore[attr-defined]
        return self.do_open(self._pin.factory(http.client.HTTPSConnection), req, context=context)


def _opener(host: str, addresses: Sequence[str], exchange: Exchange) -> urllib.request.OpenerDirector:
    pin = _Pin(host, addresses, exchange)
    return urllib.request.build_opener(_NoRedirect, _PinnedHTTP(pin), _PinnedHTTPS(pin))


def check_url(url: str, *, what: str) -> None:
    """Refuse what urllib would reject with the whole URL, secret path included, in its error."""
    parts = urlsplit(url)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        valid = False
    if not valid or any(char.isspace() or ord(char) < 32 for char in url):
        raise DeliveryError(f"{what} {mask(url)} is not an http(s) URL", retryable=False)


def check_target(url: str, *, shown: str, environ: Mapping[str, str]) -> list[str]:
    """The checked addresses of the URL's host; a refused target raises a DeliveryError that is not retried."""
    parts = urlsplit(url)
    assert parts.hostname is not None  # check_url came first
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return egress.check(parts.hostname, port, what=shown, environ=environ)


def endpoint(url: str) -> str:
    """scheme://host:port, what the circuit breaker counts failures of (runner.notify.breaker)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    shown: str,
    exchange: Exchange,
    environ: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """The status and (the start of) the answer; network failures raise a retryable DeliveryError.

    The egress policy is applied first; a redirect (3xx) is returned as it is, never followed. The
    answer, body included, has to arrive before the exchange's deadline.
    """
    addresses = check_target(url, shown=shown, environ=environ)
    opener = _opener(urlsplit(url).hostname or "", addresses, exchange)
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        status, answer = _exchange(opener, request, exchange)
    except (http.client.HTTPException, ValueError) as error:  # their texts may quote the URL
        failure = exchange.failure(error, shown) or DeliveryError(f"{shown}: {type(error).__name__}")
    except (urllib.error.URLError, OSError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        cause = reason if isinstance(reason, BaseException) else OSError(reason)
        failure = exchange.failure(cause, shown) or DeliveryError(f"{shown}: {str(reason) or type(reason).__name__}")
    else:
        if not exchange.expired:  # else the answer may be cut short: its end did not arrive in time
            return status, answer
        failure = exchange.failure(TimeoutError(), shown) or DeliveryError(shown)
    failure.endpoint = endpoint(url)
    raise failure


def _exchange(
    opener: urllib.request.OpenerDirector, request: urllib.request.Request, exchange: Exchange
) -> tuple[int, bytes]:
    try:
        with opener.open(request, timeout=exchange.remaining()) as response:
            return int(response.status), response.read(_MAX_ANSWER)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _read(error)


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_MAX_ANSWER)
    except (OSError, http.client.HTTPException):
        return b""


def is_redirect(status: int) -> bool:
    """A 3xx: the target moved; delivery fails for good, since redirects are not followed."""
    return 300 <= status < 400


def redirected(shown: str, status: int) -> str:
    return f"{shown} answered HTTP {status}, a redirect; redirects are not followed"


def answer_text(answer: bytes, limit: int = 200) -> str:
    """The start of a server's answer on one line, for error messages."""
    text = " ".join(answer.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
