"""campaign-guard report: the hourly operational report (SAP), or a slice of opened problems over time."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runner.errors import ExitCode, SourceUnreachable, UsageError
from runner.masking import mask
from runner.report.hourly import collect
from runner.report.render import render_hourly, render_slice
from runner.report.slices import collect_slice
from runner.store.connect import Store, existing_store, store_label

HOURLY_SINCE = timedelta(hours=1)
SLICE_SINCE = timedelta(days=30)


def run(root: Path, args: Any, now: datetime) -> ExitCode:
    output_format: str = args.output_format
    output: Path | None = args.output
    if args.by is None:
        if args.period is not None:
            raise UsageError("--period slices the problems: give --by localization|campaign|owner|check too")
        if output_format == "csv":
            raise UsageError("--format csv is for slices: give --by localization|campaign|owner|check")
    since: timedelta = args.since if args.since is not None else HOURLY_SINCE if args.by is None else SLICE_SINCE
    if since <= timedelta():
        raise UsageError("--since must be longer than 0 (1h, 30d)")
    store = _open(root)
    try:
        if args.by is None:
            text = render_hourly(collect(store, now, since), output_format)
        else:
            text = render_slice(collect_slice(store, args.by, args.period or "day", now, since), output_format)
    finally:
        store.close()
    if output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        output.write_text(mask(text), encoding="utf-8")  # stdout is masked by main; the file too
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None
    return ExitCode.OK


def _open(root: Path) -> Store:
    store = existing_store(root)
    if store is None:  # a report of nothing would read as "all is well"; reading creates no store
        raise SourceUnreachable(
            f"state store {store_label(root)}: none yet, nothing recorded to report (`campaign-guard run` creates it)"
        )
    return store
