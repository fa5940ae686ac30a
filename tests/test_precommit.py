"""The published hook, run by the real pre-commit on real git commits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
    }
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=check, timeout=300)


@pytest.fixture
def hooked_repo(tmp_path: Path) -> Path:
    """A git repository with our configuration and the published hook installed."""
    if not PRE_COMMIT.exists():
        pytest.fail(f"{PRE_COMMIT} missing: install the test extra (pip install -e '.[test]')")
    repo = tmp_path / "crm-config"
    repo.mkdir()
    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, repo / name)
    published = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in published if h["id"] == "campaign-guard-validate")
    # Same id, files and arguments as published; run from this interpreter instead of a fresh environment.
    local = {
        **hook,
        "language": "system",
        "entry": hook["entry"].replace("campaign-guard", f"{sys.executable} -m runner", 1),
    }
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (repo / ".gitignore").write_text(".campaign-guard/\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    subprocess.run(
        [str(PRE_COMMIT), "install"],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial configuration")
    return repo


def test_a_good_change_is_committed(hooked_repo: Path):
    campaign = hooked_repo / "campaigns/birthday_bonus.yaml"
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("max_clients: 40000", "max_clients: 45000", 1), encoding="utf-8"
    )
    git(hooked_repo, "add", "-A")
    result = git(hooked_repo, "commit", "-m", "raise the birthday cap a little", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "campaign-guard validate" in output and "Passed" in output


def test_a_broken_campaign_is_rejected_with_file_and_line(hooked_repo: Path):
    campaign = hooked_repo / "campaigns/birthday_bonus.yaml"
    text = campaign.read_text(encoding="utf-8")
    broken = text.replace("template: birthday_sms", "template: birthday_sms_v2", 1)
    assert broken != text
    campaign.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index(next(row for row in broken.splitlines() if "birthday_sms_v2" in row)) + 1
    git(hooked_repo, "add", "-A")
    result = git(hooked_repo, "commit", "-m", "switch the template", check=False)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Failed" in output
    assert (
        f"campaigns/birthday_bonus.yaml:{line}:15: problem template.missing: element 'birthday_sms' uses template "
        "'birthday_sms_v2', which does not exist" in output
    )
    head = git(hooked_repo, "log", "--format=%s", "-1").stdout.strip()
    assert head == "initial configuration"


def test_files_outside_the_configuration_are_not_judged(hooked_repo: Path):
    """The hook runs on every commit (always_run), but validates only the configuration."""
    (hooked_repo / "notes.yaml").write_text("id: [\n", encoding="utf-8")
    git(hooked_repo, "add", "-A")
    result = git(hooked_repo, "commit", "-m", "notes", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "campaign-guard validate" in result.stderr and "Passed" in result.stderr


MISSING = (
    "element 'birthday_sms' uses template 'birthday_sms', which does not exist; "
    "create campaigns/templates/<id>.yaml or fix the id"
)


def hook_output(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The findings the hook printed: pre-commit's own lines (the hook's name, `- hook id`, ...) left out."""
    output = (result.stdout + result.stderr).splitlines()
    return [line for line in output if line.startswith(("campaigns/", "rules/", "schemas/"))]


def element_line(repo: Path, rel: str, text: str) -> int:
    return (repo / rel).read_text(encoding="utf-8").splitlines().index(text) + 1


def test_deleting_a_template_a_campaign_uses_is_rejected(hooked_repo: Path):
    """pre-commit passes no deleted file to a hook: the whole repository is validated, so the campaign is."""
    line = element_line(hooked_repo, "campaigns/birthday_bonus.yaml", "    template: birthday_sms")
    git(hooked_repo, "rm", "-q", "campaigns/templates/birthday_sms.yaml")
    result = git(hooked_repo, "commit", "-m", "drop the birthday SMS", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stderr
    assert hook_output(result) == [f"campaigns/birthday_bonus.yaml:{line}:15: problem template.missing: {MISSING}"]
    assert git(hooked_repo, "log", "--format=%s", "-1").stdout.strip() == "initial configuration"
    assert (hooked_repo / "campaigns/templates/birthday_sms.yaml").exists() is False  # the deletion stays staged


def test_deleting_a_template_nobody_uses_is_committed(hooked_repo: Path):
    rel = "campaigns/templates/legacy_points_sms.yaml"
    users = [
        p for p in hooked_repo.glob("*/**/*.yaml") if "legacy_points_sms" in p.read_text() and p.name[:6] != "legacy"
    ]
    assert users == []
    git(hooked_repo, "rm", "-q", rel)
    result = git(hooked_repo, "commit", "-m", "drop an unused draft", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stderr


def test_renaming_a_template_file_that_keeps_its_id_is_committed(hooked_repo: Path):
    git(hooked_repo, "mv", "campaigns/templates/birthday_sms.yaml", "campaigns/templates/birthday_sms_ru.yaml")
    result = git(hooked_repo, "commit", "-m", "name the file after its language", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stderr
    assert git(hooked_repo, "log", "--format=%s", "-1").stdout.strip() == "name the file after its language"


def test_renaming_a_template_out_of_the_templates_directory_is_rejected(hooked_repo: Path):
    """Moved to an archive folder, the template is no longer a template: the campaign that uses it breaks."""
    line = element_line(hooked_repo, "campaigns/birthday_bonus.yaml", "    template: birthday_sms")
    (hooked_repo / "archive").mkdir()
    git(hooked_repo, "mv", "campaigns/templates/birthday_sms.yaml", "archive/birthday_sms.yaml")
    result = git(hooked_repo, "commit", "-m", "archive the birthday SMS", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert hook_output(result) == [f"campaigns/birthday_bonus.yaml:{line}:15: problem template.missing: {MISSING}"]
    assert git(hooked_repo, "log", "--format=%s", "-1").stdout.strip() == "initial configuration"


def test_an_unstaged_fix_does_not_hide_a_staged_deletion(hooked_repo: Path):
    """pre-commit stashes what is not staged: the hook judges the commit, not the working tree."""
    campaign = hooked_repo / "campaigns/birthday_bonus.yaml"
    git(hooked_repo, "rm", "-q", "campaigns/templates/birthday_sms.yaml")
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("template: birthday_sms\n", "template: birthday_push\n", 1),
        encoding="utf-8",
    )
    result = git(hooked_repo, "commit", "-m", "drop the birthday SMS, fix not staged", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line.split(": problem ")[1] for line in hook_output(result)] == [f"template.missing: {MISSING}"]
    assert "template: birthday_push\n" in campaign.read_text(encoding="utf-8")  # the unstaged edit is back


def test_this_repositorys_own_hook_is_configured_like_the_published_one():
    published = next(
        h
        for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
        if h["id"] == "campaign-guard-validate"
    )
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    own = next(h for repo in config["repos"] for h in repo["hooks"] if h["id"] == "campaign-guard-validate")
    for hook in (published, own):
        assert (hook["always_run"], hook["pass_filenames"], hook.get("files")) == (True, False, None)
        assert hook["entry"] == "campaign-guard validate"
