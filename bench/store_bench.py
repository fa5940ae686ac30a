#!/usr/bin/env python3
"""Benchmark the state store: `problems list` over 100,000 problems and 1,000,000 events, and
storing the 10,000 results of one run.

    python bench/store_bench.py [--backends sqlite postgresql] [--problems 100000] [--events 1000000]
                                [--results 10000] [--repeat 5] [--json PATH]

The store is filled through the real tables (bulk inserts), then measured:

  a. list: `list_problems` with the filters of `problems list` (in process, the query and the
     conversion to what the command prints), median of --repeat; and the whole
     `python -m runner problems list ...` process once per filter set, for the full picture;
  b. record: `record()` of one run with --results results (a fifth failing) into that store -
     a first run that opens the problems, then a second that updates them.

Targets (issue 4): list under 200 ms; storing 10,000 results under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from common import LOCALIZATIONS, ROOT, scratch_url, write_report

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.store.connect import Store, open_store
from runner.store.lifecycle import fingerprint
from runner.store.problems import ProblemFilter, list_problems
from runner.store.record import Scope, record
from runner.store.runs import start_run
from runner.store.tables import problem_events, problems

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STATUSES = ["open"] * 5 + ["acknowledged", "muted"] + ["resolved"] * 13
FILTERS = {
    "default (unresolved, first 200)": ([], ProblemFilter()),
    "--severity problem --localization promo_pool": (
        ["--severity", "problem", "--localization", "promo_pool"],
        ProblemFilter(severities=("problem",), localizations=("promo_pool",)),
    ),
    "--campaign 'campaign_01*' --since 2d": (
        ["--campaign", "campaign_01*", "--since", "2d"],
        ProblemFilter(campaigns=("campaign_01*",), opened_after=NOW - timedelta(days=2)),
    ),
    "--min-regressions 3 --status all": (
        ["--min-regressions", "3", "--status", "all"],
        ProblemFilter(statuses=("open", "acknowledged", "muted", "resolved"), min_regressions=3),
    ),
    "--owner crm-dev --older-than 30d --limit 0": (
        ["--owner", "crm-dev", "--older-than", "30d", "--limit", "0"],
        ProblemFilter(owners=("crm-dev",), opened_before=NOW - timedelta(days=30)),
    ),
}


def fill(store: Store, count: int, events: int) -> None:
    rng = random.Random(7)
    rows = []
    for n in range(count):
        first = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
        status = rng.choice(STATUSES)
        rows.append(
            {
                "fingerprint": fingerprint(f"bench.check_{n % 400:03d}", f"subject_{n}"),
                "check_id": f"bench.check_{n % 400:03d}",
                "subject": f"subject_{n}",
                "severity": "problem" if rng.random() < 0.4 else "warning",
                "localization": rng.choice(LOCALIZATIONS),
                "status": status,
                "title": "A benchmark problem",
                "cause": "generated",
                "hint": "none",
                "campaign": f"campaign_{n % 700:03d}",
                "owner": rng.choice(["crm-dev", "crm-marketing", "loyalty", "integration"]),
                "location": f"campaigns/campaign_{n % 700:03d}.yaml:12",
                "observed": "42",
                "expected": "<= 10",
                "samples": "[]",
                "first_seen": first.replace(tzinfo=None),
                "last_seen": (first + timedelta(hours=1)).replace(tzinfo=None),
                "last_evaluated_at": (first + timedelta(hours=1)).replace(tzinfo=None),
                "resolved_at": (first + timedelta(hours=2)).replace(tzinfo=None) if status == "resolved" else None,
                "occurrences": rng.randrange(1, 50),
                "regressions": rng.choice([0] * 8 + [1, 2, 3, 5]),
                "streak": 1,
                "escalated": False,
            }
        )
    with store.write() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(sa.insert(problems), rows[start : start + 10_000])
        ids = connection.execute(sa.select(problems.c.id)).scalars().all()
        batch = []
        for n in range(events):
            batch.append(
                {
                    "problem_id": ids[n % len(ids)],
                    "kind": ("opened", "resolved", "reopened", "escalated", "acknowledged")[n // len(ids) % 5],
                    "at": (NOW - timedelta(minutes=n % 100_000)).replace(tzinfo=None),
                    "severity": "problem",
                }
            )
            if len(batch) == 20_000:
                connection.execute(sa.insert(problem_events), batch)
                batch = []
        if batch:
            connection.execute(sa.insert(problem_events), batch)
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))
    else:
        with store.write() as connection:
            connection.execute(sa.text("ANALYZE"))


def run_results(count: int, run: int) -> list[Result]:
    verdicts = []
    for n in range(count):
        failing = n % 5 == 0
        verdicts.append(
            Result(
                f"bench.run_check_{n % 50:02d}",
                f"subject_{n}",
                Severity.PROBLEM,
                "campaign",
                Status.FAIL if failing else Status.PASS,
                "A run's check",
                observed=n + run,
                expected="<= 10",
                cause="generated" if failing else "",
                campaign=f"campaign_{n % 700:03d}",
            )
        )
    return verdicts


def measure(backend: str, args: argparse.Namespace, directory: Path) -> dict[str, object]:
    with scratch_url(backend, directory, "state.db") as url:
        env = {"CAMPAIGN_GUARD_STATE_URL": url}
        store = open_store(ROOT, env)
        started = time.perf_counter()
        fill(store, args.problems, args.events)
        fill_seconds = time.perf_counter() - started
        lists = {}
        for label, (cli, filters) in FILTERS.items():
            limit = None if "--limit" in cli else 200
            timings, shown = [], 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                rows, total = list_problems(store, filters, limit)
                timings.append(time.perf_counter() - started)
                shown = len(rows)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "runner", "problems", "list", "--now", NOW.isoformat(), *cli],
                cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True,
            )  # fmt: skip
            process = time.perf_counter() - started
            lists[label] = {
                "query_ms": round(statistics.median(timings) * 1000, 1),
                "process_ms": round(process * 1000, 1),
                "shown": shown,
                "matched": total,
                "printed_lines": len(done.stdout.splitlines()),
            }
        records = []
        for run in range(2):
            verdicts = run_results(args.results, run)
            scopes = sorted({Scope(v.check) for v in verdicts}, key=lambda s: s.check)
            moment = NOW + timedelta(minutes=5 * (run + 1))
            run_id = start_run(store, "run", "bench", moment)
            started = time.perf_counter()
            changes = record(store, run_id, verdicts, moment, scopes)
            records.append({"seconds": round(time.perf_counter() - started, 3), "changes": dict(changes)})
        store.close()
        return {"backend": backend, "fill_s": round(fill_seconds, 1), "list": lists, "record": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends:
            row = measure(backend, args, Path(directory))
            rows.append(row)
            print(json.dumps(row, indent=2))
    write_report(args.json, rows)


if __name__ == "__main__":
    main()
