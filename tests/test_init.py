"""`campaign-guard init`: a new rules repository for a pip user, and documentation a pip user has.

The end-to-end test runs the console script, as a user does: init into an empty directory, then
validate, demo (on the embedded SQLite default of the written rules/sources.yaml) and run there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runner import __version__
from runner.catalogue import catalogue
from runner.demo.faults import FAULTS
from runner.scaffold import skeleton

from .conftest import LAUNCH_DAY, ROOT

CLI = Path(sys.executable).parent / "campaign-guard"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

WRITTEN = (
    ".github/workflows/review.yml",
    ".github/workflows/scheduled.yml",
    ".gitignore",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "campaigns/birthday_bonus.yaml",
    "campaigns/templates/birthday_sms.yaml",
    "deploy/gitlab_mr_note.py",
    "requirements.txt",
    "rules/sources.yaml",
    "rules/thresholds.yaml",
)

# What `run` finds in the new repository on the demo CRM: the documented faults of the example campaign
# and of the built-in monitoring; the other campaigns' faults and the shipped rules' own checks need the
# files of this repository (campaigns/, rules/functional_checks.yaml, monitored_tables.yaml ...).
FOUND_IN_A_NEW_REPOSITORY = {
    ("gate.segmentation_not_done", "SEG_BIRTHDAY_DAILY", "fail"),
    ("gate.audience_anomaly", "birthday_bonus/accrue_bonus", "fail"),
    ("gate.empty_attribute", "birthday_bonus/birthday_sms", "fail"),
    ("monitor.new_errors", "121/2@birthday_bonus", "fail"),
    ("monitor.new_errors", "999/7", "fail"),
    ("monitor.new_dumps", "ZCRM_SMS_SENDER", "fail"),
    ("monitor.cancelled_jobs", "SEG_BIRTHDAY_DAILY", "fail"),
    ("monitor.queue_size", "sms_outbound", "fail"),
    ("monitor.availability", "transactions", "fail"),
    ("monitor.webhook_error_rate", "application_draft_saved", "fail"),
    ("monitor.promo_pool_low", "WELCOME10", "fail"),
    ("monitor.unknown_values", "messages.status", "warn"),
}

# The pipelines init writes are this repository's own, installing the pinned campaign-guard of
# requirements.txt instead of the checkout; a change to one of them must reach the other.
DOCS_CI = ("(docs/ci.md)", "(`campaign-guard docs ci`)")
INSTALL = "pip install -r requirements.txt"
PIPELINES = {
    ".github/workflows/review.yml": (
        DOCS_CI,
        ("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt"),
        ("run: pip install '.[postgres]'", f"run: {INSTALL}"),
        ("run: pip install .", f"run: {INSTALL}"),
    ),
    ".github/workflows/scheduled.yml": (
        DOCS_CI,
        ("(docs/notifications.md)", "(`campaign-guard docs notifications`)"),
        ("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt"),
        (
            "run: pip install '.[postgres]' # add mysql for a MariaDB/MySQL source: '.[postgres,mysql]'",
            f"run: {INSTALL} # add the mysql extra there for a MariaDB/MySQL source",
        ),
    ),
    ".gitlab-ci.yml": (
        DOCS_CI,
        ("see docs/ci.md.", "see `campaign-guard docs ci`."),
        (
            "pip install --quiet '.[postgres]' # add mysql for a MariaDB/MySQL source: '.[postgres,mysql]'",
            "pip install --quiet -r requirements.txt # add the mysql extra there for a MariaDB/MySQL source",
        ),
        ("pip install --quiet '.[postgres]'", "pip install --quiet -r requirements.txt"),
        ("pip install --quiet .", "pip install --quiet -r requirements.txt"),
    ),
}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, with no CAMPAIGN_GUARD_DEMO_URL: the written sources file decides."""
    environ = {k: v for k, v in os.environ.items() if k != "CAMPAIGN_GUARD_DEMO_URL"}
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**environ, **(env or {})}
    )


def init_output(directory: str | None) -> str:
    lines = [f"campaign-guard init: a new rules repository in {directory or '.'}"]
    lines += [f"  wrote {rel}" for rel in WRITTEN]
    lines += ["next:", *([f"  cd {directory}"] if directory else [])]
    lines += [
        "  campaign-guard validate     # the configuration is sound: exit 0",
        "  campaign-guard demo         # build the demo CRM in .campaign-guard/demo.db (about a minute)",
        "  campaign-guard run          # find its injected faults: exit 1, problems found",
        "  git init && pre-commit install   # validate before every commit (.pre-commit-config.yaml)",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def new_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`campaign-guard init crm-rules` in an empty directory, then `demo` there (built once)."""
    parent = tmp_path_factory.mktemp("pip-user")
    done = cli("init", "crm-rules", cwd=parent)
    assert (done.returncode, done.stderr, done.stdout) == (0, "", init_output("crm-rules"))
    repo = parent / "crm-rules"
    built = cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, cwd=repo)
    assert built.returncode == 0, built.stderr
    assert (repo / ".campaign-guard/demo.db").is_file()  # the embedded SQLite default of rules/sources.yaml
    return repo


def test_init_writes_a_repository_that_validates_clean(new_repo: Path):
    files = sorted(p.relative_to(new_repo).as_posix() for p in new_repo.rglob("*") if p.is_file())
    assert [rel for rel in files if not rel.startswith(".campaign-guard/")] == list(WRITTEN)
    done = cli("validate", "--strict", cwd=new_repo)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_run_in_the_new_repository_finds_exactly_its_share_of_the_demo_faults(new_repo: Path):
    done = cli("run", "--now", LAUNCH_DAY, "--format", "json", cwd=new_repo)
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)
    found = {(r["check"], r["subject"], r["status"]) for r in results if r["status"] != "pass"}
    assert found == FOUND_IN_A_NEW_REPOSITORY
    assert found <= {(f.check, f.subject, f.status) for f in FAULTS}  # nothing but documented faults


def test_init_in_the_current_directory(tmp_path: Path):
    done = cli("init", cwd=tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (0, "", init_output(None))
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").splitlines()[-1] == (
        f"campaign-guard[postgres]=={__version__}"
    )


def test_init_overwrites_nothing_without_force(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (tmp_path / ".gitlab-ci.yml").write_text("{}\n", encoding="utf-8")
    done = cli("init", str(tmp_path), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (
        f"campaign-guard: init: {tmp_path}/.gitignore and 1 more already exists; init overwrites nothing without "
        "--force\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore", ".gitlab-ci.yml"]
    forced = cli("init", str(tmp_path), "--force", cwd=tmp_path)
    assert (forced.returncode, forced.stderr) == (0, "")
    assert (tmp_path / ".gitignore").read_bytes() == skeleton()[".gitignore"]


def test_init_refuses_an_existing_repository_even_with_force(tmp_path: Path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/thresholds.yaml").write_text("max_bonus_per_client: 100\n", encoding="utf-8")
    for args in (["init"], ["init", "--force"]):
        done = cli(*args, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (3, "")
        assert done.stderr == (
            "campaign-guard: init: . is already a campaign-guard repository (rules/ holds files); init starts a new "
            "one - choose an empty directory\n"
        )
    assert (tmp_path / "rules/thresholds.yaml").read_text(encoding="utf-8") == "max_bonus_per_client: 100\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules"]


def test_init_refuses_a_file_as_the_directory(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    done = cli("init", "notes.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "",
        "campaign-guard: init: notes.txt exists and is not a directory\n",
    )


@pytest.mark.parametrize("rel", list(PIPELINES))
def test_the_pipelines_written_are_this_repositorys_with_the_pinned_install(rel: str):
    text = (ROOT / rel).read_text(encoding="utf-8")
    for old, new in PIPELINES[rel]:
        assert old in text, f"{rel} no longer says {old!r}: update PIPELINES and the skeleton"
        text = text.replace(old, new)
    assert skeleton()[rel].decode("utf-8") == text
    assert "pip install ." not in text and "pip install '." not in text


@pytest.mark.parametrize(
    ("rel", "schema"),
    [
        (".github/workflows/review.yml", "vendor.github-workflows"),
        (".github/workflows/scheduled.yml", "vendor.github-workflows"),
        (".gitlab-ci.yml", "vendor.gitlab-ci"),
        (".github/workflows/review.yml", "custom.github-workflows-require-timeout"),
    ],
)
def test_the_pipelines_written_match_their_schemas(new_repo: Path, rel: str, schema: str):
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(new_repo / rel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gitlab_note_script_written_is_this_repositorys(new_repo: Path):
    assert (new_repo / "deploy/gitlab_mr_note.py").read_bytes() == (ROOT / "deploy/gitlab_mr_note.py").read_bytes()


def test_the_pre_commit_hook_written_refuses_a_broken_commit(tmp_path: Path):
    """Real git, real pre-commit, offline: the local hook runs the installed campaign-guard."""
    repo = tmp_path / "crm-rules"
    assert cli("init", str(repo), cwd=tmp_path).returncode == 0
    env = {
        **os.environ,
        "PATH": f"{CLI.parent}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=repo, capture_output=True, text=True, env=env, timeout=300)

    assert run("git", "init", "-q", "-b", "main").returncode == 0
    assert run(str(PRE_COMMIT), "install").returncode == 0
    run("git", "add", "-A")
    first = run("git", "commit", "-q", "-m", "a new rules repository")
    assert first.returncode == 0, first.stdout + first.stderr
    run("git", "rm", "-q", "campaigns/templates/birthday_sms.yaml")
    broken = run("git", "commit", "-q", "-m", "remove the template the campaign uses")
    assert broken.returncode == 1
    assert (
        "campaigns/birthday_bonus.yaml:43:15: problem template.missing: element 'birthday_sms' uses template "
        "'birthday_sms', which does not exist" in broken.stderr
    )
    assert run("git", "rev-list", "--count", "HEAD").stdout == "1\n"


# --- documentation a pip user has -----------------------------------------------------------------


def test_docs_check_id_prints_the_checks_entry(tmp_path: Path):
    """Outside any repository: the entry comes from the installed catalogue."""
    done = cli("docs", "template.missing", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "template.missing\n"
        "  severity: problem, localization: mailing\n"
        "  reported by: campaign-guard validate\n"
        "  catches: A send element names a template that no file in campaigns/templates/ defines.\n"
        "  fix: Create the template or correct the id on the send element.\n"
        f"  every check: `campaign-guard docs checks` ({ROOT / 'docs/checks.md'})\n"
    )


def test_docs_of_a_data_check_say_how_it_reads_dirty_data(tmp_path: Path):
    info = next(entry for entry in catalogue() if entry.id == "gate.dedup_window")
    done = cli("docs", "gate.dedup_window", cwd=tmp_path)
    assert done.stdout.splitlines()[2:6] == [
        "  reported by: the launch gate: campaign-guard check CAMPAIGN, and run for the campaigns due today",
        f"  catches: {info.summary}",
        f"  fix: {info.fix}",
        f"  dirty data: {info.dirty_data}",
    ]


@pytest.mark.parametrize("page", ["configuration", "ci", "demo"])
def test_docs_page_prints_the_installed_page(tmp_path: Path, page: str):
    done = cli("docs", page, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (ROOT / f"docs/{page}.md").read_text(encoding="utf-8")


def test_docs_of_an_unknown_topic_names_the_pages(tmp_path: Path):
    done = cli("docs", "template.mising", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (
        "campaign-guard: docs: 'template.mising' is neither a check id nor a page (pages: benchmarks, checks, ci, "
        "configuration, demo, dry-run, notifications, review, sources)\n"
    )


def test_docs_open_shows_the_checks_anchor_in_the_browser(tmp_path: Path):
    seen = tmp_path / "browser.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" > "{seen}"\n', encoding="utf-8")
    browser.chmod(0o755)
    done = cli("docs", "--open", "template.missing", cwd=tmp_path, env={"BROWSER": f"{browser} %s"})
    uri = (ROOT / "docs/checks.md").as_uri() + "#template.missing"
    assert (done.returncode, done.stdout, done.stderr) == (0, f"opened {uri}\n", "")
    assert seen.read_text(encoding="utf-8") == uri + "\n"


def test_docs_open_without_a_browser_prints_the_text(tmp_path: Path):
    failing = tmp_path / "browser"
    failing.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    failing.chmod(0o755)
    done = cli("docs", "--open", "template.missing", cwd=tmp_path, env={"BROWSER": f"{failing} %s"})
    assert done.returncode == 0
    assert done.stderr == "campaign-guard docs: no browser found; the text follows\n"
    assert done.stdout.startswith("template.missing\n  severity: problem")


# Texts that may name docs/*.md: what `campaign-guard docs` writes into a checkout, the pages themselves
# (cross-references between pages), and the repository's own copy a SARIF report links to.
MAY_NAME_DOCS = {"runner/main.py": 1, "runner/docs_render.py": 2, "runner/formats/links.py": 1}


def test_messages_point_at_documentation_a_pip_user_has():
    """No user-facing string of the runner (docstrings aside) names a page under docs/: pip users have none."""
    found: dict[str, int] = {}
    for path in sorted((ROOT / "runner").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        documentation = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in documentation
                and re.search(r"docs/[a-z-]+\.md", node.value)
            ):
                rel = path.relative_to(ROOT).as_posix()
                found[rel] = found.get(rel, 0) + 1
    assert found == MAY_NAME_DOCS


def test_the_wheel_carries_the_skeleton_and_the_docs(tmp_path: Path):
    """A real wheel (pip wheel, hatchling): init and docs from it alone, no checkout on the path."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("campaign_guard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert {f"runner/docs/{page}.md" for page in ("checks", "configuration", "ci", "sources", "demo")} <= names
    assert "runner/skeleton/deploy/gitlab_mr_note.py" in names
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}

    def wheel_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runner", *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
        )

    assert wheel_cli("init", "crm-rules").stdout == init_output("crm-rules")
    for rel in WRITTEN:
        assert (tmp_path / "crm-rules" / rel).read_bytes() == skeleton()[rel], rel
    assert wheel_cli("--root", "crm-rules", "validate").returncode == 0
    shown = wheel_cli("docs", "template.missing").stdout.splitlines()[-1]
    assert shown == f"  every check: `campaign-guard docs checks` ({tmp_path / 'site/runner/docs/checks.md'})"


def test_docs_of_a_topic_refuses_the_generator_options(capsys: pytest.CaptureFixture[str]):
    from runner.main import main

    with pytest.raises(SystemExit) as exited:
        main(["docs", "template.missing", "--check"])
    assert exited.value.code == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[-1] == (
        "campaign-guard: error: docs: --check and --output generate the reference docs; give no TOPIC or --open"
    )
