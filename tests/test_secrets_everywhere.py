"""No secret is ever shown, stored or sent: one planted in each place a secret lives (a webhook URL's
path, the Telegram token, `?password=` in the source and store URLs, the SMTP password, a variable a
subscription references), every failure path driven (connection refused, an HTTP error page and an
SMTP reply that echo it, a source that cannot be opened, a damaged store), and the secrets sought in
everything printed, every row of every table of the store and every message that went out."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.smtp import AuthResult

from runner.main import main
from runner.masking import conceal, mask
from runner.notify.channels import send
from runner.notify.message import Rendered

from .conftest import LAUNCH_DAY
from .servers import Mailbox, closed_port, port_of
from .test_notify_channels import Endpoint, endpoint  # noqa: F401 - the loopback HTTP receiver and its fixture

HOOK_PATH = "/services/T0AAA/B0BBB/HookPathS3cret42"
TELEGRAM_TOKEN = "123456789:TgBotS3cretToken"
SOURCE_SECRET = "SrcQueryS3cret"
STORE_SECRET = "StoreQueryS3cret"
SMTP_SECRET = "SmtpPassS3cret"
ONCALL = "oncall.EnvRefS3cret@example.com"  # a subscription's `${ONCALL_MAIL}`
CHAT = "-1009876543210"  # a subscription's `${OPS_CHAT}`
SECRETS = (HOOK_PATH, "HookPathS3cret42", TELEGRAM_TOKEN, "TgBotS3cretToken", SOURCE_SECRET, STORE_SECRET, SMTP_SECRET,
           "EnvRefS3cret", CHAT)  # fmt: skip

SUBSCRIPTIONS = """subscriptions:
  - name: ops_hook
    description: Queues and dumps to the operations webhook.
    owner: crm-dev
    channel: webhook
    recipients: ["${OPS_HOOK_URL}"]
    language: en
    localizations: [queue, dump]
    events: [opened]
  - name: ops_chat
    description: Queues and dumps to the operations chat.
    owner: crm-dev
    channel: telegram
    recipients: ["${OPS_CHAT}"]
    language: en
    localizations: [queue, dump]
    events: [opened]
  - name: ops_mail
    description: Queues and dumps to the operations team and the on-call.
    owner: crm-dev
    channel: email
    recipients: [ops@example.com, "${ONCALL_MAIL}"]
    language: en
    localizations: [queue, dump]
    events: [opened]
"""


class EchoingMailbox(Mailbox):
    """An SMTP server whose refusals quote what it was sent: the on-call address, and at first the login."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_login = True

    def authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        login, password = data.login.decode(), data.password.decode()
        if self.refuse_login:
            return AuthResult(success=False, handled=False, message=f"454 4.7.0 cannot check {login}:{password} now")
        return AuthResult(success=True)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == ONCALL:
            return f"550 5.1.1 <{address}>: no such mailbox"
        return await super().handle_RCPT(server, session, envelope, address, options)


class Drill:
    """One repository, its store and its servers; every command's output is kept."""

    def __init__(self, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.repo = repo
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.printed: list[str] = []
        self.store = repo / "state.db"

    def env(self, **variables: str) -> None:
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)

    def run(self, *args: str) -> tuple[int, str, str]:
        code = main(["--root", str(self.repo), *args])
        out, err = self.capsys.readouterr()
        self.printed += [out, err]
        return code, out, err

    def rows(self) -> str:
        """Every row of every table of the store, as text."""
        with sqlite3.connect(self.store) as connection:
            tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            assert {"problems", "problem_events", "results", "runs", "outbox", "notifications"} <= set(tables)
            return "\n".join(repr(row) for table in tables for row in connection.execute(f'SELECT * FROM "{table}"'))

    def outbox(self) -> dict[str, tuple[str, str | None]]:
        with sqlite3.connect(self.store) as connection:
            rows = connection.execute("SELECT subscription, status, last_error FROM outbox")
            return {subscription: (status, error) for subscription, status, error in rows}


@pytest.fixture
def drill(repo_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Drill:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    drill = Drill(repo_copy, monkeypatch, capsys)
    drill.env(
        CAMPAIGN_GUARD_STATE_URL=f"sqlite:///{drill.store}?password={STORE_SECRET}",
        CAMPAIGN_GUARD_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        OPS_CHAT=CHAT,
        ONCALL_MAIL=ONCALL,
    )
    return drill


def _unseen(*texts: str) -> None:
    """No secret in any of texts, as written or %-encoded."""
    for secret in {form for planted in SECRETS for form in (planted, quote(planted, safe=""))}:
        for text in texts:
            assert secret not in text, f"{secret!r} shown in {text!r}"


def test_no_secret_in_any_output_store_row_or_message(
    drill: Drill,
    demo_url: str,
    endpoint: Endpoint,  # noqa: F811 - the fixture imported above
    smtp_server: Callable[..., int],
) -> None:
    checks = ("--check", "monitor.queue_size", "--check", "monitor.new_dumps", "--now", LAUNCH_DAY)

    # the source cannot be opened, then a PostgreSQL source refuses the connection
    drill.env(CAMPAIGN_GUARD_DEMO_URL=f"sqlite:///{drill.repo}/missing/demo.db?password={SOURCE_SECRET}")
    code, out, err = drill.run("run", *checks)
    assert code == 4
    assert f"sqlite:///{drill.repo}/missing/demo.db?password=***" in out + err
    closed = port_of(closed_port())
    drill.env(
        CAMPAIGN_GUARD_DEMO_URL=f"postgresql://crm:{SOURCE_SECRET}@127.0.0.1:{closed}/crm?password={SOURCE_SECRET}"
    )
    code, out, err = drill.run("run", *checks)
    assert code == 4
    assert f"postgresql://crm:***@127.0.0.1:{closed}/crm?password=***" in out + err

    # the source answers: problems to notify
    drill.env(CAMPAIGN_GUARD_DEMO_URL=f"{demo_url}?password={SOURCE_SECRET}")
    assert drill.run("run", *checks)[0] == 1

    # every receiver refuses, quoting the secret it was sent
    mailbox = EchoingMailbox()
    smtp = smtp_server(mailbox, authenticator=mailbox.authenticator, auth_require_tls=False)
    drill.env(
        OPS_HOOK_URL=endpoint.url + HOOK_PATH,
        CAMPAIGN_GUARD_TELEGRAM_API_URL=endpoint.url,
        CAMPAIGN_GUARD_SMTP_URL=f"smtp://alerts:{SMTP_SECRET}@127.0.0.1:{smtp}?from=guard@example.com",
    )
    telegram_echo = {"ok": False, "error_code": 404, "description": f"Not Found: /bot{TELEGRAM_TOKEN}/sendMessage"}
    endpoint.answers = [(404, f"no such hook: POST {HOOK_PATH}".encode()), (404, telegram_echo)]
    code, out, err = drill.run("notify", "--now", LAUNCH_DAY)
    assert code == 4, out + err
    assert drill.outbox() == {
        "ops_hook": ("failed", f"webhook {endpoint.url}/*** answered HTTP 404: no such hook: POST /***"),
        "ops_chat": (
            "failed",
            f"Telegram {endpoint.url}/bot***/sendMessage refused the message for chat ***: "
            "404 Not Found: /bot***/sendMessage",
        ),
        "ops_mail": (
            "pending",
            f"SMTP server 127.0.0.1:{smtp} authentication failed: 454 4.7.0 cannot check alerts:*** now",
        ),
    }

    # later every receiver is down: connection refused
    drill.env(
        OPS_HOOK_URL=f"http://127.0.0.1:{closed}{HOOK_PATH}",
        CAMPAIGN_GUARD_TELEGRAM_API_URL=f"http://127.0.0.1:{closed}",
        CAMPAIGN_GUARD_SMTP_URL=f"smtp://alerts:{SMTP_SECRET}@127.0.0.1:{closed}?from=guard@example.com",
    )
    code, out, err = drill.run("notify", "--retry-failed", "--now", "2026-12-01T11:05:00+03:00")
    assert code == 4, out + err
    refused = "[Errno 111] Connection refused"
    assert drill.outbox() == {
        "ops_hook": ("pending", f"webhook http://127.0.0.1:{closed}/***: {refused}"),
        "ops_chat": ("pending", f"Telegram http://127.0.0.1:{closed}/bot***/sendMessage: {refused}"),
        "ops_mail": ("pending", f"SMTP server 127.0.0.1:{closed}: {refused}"),
    }

    # then they take the messages, but the on-call address is refused, quoted
    mailbox.refuse_login = False
    drill.env(
        OPS_HOOK_URL=endpoint.url + HOOK_PATH,
        CAMPAIGN_GUARD_TELEGRAM_API_URL=endpoint.url,
        CAMPAIGN_GUARD_SMTP_URL=f"smtp://alerts:{SMTP_SECRET}@127.0.0.1:{smtp}?from=guard@example.com",
    )
    code, out, err = drill.run("notify", "--now", "2026-12-01T12:00:00+03:00")
    assert drill.outbox() == {
        "ops_hook": ("sent", None),
        "ops_chat": ("sent", None),
        "ops_mail": (
            "failed",
            f"SMTP server 127.0.0.1:{smtp} accepted the message for 1 of 2 recipients and refused "
            "*** (550 5.1.1 <***>: no such mailbox); not retried, so nobody receives it twice",
        ),
    }
    # what was sent, not where to: a webhook's path, the bot token in its API path, the chat, To:
    sent = [repr((request.headers, {**request.body, "chat_id": ""})) for request in endpoint.requests]
    sent += [f"{message['Subject']}\n{message.get_content()}" for message in mailbox.messages()]
    assert len(sent) == 5  # the webhook's and Telegram's refused and accepted messages, one e-mail

    # the hourly report names the store, on stdout and in a file
    page = drill.repo / "report.html"
    assert drill.run("report", "--now", "2026-12-01T12:10:00+03:00", "--format", "html", "--output", str(page))[0] == 0
    code, out, err = drill.run("report", "--now", "2026-12-01T12:10:00+03:00")
    assert code == 0
    assert f"sqlite:///{drill.store}?password=***" in out
    assert f"sqlite:///{drill.store}?password=***" in page.read_text(encoding="utf-8")
    drill.printed.append(page.read_text(encoding="utf-8"))

    # what every command prints about a damaged store names it without its password
    damaged = drill.repo / "damaged.db"
    damaged.write_bytes(b"not a database" * 100)
    drill.env(CAMPAIGN_GUARD_STATE_URL=f"sqlite:///{damaged}?password={STORE_SECRET}")
    code, out, err = drill.run("notify", "--now", "2026-12-01T12:05:00+03:00")
    assert (code, out) == (4, "")
    assert err == (
        f"campaign-guard: state store sqlite:///{damaged}?password=*** is not a readable SQLite store (corrupted?); "
        "move it away and run again: a new one will be created (problems history starts over)\n"
    )

    # a PostgreSQL store that refuses the connection
    drill.env(
        CAMPAIGN_GUARD_STATE_URL=f"postgresql+psycopg://guard:{STORE_SECRET}@127.0.0.1:{closed}/state?password={STORE_SECRET}"
    )
    code, out, err = drill.run("problems", "list")
    assert (code, out) == (4, "")
    assert err == (
        f"campaign-guard: state store postgresql+psycopg://guard:***@127.0.0.1:{closed}/state?password=*** "
        f'cannot connect: connection failed: connection to server at "127.0.0.1", port {closed} failed: '
        "Connection refused\n"
    )

    _unseen(*drill.printed, drill.rows(), *sent)


@pytest.mark.parametrize(
    ("secret", "path", "text", "shown"),
    [
        # a webhook URL: its path and query are the credential, in every form a receiver may echo
        (f"https://hooks.example.com{HOOK_PATH}?sig=ab12", True, f"POST https://hooks.example.com{HOOK_PATH}?sig=ab12",
         "POST https://hooks.example.com/***"),
        (f"https://hooks.example.com{HOOK_PATH}", True, f"404: {HOOK_PATH} not found", "404: /*** not found"),
        (f"https://hooks.example.com{HOOK_PATH}", True, "cannot route %2Fservices%2FT0AAA%2FB0BBB%2FHookPathS3cret42",
         "cannot route ***"),
        (f"https://hooks.example.com{HOOK_PATH}", True, "token HookPathS3cret42 revoked", "token *** revoked"),
        (f"https://hooks.example.com{HOOK_PATH}", True, "a webhook to https://hooks.example.com",
         "a webhook to https://hooks.example.com"),
        # a database URL: the password and secret parameters, wherever they show; its database stays
        ("postgresql://crm:p%40ss-w0rd@db/crm?sslmode=require&password=Qu3ry", False,
         "login crm/p@ss-w0rd refused; Qu3ry rejected on db/crm (sslmode=require)",
         "login crm/*** refused; *** rejected on db/crm (sslmode=require)"),
        (f"sqlite:////srv/crm.db?password={SOURCE_SECRET}", False, "no such file /srv/crm.db",
         "no such file /srv/crm.db"),
        # any other value, whole: as written, %-, JSON- and HTML-escaped
        ('tok"en<&>/+1', False, 'a tok"en<&>/+1 b tok%22en%3C%26%3E%2F%2B1 c tok\\"en<&>/+1 d tok"en&lt;&amp;&gt;/+1',
         "a *** b *** c *** d ***"),
        ("abc", False, "abc is too short to be hidden alone", "abc is too short to be hidden alone"),
    ],
)  # fmt: skip
def test_a_concealed_value_is_masked_wherever_it_shows(secret: str, path: bool, text: str, shown: str) -> None:
    conceal(secret, path=path)
    assert mask(text) == shown


def test_no_message_carries_a_secret(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A body that quotes a secret (written before masking was applied to the store, say) goes out masked."""
    monkeypatch.setenv("OPS_HOOK_URL", endpoint.url + HOOK_PATH)
    conceal(TELEGRAM_TOKEN)
    body = f"source crm (postgresql://crm:{SMTP_SECRET}@db/crm) failed; bot {TELEGRAM_TOKEN}; see {HOOK_PATH}"
    rendered = Rendered(f"[campaign-guard] {TELEGRAM_TOKEN}", body, "text")
    send("webhook", ["${OPS_HOOK_URL}"], rendered, key="k-1", timeout=5)
    ((request,),) = [endpoint.requests]
    assert request.path == HOOK_PATH
    assert request.body == {
        "text": "source crm (postgresql://crm:***@db/crm) failed; bot ***; see /***",
        "subject": "[campaign-guard] ***",
        "format": "text",
    }


def test_a_traceback_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from runner.masking import excepthook

    conceal(TELEGRAM_TOKEN)
    try:
        raise RuntimeError(f"bot {TELEGRAM_TOKEN} and sqlite:///s.db?password={STORE_SECRET}")
    except RuntimeError:
        excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("RuntimeError: bot *** and sqlite:///s.db?password=***\n")
