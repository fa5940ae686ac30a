#!/usr/bin/env python3
"""Benchmark notification planning: 1,000 subscriptions x 10,000 problem events, matched and rendered.

    python bench/notify_bench.py [--subscriptions 1000] [--events 10000] [--problems 2000]
                                 [--backends sqlite postgresql] [--repeat 3] [--json PATH]

A fresh store per repeat gets --problems problems and --events events (opened, reopened,
escalated, resolved) through the real tables; --subscriptions subscriptions are generated with
the filters real teams write (1-3 localizations, severities, campaign and check globs, owners,
label matchers, events; two in five group_by, one in five digests). Timed: one `plan()` - the
matching of every event against every subscription, the notifications written, and every due
message batched into the outbox under the store's write lock (`locked`), then rendered with the
built-in Jinja2 templates (the real renderer) with no lock held - as `campaign-guard notify` runs
it. Delivery (the network) is not part of it.

Target (issue 5): under 2 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import LOCALIZATIONS, ROOT, scratch_url, write_report

from runner.notify.matching import campaign_facts
from runner.notify.planner import plan
from runner.notify.render import render_for
from runner.notify.rendering import render_outbox
from runner.notify.subscriptions import subscription
from runner.repository import Repository
from runner.store.connect import Store, open_store
from runner.store.lifecycle import fingerprint
from runner.store.tables import notifications, outbox, problem_events, problems

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
OWNERS = ["crm-dev", "crm-marketing", "crm-loyalty", "loyalty-processing"]
CHECK_FAMILIES = ["monitor", "gate", "campaign", "promo", "bonus", "welcome", "vip", "transactions"]


def fill(store: Store, campaigns: list[str], count: int, events: int, rng: random.Random) -> None:
    rows = []
    for n in range(count):
        first = NOW - timedelta(minutes=rng.randrange(24 * 60))
        check = f"{rng.choice(CHECK_FAMILIES)}.check_{n % 60:02d}"
        rows.append({
            "fingerprint": fingerprint(check, f"subject_{n}"), "check_id": check, "subject": f"subject_{n}",
            "severity": rng.choice(["problem", "problem", "warning"]), "localization": rng.choice(LOCALIZATIONS),
            "status": "open", "title": f"Problem number {n}", "cause": "generated for the benchmark",
            "hint": "none", "campaign": rng.choice([*campaigns, None]), "owner": rng.choice(OWNERS),
            "location": "campaigns/x.yaml:12", "observed": str(n), "expected": "<= 10", "samples": "[]",
            "first_seen": first.replace(tzinfo=None), "last_seen": NOW.replace(tzinfo=None),
            "last_evaluated_at": NOW.replace(tzinfo=None), "occurrences": rng.randrange(1, 6), "regressions": 0,
            "streak": 1, "escalated": False,
        })  # fmt: skip
    with store.write() as connection:
        connection.execute(sa.insert(problems), rows)
        ids = connection.execute(sa.select(problems.c.id)).scalars().all()
        kinds = ["opened"] * 5 + ["reopened", "escalated", "resolved", "resolved"]
        connection.execute(
            sa.insert(problem_events),
            [
                {
                    "problem_id": ids[n % len(ids)],
                    "kind": "opened" if n < len(ids) else rng.choice(kinds),
                    "at": (NOW - timedelta(minutes=(events - n) % 600)).replace(tzinfo=None),
                    "severity": "problem",
                }
                for n in range(events)
            ],
        )


def subscriptions(count: int, campaigns: list[str], rng: random.Random) -> list[Any]:
    subs = []
    for n in range(count):
        spec: dict[str, Any] = {
            "name": f"team_{n:04d}",
            "channel": rng.choice(["email", "telegram", "webhook"]),
            "recipients": [f"team{n}@example.com"],
            "format": rng.choice(["text", "html", "markdown"]),
            "language": rng.choice(["ru", "en"]),
            "timezone": "Europe/Moscow",
            "localizations": rng.sample(LOCALIZATIONS, rng.randint(1, 3)),
            "events": rng.choice([["opened", "reopened", "escalated"], ["opened", "resolved"], ["opened"]]),
        }
        if rng.random() < 0.5:
            spec["severities"] = ["problem"]
        if rng.random() < 0.3:
            spec["campaigns"] = [rng.choice(campaigns)[:5] + "*"]
        if rng.random() < 0.3:
            spec["checks"] = [f"{rng.choice(CHECK_FAMILIES)}.*"]
        if rng.random() < 0.2:
            spec["owners"] = [rng.choice(OWNERS)]
        if rng.random() < 0.1:
            spec["labels"] = ["program=~loyalty|onboarding"]
        if rng.random() < 0.4:
            spec["group_by"] = rng.sample(["check", "campaign", "localization", "owner"], 1)
        if rng.random() < 0.2:
            spec.update(mode="digest", digest_schedule="0 * * * *")
        subs.append(subscription(spec))
    return subs


def measure_once(backend: str, args: argparse.Namespace, directory: Path, seed: int) -> dict[str, Any]:
    with scratch_url(backend, directory, f"notify-{seed}.db") as url:
        repo = Repository(ROOT)
        facts = campaign_facts(repo)
        rng = random.Random(seed)
        campaign_ids = sorted(facts)
        store = open_store(ROOT, {"CAMPAIGN_GUARD_STATE_URL": url})
        fill(store, campaign_ids, args.problems, args.events, rng)
        subs = subscriptions(args.subscriptions, campaign_ids, rng)
        render = render_for
        started = time.perf_counter()
        with store.write() as connection:
            planned = plan(connection, subs, facts, NOW)
        locked = time.perf_counter() - started
        render_outbox(store, subs, NOW, render)
        seconds = time.perf_counter() - started
        with store.read() as connection:
            made = connection.execute(sa.select(sa.func.count()).select_from(notifications)).scalar_one()
            messages = connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        store.close()
        return {
            "seconds": seconds,
            "locked": locked,
            "notifications": made,
            "messages": messages,
            "planned": len(planned.messages),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--problems", type=int, default=2000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends:
            runs = [measure_once(backend, args, Path(directory), seed) for seed in range(args.repeat)]
            row = {
                "backend": backend,
                "seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
                "seconds_all": [round(r["seconds"], 3) for r in runs],
                "notifications": runs[0]["notifications"],
                "messages": runs[0]["messages"],
            }
            rows.append(row)
            print(json.dumps(row))
    write_report(args.json, rows, subscriptions=args.subscriptions, events=args.events, problems=args.problems)


if __name__ == "__main__":
    main()
