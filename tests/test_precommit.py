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


def test_files_outside_the_hook_pattern_are_not_validated(hooked_repo: Path):
    (hooked_repo / "notes.yaml").write_text("id: [\n", encoding="utf-8")
    git(hooked_repo, "add", "-A")
    result = git(hooked_repo, "commit", "-m", "notes", check=False)
    assert result.returncode == 0
    assert "(no files to check)Skipped" in result.stderr.replace(".", "")
