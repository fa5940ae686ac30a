"""Text timestamps converted in SQL, against SQLite and the real PostgreSQL and MariaDB servers.

One scratch database per backend holds, for every format, the same moments written as text in that
format (some with surrounding spaces), a NULL and values that are not moments in that format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from runner.timetext import SUPPORTED, check_format, parses, text_to_time

from .databases import BACKENDS, scratch_database

DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y'%m\"%d\\%H:%M %%",  # quotes, a backslash and a percent sign as literal characters
)
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
FORMATS = DATETIME_FORMATS + DATE_FORMATS

MOMENTS = {  # id: the moment, written in every format
    1: datetime(2026, 12, 1, 9, 0, 0),  # exactly the window's start
    2: datetime(2026, 12, 1, 10, 15, 30, 250000),
    3: datetime(2026, 11, 30, 23, 59, 59, 999999),  # just before the window
    4: datetime(2026, 12, 2, 0, 0, 0),  # exactly the window's end (excluded)
    5: datetime(2028, 2, 29, 12, 5, 7, 1),  # the latest; a leap day
    6: datetime(2000, 2, 29, 0, 0, 0),  # the earliest; leap day by the 400-year rule
    7: datetime(2026, 3, 29, 2, 30, 0),  # a wall-clock time that does not exist in Europe/Berlin (DST gap)
}
PADDED = {2: "  {}  ", 5: " {}", 6: "{}   "}  # how some values are stored: surrounding spaces
WINDOW_START, WINDOW_END = datetime(2026, 12, 1, 9, 0, 0), datetime(2026, 12, 2, 0, 0, 0)


def written(moment: datetime, fmt: str) -> str:
    return PADDED.get(next(k for k, v in MOMENTS.items() if v == moment), "{}").format(moment.strftime(fmt))


def not_moments(fmt: str) -> list[str]:
    """Values that are no moment in ``fmt``: each must come back NULL on every backend."""
    sample = MOMENTS[1].strftime(fmt)
    values = [
        sample[:-1],  # one character short
        sample + "0",  # one character long
        "x" + sample[1:],  # a letter where a digit belongs
        "",
        "   ",
        MOMENTS[1].strftime(fmt.replace("%m", "13")),
        MOMENTS[1].strftime(fmt.replace("%m", "00")),
        MOMENTS[1].strftime(fmt.replace("%d", "32")),
        MOMENTS[1].strftime(fmt.replace("%m", "02").replace("%d", "30")),
        MOMENTS[1].strftime(fmt.replace("%Y", "2027").replace("%m", "02").replace("%d", "29")),  # not a leap year
        MOMENTS[1].strftime(fmt.replace("%Y", "2100").replace("%m", "02").replace("%d", "29")),  # centuries are not
        MOMENTS[1].strftime(fmt.replace("%Y", "0000")),
        MOMENTS[1].strftime(fmt.replace("%m", "04").replace("%d", "31")),
    ]
    if "%H" in fmt:
        values += [MOMENTS[1].strftime(fmt.replace(field, bad)) for field, bad in (("%H", "24"), ("%M", "60"))]
    if "%S" in fmt:
        values.append(MOMENTS[1].strftime(fmt.replace("%S", "60")))
    literal = next((i for i, char in enumerate(sample) if not char.isdigit()), None)
    if literal is not None:  # another literal character, and (for the T) another letter case
        values.append(sample[:literal] + "#" + sample[literal + 1 :])
        values.append(sample.replace("T", "t"))
    return sorted(set(values) - {sample})


def kind_of(fmt: str) -> str:
    return "date" if fmt in DATE_FORMATS else "datetime"


def expected(moment: datetime, fmt: str) -> datetime | date:
    """The moment as a value written in ``fmt`` holds it: without the fields the format leaves out."""
    if kind_of(fmt) == "date":
        return moment.date()
    if "%S" not in fmt:
        return moment.replace(second=0, microsecond=0)
    return moment if "%f" in fmt else moment.replace(microsecond=0)


def rows() -> list[dict[str, Any]]:
    """Every format's moments (ids 1-7), a NULL (id 8) and its non-moments (ids 100 on)."""
    result: list[dict[str, Any]] = []
    for fmt in FORMATS:
        result += [{"id": key, "fmt": fmt, "raw": written(moment, fmt)} for key, moment in MOMENTS.items()]
        result.append({"id": 8, "fmt": fmt, "raw": None})
        result += [{"id": 100 + n, "fmt": fmt, "raw": raw} for n, raw in enumerate(not_moments(fmt))]
    return result


METADATA = sa.MetaData()
STAMPS = sa.Table(
    "crm_stamps",
    METADATA,
    sa.Column("id", sa.Integer, nullable=False),
    sa.Column("fmt", sa.String(40), nullable=False),
    sa.Column("raw", sa.String(60)),
)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """One scratch database per backend with the crm_stamps table of every format."""
    with scratch_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        engine = sa.create_engine(url, poolclass=sa.NullPool)  # session settings of a test die with its connection
        METADATA.create_all(engine)
        with engine.begin() as connection:
            connection.execute(STAMPS.insert(), rows())
        yield engine
        engine.dispose()


def converted(engine: sa.Engine, fmt: str) -> sa.ColumnElement[Any]:
    return text_to_time(STAMPS.c.raw, fmt, kind_of(fmt), engine.dialect.name)


def read_back(connection: sa.Connection, fmt: str) -> dict[int, Any]:
    query = sa.select(STAMPS.c.id, converted(connection.engine, fmt)).where(STAMPS.c.fmt == fmt)
    return {key: value for key, value in connection.execute(query)}


def all_expected(fmt: str) -> dict[int, Any]:
    values: dict[int, Any] = {key: expected(moment, fmt) for key, moment in MOMENTS.items()}
    return values | {8: None} | {100 + n: None for n in range(len(not_moments(fmt)))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_read_back_as_the_exact_datetime_or_date(engine: sa.Engine, fmt: str) -> None:
    with engine.connect() as connection:
        values = read_back(connection, fmt)
    assert values == all_expected(fmt)
    assert {type(value) for value in values.values()} == {datetime if kind_of(fmt) == "datetime" else date, type(None)}


WINDOWS = {  # kind: the bound type, long ago, the window's start and end, far ahead
    "datetime": (sa.DateTime(), datetime(1999, 1, 1), WINDOW_START, WINDOW_END, datetime(2999, 1, 1)),
    "date": (sa.Date(), date(1999, 1, 1), date(2026, 12, 1), date(2026, 12, 2), date(2999, 1, 1)),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_window_with_bound_parameters_includes_its_start_and_excludes_its_end(engine: sa.Engine, fmt: str) -> None:
    """The bug this fixes: on SQLite '2026-12-01T10:00:00' >= '2026-12-01 09:00:00' compared the raw text."""
    bound, long_ago, start, end, far_ahead = WINDOWS[kind_of(fmt)]
    value = converted(engine, fmt)
    since, until = sa.bindparam("since", type_=bound), sa.bindparam("until", type_=bound)
    window = sa.select(STAMPS.c.id).where(STAMPS.c.fmt == fmt, value >= since, value < until).order_by(STAMPS.c.id)
    equal = sa.select(STAMPS.c.id).where(STAMPS.c.fmt == fmt, value == since).order_by(STAMPS.c.id)
    with engine.connect() as connection:
        assert connection.execute(window, {"since": start, "until": end}).scalars().all() == [1, 2]
        assert connection.execute(window, {"since": long_ago, "until": start}).scalars().all() == [3, 6, 7]
        assert connection.execute(window, {"since": end, "until": far_ahead}).scalars().all() == [4, 5]
        at_start = connection.execute(equal, {"since": start}).scalars().all()
    assert at_start == ([1] if kind_of(fmt) == "datetime" else [1, 2])


@pytest.mark.parametrize("fmt", FORMATS)
def test_max_and_min_are_the_latest_and_earliest_moment(engine: sa.Engine, fmt: str) -> None:
    value = converted(engine, fmt)
    query = sa.select(sa.func.max(value), sa.func.min(value)).where(STAMPS.c.fmt == fmt)
    with engine.connect() as connection:
        latest, earliest = connection.execute(query).one()
    # MAX/MIN keep the argument's type, so on SQLite the aggregated text comes back parsed as well.
    assert (latest, earliest) == (expected(MOMENTS[5], fmt), expected(MOMENTS[6], fmt))


@pytest.mark.parametrize(
    ("fmt", "kind", "value", "text"),
    [
        ("%d.%m.%Y %H:%M", "datetime", datetime(2026, 12, 1, 10, 15), "2026-12-01 10:15:00.000000"),
        ("%Y-%m-%d %H:%M:%S.%f", "datetime", datetime(2026, 12, 1, 10, 15, 30, 250000), "2026-12-01 10:15:30.250000"),
        ("%Y-%m-%d %H:%M:%S.%f", "date", date(2026, 12, 1), "2026-12-01"),
    ],
)
def test_sqlite_text_is_what_sqlalchemy_binds(fmt: str, kind: str, value: date, text: str) -> None:
    """On SQLite the raw value, MAX included, is exactly the text sqlalchemy.dialects.sqlite.DATETIME / DATE bind."""
    engine = sa.create_engine("sqlite://")
    bound_type = sa.DateTime() if kind == "datetime" else sa.Date()
    bind = bound_type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
    assert bind is not None
    assert bind(value) == text
    raw = sa.type_coerce(text_to_time(sa.literal(f"  {MOMENTS[2].strftime(fmt)} "), fmt, kind, "sqlite"), sa.String())
    with engine.connect() as connection:
        stored, latest = connection.execute(sa.select(raw, sa.func.max(raw))).one()
    engine.dispose()
    assert stored == latest == text
    parsed = datetime.fromisoformat(text)
    assert (parsed if kind == "datetime" else parsed.date()) == value


def test_two_separately_built_conversions_group_by(engine: sa.Engine) -> None:
    """Constants are rendered inline: PostgreSQL sees the same expression in SELECT and GROUP BY."""
    fmt = DATETIME_FORMATS[0]
    query = (
        sa.select(converted(engine, fmt), sa.func.count()).where(STAMPS.c.fmt == fmt).group_by(converted(engine, fmt))
    )
    with engine.connect() as connection:
        counts = {value: count for value, count in connection.execute(query)}
    assert counts == {expected(moment, fmt): 1 for moment in MOMENTS.values()} | {None: 1 + len(not_moments(fmt))}


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Berlin"])
def test_no_session_time_zone_moves_the_wall_clock_time(engine: sa.Engine, zone: str) -> None:
    """PostgreSQL's to_timestamp parses in the session zone; the value read back must not show it."""
    fmt = DATETIME_FORMATS[0]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text(f"SET TIME ZONE '{zone}'"))
            assert connection.execute(sa.text("SHOW TIME ZONE")).scalar_one() == zone
        elif engine.dialect.name == "mysql":
            connection.execute(sa.text("SET time_zone = '+09:00'"))
        values = read_back(connection, fmt)
    assert values == all_expected(fmt)
    assert values[7] == datetime(2026, 3, 29, 2, 30)  # not 03:30, where Berlin's clocks jump to


def test_the_sql_carries_the_format_as_quoted_literals() -> None:
    column = sa.table("crm", sa.column("crt_ts", sa.String())).c.crt_ts
    fmt = "%Y-%m-%dT%H:%M:%S"
    compiled = {
        name: str(
            sa.select(text_to_time(column, fmt, "datetime", name)).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        for name, dialect in (
            ("sqlite", sqlite.dialect()),
            ("postgresql", postgresql.dialect(paramstyle="named")),
            ("mysql", mysql.dialect(paramstyle="named")),
        )
    }
    assert "trim(crm.crt_ts) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:" in compiled["sqlite"]
    assert "|| ':' || substr(trim(crm.crt_ts), 18, 2) || '.000000' END END" in compiled["sqlite"]
    assert "trim(crm.crt_ts) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$'" in compiled["postgresql"]
    assert (
        'timezone(\'UTC\', to_timestamp(trim(crm.crt_ts) || \' +00\', \'YYYY"-"MM"-"DD"T"HH24":"MI":"SS TZH\'))'
        in compiled["postgresql"]
    )
    assert "CAST(str_to_date(trim(crm.crt_ts), '%Y-%m-%dT%H:%i:%s') AS DATETIME(6))" in compiled["mysql"]
    assert "REGEXP '(?-i)^[0-9]{4}-" in compiled["mysql"]
    with_quote = text_to_time(column, "%Y'%m-%d %H:%M", "datetime", "postgresql")
    assert "to_timestamp(trim(crm.crt_ts) || ' +00', 'YYYY\"''\"MM" in str(
        with_quote.compile(dialect=postgresql.dialect(paramstyle="named"), compile_kwargs={"literal_binds": True})
    )


def test_the_expression_is_typed_datetime_or_date() -> None:
    column = sa.column("crt_ts", sa.String())
    for dialect in ("sqlite", "postgresql", "mysql"):
        assert isinstance(text_to_time(column, "%Y-%m-%d %H:%M", "datetime", dialect).type, sa.DateTime)
        assert isinstance(text_to_time(column, "%Y-%m-%d", "date", dialect).type, sa.Date)


def test_other_dialects_are_refused() -> None:
    with pytest.raises(ValueError) as refused:
        text_to_time(sa.column("crt_ts"), "%Y-%m-%d", "date", "mssql")
    assert str(refused.value) == "text times (format '%Y-%m-%d') are not supported on dialect mssql"
    with pytest.raises(ValueError, match="%b is not supported"):
        text_to_time(sa.column("crt_ts"), "%d/%b/%Y", "date", "sqlite")


@pytest.mark.parametrize(
    ("fmt", "kind", "message"),
    [
        ("%d/%b/%Y", "date", "format '%d/%b/%Y': %b is not supported; use %Y %m %d %H %M %S %f and literal characters"),
        ("%d.%m.%y", "date", "format '%d.%m.%y': %y is not supported; use %Y %m %d %H %M %S %f and literal characters"),
        (
            "%Y-%m-%d %I:%M %p",
            "datetime",
            "format '%Y-%m-%d %I:%M %p': %I is not supported; use %Y %m %d %H %M %S %f and literal characters",
        ),
        ("%Y-%m", "date", "format '%Y-%m': a date format needs %Y %m %d; %d missing"),
        ("%Y-%m-%d", "datetime", "format '%Y-%m-%d': a datetime format needs %Y %m %d %H %M; %H %M missing"),
        ("%Y-%m-%d %H", "datetime", "format '%Y-%m-%d %H': a datetime format needs %Y %m %d %H %M; %M missing"),
        ("%Y-%m-%d %H:%M.%f", "datetime", "format '%Y-%m-%d %H:%M.%f': %f (microseconds) needs %S (seconds)"),
        ("%Y-%m-%d %", "date", "format '%Y-%m-%d %': a lone % at the end; write %% for a literal %"),
        ("%Y-%m-%d %Y", "date", "format '%Y-%m-%d %Y': %Y appears twice"),
        ("%Y-%m-%d", "time", "format '%Y-%m-%d': kind 'time' is not supported; use datetime or date"),
    ],
)
def test_check_format_refuses_with_one_line(fmt: str, kind: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_format(fmt, kind)
    assert str(refused.value) == message


def test_check_format_accepts_the_supported_directives() -> None:
    assert SUPPORTED == ("%Y", "%m", "%d", "%H", "%M", "%S", "%f", "%%")
    for fmt in DATETIME_FORMATS:
        check_format(fmt, "datetime")
    for fmt in (*DATE_FORMATS, "%Y%m%d", "%Y-%m-%d %H:%M"):  # a date may carry a time, which it drops
        check_format(fmt, "date")
    check_format("%H:%M %d/%m/%Y г.", "datetime")  # any order, any literal characters


@pytest.mark.parametrize(
    ("value", "fmt", "result"),
    [
        ("2026-12-01T10:15:00", "%Y-%m-%dT%H:%M:%S", True),
        ("  2026-12-01T10:15:00  ", "%Y-%m-%dT%H:%M:%S", True),
        ("2026-12-01t10:15:00", "%Y-%m-%dT%H:%M:%S", False),  # strptime alone ignores the case
        ("2026-12-01 10:15:00", "%Y-%m-%dT%H:%M:%S", False),
        ("2026-12-01T10:15", "%Y-%m-%dT%H:%M:%S", False),
        ("01.12.2026 10:15", "%d.%m.%Y %H:%M", True),
        ("1.12.2026 10:15", "%d.%m.%Y %H:%M", False),  # strptime alone accepts one digit
        ("20261201101500", "%Y%m%d%H%M%S", True),
        ("2026-12-01 10:15:00.000001", "%Y-%m-%d %H:%M:%S.%f", True),
        ("2026-12-01 10:15:00.1", "%Y-%m-%d %H:%M:%S.%f", False),
        ("2028-02-29", "%Y-%m-%d", True),
        ("2027-02-29", "%Y-%m-%d", False),
        ("2026-13-01", "%Y-%m-%d", False),
        ("\t2026-12-01", "%Y-%m-%d", False),  # SQL trim() removes spaces only
        ("", "%Y-%m-%d", False),
    ],
)
def test_parses(value: str, fmt: str, result: bool) -> None:
    assert parses(value, fmt) is result
