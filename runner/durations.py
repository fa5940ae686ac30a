"""Durations as configuration writes them: 90s, 15m, 24h, 1d, 2w, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"([0-9]+)([wdhms])")
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """The schema guarantees the shape; an invalid string is a programming error here."""
    parts = _PART.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"{text!r} is not a duration such as 15m, 24h or 1d")
    total = timedelta()
    for amount, unit in parts:
        total += timedelta(**{_UNIT[unit]: int(amount)})
    return total
