"""The channels against real servers on loopback: SMTP by aiosmtpd, Telegram and webhooks by http.server."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from runner import __version__
from runner.notify.channels import send
from runner.notify.channels.email import message_id
from runner.notify.message import DeliveryError, Rendered

from .conftest import ALLOW_LOOPBACK
from .servers import Mailbox, closed_port, port_of

SENDER = "guard@example.com"
TOKEN = "123456:ABC-secret-token"
HOOK_PATH = "/hooks/T000/B000/secretpart"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    command += ["-days", "2", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    command += ["-addext", "keyUsage=critical,digitalSignature,keyCertSign"]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def smtp_env(port: int, *, scheme: str = "smtp", userinfo: str = "", query: str = "") -> dict[str, str]:
    return {"CAMPAIGN_GUARD_SMTP_URL": f"{scheme}://{userinfo}127.0.0.1:{port}?from={SENDER}{query}"}


def send_mail(environ: dict[str, str], recipients: list[str] | None = None, key: str = "k-1") -> None:
    rendered = Rendered("Кампания spring: лимит превышен", "Лимит превышен.\nПроверьте кампанию.", "text")
    send("email", recipients or ["ops@example.com"], rendered, key=key, environ=environ, timeout=5)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_email_is_one_plain_utf8_message_to_all_recipients(smtp_server: Callable[..., int], fmt: str):
    mailbox = Mailbox()
    environ = smtp_env(smtp_server(mailbox)) | {"SAP_TEAM": "sap@example.com"}
    body = "Лимит превышен: *spring*.\nПроверьте кампанию."
    rendered = Rendered("Проблема: кампания «spring»", body, fmt)

    send("email", ["ops@example.com", "${SAP_TEAM}"], rendered, key="k-1", environ=environ, timeout=5)

    [(envelope, _, _)] = mailbox.accepted
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["ops@example.com", "sap@example.com"])
    [message] = mailbox.messages()
    assert message["Subject"] == "Проблема: кампания «spring»"
    assert b"Subject: =?utf-8?" in envelope.original_content  # encoded on the wire, decoded above
    assert (message["From"], message["To"]) == (SENDER, "ops@example.com, sap@example.com")
    assert message["Message-ID"] == "<k-1@campaign-guard>"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert (message.get_content_type(), message.get_content_charset()) == ("text/plain", "utf-8")
    assert message.get_content() == body + "\n"


def test_email_html_goes_with_a_text_alternative(smtp_server: Callable[..., int]):
    mailbox = Mailbox()
    html = (
        "<html><head><style>p { margin: 0 }</style></head><body>\n  <h1>Кампания &laquo;spring&raquo;</h1>\n"
        '  <p>Лимит &amp; правило<br>строка</p><ul><li>один</li><li><a href="https://crm.example/c?id=1&amp;v=2">два</a>'
        '</li><li><a href="https://crm.example/">https://crm.example/</a></li></ul></body></html>'
    )

    send("email", ["ops@example.com"], Rendered("S", html, "html"), key="k-2", environ=smtp_env(smtp_server(mailbox)))

    [message] = mailbox.messages()
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content() == (
        "Кампания «spring»\n\nЛимит & правило\nстрока\n\n- один\n- два (https://crm.example/c?id=1&v=2)\n"
        "- https://crm.example/\n"
    )
    assert rich.get_content() == html + "\n"
    assert plain.get_content_charset() == rich.get_content_charset() == "utf-8"


def test_message_id_escapes_what_a_message_id_cannot_hold():
    assert message_id("msg-42") == "<msg-42@campaign-guard>"
    assert message_id("daily:sap/2026 11") == "<daily%3Asap/2026%2011@campaign-guard>"
    assert message_id("a.b") != message_id("a%2Eb")


def test_email_starttls_and_auth_with_a_trusted_private_ca(
    smtp_server: Callable[..., int], certificate: tuple[Path, Path]
):
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (b"guard", b"p@ss:w/rd%"), handled=False)

    mailbox = Mailbox()
    port = smtp_server(
        mailbox,
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    environ = smtp_env(port, userinfo="guard:p%40ss%3Aw%2Frd%25@", query="&starttls=true")

    send_mail(environ | {"CAMPAIGN_GUARD_SMTP_CAFILE": str(certificate[0])})

    assert logins == [(b"guard", b"p@ss:w/rd%")]
    [(_, session, encrypted)] = mailbox.accepted
    assert encrypted and session.authenticated
    assert mailbox.messages()[0]["Message-ID"] == "<k-1@campaign-guard>"


def test_email_verifies_the_server_certificate_by_default(
    smtp_server: Callable[..., int], certificate: tuple[Path, Path]
):
    mailbox = Mailbox()
    port = smtp_server(mailbox, tls_context=server_tls(certificate), require_starttls=True)

    with pytest.raises(DeliveryError) as raised:
        send_mail(smtp_env(port, query="&starttls=true"))

    assert "certificate not trusted" in str(raised.value) and "CAMPAIGN_GUARD_SMTP_CAFILE" in str(raised.value)
    assert raised.value.retryable
    assert mailbox.accepted == []


def test_email_smtps_uses_implicit_tls(smtp_server: Callable[..., int], certificate: tuple[Path, Path]):
    mailbox = Mailbox()
    port = smtp_server(mailbox, ssl_context=server_tls(certificate))

    send_mail(smtp_env(port, scheme="smtps") | {"CAMPAIGN_GUARD_SMTP_CAFILE": str(certificate[0])})

    [(_, _, encrypted)] = mailbox.accepted
    assert encrypted


def test_email_refuses_to_go_on_without_the_starttls_it_was_told_to_use(smtp_server: Callable[..., int]):
    mailbox = Mailbox()
    port = smtp_server(mailbox)

    with pytest.raises(DeliveryError) as raised:
        send_mail(smtp_env(port, query="&starttls=true"))

    assert "STARTTLS" in str(raised.value) and not raised.value.retryable
    assert mailbox.accepted == []


def test_email_authentication_failure_is_not_retried_and_hides_the_password(smtp_server: Callable[..., int]):
    def authenticator(*args: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)  # aiosmtpd then answers 535

    port = smtp_server(Mailbox(), authenticator=authenticator, auth_require_tls=False)

    with pytest.raises(DeliveryError) as raised:
        send_mail(smtp_env(port, userinfo="guard:hunter2@"))

    assert f"SMTP server 127.0.0.1:{port} authentication failed: 535" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    assert not raised.value.retryable


def test_email_server_down_then_up_delivers_exactly_once(smtp_server: Callable[..., int]):
    sock = closed_port()
    environ = smtp_env(port_of(sock))

    with pytest.raises(DeliveryError) as raised:
        send_mail(environ)
    assert raised.value.retryable
    assert f"SMTP server 127.0.0.1:{port_of(sock)}: " in str(raised.value)

    mailbox = Mailbox()
    smtp_server(mailbox, sock)
    send_mail(environ)

    assert [message["Message-ID"] for message in mailbox.messages()] == ["<k-1@campaign-guard>"]


def test_email_temporary_refusal_is_retried_and_delivered_once(smtp_server: Callable[..., int]):
    mailbox = Mailbox()
    mailbox.data_answers = ["451 4.3.0 try again later"]
    environ = smtp_env(smtp_server(mailbox))

    with pytest.raises(DeliveryError) as raised:
        send_mail(environ)
    assert "451 4.3.0 try again later" in str(raised.value) and raised.value.retryable

    send_mail(environ)
    assert len(mailbox.messages()) == 1


def test_email_refused_recipients_are_not_retried(smtp_server: Callable[..., int]):
    mailbox = Mailbox()
    mailbox.refused = {"gone@example.com"}
    environ = smtp_env(smtp_server(mailbox))

    with pytest.raises(DeliveryError) as every:
        send_mail(environ, ["gone@example.com"])
    assert "refused every recipient: gone@example.com (550 5.1.1 no such mailbox)" in str(every.value)
    assert not every.value.retryable
    assert mailbox.accepted == []

    with pytest.raises(DeliveryError) as some:
        send_mail(environ, ["ops@example.com", "gone@example.com"])
    assert "for 1 of 2 recipients and refused gone@example.com" in str(some.value)
    assert not some.value.retryable  # a retry would send ops@ a second copy
    assert [envelope.rcpt_tos for envelope, *_ in mailbox.accepted] == [["ops@example.com"]]


@pytest.mark.parametrize(
    ("url", "recipient", "message"),
    [
        (None, "ops@example.com", "email: CAMPAIGN_GUARD_SMTP_URL is not set; export it, e.g. smtp://"),
        ("http://mail.example.com", "ops@example.com", "email: CAMPAIGN_GUARD_SMTP_URL must start with smtp://"),
        ("smtp://mail.example.com?tls=1", "ops@example.com", "email: CAMPAIGN_GUARD_SMTP_URL: unknown option tls;"),
        ("smtps://h?starttls=true", "ops@example.com", "email: CAMPAIGN_GUARD_SMTP_URL: smtps:// is already encrypted"),
        ("smtp://127.0.0.1:1", "${SAP_TEAM}", "email recipient ${SAP_TEAM}: environment variable SAP_TEAM is not set"),
        ("smtp://127.0.0.1:1", "ops at example.com", "email recipient 'ops at example.com' is not an e-mail address"),
    ],
)
def test_email_configuration_mistakes_are_not_retried(url: str | None, recipient: str, message: str):
    environ = {} if url is None else {"CAMPAIGN_GUARD_SMTP_URL": url}
    with pytest.raises(DeliveryError) as raised:
        send_mail(environ, [recipient])
    assert str(raised.value).startswith(message)
    assert not raised.value.retryable


# --- HTTP: Telegram and webhooks --------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


class Endpoint(ThreadingHTTPServer):
    """Records every POST; answers from a script first, then 200 with Telegram's `{"ok": true}`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Request] = []
        self.answers: list[tuple[int, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append(Request(self.path, headers, body))
        status, answer = self.server.answers.pop(0) if self.server.answers else (200, {"ok": True, "result": {}})
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})  # a quick shutdown
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def telegram_env(endpoint: Endpoint) -> dict[str, str]:
    return {
        "CAMPAIGN_GUARD_TELEGRAM_TOKEN": TOKEN,
        "CAMPAIGN_GUARD_TELEGRAM_API_URL": endpoint.url + "/",
        **ALLOW_LOOPBACK,
    }


def telegram(endpoint: Endpoint, rendered: Rendered, chats: list[str] | None = None) -> None:
    send("telegram", chats or ["-1001"], rendered, key="k", environ=telegram_env(endpoint), timeout=5)


def test_telegram_sends_plain_text_to_every_chat(endpoint: Endpoint):
    body = "Кампания spring: лимит *превышен* _сейчас_"
    environ = telegram_env(endpoint) | {"OPS_CHAT": "@ops"}

    send("telegram", ["-1001", "${OPS_CHAT}"], Rendered("S", body, "markdown"), key="k", environ=environ)

    assert [(request.path, request.body) for request in endpoint.requests] == [
        (f"/bot{TOKEN}/sendMessage", {"chat_id": chat, "text": body, "disable_web_page_preview": True})
        for chat in ("-1001", "@ops")
    ]
    headers = endpoint.requests[0].headers
    assert (headers["content-type"], headers["user-agent"]) == ("application/json", f"campaign-guard/{__version__}")


def test_telegram_html_uses_parse_mode_only_for_what_telegram_understands(endpoint: Endpoint):
    simple = (
        '<b>spring</b>: лимит &lt;&gt; <a href="https://crm.example.com/c/1">&quot;ссылка&quot;</a>\n<code>x</code>'
    )
    page = "<html><body><p>Кампания &laquo;spring&raquo;</p><table><tr><td>1</td></tr></table></body></html>"

    telegram(endpoint, Rendered("S", simple, "html"))
    telegram(endpoint, Rendered("S", page, "html"))

    assert [request.body for request in endpoint.requests] == [
        {"chat_id": "-1001", "text": simple, "parse_mode": "HTML", "disable_web_page_preview": True},
        {"chat_id": "-1001", "text": "Кампания «spring»\n\n1", "disable_web_page_preview": True},
    ]


def test_telegram_splits_long_bodies(endpoint: Endpoint):
    telegram(endpoint, Rendered("S", "x" * 9000, "text"))
    texts = [request.body["text"] for request in endpoint.requests]
    assert [len(text) for text in texts] == [4096, 4096, 808]
    assert "".join(texts) == "x" * 9000

    endpoint.requests.clear()
    lines = "\n".join(f"строка {number:03d} " + "y" * 80 for number in range(100))
    telegram(endpoint, Rendered("S", lines, "text"))
    texts = [request.body["text"] for request in endpoint.requests]
    assert len(texts) == 3 and all(len(text) <= 4096 for text in texts)
    assert "\n".join(texts) == lines  # cut at line breaks only


def test_telegram_rate_limit_is_retryable_with_retry_after(endpoint: Endpoint):
    endpoint.answers = [
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 7}})
    ]

    with pytest.raises(DeliveryError) as raised:
        telegram(endpoint, Rendered("S", "text", "text"))

    assert raised.value.retryable
    assert str(raised.value) == (
        f"Telegram {endpoint.url}/bot***/sendMessage refused the message for chat -1001: "
        "429 Too Many Requests; retry after 7 s"
    )


def test_telegram_refusal_is_not_retried_and_names_telegrams_reason(endpoint: Endpoint):
    endpoint.answers = [(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})]

    with pytest.raises(DeliveryError) as raised:
        telegram(endpoint, Rendered("S", "text", "text"))

    assert not raised.value.retryable
    assert "400 Bad Request: chat not found" in str(raised.value)
    assert TOKEN not in str(raised.value) and "bot***" in str(raised.value)


def test_telegram_server_error_then_recovery(endpoint: Endpoint):
    endpoint.answers = [(502, b"<html>Bad Gateway</html>")]

    with pytest.raises(DeliveryError) as raised:
        telegram(endpoint, Rendered("S", "text", "text"))
    assert raised.value.retryable and "502 <html>Bad Gateway</html>" in str(raised.value)

    telegram(endpoint, Rendered("S", "text", "text"))
    assert len(endpoint.requests) == 2


def test_telegram_unreachable_is_retryable_and_hides_the_token():
    sock = closed_port()
    environ = {
        "CAMPAIGN_GUARD_TELEGRAM_TOKEN": TOKEN,
        "CAMPAIGN_GUARD_TELEGRAM_API_URL": f"http://127.0.0.1:{port_of(sock)}",
        **ALLOW_LOOPBACK,
    }

    with pytest.raises(DeliveryError) as raised:
        send("telegram", ["-1001"], Rendered("S", "text", "text"), key="k", environ=environ)

    assert raised.value.retryable and "Connection refused" in str(raised.value)
    assert TOKEN not in str(raised.value) and "bot***" in str(raised.value)


def test_telegram_without_a_token_is_a_configuration_mistake():
    with pytest.raises(DeliveryError) as raised:
        send("telegram", ["-1001"], Rendered("S", "text", "text"), key="k", environ={})
    assert "CAMPAIGN_GUARD_TELEGRAM_TOKEN is not set" in str(raised.value)
    assert not raised.value.retryable


def webhook(endpoint: Endpoint, rendered: Rendered, key: str = "msg-42", timeout: float = 5) -> None:
    environ = {"SLACK_URL": endpoint.url + HOOK_PATH + "?token=abc", **ALLOW_LOOPBACK}
    send("webhook", ["${SLACK_URL}"], rendered, key=key, environ=environ, timeout=timeout)


def test_webhook_posts_slack_compatible_json_with_an_idempotency_key(endpoint: Endpoint):
    webhook(endpoint, Rendered("Кампания spring", "*spring*: лимит превышен", "markdown"))

    [request] = endpoint.requests
    assert request.path == HOOK_PATH + "?token=abc"
    assert request.body == {"text": "*spring*: лимит превышен", "subject": "Кампания spring", "format": "markdown"}
    assert request.headers["idempotency-key"] == "msg-42"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"campaign-guard/{__version__}"


def test_webhook_sends_html_as_text(endpoint: Endpoint):
    webhook(endpoint, Rendered("S", "<p>Лимит &amp; правило</p><p>два</p>", "html"))
    assert endpoint.requests[0].body == {"text": "Лимит & правило\n\nдва", "subject": "S", "format": "html"}


def test_webhook_server_error_then_recovery_with_the_same_key(endpoint: Endpoint):
    endpoint.answers = [(500, b"internal error")]

    with pytest.raises(DeliveryError) as raised:
        webhook(endpoint, Rendered("S", "text", "text"))
    assert str(raised.value) == f"webhook {endpoint.url}/*** answered HTTP 500: internal error"
    assert raised.value.retryable

    webhook(endpoint, Rendered("S", "text", "text"))
    assert [request.headers["idempotency-key"] for request in endpoint.requests] == ["msg-42", "msg-42"]


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (404, False), (410, False), (408, True), (429, True), (503, True)]
)
def test_webhook_refusals_for_good_are_not_retried(endpoint: Endpoint, status: int, retryable: bool):
    endpoint.answers = [(status, b"no_service")]
    with pytest.raises(DeliveryError) as raised:
        webhook(endpoint, Rendered("S", "text", "text"))
    assert raised.value.retryable is retryable
    assert f"answered HTTP {status}: no_service" in str(raised.value)


def test_webhook_unreachable_or_silent_is_retryable_and_hides_the_url():
    refused = closed_port()
    silent = closed_port()
    silent.listen()  # accepts connections, never answers
    for sock, reason in ((refused, "Connection refused"), (silent, "did not answer within 0.5 s")):
        url = f"http://127.0.0.1:{port_of(sock)}{HOOK_PATH}"
        with pytest.raises(DeliveryError) as raised:
            send("webhook", [url], Rendered("S", "text", "text"), key="k", environ=ALLOW_LOOPBACK, timeout=0.5)
        assert raised.value.retryable and reason in str(raised.value)
        assert "secretpart" not in str(raised.value) and f"127.0.0.1:{port_of(sock)}/***" in str(raised.value)
    silent.close()


@pytest.mark.parametrize(
    ("recipient", "named"),
    [
        ("${ALERTS_HOOK}", "webhook recipient ${ALERTS_HOOK}: environment variable ALERTS_HOOK is not set"),
        ("ftp://hooks.example.com/secretpart", "webhook ftp://hooks.example.com/*** is not an http(s) URL"),
        ("https://hooks.example.com/secret part", "webhook https://hooks.example.com/*** is not an http(s) URL"),
    ],
)
def test_webhook_configuration_mistakes_are_not_retried(recipient: str, named: str):
    with pytest.raises(DeliveryError) as raised:
        send("webhook", [recipient], Rendered("S", "text", "text"), key="k", environ={})
    assert str(raised.value).startswith(named)
    assert "secret" not in str(raised.value).replace(named, "")
    assert not raised.value.retryable


def test_unknown_channel_is_not_retried():
    with pytest.raises(DeliveryError) as raised:
        send("pigeon", ["x"], Rendered("S", "text", "text"), key="k", environ={})
    assert str(raised.value) == "unknown channel 'pigeon'; use one of email, telegram, webhook"
    assert not raised.value.retryable
