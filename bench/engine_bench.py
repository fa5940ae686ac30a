#!/usr/bin/env python3
"""Benchmark `campaign-guard run` against the SQL it sends, on the demo CRM at 1M and 10M messages.

    python bench/engine_bench.py [--scales 1 10] [--backends sqlite postgresql] [--repeat 3] [--json PATH]

For each backend and scale: build the demo database (timed), then measure

  a. run:   `python -m runner run --format json` as a whole process (startup included), wall time
            and the peak RSS of that process (os.wait4);
  b. floor: the statements that run sends (collected from the adapters of one in-process run),
            executed again directly on a fresh connection pool - once one after the other, and
            once with the source's concurrency (max_concurrent_queries threads), as the run does.

Target (issue 3): a <= 1.3 x b (parallel floor) at both sizes, the run's time growing no
faster than the floor's, and flat memory. Medians of --repeat runs, interleaved.
PostgreSQL: a scratch database on 127.0.0.1:5432 (user postgres), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, floor, scratch_url, sent_statements, timed_process, write_report

NOW = "2026-12-01T11:00:00+03:00"


def measure(backend: str, scale: float, repeat: int, directory: Path) -> dict[str, object]:
    with scratch_url(backend, directory, "demo.db") as url:
        env = {**os.environ, "CAMPAIGN_GUARD_DEMO_URL": url}
        build, build_rss, code = timed_process(
            [sys.executable, "-m", "runner", "demo", "--scale", str(scale), "--now", NOW, "--url", url], env, ROOT
        )
        assert code == 0, "demo build failed"
        if backend == "postgresql":
            with sa.create_engine(url).connect() as connection:
                connection.execute(sa.text("ANALYZE"))
        statements = sent_statements(ROOT, {"CAMPAIGN_GUARD_DEMO_URL": url}, NOW)
        runs, rss, sequential, parallel = [], [], [], []
        for _ in range(repeat):
            seconds, peak, code = timed_process(
                [sys.executable, "-m", "runner", "run", "--now", NOW, "--format", "json"], env, ROOT
            )
            assert code == 1, f"run exited {code}"
            runs.append(seconds)
            rss.append(peak)
            sequential.append(floor(url, statements, 1))
            parallel.append(floor(url, statements, 4))
        startup, _peak, _code = timed_process([sys.executable, "-m", "runner", "--version"], env, ROOT)
        row = {
            "backend": backend,
            "scale": scale,
            "build_s": round(build, 2),
            "build_peak_rss_mib": round(build_rss / 1024, 1),
            "statements": len(statements),
            "run_s": round(statistics.median(runs), 3),
            "run_peak_rss_mib": round(max(rss) / 1024, 1),
            "floor_sequential_s": round(statistics.median(sequential), 3),
            "floor_parallel_s": round(statistics.median(parallel), 3),
            "process_startup_s": round(startup, 3),
        }
        row["ratio"] = round(row["run_s"] / row["floor_parallel_s"], 2)  # type: ignore[operator]
        print(json.dumps(row), flush=True)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends:
            for scale in args.scales:
                rows.append(measure(backend, scale, args.repeat, Path(directory)))
    write_report(args.json, rows)
    print("| backend | messages | build | run | floor (seq / 4 parallel) | run / floor | startup | run peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['scale']:g}M | {r['build_s']} s | {r['run_s']} s | "
            f"{r['floor_sequential_s']} / {r['floor_parallel_s']} s | {r['ratio']}x | {r['process_startup_s']} s | "
            f"{r['run_peak_rss_mib']} MiB |"
        )


if __name__ == "__main__":
    main()
