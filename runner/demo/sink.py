"""Bulk loading of generated rows: batches through the fastest path each database offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

BATCH = 50_000


class Sink:
    """Rows are buffered per table and written in batches (COPY on PostgreSQL, executemany elsewhere)."""

    def __init__(self, connection: Connection, tables: dict[str, sa.Table]) -> None:
        self.connection = connection
        self.tables = tables
        self.dialect = connection.dialect.name
        self._buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        self.counts: dict[str, int] = dict.fromkeys(tables, 0)

    def add(self, table: str, *row: Any) -> None:
        buffer = self._buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self._write(table)

    def flush(self) -> None:
        for table in self._buffers:
            self._write(table)

    def _write(self, name: str) -> None:
        rows = self._buffers[name]
        if not rows:
            return
        self.counts[name] += len(rows)
        table = self.tables[name]
        columns = [column.name for column in table.columns]
        raw: Any = self.connection.connection.dbapi_connection
        if self.dialect == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marker = "?" if self.dialect == "sqlite" else "%s"
            statement = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
            cursor = raw.cursor()
            cursor.executemany(statement, [_stored(row) for row in rows] if self.dialect == "sqlite" else rows)
            cursor.close()
        self._buffers[name] = []


def _stored(row: Sequence[Any]) -> tuple[Any, ...]:
    """SQLite keeps times as text, in the format SQLAlchemy reads and binds."""
    return tuple(
        value.isoformat(" ", "microseconds")
        if isinstance(value, datetime)
        else value.isoformat()
        if isinstance(value, date)
        else value
        for value in row
    )
