"""validate refuses a check whose SQL is not one SELECT (or WITH ... SELECT)."""

from __future__ import annotations

import pytest

from runner.static.queries import not_select

READS = [
    "SELECT 1",
    "SELECT 1;",
    "SELECT 1; -- done\n",
    "select 'a;b' -- x; DELETE\n",
    '/* ; UPDATE */ SELECT "x;" FROM t',
    "WITH a AS (SELECT 1), b (x) AS NOT MATERIALIZED (SELECT count(*) FROM a) SELECT * FROM b WHERE f(x) > 1",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
    "(SELECT 1) UNION (SELECT 2)",
    "SELECT $$;$$, $q$ ; DELETE $q$",
    "SELECT 'it''s; DROP TABLE t'",
    "SELECT EXTRACT(YEAR FROM d) FROM t WHERE CAST(a AS INT) > 1",
]


@pytest.mark.parametrize("sql", READS)
def test_one_select_passes(sql: str):
    assert not_select(sql) is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE t SET x = 1", ("found UPDATE", 1)),
        ("\n\n  insert into t values (1)", ("found INSERT", 3)),
        ("SELECT 1;\nDELETE FROM t", ("found two statements separated by ; (the second begins with DELETE)", 2)),
        ("SELECT 1; SELECT 2", ("found two statements separated by ; (the second begins with SELECT)", 1)),
        ("SELECT * INTO t2 FROM t", ("found SELECT ... INTO, which writes", 1)),
        ("WITH a AS (\nDELETE FROM t RETURNING *) SELECT * FROM a", ("found DELETE in a WITH", 2)),
        ("WITH a AS (SELECT 1)\nUPDATE t SET x = 1", ("found UPDATE", 2)),
        ("-- nothing\n", ("found no statement", 1)),
    ],
)
def test_anything_else_is_refused_at_its_line(sql: str, expected: tuple[str, int]):
    assert not_select(sql) == expected
