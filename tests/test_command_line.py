"""The command line's manners: the repository found upwards, --root anywhere, the state store never
created by reading, usage errors exit 3, a closed pipe is quiet, progress only on a terminal."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.demo.build import DemoBuilder
from runner.main import main
from runner.root import find_root

from .conftest import LAUNCH_DAY, ROOT, run_cli
from .databases import scratch_database

OUTSIDE = "no campaign-guard repository here or above {where} (a directory with campaigns/ or rules/); "
STORE_FIX = "run inside one, pass --root or set CAMPAIGN_GUARD_STATE_URL"
NO_DEMO = {"CAMPAIGN_GUARD_DEMO_URL": "sqlite://"}  # an empty in-memory CRM: every check errs, quickly


@pytest.fixture
def no_state_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CAMPAIGN_GUARD_STATE_URL: the store is the repository's .campaign-guard/state.db."""
    monkeypatch.delenv("CAMPAIGN_GUARD_STATE_URL")


# -- the repository, found upwards ------------------------------------------------------------


def test_validate_in_a_subdirectory_finds_the_repository_above(repo_copy: Path) -> None:
    (repo_copy / "campaigns/birthday_bonus.yaml").write_text("id: birthday_bonus\nid: again\n", encoding="utf-8")
    at_root = run_cli("validate", "--format", "json", cwd=repo_copy)
    assert at_root.returncode == 3  # a duplicate key: the file cannot be read
    for below in ("campaigns", "campaigns/templates", "rules/checks"):
        done = run_cli("validate", "--format", "json", cwd=repo_copy / below)
        assert (done.returncode, done.stdout, done.stderr) == (3, at_root.stdout, ""), below
    assert '"path": "campaigns/birthday_bonus.yaml"' in at_root.stdout  # paths stay repository-relative


def test_a_path_given_in_a_subdirectory_is_relative_to_it(repo_copy: Path) -> None:
    (repo_copy / "campaigns/birthday_bonus.yaml").write_text("id: birthday_bonus\nid: again\n", encoding="utf-8")
    done = run_cli("validate", "birthday_bonus.yaml", cwd=repo_copy / "campaigns")
    assert done.returncode == 3
    assert done.stdout.startswith("campaigns/birthday_bonus.yaml:2:1: error ")


def test_find_root_goes_up_and_stops_at_the_top_of_a_git_work_tree(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    deep = tmp_path / "project/sub/dir"
    deep.mkdir(parents=True)
    assert find_root(tmp_path) == Path(".")
    assert find_root(deep) == Path("../../..")
    (tmp_path / "project/.git").mkdir()  # a git work tree of its own: the rules/ above are not its
    assert find_root(deep) is None
    (tmp_path / "project/campaigns").mkdir()
    assert find_root(deep) == Path("../..")


def test_root_is_accepted_before_or_after_the_command(repo_copy: Path, tmp_path_factory: pytest.TempPathFactory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    before = run_cli("--root", str(repo_copy), "validate", cwd=elsewhere)
    after = run_cli("validate", "--root", str(repo_copy), cwd=elsewhere)
    assert (before.returncode, before.stderr) == (after.returncode, after.stderr) == (0, "")
    nested = run_cli("problems", "list", "--root", str(repo_copy), "--format", "json", cwd=elsewhere)
    assert (nested.returncode, nested.stdout) == (0, "[]\n")
    wrong = run_cli("--root", str(elsewhere), "validate", "--root", str(repo_copy), cwd=elsewhere)
    assert wrong.returncode == 0  # the later one counts


def test_an_explicit_root_is_not_searched_upwards(repo_copy: Path) -> None:
    done = run_cli("--root", "campaigns", "validate", cwd=repo_copy)
    assert (done.returncode, done.stderr) == (
        3,
        "campaign-guard: campaigns: not a campaign-guard repository (no campaigns/ or rules/ directory); "
        "point --root at one\n",
    )


# -- the state store: refused outside a repository, never created by reading -------------------


@pytest.mark.parametrize(
    "args",
    [
        ["problems", "list"],
        ["problems", "show", "abcd"],
        ["problems", "ack", "abcd"],
        ["report"],
        ["outbound", "status"],
    ],
)
def test_store_commands_refuse_outside_a_repository(
    args: list[str], tmp_path: Path, no_state_url: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 3
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"campaign-guard: {OUTSIDE.format(where=tmp_path)}{STORE_FIX}\n")
    assert main(["--root", str(tmp_path), *args]) == 3
    assert capsys.readouterr().err == (
        f"campaign-guard: {tmp_path}: not a campaign-guard repository (no campaigns/ or rules/ directory); "
        "point --root at one or set CAMPAIGN_GUARD_STATE_URL\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_with_a_state_url_store_commands_run_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["problems", "list", "--format", "json"]) == 0
    assert capsys.readouterr().out == "[]\n"


def test_reading_commands_create_no_store(repo_copy: Path, no_state_url: None) -> None:
    store = repo_copy / ".campaign-guard/state.db"
    url = f"sqlite:///{store}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=repo_copy / "campaigns", env=NO_DEMO)

    listing = cli("problems", "list")
    assert (listing.returncode, listing.stdout, listing.stderr) == (
        0,
        f"No problems recorded yet: no state store at {url} (`campaign-guard run` creates it).\n",
        "",
    )
    assert cli("problems", "list", "--format", "json").stdout == "[]\n"
    report = cli("report")
    assert (report.returncode, report.stdout, report.stderr) == (
        4,
        "",
        f"campaign-guard: state store {url}: none yet, nothing recorded to report (`campaign-guard run` creates it)\n",
    )
    status = cli("outbound", "status")
    assert (status.returncode, status.stdout) == (
        4,
        f"outbound: UNKNOWN: no state store at {url} (none created yet, or CAMPAIGN_GUARD_STATE_URL is not set as "
        "for `run`)\n",
    )
    for args in (["problems", "show", "abcd"], ["problems", "resolve", "abcd"], ["route", "abcd"]):
        done = cli(*args)
        assert (done.returncode, done.stderr) == (
            3,
            f"campaign-guard: no problem with fingerprint 'abcd': no state store yet at {url}\n",
        ), args
    dry = cli("notify", "--dry-run")
    assert (dry.returncode, dry.stdout) == (
        0,
        f"nothing would be sent: no state store yet at {url}, so no problem to notify of\n",
    )
    check = cli("check", "birthday_bonus", "-v", "--now", LAUNCH_DAY)
    assert check.returncode == 4 and "gate.outbound_stopped" in check.stdout  # judged without a store
    assert cli("dry-run", "birthday_bonus", "--now", LAUNCH_DAY).returncode == 4
    assert not store.exists()

    written = cli("notify")  # a command that writes creates the store
    assert (written.returncode, written.stderr) == (0, "")
    assert store.is_file()
    running = cli("outbound", "status")
    assert (running.returncode, running.stdout) == (0, "outbound: running\n")


def test_reading_a_server_database_without_a_store_creates_no_table(tmp_path: Path) -> None:
    with scratch_database("postgresql", tmp_path) as url:
        done = run_cli("problems", "list", env={"CAMPAIGN_GUARD_STATE_URL": url})
        assert (done.returncode, done.stdout.startswith("No problems recorded yet: no state store at ")) == (0, True)
        status = run_cli("outbound", "status", env={"CAMPAIGN_GUARD_STATE_URL": url})
        assert status.returncode == 4
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == []
        engine.dispose()


# -- usage errors exit 3 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "last_line"),
    [
        (["validate", "--jobs", "many"], "campaign-guard validate: error: argument --jobs: invalid int value: 'many'"),
        (["frobnicate"], "campaign-guard: error: argument COMMAND: invalid choice: 'frobnicate'"),
        ([], "campaign-guard: error: the following arguments are required: COMMAND"),
        (["problems", "list", "--since", "soon"], "campaign-guard problems list: error: argument --since: "),
        (["run", "--due", "--schedule", "x"], "campaign-guard run: error: argument --schedule: not allowed with "),
        (["route", "--check", "monitor.queue_size"], "campaign-guard: error: route: give a FINGERPRINT, or --check"),
    ],
)
def test_usage_errors_print_usage_and_one_line_and_exit_3(args: list[str], last_line: str) -> None:
    done = run_cli(*args)
    assert (done.returncode, done.stdout) == (3, "")
    lines = done.stderr.splitlines()
    assert lines[0].startswith("usage: campaign-guard")
    assert lines[-1].startswith(last_line)
    assert "Traceback" not in done.stderr


def test_help_and_version_still_exit_0() -> None:
    assert run_cli("--help").returncode == 0
    assert run_cli("run", "--help").returncode == 0
    assert run_cli("--version").stdout.startswith("campaign-guard ")


# -- a closed pipe is quiet -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--check", "monitor.queue_size", "--check", "promo.*", "--now", LAUNCH_DAY],
        ["validate", "--format", "sarif"],
        ["problems", "list", "--format", "csv"],
    ],
)
def test_a_closed_stdout_ends_quietly_with_141(args: list[str]) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line is written: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "runner", *args],
            cwd=ROOT,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            env={**os.environ, **NO_DEMO},
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")


def test_run_into_head_shows_the_first_line_and_no_traceback() -> None:
    done = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m runner run --now {LAUNCH_DAY} | head -1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **NO_DEMO},
    )
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1 and done.stderr == ""


# -- demo: built aside, renamed into place ------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _interrupted(*_args: object) -> None:
    raise KeyboardInterrupt


def test_an_interrupted_demo_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    target = tmp_path / "crm" / "demo.db"
    url = f"sqlite:///{target}"
    assert main(["demo", "--scale", "0.01", "--url", url, "--now", LAUNCH_DAY]) == 0
    before = _digest(target)
    monkeypatch.setattr(DemoBuilder, "jobs", _interrupted)  # halfway through the build
    capsys.readouterr()
    assert main(["demo", "--scale", "0.02", "--url", url, "--now", LAUNCH_DAY]) == 130
    assert capsys.readouterr().err == "campaign-guard: interrupted\n"
    assert _digest(target) == before
    assert sorted(path.name for path in target.parent.iterdir()) == ["demo.db"]

    fresh = tmp_path / "fresh" / "demo.db"
    assert main(["demo", "--scale", "0.01", "--url", f"sqlite:///{fresh}"]) == 130
    assert list(fresh.parent.iterdir()) == []  # none, rather than half a database


def test_demo_refuses_to_replace_a_sqlite_file_that_is_not_a_demo(tmp_path: Path, capsys) -> None:
    target = tmp_path / "state.db"
    engine = sa.create_engine(f"sqlite:///{target}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE problems (id INTEGER)"))
    engine.dispose()
    before = _digest(target)
    assert main(["demo", "--scale", "0.01", "--url", f"sqlite:///{target}"]) == 3
    assert capsys.readouterr().err == (
        f"campaign-guard: sqlite:///{target} already has tables (problems) but is not a demo database; "
        "refusing to overwrite it - point --url at an empty database\n"
    )
    assert _digest(target) == before and sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_an_interrupted_demo_on_postgresql_leaves_the_old_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def counts(url: str) -> dict[str, int]:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            found = {
                table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("customers", "messages", "job_runs", "demo_info")
            }
        engine.dispose()
        return found

    with scratch_database("postgresql", tmp_path) as url:
        assert main(["demo", "--scale", "0.01", "--url", url, "--now", LAUNCH_DAY]) == 0
        before = counts(url)
        monkeypatch.setattr(DemoBuilder, "jobs", _interrupted)
        assert main(["demo", "--scale", "0.02", "--url", url, "--now", LAUNCH_DAY]) == 130
        assert counts(url) == before and before["job_runs"] > 0


# -- progress on a terminal's stderr only -------------------------------------------------------


def with_terminal_stderr(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; the exit code, stdout and what the terminal showed."""
    master, slave = pty.openpty()
    out = cwd / "stdout.txt"
    with out.open("w", encoding="utf-8") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "runner", *args], cwd=cwd, stdout=stdout, stderr=slave, env={**os.environ, **env}
        )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    code = process.wait(timeout=300)
    return code, out.read_text(encoding="utf-8"), shown.decode().replace("\r\n", "\n")


def test_run_counts_checks_on_a_terminal(repo_copy: Path) -> None:
    args = ["run", "--check", "monitor.queue_size", "--check", "promo.*", "--now", LAUNCH_DAY, "--format", "json"]
    code, stdout, terminal = with_terminal_stderr(args, repo_copy, NO_DEMO)
    assert code == 4 and stdout.startswith("[")
    assert terminal == "\r[0/3] checks\r[1/3] checks\r[2/3] checks\r[3/3] checks\r\x1b[K"
    piped = run_cli(*args, cwd=repo_copy, env=NO_DEMO)
    assert (piped.returncode, piped.stderr) == (4, "")  # not a terminal: nothing


def test_demo_shows_each_part_as_it_is_built_on_a_terminal(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--scale", "0.01", "--url", url, "--now", LAUNCH_DAY]
    code, stdout, terminal = with_terminal_stderr(args, tmp_path, {})
    assert code == 0 and stdout.startswith("demo CRM built in ")
    lines = terminal.splitlines()
    assert lines[0] == f"building the demo CRM in {url} (scale 0.01, seed 7) ..."
    parts = [re.fullmatch(r"  (\w+) +([\d,]+) rows +\d+\.\d s", line) for line in lines[1:-1]]
    assert [(m.group(1), m.group(2)) for m in parts if m] == [
        ("customers", "40,000"),
        ("birthday_bonus", "120,952"),
        ("churn_reactivation", "117,771"),
        ("vip_bonus_accrual", "121,636"),
        ("welcome_chain", "32,222"),
        ("draft_reminders", "6,000"),
        ("service_notifications", "4"),
        ("jobs", "379"),
        ("operations", "32,633"),
        ("integration", "579"),
    ]
    assert len(parts) == 10 and re.fullmatch(r"  indexes, statistics +\d+\.\d s", lines[-1])
    piped = run_cli(*args, cwd=tmp_path)
    assert (piped.returncode, piped.stderr) == (0, "")
