"""`campaign-guard sources check` against a deliberately foreign CRM on SQLite, PostgreSQL and MariaDB.

The CRM is built once per backend: tables named otherwise, times written as text, upper-case
statuses with values the contract does not know, NULLs where checks need a value. One
rules/sources.yaml maps it several times, once per source, each mapping broken in one way; every
command the tests look at is run once per backend, side by side, by the module fixture.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import NOW, ROOT, run_cli
from .databases import BACKENDS, scratch_database

FILE = "rules/sources.yaml"

metadata = sa.MetaData()
ZC_PARTNER = sa.Table(
    "zc_partner",
    metadata,
    sa.Column("partner", sa.String(20), primary_key=True),
    sa.Column("bp_type", sa.String(20)),
    sa.Column("crt_dt", sa.DateTime()),
)
ZC_PARTNER_OLD = sa.Table(  # the partners of the CRM's previous generation: types of their own
    "zc_partner_old",
    metadata,
    sa.Column("partner", sa.String(20), primary_key=True),
    sa.Column("bp_type", sa.String(20)),
    sa.Column("crt_dt", sa.DateTime()),
)
ZC_RUN = sa.Table(
    "zc_run",
    metadata,
    sa.Column("run_guid", sa.String(20), primary_key=True),
    sa.Column("camp", sa.String(40)),
    sa.Column("elem", sa.String(40)),
    sa.Column("start_ts", sa.String(30)),  # text: '2026-11-22 09:00:00'
    sa.Column("mode_txt", sa.String(10)),
    sa.Column("clients_cnt", sa.Integer()),
    sa.Column("run_stat", sa.String(20)),
)
ZC_MSG = sa.Table(
    "zc_msg",
    metadata,
    sa.Column("msg_guid", sa.String(20), primary_key=True),
    sa.Column("run_guid", sa.String(20)),
    sa.Column("camp", sa.String(40)),
    sa.Column("elem", sa.String(40)),
    sa.Column("partner", sa.String(20)),
    sa.Column("chnl", sa.String(10)),
    sa.Column("msg_status", sa.String(20)),  # upper case, with values the contract does not know
    sa.Column("crt_ts", sa.String(30)),  # text: '2026-11-22T10:00:00'
)
ZC_CARDS = sa.Table(
    "zc_cards",
    metadata,
    sa.Column("card", sa.String(20), primary_key=True),
    sa.Column("upd_ts", sa.String(30)),  # text: '22.11.2026 11:50:00'
)
ZC_MSG_BIG = sa.Table(  # big enough to deserve an index, and without one
    "zc_msg_big",
    metadata,
    sa.Column("msg_guid", sa.String(20)),
    sa.Column("run_guid", sa.String(20)),
    sa.Column("camp", sa.String(40)),
    sa.Column("elem", sa.String(40)),
    sa.Column("partner", sa.String(20)),
    sa.Column("chnl", sa.String(10)),
    sa.Column("msg_status", sa.String(20)),
    sa.Column("created", sa.DateTime()),
)
BIG_ROWS = 20_000

PARTNERS = [
    {"partner": "P1", "bp_type": "VIP", "crt_dt": datetime(2026, 1, 5, 10, 0)},
    {"partner": "P2", "bp_type": "Regular ", "crt_dt": datetime(2026, 2, 5, 10, 0)},
    {"partner": "P3", "bp_type": " new", "crt_dt": datetime(2026, 11, 22, 11, 0)},
    {"partner": "P4", "bp_type": None, "crt_dt": datetime(2026, 3, 5, 10, 0)},  # the contract allows no type
    {"partner": "P5", "bp_type": "EMPLOYEE", "crt_dt": datetime(2026, 4, 5, 10, 0)},
]
OLD_PARTNERS = [
    {"partner": "O1", "bp_type": "VIP", "crt_dt": datetime(2019, 1, 5, 10, 0)},
    {"partner": "O2", "bp_type": "GOLD", "crt_dt": datetime(2019, 2, 5, 10, 0)},
    {"partner": "O3", "bp_type": " gold", "crt_dt": datetime(2019, 3, 5, 10, 0)},
    {"partner": "O4", "bp_type": "Platinum", "crt_dt": datetime(2019, 4, 5, 10, 0)},
    {"partner": "O5", "bp_type": None, "crt_dt": None},
]
RUNS = [
    {"run_guid": "R1", "camp": "birthday_bonus", "elem": "birthday_sms", "start_ts": "2026-11-22 09:00:00",
     "mode_txt": " Live ", "clients_cnt": 120, "run_stat": "COMPLETED"},
    {"run_guid": "R2", "camp": "birthday_bonus", "elem": "birthday_sms", "start_ts": "2026-11-21 09:00:00",
     "mode_txt": "TEST", "clients_cnt": None, "run_stat": "completed "},
]  # fmt: skip
MESSAGES = [  # (id, campaign, channel, status, created): 3 without campaign, 3 of unknown status, 1 impossible date
    ("M1", "birthday_bonus", "SMS", "SENT", "2026-11-22T10:00:00"),
    ("M2", "birthday_bonus", "SMS", "DELIVERED", "2026-11-22T10:01:00"),
    ("M3", None, "Email ", "SENT", "2026-11-22T10:02:00"),
    ("M4", None, "push", "BOUNCED", "2026-11-22T10:03:00"),
    ("M5", None, "SMS", "BOUNCED", "2026-11-22T10:04:00"),
    ("M6", "birthday_bonus", "SMS", "REJECTED", "2026-11-22T10:05:00"),
    ("M7", "birthday_bonus", "SMS", "FAILED ", "2026-11-22T10:06:00"),
    ("M8", "birthday_bonus", "sms", "delivered", "2026-11-22T10:07:00"),
    ("M9", "birthday_bonus", "SMS", "SENT", "2026-11-31T10:08:00"),  # no 31 November: read as no time
]


@pytest.fixture(scope="module", params=BACKENDS)
def crm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(backend, URL) of the foreign CRM, built once per backend."""
    backend = str(request.param)
    with scratch_database(backend, tmp_path_factory.mktemp(f"crm_{backend}")) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            metadata.create_all(connection, tables=[ZC_PARTNER, ZC_PARTNER_OLD, ZC_RUN, ZC_MSG, ZC_CARDS])
            connection.execute(ZC_PARTNER.insert(), PARTNERS)
            connection.execute(ZC_PARTNER_OLD.insert(), OLD_PARTNERS)
            connection.execute(ZC_RUN.insert(), RUNS)
            connection.execute(
                ZC_MSG.insert(),
                [
                    {"msg_guid": guid, "run_guid": "R1", "camp": camp, "elem": "birthday_sms", "partner": "P1",
                     "chnl": channel, "msg_status": status, "crt_ts": created}
                    for guid, camp, channel, status, created in MESSAGES
                ],
            )  # fmt: skip
            connection.execute(ZC_CARDS.insert(), [{"card": "C1", "upd_ts": "22.11.2026 11:50:00"}])
            metadata.create_all(connection, tables=[ZC_MSG_BIG])
            if backend == "postgresql":
                connection.execute(
                    sa.text(
                        "INSERT INTO zc_msg_big SELECT 'B' || n, 'R1', 'camp_' || (n % 50), 'elem', 'P' || (n % 900), "
                        "'sms', 'sent', TIMESTAMP '2026-09-01 00:00:00' + n * INTERVAL '5 minutes' "
                        "FROM generate_series(1, :rows) AS n"
                    ),
                    {"rows": BIG_ROWS},
                )
            else:
                start = datetime(2026, 9, 1)
                connection.execute(
                    ZC_MSG_BIG.insert(),
                    [
                        dict(zip(ZC_MSG_BIG.c.keys(), (f"B{n}", "R1", f"camp_{n % 50}", "elem", f"P{n % 900}", "sms",
                                                       "sent", start + timedelta(minutes=5 * n)), strict=True))
                        for n in range(1, BIG_ROWS + 1)
                    ],
                )  # fmt: skip
        if backend == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("ANALYZE zc_msg_big"))
        engine.dispose()
        yield backend, url


# --- the mappings ------------------------------------------------------------------------------------------

MESSAGE_COLUMNS = {
    "message_id": "msg_guid",
    "launch_id": "run_guid",
    "campaign_id": "camp",
    "element_id": "elem",
    "customer_id": "partner",
    "channel": "chnl",
    "status": "msg_status",
    "created_at": '{column: crt_ts, type: text, format: "%Y-%m-%dT%H:%M:%S"}',
}


def messages(table: str = "zc_msg", **changed: str) -> str:
    columns = {**MESSAGE_COLUMNS, **changed}
    lines = [f"      messages:\n        table: {table}\n        columns:\n"]
    lines += [f"          {logical}: {real}\n" for logical, real in columns.items()]
    return "".join(lines)


def source(name: str, datasets: str, tables: str = "") -> str:
    return f'  {name}:\n    url: "${{TEST_CRM_URL}}"\n    datasets:\n{datasets}{tables}'


SOUND = source(
    "sound",
    """      customers:
        table: zc_partner
        columns: {customer_id: partner, customer_type: bp_type, created_at: crt_dt}
      launches:
        table: zc_run
        columns:
          launch_id: run_guid
          campaign_id: camp
          element_id: elem
          launched_at: {column: start_ts, type: text, format: "%Y-%m-%d %H:%M:%S"}
          mode: mode_txt
          clients: clients_cnt
          status: run_stat
""",
    """    tables:
      loyalty_cards:
        table: zc_cards
        columns:
          updated_at: {column: upd_ts, type: text, format: "%d.%m.%Y %H:%M:%S"}
""",
)
OLD_CUSTOMERS = """      customers:
        table: zc_partner_old
        columns: {customer_id: partner, customer_type: bp_type, created_at: crt_dt}
"""
SOURCE_NAMES = ("sound", "dirty", "missing_table", "missing_column", "undeclared_text", "bad_format")
SOURCES_YAML = "default: sound\nsources:\n" + "".join(
    [
        SOUND,
        source("dirty", OLD_CUSTOMERS + messages()),
        source("missing_table", messages(table="zc_message")),
        source("missing_column", messages(status="msg_state", channel="channel")),
        source("undeclared_text", messages(created_at="crt_ts")),
        source("bad_format", messages(created_at='{column: crt_ts, type: text, format: "%d.%m.%Y %H:%M:%S"}')),
    ]
)
LAUNCHES = SOUND[SOUND.index("      launches:") : SOUND.index("    tables:")]
FAILING_LAUNCHES = """      launches:
        query: |
          SELECT CAST(CASE WHEN run_guid = 'R2' THEN 'R2' ELSE '1' END AS integer) AS run_no,
                 camp, elem, start_ts, mode_txt, clients_cnt, run_stat
          FROM zc_run
""" + LAUNCHES[LAUNCHES.index("        columns:") :].replace("launch_id: run_guid", "launch_id: run_no")
BIG_YAML = "default: big\nsources:\n" + "".join(
    [
        source("big", messages(table="zc_msg_big", created_at="created") + LAUNCHES),  # a big table, a small one
        source("failing", FAILING_LAUNCHES + messages()),  # a cast that fails on one row: the probe reads none
    ]
)


def line_of(text: str, source_name: str, wanted: str, within: str = "") -> int:
    """The line of rules/sources.yaml holding `wanted`, in the source's section (after the line `within`)."""
    lines = text.splitlines()
    start = lines.index(f"  {source_name}:")
    if within:
        start = next(number for number, line in enumerate(lines) if number > start and line.strip() == within)
    return next(number for number, line in enumerate(lines, 1) if number > start and wanted in line)


def at(source_name: str, wanted: str, text: str = SOURCES_YAML, within: str = "") -> str:
    return f"{FILE}:{line_of(text, source_name, wanted, within)}"


def repository(base: Path, text: str) -> Path:
    import shutil

    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, base / name)
    (base / FILE).write_text(text, encoding="utf-8")
    return base


RUNS_OF_EACH_BACKEND = {  # every source; a sound one alone; a broken one alone; JSON
    "all": ("sources", "check"),
    "sound": ("sources", "check", "sound"),
    "missing_table": ("sources", "check", "missing_table"),
    "json": ("sources", "check", "dirty", "--format", "json"),
}


@pytest.fixture(scope="module")
def checked(
    crm: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every command the tests judge, run once per backend (side by side: each is a process of its own)."""
    backend, url = crm
    root = repository(tmp_path_factory.mktemp(f"repo_{backend}"), SOURCES_YAML)
    commands = {**RUNS_OF_EACH_BACKEND, "big": ("sources", "check", "big"), "failing": ("sources", "check", "failing")}
    big_root = repository(tmp_path_factory.mktemp(f"big_{backend}"), BIG_YAML)
    env = {"TEST_CRM_URL": url}
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {
            name: pool.submit(
                run_cli, *args, "--now", NOW, cwd=big_root if name in ("big", "failing") else root, env=env
            )
            for name, args in commands.items()
        }
        return {name: future.result() for name, future in futures.items()}


def section(answer: subprocess.CompletedProcess[str], source_name: str) -> list[str]:
    """The finding lines of one source in the output of every source, and its summary line."""
    lines = answer.stdout.splitlines()
    return [line for line in lines if f" {source_name}." in line or line.startswith(f"{source_name}: ")]


def no_advice(backend: str) -> list[str]:
    return ["index advice: not available on SQLite"] if backend == "sqlite" else []


# --- the tests ---------------------------------------------------------------------------------------------


def test_a_missing_table_is_an_error_on_the_dataset_line(crm: tuple[str, str], checked: dict) -> None:
    answer = checked["missing_table"]
    assert answer.stdout.splitlines() == [
        f"{at('missing_table', 'messages:')}: error   missing_table.messages: dataset messages -> zc_message: "
        "no such table",
        *no_advice(crm[0]),
        "missing_table: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
    ]
    assert (answer.returncode, answer.stderr) == (1, "")


def test_every_missing_column_is_an_error_on_its_line(checked: dict) -> None:
    assert section(checked["all"], "missing_column") == [
        f"{at('missing_column', 'channel: channel')}: error   missing_column.messages: "
        "dataset messages, column channel -> zc_msg.channel: no such column",
        f"{at('missing_column', 'status: msg_state')}: error   missing_column.messages: "
        "dataset messages, column status -> zc_msg.msg_state: no such column",
        "missing_column: 1 dataset, 0 tables checked: 2 errors, 0 warnings, 0 advice",
    ]
    assert checked["all"].returncode == 1


def test_a_time_held_as_text_must_be_declared(checked: dict) -> None:
    assert section(checked["all"], "undeclared_text") == [
        f"{at('undeclared_text', 'created_at: crt_ts')}: error   undeclared_text.messages: "
        "dataset messages, column created_at -> zc_msg.crt_ts: holds text such as '2026-11-22T10:00:00', "
        "not a timestamp; declare how it is written: "
        'created_at: {column: ..., type: text, format: "%Y-%m-%dT%H:%M:%S"}',
        "undeclared_text: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
    ]
    assert checked["all"].returncode == 1


def test_a_declared_format_must_parse_the_sample(checked: dict) -> None:
    assert section(checked["all"], "bad_format") == [
        f"{at('bad_format', 'created_at:')}: error   bad_format.messages: "
        "dataset messages, column created_at -> zc_msg.crt_ts: holds '2026-11-22T10:00:00', "
        "which does not match the declared format '%d.%m.%Y %H:%M:%S'",
        "bad_format: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
    ]
    assert checked["all"].returncode == 1


DIRTY = [  # (dataset, column, the line of sources.yaml, the message)
    ("customers", "created_at", "columns: {customer_id: partner", "1 of 5 rows have no created_at"),
    (
        "customers",
        "customer_type",
        "columns: {customer_id: partner",
        "3 rows with a customer_type outside the vocabulary (regular, new, vip, employee): 'gold' (2), 'platinum' (1)",
    ),
    ("messages", "campaign_id", "campaign_id: camp", "3 of 9 rows have no campaign_id"),
    (
        "messages",
        "created_at",
        "created_at:",
        "1 of 9 rows have no created_at (NULL, or text not written as '%Y-%m-%dT%H:%M:%S')",
    ),
    (
        "messages",
        "status",
        "status: msg_status",
        "3 rows with a status outside the vocabulary (prepared, queued, sent, delivered, failed): "
        "'bounced' (2), 'rejected' (1)",
    ),
]


def dirty_lines(source_name: str, text: str, datasets: tuple[str, ...] = ("customers", "messages")) -> list[str]:
    return [
        f"{at(source_name, wanted, text, within=f'{dataset}:')}: warning {source_name}.{dataset}: {message}"
        for dataset, _column, wanted, message in DIRTY
        if dataset in datasets
    ]


def test_nulls_and_unknown_values_are_counted_exactly(checked: dict) -> None:
    assert section(checked["all"], "dirty") == [
        *dirty_lines("dirty", SOURCES_YAML),
        "dirty: 2 datasets, 0 tables checked: 0 errors, 5 warnings, 0 advice",
    ]
    assert checked["all"].returncode == 1


def test_a_sound_mapping_exits_0(crm: tuple[str, str], checked: dict) -> None:
    answer = checked["sound"]
    assert answer.stdout.splitlines() == [
        *no_advice(crm[0]),
        "sound: 2 datasets, 1 table checked: 0 errors, 0 warnings, 0 advice",
    ]
    assert (answer.returncode, answer.stderr) == (0, "")


def test_every_source_is_checked_without_a_name(crm: tuple[str, str], checked: dict) -> None:
    answer = checked["all"]
    assert answer.stdout.splitlines() == [
        *no_advice(crm[0]),  # said once, for the first source on SQLite
        *(line for name in SOURCE_NAMES for line in section(answer, name)),
    ]
    assert [line for line in answer.stdout.splitlines() if not line.startswith(FILE)] == [
        *no_advice(crm[0]),
        "sound: 2 datasets, 1 table checked: 0 errors, 0 warnings, 0 advice",
        "dirty: 2 datasets, 0 tables checked: 0 errors, 5 warnings, 0 advice",
        "missing_table: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
        "missing_column: 1 dataset, 0 tables checked: 2 errors, 0 warnings, 0 advice",
        "undeclared_text: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
        "bad_format: 1 dataset, 0 tables checked: 1 error, 0 warnings, 0 advice",
    ]
    assert (answer.returncode, answer.stderr) == (1, "")


def test_json_gives_every_finding_as_an_object(checked: dict) -> None:
    answer = checked["json"]
    lines = {dataset: line_of(SOURCES_YAML, "dirty", f"{dataset}:") for dataset in ("customers", "messages")}
    customers_columns = lines["customers"] + 2  # the flow mapping {customer_id: ..., created_at: ...}
    assert json.loads(answer.stdout) == [
        {
            "source": "dirty",
            "dataset": "customers",
            "column": "created_at",
            "severity": "warning",
            "message": "1 of 5 rows have no created_at",
            "file": "rules/sources.yaml",
            "line": customers_columns,
        },
        {
            "source": "dirty",
            "dataset": "customers",
            "column": "customer_type",
            "severity": "warning",
            "message": "3 rows with a customer_type outside the vocabulary (regular, new, vip, employee): "
            "'gold' (2), 'platinum' (1)",
            "file": "rules/sources.yaml",
            "line": customers_columns,
        },
        {
            "source": "dirty",
            "dataset": "messages",
            "column": "campaign_id",
            "severity": "warning",
            "message": "3 of 9 rows have no campaign_id",
            "file": "rules/sources.yaml",
            "line": lines["messages"] + 5,
        },
        {
            "source": "dirty",
            "dataset": "messages",
            "column": "created_at",
            "severity": "warning",
            "message": "1 of 9 rows have no created_at (NULL, or text not written as '%Y-%m-%dT%H:%M:%S')",
            "file": "rules/sources.yaml",
            "line": lines["messages"] + 10,
        },
        {
            "source": "dirty",
            "dataset": "messages",
            "column": "status",
            "severity": "warning",
            "message": "3 rows with a status outside the vocabulary (prepared, queued, sent, delivered, failed): "
            "'bounced' (2), 'rejected' (1)",
            "file": "rules/sources.yaml",
            "line": lines["messages"] + 9,
        },
    ]
    assert (answer.returncode, answer.stderr) == (1, "")


def test_index_advice_names_the_real_table_and_columns(crm: tuple[str, str], checked: dict) -> None:
    answer = checked["big"]
    where = f"{at('big', 'messages:', BIG_YAML)}: advice  big.messages: zc_msg_big: full scan filtered on"
    advice = [
        # compared with IN: first in the index, before the range
        f"{where} camp, created (checks monitor.duplicate_participation); consider an index on (camp, created)",
        f"{where} chnl, created (checks messages.sms_failure_share); consider an index on (created) "
        "(chnl is compared trimmed and lower-cased: no index on the column serves that)",
        f"{where} created (checks monitor.unknown_values); consider an index on (created)",
    ]  # zc_run is scanned too, but a table of 2 rows is not worth an index
    if crm[0] == "sqlite":
        assert answer.stdout.splitlines() == [
            "index advice: not available on SQLite",
            "big: 2 datasets, 0 tables checked: 0 errors, 0 warnings, 0 advice",
        ]
    else:  # PostgreSQL and MariaDB: EXPLAIN of the checks' real queries
        assert answer.stdout.splitlines() == [
            *advice,
            "big: 2 datasets, 0 tables checked: 0 errors, 0 warnings, 3 advice",
        ]
    assert (answer.returncode, answer.stderr) == (0, "")


def test_a_count_that_fails_is_one_error_and_the_rest_still_runs(crm: tuple[str, str], checked: dict) -> None:
    answer = checked["failing"]
    backend = crm[0]
    if backend == "postgresql":
        assert answer.stdout.splitlines() == [
            f"{at('failing', 'launches:', BIG_YAML)}: error   failing.launches: the NULL and vocabulary counts "
            'failed: query failed: invalid input syntax for type integer: "R2"',
            *dirty_lines("failing", BIG_YAML, ("messages",)),
            "failing: 2 datasets, 0 tables checked: 1 error, 3 warnings, 0 advice",
        ]
    else:  # SQLite and MariaDB cast 'R2' to 0 without complaint: only the messages' dirt is reported
        assert answer.stdout.splitlines() == [
            *dirty_lines("failing", BIG_YAML, ("messages",)),
            *no_advice(backend),
            "failing: 2 datasets, 0 tables checked: 0 errors, 3 warnings, 0 advice",
        ]
    assert (answer.returncode, answer.stderr) == (1, "")


def test_an_unreachable_source_is_one_line_and_exit_4(repo_copy: Path) -> None:
    (repo_copy / FILE).write_text(SOURCES_YAML, encoding="utf-8")
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    answer = run_cli("sources", "check", "sound", cwd=repo_copy, env={"TEST_CRM_URL": url})
    assert answer.returncode == 4
    assert answer.stdout == ""
    assert len(answer.stderr.splitlines()) == 1, answer.stderr
    assert answer.stderr.startswith(
        "campaign-guard: source 'sound': cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere: "
    )
    assert "Traceback" not in answer.stderr


def test_an_unknown_source_name_exits_3(repo_copy: Path) -> None:
    (repo_copy / FILE).write_text(SOURCES_YAML, encoding="utf-8")
    answer = run_cli("sources", "check", "crm", cwd=repo_copy, env={"TEST_CRM_URL": "sqlite:///unused.db"})
    assert (answer.returncode, answer.stdout) == (3, "")
    assert answer.stderr == (f"campaign-guard: {FILE}: no source named 'crm'; known: {', '.join(SOURCE_NAMES)}\n")
