"""A message the server accepted is marked sent at once, in a short transaction of its own: not behind
the store's lock, which another notify's planner may be holding (PostgreSQL and MariaDB stores)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.notify.channels import send
from runner.notify.delivery import deliver
from runner.store.connect import open_store
from runner.store.tables import outbox

from .databases import scratch_database
from .servers import Mailbox

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LOCK = {  # the lock every campaign-guard writer takes first (runner/store/connect.py): take, its answer, release
    "postgresql": ("SELECT pg_advisory_lock(1667329392)", "", "SELECT pg_advisory_unlock(1667329392)"),
    "mariadb": ("SELECT GET_LOCK('campaign-guard', 0)", 1, "SELECT RELEASE_LOCK('campaign-guard')"),
}


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_sent_message_is_marked_sent_while_another_process_holds_the_stores_lock(
    backend: str, tmp_path: Path, smtp_server: Callable[..., int]
):
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    environ = {"CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{port}?from=guard@example.com"}
    with scratch_database(backend, tmp_path) as url:
        store = open_store(tmp_path, {"CAMPAIGN_GUARD_STATE_URL": url, "CAMPAIGN_GUARD_STORE_LOCK_WAIT": "1"})
        at = NOW.replace(tzinfo=None)
        with store.write() as connection:
            connection.execute(
                sa.insert(outbox).values(
                    key="key-1", subscription="ops", kind="immediate", channel="email",
                    recipients=json.dumps(["ops@example.com"]), subject="Queue stuck", body="body", format="text",
                    status="pending", next_attempt_at=at, created_at=at,
                )
            )  # fmt: skip
        planner = sa.create_engine(url)
        other = planner.connect()  # another notify, about to plan: it takes the store's lock
        seen: list[str] = []

        def hold_the_lock_until_marked_sent() -> None:
            """The other planner keeps the lock until this process recorded the message (10 s at most)."""
            with planner.connect() as reader:
                for _ in range(500):
                    status = reader.execute(sa.select(outbox.c.status)).scalar_one()
                    reader.rollback()  # a fresh snapshot for the next look
                    if status == "sent":
                        seen.append(status)
                        break
                    time.sleep(0.02)
            other.execute(sa.text(LOCK[backend][2]))
            other.close()

        watcher = threading.Thread(target=hold_the_lock_until_marked_sent)

        def send_then_the_planner_locks(*args: Any, **kwargs: Any) -> None:
            send(*args, **kwargs)
            sql, taken, _ = LOCK[backend]
            assert other.execute(sa.text(sql)).scalar() == taken
            watcher.start()

        delivered = deliver(store, NOW, send_then_the_planner_locks, environ)
        watcher.join()
        with store.read() as connection:
            row = connection.execute(sa.select(outbox.c.status, outbox.c.attempts, outbox.c.claimed_by)).one()
        planner.dispose()
        store.close()
    assert seen == ["sent"]  # recorded while the other process held the lock: it did not wait behind it
    assert delivered.sent == [1] and not delivered.retrying and not delivered.failed
    assert tuple(row) == ("sent", 1, None)
    assert [message["Message-ID"] for message in mailbox.messages()] == ["<key-1@campaign-guard>"]
