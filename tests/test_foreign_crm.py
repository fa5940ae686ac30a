"""campaign-guard mapped onto a foreign CRM (tests/foreign_crm): its own names, text times, dirty data.

The fixture is built once per backend; `run` must report exactly the catalogued faults
(tests/foreign_crm/faults.py) and let every boundary pass. Then every nullable contract column in turn,
and every dataset, is made all NULL or empty: the run must still judge, never crash.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from runner.contract import DATASETS, NULLABLE
from runner.main import main

from .conftest import ROOT, run_cli
from .databases import BACKENDS, scratch_database
from .foreign_crm.build import ATTRIBUTE_CODES, MODES, TEMPLATE_ATTRIBUTES, build
from .foreign_crm.faults import BOUNDARIES, FAULTS, NOW
from .foreign_crm.schema import LOCATION, ROWS_OF, metadata

FIXTURE = Path(__file__).parent / "foreign_crm"
STATUSES = {"pass", "warn", "fail", "error"}
Results = list[dict[str, Any]]


def foreign_repository(target: Path) -> Path:
    """A copy of this repository's configuration whose only source is the foreign CRM."""
    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, target / name)
    shutil.copy(FIXTURE / "sources.yaml", target / "rules" / "sources.yaml")
    return target


@pytest.fixture(scope="module", params=BACKENDS)
def foreign_crm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The foreign CRM built once per backend, as of NOW; yields its URL."""
    with scratch_database(request.param, tmp_path_factory.mktemp(f"foreign-{request.param}")) as url:
        build(url, datetime.fromisoformat(NOW))
        yield url


@pytest.fixture(scope="module")
def sqlite_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The foreign CRM as a SQLite file of this module, to copy and spoil."""
    path = tmp_path_factory.mktemp("foreign-sqlite") / "crm.db"
    build(f"sqlite:///{path}", datetime.fromisoformat(NOW))
    return path


@pytest.fixture
def foreign_repo(tmp_path: Path) -> Path:
    return foreign_repository(tmp_path)


def non_passing(results: Results) -> set[tuple[str, str, str]]:
    return {(r["check"], r["subject"], r["status"]) for r in results if r["status"] != "pass"}


# -- the fixture itself (independent of the engine) ------------------------------------------------------

ROWS = {
    "zcrm_partner": 1000,
    "zcrm_segment": 5,
    "zcrm_seg_member": 202,
    "zcrm_run_mode": 5,
    "zcrm_run": 47,
    "zcrm_msg": 175,
    "zcrm_attr_def": 13,
    "zcrm_msg_attr": 345,
    "zcrm_bonus": 79,
    "zcrm_promo": 214,
    "zcrm_job_log": 34,
    "zcrm_err_log": 26,
    "zcrm_dump": 4,
    "zcrm_queue_stat": 85,
    "zpos_trx": 400,
    "zweb_hook_log": 240,
    "zlc_cards": 84,
    "zcrm_outbound": 3,
}


def test_the_fixture_has_its_rows_on_every_backend(foreign_crm: str):
    engine = sa.create_engine(foreign_crm)
    try:
        with engine.connect() as connection:
            counts = {
                name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()
            }
            assert counts == ROWS
            tables = metadata.tables
            run, msg, job, cards = tables["zcrm_run"], tables["zcrm_msg"], tables["zcrm_job_log"], tables["zlc_cards"]
            # the Russian VIP letter's launch, replicated three times by the replication
            assert (
                connection.execute(
                    sa.select(run.c.start_ts, run.c.mode_cd, run.c.clients_cnt, run.c.run_stat).where(
                        run.c.camp == "vip_bonus_accrual",
                        run.c.elem == "vip_email_ru",
                        run.c.start_ts.like("2026-12-01%"),
                    )
                ).all()
                == [("2026-12-01 10:00:00.000000", "LV", 37, "completed")] * 3
            )
            # today's birthday segmentation: killed, padded upper-case status, no end
            assert connection.execute(
                sa.select(job.c.beg_ts, job.c.end_ts, job.c.job_stat).where(
                    job.c.job == "SEG_BIRTHDAY_DAILY", job.c.beg_ts == "01.12.2026 02:00:00"
                )
            ).all() == [("01.12.2026 02:00:00", None, "CANCELLED ")]
            # the loyalty cards: newest three hours ago, the oldest yesterday (day-first text)
            stamps = connection.execute(sa.select(cards.c.upd_ts).order_by(cards.c.card_no)).scalars().all()
            assert (stamps[0], stamps[-1]) == ("01.12.2026 08:00:00", "30.11.2026 18:10:00")
            # the decimal zeros of the birthday SMS, through the attribute dictionary
            zeros = connection.execute(
                sa.text(
                    "SELECT v.attr_val FROM zcrm_msg_attr v JOIN zcrm_attr_def d ON d.attr_code = v.attr_code "
                    "JOIN zcrm_msg m ON m.msg_guid = v.msg_guid "
                    "WHERE m.elem = 'birthday_sms' AND d.attr_key = 'BONUS_AMOUNT' ORDER BY m.partner"
                )
            ).scalars()
            assert list(zeros) == ["0.00", "0,00", " 0.00", "0,00 ", "500", "500", "500", "500"]
            # the unknown status, a message of the last hour
            assert connection.execute(
                sa.select(msg.c.elem, msg.c.chnl, msg.c.crt_ts).where(msg.c.msg_status == "ESME_RTHROTTLED")
            ).all() == [("reminder_sms", "sms", "2026-12-01T10:50:00")]
    finally:
        engine.dispose()


def test_the_mapping_queries_answer_on_every_backend(foreign_crm: str):
    """The queries of sources.yaml are plain SQL of all three dialects, returning the mapped columns."""
    crm = yaml.safe_load((FIXTURE / "sources.yaml").read_text(encoding="utf-8"))["sources"]["crm"]
    queries = {name: spec for name, spec in crm["datasets"].items() if "query" in spec}
    assert set(queries) == {"target_group_members", "launches", "message_attributes"}
    engine = sa.create_engine(foreign_crm)
    try:
        with engine.connect() as connection:
            for name, spec in queries.items():
                rows = connection.execute(sa.text(spec["query"])).mappings().all()
                renamed = {
                    logical: real if isinstance(real, str) else real["column"]
                    for logical, real in spec.get("columns", {}).items()
                }
                assert {renamed.get(column, column) for column in DATASETS[name]} == set(rows[0]), name
                assert len(rows) == ROWS[ROWS_OF[name]], name
            names = connection.execute(sa.text(queries["message_attributes"]["query"])).mappings().all()
            assert {row["name"] for row in names} == set(ATTRIBUTE_CODES)
            modes = connection.execute(sa.text(queries["launches"]["query"])).mappings().all()
            assert {row["mode_txt"] for row in modes} == set(MODES.values())
    finally:
        engine.dispose()


def test_the_fixture_maps_every_contract_column_nullable_exactly_where_the_contract_allows():
    crm = yaml.safe_load((FIXTURE / "sources.yaml").read_text(encoding="utf-8"))["sources"]["crm"]
    assert set(crm["datasets"]) == set(DATASETS) == set(LOCATION)
    for dataset, columns in DATASETS.items():
        assert set(LOCATION[dataset]) == set(columns), dataset
        for column in columns:
            table, real = LOCATION[dataset][column]
            physical = metadata.tables[table].c[real]
            assert physical.nullable == (column in NULLABLE.get(dataset, ())), f"{dataset}.{column}"
            spec = crm["datasets"][dataset]
            if "table" in spec:  # a renamed column maps to where LOCATION says
                mapped = spec.get("columns", {}).get(column, column)
                assert (spec["table"], mapped if isinstance(mapped, str) else mapped["column"]) == (table, real)


def test_every_nullable_contract_column_holds_a_null(sqlite_crm: Path):
    with closing(sqlite3.connect(sqlite_crm)) as connection:
        for dataset, columns in NULLABLE.items():
            for column in columns:
                table, real = LOCATION[dataset][column]
                nulls = connection.execute(f"SELECT COUNT(*) FROM {table} WHERE {real} IS NULL").fetchone()[0]
                assert nulls > 0, f"{dataset}.{column} ({table}.{real}) holds no NULL"


def test_the_fixtures_messages_carry_what_the_templates_declare():
    """build.py fills the attributes each template declares; a template that changes must change it too."""
    for template, names in TEMPLATE_ATTRIBUTES.items():
        declared = yaml.safe_load((ROOT / "campaigns" / "templates" / f"{template}.yaml").read_text(encoding="utf-8"))
        assert set(names) == set(declared["attributes"]), template


def test_the_catalogue_names_each_result_once():
    keys = [(case.check, case.subject) for case in FAULTS] + [(b.check, b.subject) for b in BOUNDARIES]
    assert len(keys) == len(set(keys))
    assert len(FAULTS) >= 25 and len(BOUNDARIES) >= 15


# -- the run ---------------------------------------------------------------------------------------------


def test_run_judges_the_foreign_crm_exactly(foreign_crm: str, foreign_repo: Path):
    done = run_cli("run", "--now", NOW, "--format", "json", cwd=foreign_repo, env={"FOREIGN_CRM_URL": foreign_crm})
    assert done.stderr == ""
    results: Results = json.loads(done.stdout)
    keys = [(r["check"], r["subject"]) for r in results]
    assert len(keys) == len(set(keys)), "a check reported one subject twice"
    wrong = judged_otherwise(results)
    assert not wrong, "\n".join(["the run judged the foreign CRM otherwise than tests/foreign_crm/faults.py:", *wrong])
    assert done.returncode == 1


def judged_otherwise(results: Results) -> list[str]:
    """Every way the results differ from the catalogue, one line each (all at once, to read in one go)."""
    found = {(r["check"], r["subject"]): r for r in results}
    expected = {(case.check, case.subject, case.status) for case in FAULTS}
    reported = non_passing(results)
    wrong = [f"unexpected {key}: {found[key[:2]]['cause']}" for key in sorted(reported - expected)]
    wrong += [
        f"missing {key}: got {found.get(key[:2], {}).get('status', 'no result')}" for key in sorted(expected - reported)
    ]
    for case in FAULTS:
        result = found.get((case.check, case.subject))
        if result is not None and case.observed is not None and result["observed"] != case.observed:
            wrong.append(f"{case.check} {case.subject}: observed {result['observed']!r}, not {case.observed!r}")
    for boundary in BOUNDARIES:
        result = found.get((boundary.check, boundary.subject))
        where = f"boundary {boundary.check} {boundary.subject} ({boundary.what})"
        if boundary.absent:
            if result is not None:
                wrong.append(f"{where}: reported {result['status']} {result['observed']!r}, expected no result")
        elif result is None:
            wrong.append(f"{where}: no result")
        elif result["status"] != "pass" or boundary.observed not in (None, result["observed"]):
            wrong.append(f"{where}: {result['status']} {result['observed']!r}: {result['cause']}")
    return wrong


MASKED = {  # built-in gate checks whose samples come from datasets sources.yaml masks customer_id of
    "gate.customer_type_mismatch",
    "gate.dedup_window",
    "gate.empty_attribute",
    "gate.bonus_over_cap",
}


@pytest.mark.parametrize("foreign_crm", ["sqlite"], indirect=True)  # masking is the engine's, not the dialect's
def test_samples_show_customer_ids_masked(foreign_crm: str, foreign_repo: Path):
    done = run_cli("run", "--now", NOW, "--format", "json", cwd=foreign_repo, env={"FOREIGN_CRM_URL": foreign_crm})
    shown = [
        str(sample["customer_id"])
        for result in json.loads(done.stdout)
        if result["check"] in MASKED
        for sample in result["samples"]
        if sample.get("customer_id") is not None
    ]
    assert shown, "no sample named a customer"
    assert [value for value in shown if not re.fullmatch(r"\*\*\*\d{4}", value)] == []


# -- nothing crashes on NULLs and empty datasets -----------------------------------------------------------

DIRT = [  # (dataset, column): that column all NULL; (dataset, None): the dataset (or the raw table) emptied
    *(
        pytest.param(dataset, column, id=f"null-{dataset}.{column}")
        for dataset, columns in NULLABLE.items()
        for column in columns
    ),
    *(pytest.param(dataset, None, id=f"empty-{dataset}") for dataset in ROWS_OF),
]


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return foreign_repository(tmp_path_factory.mktemp("foreign-repo"))


@pytest.mark.parametrize(("dataset", "column"), DIRT)
def test_run_survives_nulls_and_empty_datasets(
    dataset: str,
    column: str | None,
    sqlite_crm: Path,
    shared_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    copy = tmp_path / "crm.db"
    shutil.copy(sqlite_crm, copy)
    with closing(sqlite3.connect(copy)) as connection, connection:
        if column is None:
            connection.execute(f"DELETE FROM {ROWS_OF[dataset]}")
        else:
            table, real = LOCATION[dataset][column]
            connection.execute(f"UPDATE {table} SET {real} = NULL")
    monkeypatch.setenv("FOREIGN_CRM_URL", f"sqlite:///{copy}")
    code = main(["--root", str(shared_repo), "run", "--now", NOW, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (0, 1, 4)
    results: Results = json.loads(out)
    assert {r["status"] for r in results} <= STATUSES
    # an error may be a source's answer, never a check breaking on the data
    broken = [r for r in results if r["status"] == "error" and not str(r["cause"]).startswith("source ")]
    assert broken == []
