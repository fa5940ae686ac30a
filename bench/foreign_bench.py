#!/usr/bin/env python3
"""Benchmark `campaign-guard run` on the foreign CRM (tests/foreign_crm) grown to a million messages.

    python bench/foreign_bench.py [--messages 1000000] [--backends postgresql sqlite] [--repeat 3] [--json PATH]

The foreign CRM is the second fixture: other table and column names, three query-mapped
datasets, times kept as text and converted in SQL, upper-case vocabularies trimmed and
lower-cased by the mapping, replicated rows. Its few thousand rows of faults and boundaries
are built as the tests build them; then zcrm_msg is filled with order notifications (times as
ISO text, statuses in upper case, spread over 60 days) up to --messages rows, and analysed.

Measured as bench/engine_bench.py measures the demo: the whole `run` process against the floor,
the statements that run sends executed again directly with the source's concurrency (4).
Target (issue 10): run <= 1.3 x floor. The run also pays what the floor does not: interpreter and
imports, the state store, and the probe of each mapping (one sample query per dataset).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, floor, scratch_url, sent_statements, timed_process, write_report

from tests.foreign_crm.build import build

NOW = "2026-12-01T11:00:00+03:00"
CHUNK = 200_000


def grow_messages(url: str, wanted: int) -> int:
    """Order notifications up to `wanted` rows in zcrm_msg; in SQL on PostgreSQL, in chunks elsewhere."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        have = int(connection.execute(sa.text("SELECT COUNT(*) FROM zcrm_msg")).scalar_one())
        missing = max(0, wanted - have)
        if engine.dialect.name == "postgresql":
            connection.execute(
                sa.text(
                    "INSERT INTO zcrm_msg (msg_guid, run_guid, camp, elem, partner, chnl, msg_status, crt_ts) "
                    "SELECT 'ORD' || n, NULL, 'order_notifications', 'order_status', 'P' || (n % 300000), "
                    "CASE WHEN n % 3 = 0 THEN 'EMAIL' ELSE 'SMS' END, CASE WHEN n % 50 = 0 THEN 'FAILED' ELSE "
                    "'DELIVERED' END, to_char(TIMESTAMP '2026-12-01 10:55:00' - n * INTERVAL '5 seconds', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM generate_series(1, :rows) AS n"
                ),
                {"rows": missing},
            )
            connection.execute(sa.text("ANALYZE"))
        else:
            newest = datetime(2026, 12, 1, 10, 55)
            table = sa.table(
                "zcrm_msg",
                *(sa.column(c) for c in ("msg_guid", "camp", "elem", "partner", "chnl", "msg_status", "crt_ts")),
            )
            for start in range(1, missing + 1, CHUNK):
                rows = [
                    {
                        "msg_guid": f"ORD{n}",
                        "camp": "order_notifications",
                        "elem": "order_status",
                        "partner": f"P{n % 300000}",
                        "chnl": "EMAIL" if n % 3 == 0 else "SMS",
                        "msg_status": "FAILED" if n % 50 == 0 else "DELIVERED",
                        "crt_ts": (newest - timedelta(seconds=5 * n)).strftime("%Y-%m-%dT%H:%M:%S"),
                    }
                    for n in range(start, min(start + CHUNK, missing + 1))
                ]
                connection.execute(table.insert(), rows)
        total = int(connection.execute(sa.text("SELECT COUNT(*) FROM zcrm_msg")).scalar_one())
    engine.dispose()
    return total


def repository(directory: Path) -> Path:
    """This repository's configuration with the foreign CRM as its only source."""
    root = directory / "repo"
    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "tests" / "foreign_crm" / "sources.yaml", root / "rules" / "sources.yaml")
    return root


def measure(backend: str, messages: int, repeat: int, directory: Path) -> dict[str, object]:
    with scratch_url(backend, directory, "foreign.db") as url:
        build(url, datetime.fromisoformat(NOW))
        total = grow_messages(url, messages)
        root = repository(directory / backend)
        env = {**os.environ, "FOREIGN_CRM_URL": url, "CAMPAIGN_GUARD_STATE_URL": f"sqlite:///{directory / 'state.db'}"}
        statements = sent_statements(root, {"FOREIGN_CRM_URL": url}, NOW)
        runs, parallel, sequential = [], [], []
        for _ in range(repeat):
            seconds, _peak, code = timed_process(
                [sys.executable, "-m", "runner", "run", "--now", NOW, "--format", "json"], env, root
            )
            assert code == 1, f"run exited {code}"
            runs.append(seconds)
            sequential.append(floor(url, statements, 1))
            parallel.append(floor(url, statements, 4))
        startup, _peak, _code = timed_process([sys.executable, "-m", "runner", "--version"], env, root)
        row: dict[str, object] = {
            "backend": backend,
            "messages": total,
            "statements": len(statements),
            "run_s": round(statistics.median(runs), 3),
            "floor_sequential_s": round(statistics.median(sequential), 3),
            "floor_parallel_s": round(statistics.median(parallel), 3),
            "process_startup_s": round(startup, 3),
        }
        row["ratio"] = round(statistics.median(runs) / statistics.median(parallel), 2)
        print(json.dumps(row), flush=True)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--backends", nargs="+", default=["postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        rows = [measure(backend, args.messages, args.repeat, Path(directory)) for backend in args.backends]
    write_report(args.json, rows, fixture="tests/foreign_crm", now=NOW)
    print("| backend | messages | statements | run | floor (seq / 4 parallel) | run / floor | startup |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['messages']:,} | {r['statements']} | {r['run_s']} s | "
            f"{r['floor_sequential_s']} / {r['floor_parallel_s']} s | {r['ratio']}x | {r['process_startup_s']} s |"
        )


if __name__ == "__main__":
    main()
