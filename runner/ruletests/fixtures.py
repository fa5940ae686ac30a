"""Fixture rows as a test writes them, made into typed tables: repeated rows, moments, inferred types.

A logical dataset keeps the contract's columns and types; any other table (a monitored
integration table) gets the columns its rows name, typed by their values. Zone-less times
are what the source stores: a time with an offset, or one relative to the test's `now`, is
converted into the source's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from runner.contract import DATASETS
from runner.demo.tables import CONTRACT_TABLES
from runner.durations import parse_duration
from runner.positions import JsonPath
from runner.ruletests.model import FixtureTable

Row = Mapping[str, Any]

_RELATIVE = re.compile(r"^now(?:\s*([+-])\s*([0-9a-z]+))?$")
_DATE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_COPY_NUMBER = re.compile(r"\{n(?:\+([0-9]+))?\}")
_WHOLE = re.compile(r"^-?[0-9]+$")
_TIME_FORMS = "an ISO date-time such as 2026-12-01T10:00:00+03:00, or a moment such as now-20m"


class Mistake(Exception):
    """A mistake in a rule test at a path: the fixture's paths start at the dataset name, the test's
    inside the test."""

    def __init__(self, path: JsonPath, message: str, *, key: bool = False) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message
        self.key = key


@dataclass(frozen=True)
class Clock:
    """The test's now and the time zone in which the source writes its zone-less timestamps."""

    now: datetime
    zone: ZoneInfo

    def moment(self, text: str) -> datetime:
        """now, now-20m, now+1d, or an ISO date-time; as the naive local time the source stores."""
        relative = _RELATIVE.match(text.strip())
        if relative:
            sign, span = relative.groups()
            delta = parse_duration(span) if span else timedelta()
            moment = self.now - delta if sign == "-" else self.now + delta
        else:
            moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo is None else moment.astimezone(self.zone).replace(tzinfo=None)


def fixture_tables(
    fixtures: Mapping[str, Sequence[Row]], clock: Clock, monitored: Mapping[str, str]
) -> list[FixtureTable]:
    """The tables a test fills, plus an empty one for every monitored table outside the contract.

    monitored: table -> timestamp column, from rules/monitored_tables.yaml.
    """
    tables = []
    lowered = {name.lower(): name for name in DATASETS}
    for name, items in fixtures.items():
        if name in DATASETS:
            tables.append(_contract_table(name, items, clock))
        elif name.lower() in lowered:
            raise Mistake((name,), f"{name!r} is not a dataset; did you mean {lowered[name.lower()]!r}?", key=True)
        else:
            stamps = (monitored[name],) if name in monitored else ()
            tables.append(_other_table(name, items, clock, stamps))
    for name, column in monitored.items():
        if name not in fixtures and name not in DATASETS and "." not in name:
            tables.append(FixtureTable(name, {column: sa.DateTime()}, ()))
    return tables


def _rows(items: Sequence[Row]) -> Iterator[tuple[JsonPath, Row]]:
    """Each row with its path; `repeat: N` yields N copies with {n} replaced by the copy's number."""
    for index, item in enumerate(items):
        if "repeat" not in item:
            yield (index,), item
            continue
        for number in range(1, int(item["repeat"]) + 1):
            yield (index, "row"), {column: _numbered(value, number) for column, value in item["row"].items()}


def _numbered(value: Any, number: int) -> Any:
    if not isinstance(value, str) or "{n" not in value:
        return value
    text = _COPY_NUMBER.sub(lambda match: str(number + int(match.group(1) or 0)), value)
    return int(text) if _WHOLE.match(text) else text


def _contract_table(name: str, items: Sequence[Row], clock: Clock) -> FixtureTable:
    table = CONTRACT_TABLES[name]
    rows = []
    for path, row in _rows(items):
        converted = {}
        for column, value in row.items():
            where = (name, *path, column)
            if column not in table.c:
                known = ", ".join(DATASETS[name])
                raise Mistake(where, f"{name} has no column {column!r}; its columns: {known}", key=True)
            converted[column] = _typed(table.c[column].type, value, clock, where, f"{name}.{column}")
        rows.append(converted)
    return FixtureTable(name, {column.name: column.type for column in table.c}, rows)


def _typed(kind: TypeEngine[Any], value: Any, clock: Clock, where: JsonPath, column: str) -> Any:
    """A value as the contract column stores it; numbers are accepted as text (error code 121)."""
    if value is None:
        return None
    try:
        if isinstance(kind, sa.DateTime):
            return clock.moment(_text(value))
        if isinstance(kind, sa.Date):
            return date.fromisoformat(_text(value))
        if isinstance(kind, sa.Boolean):
            if isinstance(value, bool):
                return value
            raise ValueError(value)
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(kind, sa.Integer):
            if isinstance(value, int) or (isinstance(value, str) and _WHOLE.match(value)):
                return int(value)
            raise ValueError(value)
        if isinstance(kind, sa.Numeric):
            return Decimal(str(value))
        return str(value)
    except (ValueError, InvalidOperation):
        raise Mistake(where, f"{column} takes {_described(kind)}, not {value!r}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def _described(kind: TypeEngine[Any]) -> str:
    if isinstance(kind, sa.DateTime):
        return _TIME_FORMS
    if isinstance(kind, sa.Date):
        return "a date such as 2026-12-01"
    if isinstance(kind, sa.Boolean):
        return "true or false"
    if isinstance(kind, sa.Integer):
        return "a whole number"
    if isinstance(kind, sa.Numeric):
        return "a number"
    return "text or a number"


_TYPES: dict[str, TypeEngine[Any]] = {
    "boolean": sa.Boolean(),
    "integer": sa.BigInteger(),
    "number": sa.Float(),
    "date-time": sa.DateTime(),
    "date": sa.Date(),
    "text": sa.Text(),
}


def _other_table(name: str, items: Sequence[Row], clock: Clock, stamps: Sequence[str]) -> FixtureTable:
    """A table outside the contract: the union of the rows' columns, each typed by its values."""
    seen: dict[str, set[str]] = {}
    rows = []
    for path, row in _rows(items):
        converted = {}
        for column, value in row.items():
            kind, converted[column] = _inferred(value, clock, (name, *path, column))
            seen.setdefault(column, set()).update([kind] if kind else [])
        rows.append(converted)
    for stamp in stamps:
        if not seen.setdefault(stamp, {"date-time"}) <= {"date-time"}:
            raise Mistake(
                (name,), f"{stamp} is the monitored timestamp of {name}; its values must be date-times", key=True
            )
    columns = {column: _TYPES[_one_kind(name, column, kinds)] for column, kinds in seen.items()}
    return FixtureTable(name, columns, rows)


def _inferred(value: Any, clock: Clock, where: JsonPath) -> tuple[str | None, Any]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return "boolean", value
    if isinstance(value, int):
        return "integer", value
    if isinstance(value, float):
        return "number", value
    if _RELATIVE.match(value.strip()) or _DATE_TIME.match(value):
        try:
            return "date-time", clock.moment(value)
        except ValueError:
            raise Mistake(where, f"{value!r} is not a valid date-time; write {_TIME_FORMS}") from None
    if _DATE.match(value):
        try:
            return "date", date.fromisoformat(value)
        except ValueError:
            raise Mistake(where, f"{value!r} is not a valid date") from None
    return "text", value


def _one_kind(table: str, column: str, kinds: set[str]) -> str:
    if not kinds:
        return "text"  # only NULLs
    if kinds == {"integer", "number"}:
        return "number"
    if len(kinds) > 1:
        mixed = " and ".join(sorted(kinds))
        raise Mistake((table,), f"column {column!r} of {table} mixes {mixed} values; write one kind", key=True)
    return next(iter(kinds))
