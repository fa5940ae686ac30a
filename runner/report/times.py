"""How the report writes moments and durations: in the time zone of --now, minutes precision."""

from __future__ import annotations

from datetime import datetime, timedelta


def clock(moment: datetime, zone: datetime) -> str:
    """`moment` in the zone of `zone`: 2026-12-01 11:00 +03:00, or 2026-12-01 08:00 UTC."""
    local = moment.astimezone(zone.tzinfo)
    return f"{local:%Y-%m-%d %H:%M} {zone_name(zone)}"


def zone_name(zone: datetime) -> str:
    offset = zone.utcoffset() or timedelta()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def duration(span: timedelta) -> str:
    """A duration as --since takes it: 1h, 30d, 1h30m, 90s."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def span(start: datetime, end: datetime, zone: datetime) -> str:
    """A window: 2026-12-01 10:00 - 11:00 +03:00, the date repeated only when it changes."""
    first, last = start.astimezone(zone.tzinfo), end.astimezone(zone.tzinfo)
    until = f"{last:%H:%M}" if first.date() == last.date() else f"{last:%Y-%m-%d %H:%M}"
    return f"{first:%Y-%m-%d %H:%M} - {until} {zone_name(zone)}"
