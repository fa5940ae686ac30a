"""IANA time zones by name: whether one exists, and the close match when it does not."""

from __future__ import annotations

import difflib
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@cache
def _known() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone_problem(name: str) -> str | None:
    """None when name is a time zone this machine knows; else the reason, with the close match if any."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = close_zone(name)
        hint = f"; did you mean {close}?" if close else "; use an IANA name such as Europe/Moscow"
        return f"unknown time zone {name!r}{hint}"
    return None


def close_zone(name: str) -> str | None:
    """The known zone nearest to name, without regard to case.

    Of difflib's five nearest, the one sharing the longest start wins: spellings of a city differ at
    its end (Moskva, Moscow), and whole-string likeness alone would answer Europe/Minsk.
    """
    candidates = {zone.lower(): zone for zone in _known()}
    wanted = name.lower()
    close = difflib.get_close_matches(wanted, candidates, n=5)
    if not close:
        return None
    best = max(close, key=lambda key: _shared_start(key, wanted))  # max keeps the first of ties
    return candidates[best]


def _shared_start(one: str, other: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))
