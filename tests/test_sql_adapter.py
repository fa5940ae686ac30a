"""The SQLAlchemy adapter against SQLite and the real PostgreSQL and MariaDB servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.adapter import SourceError, open_adapter
from runner.sources import Column, DatasetMapping, SourceConfig

from .databases import BACKENDS, MARIADB_ADMIN, scratch_database

CRM_SCHEMA = """
CREATE TABLE crm_partners (partner_guid VARCHAR(40), partner_kind VARCHAR(20), created_at VARCHAR(30))
"""
ROWS = [
    ("c1", "vip", "2026-11-01 10:00:00"),
    ("c2", "regular", "2026-11-02 11:00:00"),
    ("c3", "vip", "2026-11-03 12:00:00"),
]


@pytest.fixture(params=BACKENDS)
def crm_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with scratch_database(request.param, tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(CRM_SCHEMA))
            for guid, kind, created in ROWS:
                connection.execute(
                    sa.text("INSERT INTO crm_partners VALUES (:g, :k, :c)"), {"g": guid, "k": kind, "c": created}
                )
        engine.dispose()
        yield url


def source(url: str, **datasets: DatasetMapping) -> SourceConfig:
    return SourceConfig(name="crm", url=url, statement_timeout_seconds=1, max_concurrent_queries=2, datasets=datasets)


CREATED_AS_TEXT = Column("created_at", "text", "%Y-%m-%d %H:%M:%S", line=7)
RENAMED = DatasetMapping(
    table="crm_partners",
    columns={"customer_id": "partner_guid", "customer_type": "partner_kind", "created_at": CREATED_AS_TEXT},
    line=4,
)


def test_table_dataset_speaks_the_contract_columns_with_bound_parameters(crm_url: str):
    adapter = open_adapter(source(crm_url, customers=RENAMED))
    customers = adapter.dataset("customers")
    query = (
        sa.select(customers.c.customer_id, customers.c.customer_type)
        .where(customers.c.customer_type == sa.bindparam("kind"))
        .order_by(customers.c.customer_id)
    )
    assert "vip" not in str(query.compile(compile_kwargs={}))
    rows = adapter.fetch(query.params(kind="vip"), check="test.check")
    assert rows == [{"customer_id": "c1", "customer_type": "vip"}, {"customer_id": "c3", "customer_type": "vip"}]
    adapter.close()


def test_query_dataset(crm_url: str):
    mapping = DatasetMapping(
        query="SELECT partner_guid AS customer_id, partner_kind AS customer_type, "
        "created_at FROM crm_partners WHERE partner_kind = 'regular'",
        columns={"created_at": CREATED_AS_TEXT},
    )
    adapter = open_adapter(source(crm_url, customers=mapping))
    customers = adapter.dataset("customers")
    assert adapter.fetch(sa.select(sa.func.count()).select_from(customers)) == [{"count_1": 1}]
    adapter.close()


def test_missing_table_names_the_dataset_and_its_line(crm_url: str):
    adapter = open_adapter(source(crm_url, customers=DatasetMapping(table="no_such_table", line=12)))
    with pytest.raises(SourceError) as caught:
        adapter.fetch(sa.select(adapter.dataset("customers")), check="customers.freshness")
    assert caught.value.source == "crm"
    assert caught.value.message == "dataset customers -> no_such_table (rules/sources.yaml:12): no such table"
    assert not caught.value.unreachable
    adapter.close()


def test_missing_column_names_dataset_column_and_line(crm_url: str):
    mapping = DatasetMapping(table="crm_partners", columns={"customer_id": Column("partner_uuid", line=9)}, line=8)
    adapter = open_adapter(source(crm_url, customers=mapping))
    with pytest.raises(SourceError) as caught:
        adapter.dataset("customers")
    # created_at exists; customer_type is not mapped and crm_partners has no such column either
    assert caught.value.message == (
        "dataset customers, column customer_id -> crm_partners.partner_uuid (rules/sources.yaml:9): no such column"
        " (and 1 more: `campaign-guard sources check crm`)"
    )
    adapter.close()


def test_time_stored_as_text_without_a_declaration_is_named_never_compared_as_text(crm_url: str):
    engine = sa.create_engine(crm_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE crm_iso (guid VARCHAR(40), kind VARCHAR(20), created_at VARCHAR(30))"))
        connection.execute(sa.text("INSERT INTO crm_iso VALUES ('c1', 'vip', '2026-11-01T10:00:00')"))
    engine.dispose()
    mapping = DatasetMapping(table="crm_iso", columns={"customer_id": "guid", "customer_type": "kind"}, line=4)
    adapter = open_adapter(source(crm_url, customers=mapping))
    with pytest.raises(SourceError) as caught:
        adapter.dataset("customers")
    assert caught.value.message == (
        "dataset customers, column created_at -> crm_iso.created_at (rules/sources.yaml:4): holds text such as "
        "'2026-11-01T10:00:00', not a timestamp; declare how it is written: "
        'created_at: {column: ..., type: text, format: "%Y-%m-%dT%H:%M:%S"}'
    )
    adapter.close()


def test_sqlite_times_as_sqlalchemy_writes_them_need_no_declaration(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(CRM_SCHEMA))
        connection.execute(sa.text("INSERT INTO crm_partners VALUES ('c1', 'vip', '2026-11-01 10:00:00.000000')"))
    engine.dispose()
    mapping = DatasetMapping(
        table="crm_partners", columns={"customer_id": "partner_guid", "customer_type": "partner_kind"}
    )
    adapter = open_adapter(source(url, customers=mapping))
    customers = adapter.dataset("customers")
    assert adapter.fetch(sa.select(customers.c.customer_id)) == [{"customer_id": "c1"}]
    adapter.close()


def test_time_stored_as_text_is_converted_in_sql(crm_url: str):
    adapter = open_adapter(source(crm_url, customers=RENAMED))
    customers = adapter.dataset("customers")
    since = sa.bindparam("since", type_=sa.DateTime())
    query = sa.select(customers.c.customer_id).where(customers.c.created_at >= since).order_by(customers.c.customer_id)
    rows = adapter.fetch(query.params(since=datetime(2026, 11, 2, 11, 0)))
    assert rows == [{"customer_id": "c2"}, {"customer_id": "c3"}]
    adapter.close()


SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000000) "
    "SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(5)",
    "mariadb": "SELECT SLEEP(5)",
}


def test_query_over_the_statement_timeout(crm_url: str):
    backend = sa.engine.make_url(crm_url).get_backend_name()
    adapter = open_adapter(source(crm_url))
    with pytest.raises(SourceError) as caught:
        adapter.fetch(sa.text(SLOW["mariadb" if backend == "mysql" else backend]), check="slow.check")
    assert caught.value.message == "query exceeded the statement timeout of 1 s"
    adapter.close()


def test_a_sqlite_file_that_does_not_exist_is_not_created_but_reported(tmp_path: Path):
    missing = tmp_path / "typo" / "crm.db"
    with pytest.raises(SourceError) as caught:
        open_adapter(source(f"sqlite:///{missing}"))
    assert caught.value.message == f"cannot connect to sqlite:///{missing}: no database file {missing}"
    assert caught.value.unreachable  # exit 4 in sources check: the source did not answer, the mapping is not wrong
    assert not missing.exists()


def test_unmapped_dataset_says_where_to_map_it(tmp_path: Path):
    sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}").connect().close()
    adapter = open_adapter(source(f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(SourceError) as caught:
        adapter.dataset("messages")
    assert caught.value.message == "dataset 'messages' is not mapped; add it under datasets in rules/sources.yaml"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:1/postgres",
            "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/postgres: ",
        ),
        ("mysql+pymysql://root@127.0.0.1:1/test", "cannot connect to mysql+pymysql://root@127.0.0.1:1/test: "),
    ],
)
def test_unreachable_server(url: str, expected: str):
    adapter = open_adapter(source(url))
    with pytest.raises(SourceError) as caught:
        adapter.fetch(sa.text("SELECT 1"), check="c")
    assert caught.value.message.startswith(expected)


def test_wrong_credentials_never_show_the_password():
    url = sa.engine.make_url(MARIADB_ADMIN).set(username="campaign_guard_nobody", password="s3cret-pw")
    adapter = open_adapter(source(url.render_as_string(hide_password=False)))
    with pytest.raises(SourceError) as caught:
        adapter.fetch(sa.text("SELECT 1"), check="c")
    assert "Access denied" in caught.value.message
    assert caught.value.message.startswith("cannot connect to mysql+pymysql://campaign_guard_nobody:***@")
    assert "s3cret-pw" not in str(caught.value)


def test_missing_driver_names_the_extra_to_install():
    with pytest.raises(SourceError) as caught:
        open_adapter(source("mysql+mysqldb://root@127.0.0.1/test"))
    assert caught.value.message == "the database driver 'MySQLdb' is not installed; pip install 'campaign-guard[mysql]'"


def test_unknown_dialect_and_malformed_url():
    with pytest.raises(SourceError, match="unknown database dialect 'nosuchdb'"):
        open_adapter(source("nosuchdb://host/db"))
    with pytest.raises(SourceError, match="not a SQLAlchemy URL"):
        open_adapter(source("just some text"))


def test_statements_run_in_one_transaction(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'switch.db'}"
    sa.create_engine(url).connect().close()
    adapter = open_adapter(source(url))
    adapter.run_statements(["CREATE TABLE outbound_switch (enabled INTEGER)", "INSERT INTO outbound_switch VALUES (1)"])
    with pytest.raises(SourceError):
        adapter.run_statements(["UPDATE outbound_switch SET enabled = 0", "UPDATE no_such_table SET x = 1"])
    assert adapter.fetch(sa.text("SELECT enabled FROM outbound_switch")) == [{"enabled": 1}]
    adapter.close()


def test_sql_over_datasets_inlines_each_dataset_used_twice(crm_url: str):
    """A WITH used twice is a temporary copy of the whole table on PostgreSQL unless NOT MATERIALIZED."""
    adapter = open_adapter(source(crm_url, customers=RENAMED))
    sql = (
        "SELECT a.customer_id FROM customers a JOIN customers b ON b.customer_type = a.customer_type "
        "AND b.customer_id <> a.customer_id ORDER BY a.customer_id"
    )
    statement = adapter.over_datasets(sql)
    inline = "" if crm_url.startswith("mysql") else " NOT MATERIALIZED"  # MariaDB merges a WITH by itself
    table = "main.crm_partners" if crm_url.startswith("sqlite") else "crm_partners"  # SQLite: not the WITH itself
    assert statement.text.startswith(f"WITH customers AS{inline} (SELECT {table}.partner_guid AS customer_id")
    assert adapter.fetch(statement) == [{"customer_id": "c1"}, {"customer_id": "c3"}]
    adapter.close()


def test_a_query_dataset_may_end_in_a_semicolon_and_a_comment(crm_url: str):
    mapping = DatasetMapping(
        query="SELECT partner_guid AS customer_id, partner_kind AS customer_type, created_at\n"
        "FROM crm_partners WHERE partner_kind = 'vip';  -- only the VIPs",
        columns={"created_at": CREATED_AS_TEXT},
    )
    adapter = open_adapter(source(crm_url, customers=mapping))
    customers = adapter.dataset("customers")
    query = sa.select(customers.c.customer_id).order_by(customers.c.customer_id)
    assert adapter.fetch(query) == [{"customer_id": "c1"}, {"customer_id": "c3"}]
    functional = adapter.over_datasets("SELECT COUNT(*) AS vips FROM customers")
    assert adapter.fetch(functional) == [{"vips": 2}]
    adapter.close()


SEQUENCE_FIRST = {"postgresql": "SELECT nextval('seq') AS n", "mariadb": "SELECT NEXTVAL(seq) AS n"}
SEQUENCE_NOW = {
    "postgresql": "SELECT last_value AS n FROM seq",
    "mariadb": "SELECT next_not_cached_value AS n FROM seq",
}


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_check_cannot_advance_a_sequence_of_the_source(backend: str, tmp_path: Path):
    """A SELECT may call functions that write (nextval()): the read-only transaction refuses them."""
    with scratch_database(backend, tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE SEQUENCE seq"))
        with engine.connect() as connection:  # closed at once: an open transaction would hold the sequence
            before = connection.execute(sa.text(SEQUENCE_NOW[backend])).scalar()
        adapter = open_adapter(source(url))
        try:
            with pytest.raises(SourceError) as refused:
                adapter.fetch(sa.text(SEQUENCE_FIRST[backend]), check="sneaky")
        finally:
            adapter.close()
        assert refused.value.message.startswith("the source refused a write in a read-only transaction (")
        assert refused.value.message.endswith("); a check may only read")
        assert not refused.value.unreachable
        with engine.connect() as connection:
            assert connection.execute(sa.text(SEQUENCE_NOW[backend])).scalar() == before
        engine.dispose()


def test_sqlite_source_refuses_a_write_from_a_check(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    adapter = open_adapter(source(url))
    with pytest.raises(SourceError) as refused:
        adapter.fetch(sa.text("INSERT INTO t VALUES (1) RETURNING n"), check="sneaky")
    assert str(refused.value) == (
        "source 'crm' (check sneaky): the source refused a write in a read-only transaction "
        "(attempt to write a readonly database); a check may only read"
    )
    adapter.run_statements(["INSERT INTO t VALUES (2)"])  # a declared action still writes
    assert adapter.fetch(sa.text("SELECT n FROM t")) == [{"n": 2}]
    adapter.close()
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_declared_actions_write_on_a_server_source(backend: str, tmp_path: Path):
    with scratch_database(backend, tmp_path) as url:
        adapter = open_adapter(source(url))
        adapter.run_statements(["CREATE TABLE switch (enabled INTEGER)", "INSERT INTO switch VALUES (1)"])
        assert adapter.fetch(sa.text("SELECT enabled FROM switch")) == [{"enabled": 1}]
        with pytest.raises(SourceError, match="refused a write in a read-only transaction"):
            adapter.fetch(sa.text("DELETE FROM switch"))
        assert adapter.fetch(sa.text("SELECT enabled FROM switch")) == [{"enabled": 1}]
        adapter.close()
