"""notify under deadlines: a server that never answers or trickles cannot hold it past its deadline.

Real servers on loopback (tests/servers.py): a silent SMTP server, one dripping its banner, an HTTP
receiver dripping its answer, a refused port. CAMPAIGN_GUARD_MESSAGE_TIMEOUT is 1 s here, so the
tests are quick; the drips are slower than that in all, and each of their bytes comes sooner than a
socket timeout would notice (0.25 s apart), so only the overall deadline stops them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.main import main
from runner.store.connect import open_store
from runner.store.tables import outbox

from .servers import Drip, closed_port, full_backlog, port_of

NOW = "2026-12-01T11:00:00+00:00"
BANNER = b"220 mail.example.com ESMTP ready\r\n"
ANSWER = json.dumps({"ok": True, "padding": "x" * 40}).encode()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "rules").mkdir()
    monkeypatch.setenv("CAMPAIGN_GUARD_MESSAGE_TIMEOUT", "1")
    return tmp_path


def queue(repo: Path, *messages: tuple[str, list[str]]) -> None:
    """Pending messages (channel, recipients), due now, in this order."""
    at = datetime.fromisoformat(NOW).replace(tzinfo=None)
    store = open_store(repo)
    with store.write() as connection:
        for number, (channel, recipients) in enumerate(messages, 1):
            connection.execute(
                sa.insert(outbox).values(
                    key=f"key-{number}",
                    subscription="ops",
                    kind="immediate",
                    channel=channel,
                    recipients=json.dumps(recipients),
                    subject=f"Message {number}",
                    body="A queue is stuck.",
                    format="text",
                    status="pending",
                    next_attempt_at=at,
                    created_at=at,
                )
            )
    store.close()


def rows(repo: Path) -> list[tuple[Any, ...]]:
    store = open_store(repo)
    with store.read() as connection:
        found = connection.execute(
            sa.select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.last_error).order_by(outbox.c.id)
        ).all()
    store.close()
    return [tuple(row) for row in found]


def notify(repo: Path, capsys: pytest.CaptureFixture[str], *args: str, limit: float) -> tuple[int, list[str]]:
    """notify in this process; it has to be done within `limit` seconds."""
    started = time.monotonic()
    code = main(["--root", str(repo), "notify", "--now", NOW, *args])
    assert time.monotonic() - started < limit
    return code, capsys.readouterr().out.splitlines()


def smtp(monkeypatch: pytest.MonkeyPatch, port: int) -> str:
    monkeypatch.setenv("CAMPAIGN_GUARD_SMTP_URL", f"smtp://127.0.0.1:{port}?from=guard@example.com")
    return f"SMTP server 127.0.0.1:{port}"


STARTTLS_THEN_SILENCE = (  # banner, EHLO's answer, STARTTLS's answer; then nothing for the TLS handshake
    b"220 mail.example.com ESMTP\r\n250-mail.example.com\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n"
)


@pytest.mark.parametrize(
    ("url", "head", "drip_of", "interval"),
    [
        ("smtp://{where}?from=guard@example.com", b"", b"", 2.0),
        ("smtp://{where}?from=guard@example.com", b"", BANNER, 2.0),
        ("smtp://{where}?from=guard@example.com", b"", BANNER, 0.25),
        ("smtps://{where}?from=guard@example.com", b"", b"", 2.0),
        ("smtp://{where}?starttls=true&from=guard@example.com", STARTTLS_THEN_SILENCE, b"", 2.0),
    ],
    ids=["silent", "banner-1-byte-every-2s", "banner-1-byte-every-0.25s", "tls-handshake", "starttls-handshake"],
)
def test_an_smtp_server_that_never_finishes_answering_is_a_retry_within_the_deadline(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    drip: Callable[..., Drip],
    url: str,
    head: bytes,
    drip_of: bytes,
    interval: float,
):
    server = drip(drip_of, head=head, interval=interval)
    monkeypatch.setenv("CAMPAIGN_GUARD_SMTP_URL", url.format(where=f"127.0.0.1:{server.port}"))
    queue(repo, ("email", ["ops@example.com"]))
    code, out = notify(repo, capsys, limit=3)
    error = f"SMTP server 127.0.0.1:{server.port} did not answer within 1 s"
    assert (code, out) == (
        4,
        [f"#1 ops immediate via email: Message 1 - will retry: {error}", "0 message(s) sent, 1 to retry, 0 failed"],
    )
    assert rows(repo) == [(1, "pending", 1, error)]
    assert server.sent[0] < len(head) + len(drip_of) or not drip_of  # cut off before the banner's end


def test_a_message_the_server_accepted_is_sent_though_its_goodbye_never_comes(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, drip: Callable[..., Drip]
):
    """Banner, EHLO, MAIL, RCPT, DATA and the message accepted; then no answer to QUIT."""
    server = drip(head=b"220 mail ESMTP\r\n250 mail\r\n250 OK\r\n250 OK\r\n354 go ahead\r\n250 queued\r\n")
    smtp(monkeypatch, server.port)
    queue(repo, ("email", ["ops@example.com"]))
    code, out = notify(repo, capsys, limit=3)
    assert (code, out) == (
        0,
        ["#1 ops immediate via email: Message 1 - sent", "1 message(s) sent, 0 to retry, 0 failed"],
    )
    assert rows(repo) == [(1, "sent", 1, None)]


@pytest.mark.parametrize(
    ("head", "trickle"),
    [(b"", b"HTTP/1.1 200 OK\r\n"), (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ANSWER), ANSWER)],
    ids=["status-line", "body"],
)
def test_a_webhook_receiver_that_drips_its_answer_is_a_retry_within_the_deadline(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    drip: Callable[..., Drip],
    head: bytes,
    trickle: bytes,
):
    server = drip(trickle, head=head, interval=0.25)
    queue(repo, ("webhook", [f"http://127.0.0.1:{server.port}/hooks/secret"]))
    code, out = notify(repo, capsys, limit=3)
    error = f"webhook http://127.0.0.1:{server.port}/*** did not answer within 1 s"
    assert (code, out) == (
        4,
        [f"#1 ops immediate via webhook: Message 1 - will retry: {error}", "0 message(s) sent, 1 to retry, 0 failed"],
    )
    assert rows(repo) == [(1, "pending", 1, error)]
    assert server.sent[0] < len(head) + len(trickle)


def test_a_connection_that_is_never_accepted_waits_the_connect_timeout(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CAMPAIGN_GUARD_CONNECT_TIMEOUT", "0.5")
    with full_backlog() as port:
        queue(repo, ("webhook", [f"http://127.0.0.1:{port}/hooks/secret"]))
        code, out = notify(repo, capsys, limit=3)
    error = f"webhook http://127.0.0.1:{port}/*** did not accept a connection within 0.5 s"
    assert (code, out[0]) == (4, f"#1 ops immediate via webhook: Message 1 - will retry: {error}")
    assert rows(repo) == [(1, "pending", 1, error)]


def test_the_notify_deadline_leaves_the_messages_it_did_not_reach_pending_with_no_attempt(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, drip: Callable[..., Drip]
):
    """1 s per message and a deadline of 2.5 s: two are tried; a third would not end in time."""
    where = smtp(monkeypatch, drip().port)
    queue(repo, *[("email", ["ops@example.com"])] * 4)
    code, out = notify(repo, capsys, "--deadline", "2.5", limit=3.5)
    error = f"{where} did not answer within 1 s"
    assert (code, out) == (
        4,
        [
            f"#1 ops immediate via email: Message 1 - will retry: {error}",
            f"#2 ops immediate via email: Message 2 - will retry: {error}",
            "#3 ops immediate via email: Message 3 - pending",
            "#4 ops immediate via email: Message 4 - pending",
            "the deadline of 2.5 s passed: 2 message(s) left for the next run",
            "0 message(s) sent, 2 to retry, 0 failed, 2 left for the next run",
        ],
    )
    assert rows(repo) == [
        (1, "pending", 1, error),
        (2, "pending", 1, error),
        (3, "pending", 0, None),
        (4, "pending", 0, None),
    ]


def test_a_deadline_shorter_than_the_message_timeout_bounds_each_message(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, drip: Callable[..., Drip]
):
    monkeypatch.setenv("CAMPAIGN_GUARD_MESSAGE_TIMEOUT", "30")
    where = smtp(monkeypatch, drip().port)
    queue(repo, ("email", ["ops@example.com"]))
    code, out = notify(repo, capsys, "--deadline", "0.5", "--format", "json", limit=2)
    assert code == 4
    [message] = json.loads("\n".join(out))["messages"]
    assert message["status"] == f"will retry: {where} did not answer within 0.5 s"


def test_after_three_failures_in_a_row_the_endpoints_other_messages_wait_for_the_next_run(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, drip: Callable[..., Drip]
):
    """5 messages to a refused SMTP port: 3 attempts, 2 deferred; a webhook that answers still gets its message."""
    refused = closed_port()
    where = smtp(monkeypatch, port_of(refused))
    receiver = drip(b"", head=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    queue(repo, *[("email", ["ops@example.com"])] * 5, ("webhook", [f"http://127.0.0.1:{receiver.port}/hook"]))
    code, out = notify(repo, capsys, limit=3)
    error = f"{where}: [Errno 111] Connection refused"
    endpoint = f"smtp://127.0.0.1:{port_of(refused)}"
    assert (code, out) == (
        4,
        [
            *(f"#{n} ops immediate via email: Message {n} - will retry: {error}" for n in (1, 2, 3)),
            *(
                f"#{n} ops immediate via email: Message {n} - left for the next run: {endpoint} failed 3 times in a row"
                for n in (4, 5)
            ),
            "#6 ops immediate via webhook: Message 6 - sent",
            f"{endpoint} failed 3 times in a row: 2 more message(s) for it left for the next run",
            "1 message(s) sent, 3 to retry, 0 failed, 2 left for the next run",
        ],
    )
    assert [row[:3] for row in rows(repo)] == [
        *((n, "pending", 1) for n in (1, 2, 3)),
        (4, "pending", 0),
        (5, "pending", 0),
        (6, "sent", 1),
    ]
    assert [row[3] for row in rows(repo)[3:]] == [None, None, None]
    refused.close()


def test_a_message_timeout_that_is_not_a_number_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CAMPAIGN_GUARD_MESSAGE_TIMEOUT", "soon")
    queue(repo, ("email", ["ops@example.com"]))
    assert main(["--root", str(repo), "notify", "--now", NOW]) == 3
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("CAMPAIGN_GUARD_MESSAGE_TIMEOUT='soon': give a number of seconds above 0")
    )
    assert rows(repo) == [(1, "pending", 0, None)]
