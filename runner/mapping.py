"""A dataset as the contract sees it, built over its mapping in rules/sources.yaml.

The mapping layer is the one place where a foreign CRM is made to speak the contract: real
columns renamed to logical ones, vocabulary columns trimmed and lower-cased, times stored as
text converted in SQL. Checks never see a real name or a raw spelling.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause
from sqlalchemy.types import TypeEngine

from runner.contract import NORMALIZED, column_type, time_kind
from runner.sources import Column, DatasetMapping, SamplePolicy
from runner.timetext import text_to_time

_TRAILING = re.compile(r";(\s*(--[^\n]*)?\s*)$")


def query_body(sql: str) -> str:
    """A query as the body of a subquery: without its closing semicolon (also one before a last
    -- comment), and ending in a newline, so that a last -- comment cannot swallow the ")" after it."""
    return _TRAILING.sub(r"\1", sql.strip()).rstrip() + "\n"


def datasets_named(sql: str, names: Iterable[str]) -> list[str]:
    """The datasets a query written against dataset names mentions, as words."""
    return [name for name in names if re.search(rf"\b{name}\b", sql)]


def base(mapping: DatasetMapping, reals: Iterable[str], dialect: str, alias: str) -> FromClause:
    """The mapped table or query with its real columns, untyped (raw values)."""
    wanted = list(dict.fromkeys(reals))
    if mapping.query is not None:
        return sa.text(query_body(mapping.query)).columns(*(sa.column(real) for real in wanted)).subquery(alias)
    assert mapping.table is not None
    schema, _, table_name = mapping.table.rpartition(".")
    # SQLite: a WITH clause named like its own table would refer to itself; main.t is the table
    owner = schema or ("main" if dialect == "sqlite" else None)
    return sa.table(table_name, *(sa.column(real) for real in wanted), schema=owner)


def logical_columns(
    name: str,
    mapping: DatasetMapping,
    columns: Iterable[str],
    dialect: str,
    rows: FromClause,
    times: Collection[str] = (),
) -> list[ColumnElement[Any]]:
    """Each logical column as an expression over the real rows, labelled with its logical name.

    times: columns that hold moments though the contract does not name them (a monitored table's).
    """
    normalized = NORMALIZED.get(name, ())
    found: list[ColumnElement[Any]] = []
    for logical in columns:
        column = mapping.column(logical)
        raw = rows.c[column.real]
        typed = sa.DateTime() if logical in times else column_type(logical)
        found.append(_expression(logical, column, raw, dialect, logical in normalized, typed).label(logical))
    return found


def _expression(
    logical: str,
    column: Column,
    raw: ColumnElement[Any],
    dialect: str,
    normalized: bool,
    typed: TypeEngine[Any] | None,
) -> ColumnElement[Any]:
    if column.type == "text":
        assert column.format is not None
        return text_to_time(raw, column.format, time_kind(logical), dialect)
    if normalized:
        return sa.func.lower(sa.func.trim(raw), type_=sa.String())
    return sa.type_coerce(raw, typed) if typed is not None else raw


def contract_rows(
    name: str, mapping: DatasetMapping, columns: Iterable[str], dialect: str, times: Collection[str] = ()
) -> sa.Subquery:
    """SELECT the logical columns FROM the mapped table or query, as a subquery named like the dataset."""
    columns = list(columns)
    rows = base(mapping, (mapping.real_column(c) for c in columns), dialect, f"{name}_mapped")
    selected = logical_columns(name, mapping, columns, dialect, rows, times)
    return sa.select(*selected).select_from(rows).subquery(name)


def where(name: str, mapping: DatasetMapping, logical: str | None = None, noun: str = "dataset") -> str:
    """How a message names a mapping: "dataset messages -> zcrm_msg", "dataset launches (query)", or a
    column of it: "dataset messages, column status -> zcrm_msg.msg_status"."""
    if logical is None:
        return f"{noun} {name} -> {mapping.table}" if mapping.table else f"{noun} {name} (query)"
    return f"{noun} {name}, column {logical} -> {mapping.origin}.{mapping.column(logical).real}"


MASK = "***"


def redact(row: Mapping[str, Any], policies: Iterable[tuple[Iterable[str], SamplePolicy]]) -> dict[str, Any]:
    """A sample row as the sources allow it to be shown: masked columns as ***1234, hidden ones left out.

    Columns are matched by name: a policy applies to every sample column of that name.
    """
    masked: set[str] = set()
    hidden: set[str] = set()
    for columns, policy in policies:
        masked |= policy.mask
        hidden |= policy.hidden(columns)
    shown = {}
    for key, value in row.items():
        if key in hidden:
            continue
        shown[key] = mask(value) if key in masked and value is not None else value
    return shown


def pseudonym(value: Any) -> str | None:
    """A private key shown masked, with a short digest that keeps two customers apart: ***1234#5f2a9c."""
    if value is None:
        return None
    digest = hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:6]
    return f"{mask(value)}#{digest}"


def mask(value: Any) -> str:
    text = str(value)
    return MASK + text[-4:] if len(text) > 4 else MASK
