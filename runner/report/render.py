"""Reports as text, Markdown, HTML (Jinja2 templates of this package) and CSV.

HTML templates (*.html.j2) are autoescaped: a title or cause containing markup shows as text.
Text and Markdown are written as they are; Markdown only protects its table cells.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import cache
from typing import Any

import jinja2

from runner.report.hourly import HourlyReport
from runner.report.slices import Slice
from runner.report.times import clock, duration, span, zone_name

_SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("runner.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def markdown_cell(value: Any) -> str:
    """A value inside a Markdown table: one line, pipes escaped; nothing else is touched."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _helpers(now: datetime) -> dict[str, Any]:
    return {
        "clock": lambda moment: clock(moment, now),
        "span": lambda start, end: span(start, end, now),
        "duration": duration,
        "zone": zone_name(now),
        "md": markdown_cell,
    }


def render_hourly(report: HourlyReport, output_format: str) -> str:
    template = environment().get_template(f"hourly.{_SUFFIX[output_format]}.j2")
    return template.render(report=report, **_helpers(report.now))


def render_slice(found: Slice, output_format: str) -> str:
    if output_format == "csv":
        return slice_csv(found)
    template = environment().get_template(f"slice.{_SUFFIX[output_format]}.j2")
    counts = [found.total, *(count for row in found.rows for count in row.counts)]
    key_width = max([len(found.by), len("total"), *(len(row.key) for row in found.rows)]) + 2
    cell_width = max([len("TOTAL"), len(str(max(counts))), *(len(period.short) for period in found.periods)]) + 1
    return template.render(
        slice=found, key_width=key_width, cell_width=cell_width, totals=found.totals, **_helpers(found.now)
    )


def slice_csv(found: Slice) -> str:
    """One row per key: the key, its count in every period, its total (no total row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([found.by, *(period.label for period in found.periods), "total"])
    for row in found.rows:
        writer.writerow([row.key, *row.counts, row.total])
    return buffer.getvalue()
