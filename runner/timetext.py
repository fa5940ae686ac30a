"""Timestamps a CRM stores as text, converted to real date/times in SQL.

The configuration declares such a column's type and a strftime format, e.g.
``created_at: {column: crt_ts, type: text, format: "%Y-%m-%dT%H:%M:%S"}``. :func:`text_to_time`
turns the column into an SQL expression typed ``sa.DateTime()`` (or ``sa.Date()``): it compares
correctly with bound DateTime/Date parameters, aggregates with MAX/MIN and is read back by SQLAlchemy
as a Python datetime (or date). The conversion runs in the database, never row by row in Python.

Only fixed-width numeric fields are supported (see :data:`SUPPORTED`), so every value of a format has
the same length and every field a fixed position. That makes the conversion exact on SQLite, which has
no format-aware parser, and lets every dialect agree on which values are valid:

* surrounding spaces are trimmed (SQL ``trim()``, which removes spaces only);
* a value whose shape does not match the format (wrong length, a letter where a digit belongs, another
  literal character) becomes NULL;
* so does a value of the right shape that is no moment of the calendar (month 13, 30 February,
  29 February of a non-leap year, hour 24, minute 60, year 0). Without this guard PostgreSQL would
  raise an error for the whole query and MariaDB or SQLite would hand back a text that is no date.

Every constant (a position, a pattern) is rendered as an SQLAlchemy literal parameter
(``literal_execute``), quoted by SQLAlchemy, never formatted into the SQL by this module. Rendered
inline, two separately built conversions of the same column are the same SQL text, so PostgreSQL accepts
one in SELECT and the other in GROUP BY (with bound parameters they would be ``$1`` and ``$2``).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import reduce
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

SUPPORTED: Final[tuple[str, ...]] = ("%Y", "%m", "%d", "%H", "%M", "%S", "%f", "%%")
"""The strftime directives a text time format may use, besides literal characters (``%%`` is a ``%``)."""

KINDS: Final[tuple[str, ...]] = ("datetime", "date")

_WIDTH: Final = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "f": 6}
_REQUIRED: Final = {"date": "Ymd", "datetime": "YmdHM"}
_HIGHEST: Final = {"H": 23, "M": 59, "S": 59}
_POSTGRESQL: Final = {"Y": "YYYY", "m": "MM", "d": "DD", "H": "HH24", "M": "MI", "S": "SS", "f": "US"}
_MYSQL: Final = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "M": "%i", "S": "%s", "f": "%f"}
_MYSQL_PERCENT: Final = "~"  # any character but %: the shape check has verified every literal
_REGEX_SPECIAL: Final = frozenset("\\.^$|?*+()[]{}")
_GLOB_SPECIAL: Final = frozenset("*?[")
_PG_QUOTED: Final = frozenset('"\\')
_USE = "use %Y %m %d %H %M %S %f and literal characters"


class _Part(NamedTuple):
    """One piece of a format: a field (``field`` is Y, m, ...) or one literal character (``field`` is "")."""

    field: str
    text: str


class _Layout(NamedTuple):
    """A parsed format: its pieces, and the 1-based position in a value of each field present."""

    parts: tuple[_Part, ...]
    starts: dict[str, int]


def _layout(fmt: str) -> _Layout:
    """Parse ``fmt``; ValueError for a directive outside SUPPORTED, a lone ``%`` or a field given twice."""
    parts: list[_Part] = []
    starts: dict[str, int] = {}
    position, index = 1, 0
    while index < len(fmt):
        char = fmt[index]
        if char != "%":
            parts.append(_Part("", char))
            position, index = position + 1, index + 1
            continue
        if index + 1 == len(fmt):
            raise ValueError(f"format {fmt!r}: a lone % at the end; write %% for a literal %")
        directive = fmt[index + 1]
        index += 2
        if directive == "%":
            parts.append(_Part("", "%"))
            position += 1
        elif directive in _WIDTH:
            if directive in starts:
                raise ValueError(f"format {fmt!r}: %{directive} appears twice")
            parts.append(_Part(directive, ""))
            starts[directive] = position
            position += _WIDTH[directive]
        else:
            raise ValueError(f"format {fmt!r}: %{directive} is not supported; {_USE}")
    return _Layout(tuple(parts), starts)


def check_format(fmt: str, kind: str) -> None:
    """Raise ValueError, with a one-line message for the user, unless ``fmt`` can be converted in SQL.

    ``kind`` is "datetime" or "date". Besides literal characters only the fixed-width directives of
    SUPPORTED may appear, each at most once. A date format needs %Y %m %d (time fields are allowed and
    dropped); a datetime format needs %Y %m %d %H %M, with seconds defaulting to 00 and microseconds
    (%f, which needs %S) to 000000.
    """
    if kind not in KINDS:
        raise ValueError(f"format {fmt!r}: kind {kind!r} is not supported; use datetime or date")
    present = _layout(fmt).starts
    missing = [f"%{field}" for field in _REQUIRED[kind] if field not in present]
    if missing:
        needed = " ".join(f"%{field}" for field in _REQUIRED[kind])
        raise ValueError(f"format {fmt!r}: a {kind} format needs {needed}; {' '.join(missing)} missing")
    if "f" in present and "S" not in present:
        raise ValueError(f"format {fmt!r}: %f (microseconds) needs %S (seconds)")


def _regex(layout: _Layout) -> str:
    """The shape of a value as a regular expression, without anchors: digits for fields, literals escaped.

    Only ASCII digits, and backslash escapes of regex metacharacters, so the same text means the same
    to PostgreSQL (ARE), MariaDB (PCRE) and Python (MySQL 8's ICU is meant to agree; it is not tested).
    """
    return "".join(
        f"[0-9]{{{_WIDTH[part.field]}}}" if part.field else _escaped(part.text, _REGEX_SPECIAL) for part in layout.parts
    )


def _glob(layout: _Layout) -> str:
    """The shape of a value as an SQLite GLOB pattern (case sensitive, one character per element)."""
    return "".join(
        "[0-9]" * _WIDTH[part.field] if part.field else _escaped(part.text, _GLOB_SPECIAL, "[{}]")
        for part in layout.parts
    )


def _escaped(char: str, special: frozenset[str], escape: str = "\\{}") -> str:
    """A literal character, escaped (by the template ``escape``) if it is ``special``."""
    return escape.format(char) if char in special else char


def _postgresql_pattern(layout: _Layout) -> str:
    """The format as a PostgreSQL to_timestamp/to_date template.

    Runs of literal characters are double-quoted (a bare T or D could be read as a template pattern),
    with ``"`` and ``\\`` backslash-escaped inside the quotes.
    """
    pattern: list[str] = []
    for part in layout.parts:
        if part.field:
            pattern.append(_POSTGRESQL[part.field])
        elif pattern and pattern[-1].startswith('"'):
            pattern[-1] = pattern[-1][:-1] + _escaped(part.text, _PG_QUOTED) + '"'
        else:
            pattern.append('"' + _escaped(part.text, _PG_QUOTED) + '"')
    return "".join(pattern)


def _mysql_format(layout: _Layout) -> str:
    """The format as a MySQL/MariaDB STR_TO_DATE format (minutes are %i there, %M is a month name).

    A literal % is written as _MYSQL_PERCENT: MariaDB's STR_TO_DATE does not match %% (DATE_FORMAT does),
    so the value's % are replaced by the same character first (see text_to_time).
    """
    return "".join(
        _MYSQL[part.field] if part.field else part.text.replace("%", _MYSQL_PERCENT) for part in layout.parts
    )


def _lit(value: str | int) -> sa.BindParameter[Any]:
    """A constant, rendered inline by SQLAlchemy at execution (quoted by the dialect, not by this module)."""
    return sa.literal(value, literal_execute=True)


def _piece(text: sa.ColumnElement[str], layout: _Layout, field: str) -> sa.ColumnElement[str]:
    """The characters of ``field`` in the trimmed value."""
    return sa.type_coerce(sa.func.substr(text, _lit(layout.starts[field]), _lit(_WIDTH[field])), sa.String())


def _in_calendar(text: sa.ColumnElement[str], layout: _Layout) -> sa.ColumnElement[bool]:
    """Whether the fields of a value of the right shape (all digits) form a real moment; portable SQL."""
    number = {field: sa.cast(_piece(text, layout, field), sa.Integer()) for field in layout.starts}
    year, month, day = number["Y"], number["m"], number["d"]
    leap = sa.or_(
        sa.and_(year % _lit(4) == _lit(0), year % _lit(100) != _lit(0)),
        year % _lit(400) == _lit(0),
    )
    days = sa.case(
        (month == _lit(2), sa.case((leap, _lit(29)), else_=_lit(28))),
        (sa.or_(*(month == _lit(short) for short in (4, 6, 9, 11))), _lit(30)),
        else_=_lit(31),
    )
    conditions = [year >= _lit(1), month.between(_lit(1), _lit(12)), day.between(_lit(1), days)]
    conditions += [number[field] <= _lit(highest) for field, highest in _HIGHEST.items() if field in number]
    return sa.and_(*conditions)


def _sqlite_text(text: sa.ColumnElement[str], layout: _Layout, kind: str) -> sa.ColumnElement[str]:
    """The value rebuilt as SQLAlchemy's SQLite storage text: 'YYYY-MM-DD HH:MM:SS.ffffff' or 'YYYY-MM-DD'.

    That is exactly what ``sqlalchemy.dialects.sqlite.DATETIME`` / ``DATE`` bind (microseconds always
    six digits), so comparing as text with a bound parameter is comparing moments, and MAX/MIN are right.
    """
    shape: list[tuple[str, str]] = [("Y", ""), ("", "-"), ("m", ""), ("", "-"), ("d", "")]
    if kind == "datetime":
        shape += [("", " "), ("H", ""), ("", ":"), ("M", ""), ("", ":"), ("S", "00"), ("", "."), ("f", "000000")]
    pieces: list[sa.ColumnElement[str] | str] = []
    for field, constant in shape:
        if field in layout.starts:
            pieces.append(_piece(text, layout, field))
        elif pieces and isinstance(pieces[-1], str):
            pieces[-1] += constant
        else:
            pieces.append(constant)
    columns = [_lit(piece) if isinstance(piece, str) else piece for piece in pieces]
    return reduce(lambda left, right: left + right, columns)


def text_to_time(column: sa.ColumnElement[Any], fmt: str, kind: str, dialect: str) -> sa.ColumnElement[Any]:
    """``column`` (text in ``fmt``) converted in SQL, typed sa.DateTime() or, for kind "date", sa.Date().

    ``dialect`` is the SQLAlchemy dialect name: "sqlite", "postgresql" or "mysql" (MariaDB too).
    NULL, and any value that is not a moment written in ``fmt`` (after trimming spaces), give NULL.
    The result is a naive wall-clock time as written; no session time zone moves it.

    * sqlite: the value rebuilt with ``substr()`` and ``||`` as SQLAlchemy's storage text (see _sqlite_text).
    * postgresql: ``to_timestamp(value || ' +00', pattern || ' TZH')`` read back ``AT TIME ZONE 'UTC'``,
      a ``timestamp without time zone``. (``to_timestamp(value, pattern)::timestamp`` would round-trip
      through the session time zone and move times in a DST gap: 02:30 becomes 03:30 in Europe/Berlin
      on the last Sunday of March.) For a date, ``to_date(value, pattern)``.
    * mysql: ``CAST(STR_TO_DATE(value, format) AS DATETIME(6))`` (or ``AS DATE``).

    Raises ValueError for a format check_format rejects or another dialect.
    """
    check_format(fmt, kind)
    layout = _layout(fmt)
    text = sa.type_coerce(sa.func.trim(column), sa.String())
    shaped: sa.ColumnElement[bool]
    parsed: sa.ColumnElement[Any]
    if dialect == "sqlite":
        shaped = text.op("GLOB", is_comparison=True)(_lit(_glob(layout)))
        parsed = _sqlite_text(text, layout, kind)
    elif dialect == "postgresql":
        shaped = text.regexp_match(_lit(f"^{_regex(layout)}$"))
        pattern = _postgresql_pattern(layout)
        if kind == "date":
            parsed = sa.func.to_date(text, _lit(pattern))
        else:
            parsed = sa.func.timezone(_lit("UTC"), sa.func.to_timestamp(text + _lit(" +00"), _lit(f"{pattern} TZH")))
    elif dialect == "mysql":
        # (?-i): REGEXP follows the column's collation, case-insensitive by default; literals are not.
        shaped = text.regexp_match(_lit(f"(?-i)^{_regex(layout)}$"))
        target = sa.Date() if kind == "date" else mysql.DATETIME(fsp=6)
        source = text
        if any(part.text == "%" for part in layout.parts):
            source = sa.type_coerce(sa.func.replace(text, _lit("%"), _lit(_MYSQL_PERCENT)), sa.String())
        parsed = sa.cast(sa.func.str_to_date(source, _lit(_mysql_format(layout))), target)
    else:
        raise ValueError(f"text times (format {fmt!r}) are not supported on dialect {dialect}")
    # Nested: PostgreSQL evaluates CASE branches in order, so the integer casts only see digits and
    # to_timestamp only real moments (the operands of AND have no guaranteed order).
    converted = sa.case((shaped, sa.case((_in_calendar(text, layout), parsed))))
    return sa.type_coerce(converted, sa.Date() if kind == "date" else sa.DateTime())


def parses(value: str, fmt: str) -> bool:
    """Whether a sample ``value`` is a moment written in ``fmt``, by the same rules as the SQL.

    Spaces around it are trimmed, as SQL ``trim()`` does; then it must have the format's exact shape
    (``datetime.strptime`` alone would accept '2026-1-5' for '%Y-%m-%d' and ignore letter case) and
    ``datetime.strptime`` must accept it. ValueError for a format with an unsupported directive.
    """
    trimmed = value.strip(" ")
    if re.fullmatch(_regex(_layout(fmt)), trimmed) is None:
        return False
    try:
        datetime.strptime(trimmed, fmt)
    except ValueError:
        return False
    return True
