"""How text output meets a person: the display time zone, counts, colour and the terminal's width.

One rule for every text output (JSON, CSV, SARIF and the GitHub format stay machine formats):

* times in the display zone - ``--tz ZONE``, else ``CAMPAIGN_GUARD_TZ``, else the system zone - with
  the offset written: ``2026-12-02 15:04 +03:00`` (``UTC`` when the offset is zero, as the report writes);
* counts with a comma between thousands: ``1,234,567``;
* colour (problems red, warnings yellow, passes green) only when stdout is a terminal and ``NO_COLOR``
  is unset or empty (https://no-color.org); ``FORCE_COLOR`` (non-empty) asks for it anyway;
* as wide as the terminal: ``COLUMNS``, else the width of the terminal stdout is. Long result lines
  are wrapped (nothing is lost) and a table's widest free-text column is cut with "…". Output to a
  file or a pipe with ``COLUMNS`` unset wraps at :data:`DEFAULT_WIDTH` and keeps table rows whole,
  so ``problems list | grep`` finds what it looks for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner.errors import UsageError
from runner.report.times import zone_name

ZONE_VARIABLE = "CAMPAIGN_GUARD_TZ"
DEFAULT_WIDTH = 100
"""Columns when stdout is no terminal and COLUMNS is unset: a CI log or a file reads well at 100."""
NARROWEST = 8
"""A cut column keeps at least this many characters."""

_TONES = {"problem": "31", "error": "31", "warning": "33", "pass": "32", "bold": "1"}


def display_zone(given: str | None = None) -> tzinfo | None:
    """The zone of --tz, else of CAMPAIGN_GUARD_TZ, else None: the system zone.

    UsageError (exit 3, one line) for a name the time-zone database does not know.
    """
    name, where = (given, "--tz") if given else (os.environ.get(ZONE_VARIABLE), ZONE_VARIABLE)
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"{where}: unknown time zone {name!r}; use an IANA name such as Europe/Moscow") from None


def count(number: int) -> str:
    """1234567 -> "1,234,567"."""
    return f"{number:,}"


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one "…" when something was cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


@dataclass(frozen=True)
class Display:
    """The manners of one command's text output; :meth:`of` reads them from the environment."""

    zone: tzinfo | None = None
    colour: bool = False
    columns: int | None = None
    """The terminal's width (or COLUMNS); None: no terminal, tables are not cut."""

    @classmethod
    def of(cls, tz: str | None = None, stream: TextIO | None = None) -> Display:
        stream = stream if stream is not None else sys.stdout
        return cls(display_zone(tz), _colour(stream), _columns(stream))

    @property
    def width(self) -> int:
        """Where long lines wrap."""
        return self.columns or DEFAULT_WIDTH

    def time(self, moment: datetime | str | None) -> str:
        """``2026-12-02 15:04 +03:00``; "" for None; a naive moment or ISO text without offset is UTC."""
        if moment is None or moment == "":
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        local = moment.astimezone(self.zone)  # None: the system zone, with its offset at that moment
        return f"{local:%Y-%m-%d %H:%M} {zone_name(local)}"

    def paint(self, text: str, tone: str) -> str:
        """``text`` in the colour of ``tone`` (problem, error, warning, pass, bold) when colour is on."""
        if not self.colour or tone not in _TONES or not text:
            return text
        return f"\033[{_TONES[tone]}m{text}\033[0m"

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        free: Sequence[int],
        tones: Sequence[tuple[int, str]] = (),
        right: Sequence[int] = (),
        indent: int = 0,
    ) -> list[str]:
        """Rows in columns two spaces apart, ``indent`` spaces in, fitting the terminal: the widest of
        the ``free`` columns (indexes of free text) is cut first, down to :data:`NARROWEST` characters.
        ``tones`` gives, per row, the column to paint and its tone; ``right`` the right-aligned columns.
        """
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
        while self.columns and indent + sum(widths) + 2 * (len(widths) - 1) > self.columns:
            widest = max(free, key=lambda index: widths[index])
            if widths[widest] <= NARROWEST:
                break
            widths[widest] -= 1
        last = len(widths) - 1
        painted = dict(enumerate(tones, start=1))  # row 0 is the header

        def cell(number: int, index: int, text: str) -> str:
            shown = fit(text, widths[index])
            if index in right:
                shown = shown.rjust(widths[index])
            padded = shown if index == last else f"{shown:<{widths[index]}}"
            column, tone = painted.get(number, (-1, ""))
            return self.paint(shown, tone) + padded[len(shown) :] if column == index else padded

        return [
            " " * indent + "  ".join(cell(number, i, text) for i, text in enumerate(row)).rstrip()
            for number, row in enumerate((header, *rows))
        ]


def _columns(stream: TextIO) -> int | None:
    if os.environ.get("COLUMNS", "").isdigit() and int(os.environ["COLUMNS"]) > 0:
        return int(os.environ["COLUMNS"])
    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else None
    except (AttributeError, ValueError, OSError):
        return None


def _colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
