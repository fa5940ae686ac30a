"""A campaign as the launch gate sees it: its period, whether it is due, where it is written."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from runner.document import Document
from runner.positions import JsonPath
from runner.scenario import elements_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LAUNCHING = ("running", "scheduled")


@dataclass(frozen=True)
class Campaign:
    document: Document

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def data(self) -> Mapping[str, Any]:
        return self.document.data  # type: ignore[no-any-return]

    @property
    def schedule(self) -> Mapping[str, Any]:
        return self.data["schedule"]  # type: ignore[no-any-return]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.get("timezone", "UTC"))

    def location(self, path: JsonPath = ()) -> str:
        line, _column = self.document.position(path)
        return f"{self.document.rel}:{line}"

    def elements(self, *types: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for element_id, element in elements_of(self.data):
            if not types or element.get("type") in types:
                yield element_id, element

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def day(self, now: datetime) -> tuple[datetime, datetime]:
        """The campaign's local calendar day around now, as aware moments."""
        start = datetime.combine(self.today(now), time(), self.zone)
        return start, start + timedelta(days=1)

    def period(self, now: datetime) -> tuple[datetime, datetime]:
        """The span in which the campaign launches at most once: its week, its run, or its day."""
        start, end = self.day(now)
        kind = self.schedule["type"]
        if kind == "weekly":
            start -= timedelta(days=start.weekday())
            return start, start + timedelta(days=7)
        if kind == "once":
            first = self._local(self.schedule["start_at"])
            return first, self._local(self.schedule["end_at"]) if "end_at" in self.schedule else datetime.max.replace(
                tzinfo=self.zone
            )
        return start, end

    def due(self, now: datetime) -> bool:
        """The schedule fires on the local day of now: the launch gate must pass before it does."""
        if self.data["status"] not in LAUNCHING or self.schedule["type"] == "event":
            return False
        start, end = self.day(now)
        if self._local(self.schedule["start_at"]) >= end:
            return False
        if "end_at" in self.schedule and self._local(self.schedule["end_at"]) < start:
            return False
        kind = self.schedule["type"]
        if kind == "weekly":
            return WEEKDAYS[start.weekday()] in self.schedule["days"]
        if kind == "once":
            return self._local(self.schedule["start_at"]) >= start
        if kind == "cron":
            fire: datetime = croniter(self.schedule["cron"], start - timedelta(microseconds=1)).get_next(datetime)
            return fire < end
        return True

    def _local(self, text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
