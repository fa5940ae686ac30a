"""The egress policy of the webhook and Telegram channels: targets checked before connecting, no redirects."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.notify import egress
from runner.notify.channels import send
from runner.notify.message import DeliveryError, Rendered
from runner.store.connect import open_store
from runner.store.tables import outbox

from .conftest import LAUNCH_DAY, ROOT, run_cli
from .test_notify_channels import certificate, server_tls  # noqa: F401 - the session's test certificate

ALLOW = egress.ALLOW_VARIABLE
TEXT = Rendered("S", "text", "text")
TOKEN = "123456:SECRET-token"
METADATA_REFUSAL = f"refused target 169.254.169.254 (link-local / cloud metadata); list its CIDR in {ALLOW} to allow it"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every socket.create_connection call (urllib's and ours), still made for real."""
    calls: list[tuple[Any, ...]] = []
    real = socket.create_connection

    def record(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        calls.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", record)
    return calls


class Stub(ThreadingHTTPServer):
    """POST /hook answers `status` with Location /target; every request path is counted."""

    def __init__(self, status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Stub

    def _answer(self) -> None:
        self.server.paths.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.path.startswith("/target")
        data = b'{"ok": true, "result": {}}'
        self.send_response(200 if target else self.server.status)
        if not target:
            self.send_header("Location", "/target")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    yield from serve(Stub())


@pytest.fixture
def tls_stub(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:  # noqa: F811
    """The stub over TLS with a certificate for 127.0.0.1 and localhost, trusted through SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = Stub()
    server.socket = server_tls(certificate).wrap_socket(server.socket, server_side=True)
    yield from serve(server)


def serve(server: Stub) -> Iterator[Stub]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def hook(url: str, **environ: str) -> None:
    send("webhook", [url], TEXT, key="k", environ=environ, timeout=5)


def telegram(api: str, **environ: str) -> None:
    environ = {"CAMPAIGN_GUARD_TELEGRAM_TOKEN": TOKEN, "CAMPAIGN_GUARD_TELEGRAM_API_URL": api, **environ}
    send("telegram", ["-1001"], TEXT, key="k", environ=environ, timeout=5)


@pytest.mark.parametrize("allow", ["", "1", "true", "10.0.0.0/8,hooks.internal", "169.254.0.0/8"])
def test_metadata_webhook_is_refused_for_good_without_a_connection(allow: str, connections: list[Any]):
    with pytest.raises(DeliveryError) as raised:
        hook("http://169.254.169.254/latest/meta-data/secretpart", **{ALLOW: allow})
    assert str(raised.value) == f"webhook http://169.254.169.254/***: {METADATA_REFUSAL}"
    assert not raised.value.retryable
    assert connections == []


def test_telegram_api_at_a_metadata_address_is_refused_without_a_connection(connections: list[Any]):
    with pytest.raises(DeliveryError) as raised:
        telegram("http://[fd00:ec2::254]", **{ALLOW: "1"})
    assert str(raised.value) == (
        "Telegram http://[fd00:ec2::254]/bot***/sendMessage: refused target fd00:ec2::254 "
        f"(link-local / cloud metadata); list its CIDR in {ALLOW} to allow it"
    )
    assert not raised.value.retryable and connections == []


def test_one_bad_webhook_refuses_the_message_before_any_target_is_reached(stub: Stub, connections: list[Any]):
    with pytest.raises(DeliveryError) as raised:
        send("webhook", [stub.url + "/hook", "http://[fe80::1]/x"], TEXT, key="k", environ={ALLOW: "127.0.0.1"})
    assert "refused target fe80::1 (link-local / cloud metadata)" in str(raised.value)
    assert (connections, stub.paths) == ([], [])


def test_a_host_is_refused_if_any_of_its_addresses_is(monkeypatch: pytest.MonkeyPatch, connections: list[Any]):
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        assert host == "hooks.example.com"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("93.184.216.34", "100.100.100.200")]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(DeliveryError) as raised:
        hook("https://hooks.example.com/services/secretpart", **{ALLOW: "1"})
    assert str(raised.value) == (
        "webhook https://hooks.example.com/***: refused target hooks.example.com (100.100.100.200) "
        f"(link-local / cloud metadata); list its CIDR in {ALLOW} to allow it"
    )
    assert connections == []


@pytest.mark.parametrize(
    ("allow", "reason"),
    [
        ("", "private"),
        ("0", "private"),
        ("10.9.0.0/16", "private"),
        ("127.0.0.1", "private"),
        ("1", None),
        ("TRUE", None),
        ("10.1.2.0/24", None),
        ("127.0.0.1/32, 10.1.2.3 ,hooks.internal", None),
        ("hooks.internal", None),
    ],
)
def test_private_targets_are_refused_unless_allowed(allow: str, reason: str | None):
    policy = egress.allowed({ALLOW: allow})
    assert egress.verdict("hooks.internal", ipaddress.ip_address("10.1.2.3"), policy) == reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.10", "link-local / cloud metadata"),
        ("::ffff:169.254.169.254", "link-local / cloud metadata"),
        ("64:ff9b::a9fe:a9fe", "link-local / cloud metadata"),
        ("2002:a9fe:a9fe::1", "link-local / cloud metadata"),
        ("2002:5db8:d822::1", None),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, reason: str | None):
    assert egress.kind(ipaddress.ip_address(address)) == reason


def test_link_local_needs_its_own_cidr_and_unspecified_is_never_allowed():
    metadata = ipaddress.ip_address("169.254.169.254")
    assert egress.verdict("x", metadata, egress.allowed({ALLOW: "169.254.169.254/32"})) is None
    assert egress.verdict("x", metadata, egress.allowed({ALLOW: "169.254.0.0/16"})) is None
    assert egress.verdict("x", metadata, egress.allowed({ALLOW: "0.0.0.0/0"})) == egress.LINK_LOCAL
    assert egress.verdict("169.254.169.254", metadata, egress.allowed({ALLOW: "169.254.169.254"})) is None
    assert egress.verdict("x", ipaddress.ip_address("0.0.0.0"), egress.allowed({ALLOW: "0.0.0.0/0"})) == "unspecified"


def test_a_mistyped_allow_list_is_a_permanent_delivery_error():
    with pytest.raises(DeliveryError) as raised:
        hook("http://127.0.0.1:1/hook", **{ALLOW: "127.0.0.1,10.0.0.0/33"})
    assert str(raised.value) == f"{ALLOW}: '10.0.0.0/33' is neither a host name nor an address or CIDR"
    assert not raised.value.retryable


def test_loopback_is_reached_only_through_the_allow_list(stub: Stub, connections: list[Any]):
    for allow in ("", "10.0.0.0/8", "1.2.3.4"):
        with pytest.raises(DeliveryError) as raised:
            hook(stub.url + "/hook", **{ALLOW: allow})
        assert str(raised.value) == (
            f"webhook {stub.url}/***: refused target 127.0.0.1 (loopback); set {ALLOW} to allow private targets"
        )
        assert not raised.value.retryable
    assert (stub.paths, connections) == ([], [])

    hook(stub.url + "/hook", **{ALLOW: "127.0.0.0/8"})
    hook(f"http://localhost:{stub.server_address[1]}/hook", **{ALLOW: "localhost"})
    assert stub.paths == ["/hook", "/hook"]


def test_the_connection_goes_to_the_checked_address(stub: Stub, monkeypatch: pytest.MonkeyPatch, connections):
    """hooks.internal resolves to loopback once; urllib must not resolve it again (DNS rebinding)."""
    real = socket.getaddrinfo
    names: list[str] = []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(host)
        return real("127.0.0.1" if host == "hooks.internal" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    hook(f"http://hooks.internal:{stub.server_address[1]}/hook", **{ALLOW: "hooks.internal"})
    assert stub.paths == ["/hook"]
    assert connections == [("127.0.0.1", stub.server_address[1])]
    assert set(names) <= {"hooks.internal", "127.0.0.1"}


def test_https_is_pinned_and_still_checks_the_certificate_name(
    tls_stub: Stub, monkeypatch: pytest.MonkeyPatch, connections: list[Any]
):
    port = tls_stub.server_address[1]
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k))

    hook(f"https://localhost:{port}/hook", **{ALLOW: "localhost"})
    assert tls_stub.paths == ["/hook"] and connections == [("127.0.0.1", port)]

    with pytest.raises(DeliveryError) as raised:  # the right address, but a certificate for another name
        hook(f"https://hooks.internal:{port}/hook", **{ALLOW: "hooks.internal"})
    assert raised.value.retryable and "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
    assert "Hostname mismatch" in str(raised.value) and tls_stub.paths == ["/hook"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_webhook_redirect_is_not_followed(stub: Stub, status: int):
    stub.status = status
    with pytest.raises(DeliveryError) as raised:
        hook(stub.url + "/hook", **{ALLOW: "127.0.0.1"})
    assert str(raised.value) == (
        f"webhook {stub.url}/*** answered HTTP {status}, a redirect; redirects are not followed"
    )
    assert not raised.value.retryable
    assert stub.paths == ["/hook"]  # /target never asked


def test_a_telegram_redirect_is_not_followed(stub: Stub):
    stub.status = 302
    with pytest.raises(DeliveryError) as raised:
        telegram(stub.url, **{ALLOW: "127.0.0.1"})
    assert str(raised.value) == (
        f"Telegram {stub.url}/bot***/sendMessage answered HTTP 302, a redirect; redirects are not followed"
    )
    assert not raised.value.retryable
    assert stub.paths == [f"/bot{TOKEN}/sendMessage"]


HOOK_SUBSCRIPTION = """subscriptions:
  - name: ops_hook
    description: Queues to the operations webhook.
    owner: crm-dev
    channel: webhook
    recipients: ["${HOOK_URL}"]
    language: en
    timezone: Europe/Moscow
    localizations: [queue]
    events: [opened]
"""


def test_notify_keeps_a_message_to_a_refused_target_as_failed(repo_copy: Path, demo_url: str):
    (repo_copy / "rules/subscriptions.yaml").write_text(HOOK_SUBSCRIPTION, encoding="utf-8")
    ran = run_cli("run", "--check", "monitor.queue_size", "--now", LAUNCH_DAY, cwd=repo_copy,
                  env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert ran.returncode == 1, ran.stderr

    done = run_cli("notify", "--now", LAUNCH_DAY, cwd=repo_copy, env={"HOOK_URL": "http://169.254.169.254/x/secret"})

    assert (done.returncode, done.stdout.splitlines()[-1]) == (4, "0 message(s) sent, 0 to retry, 1 failed")
    assert "Traceback" not in done.stderr and "secret" not in done.stdout + done.stderr
    store = open_store(ROOT)
    with store.read() as connection:
        rows = [tuple(row) for row in connection.execute(sa.select(outbox.c.status, outbox.c.last_error))]
    store.close()
    assert rows == [("failed", f"webhook http://169.254.169.254/***: {METADATA_REFUSAL}")]
