"""validate never crashes: a check that breaks is one internal.check_failed finding (exit 3), and
every other check and file is still reported, in one process and in forked workers alike."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

import runner.static
from runner import validation
from runner.document import Document
from runner.main import main
from runner.repository import Repository

from .conftest import NOW
from .crashing_check import with_broken_check

BROKE = (
    "check template.zero_bonus broke on this file (KeyError: 'attributes'), so the file is not fully checked; "
    "this is a campaign-guard bug - please report it"
)


def _break_a_rule(repo: Path) -> None:
    campaign = repo / "campaigns/vip_bonus_accrual.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text.replace("amount: 1500", "amount: 1000000"), encoding="utf-8")


def _validate(repo: Path, capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[tuple[str, int, str]]]:
    """validate in this process (so a monkeypatched check is the one used); paths relative to repo."""
    code = main(["--root", str(repo), "validate", "--format", "json", "--now", NOW, *paths])
    found = json.loads(capsys.readouterr().out)
    return code, [(f["path"], f["line"], f["check"]) for f in found]


def test_a_broken_check_is_one_finding_per_file_and_every_other_finding_stays(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_a_rule(repo_copy)
    monkeypatch.setattr(runner.static, "CHECKS", with_broken_check("template.zero_bonus"))
    monkeypatch.chdir(repo_copy)
    code, found = _validate(
        repo_copy, capsys, "campaigns/templates/welcome_email.yaml", "campaigns/vip_bonus_accrual.yaml"
    )
    assert code == 3
    line = next(
        i
        for i, text in enumerate(
            (repo_copy / "campaigns/vip_bonus_accrual.yaml").read_text(encoding="utf-8").splitlines(), 1
        )
        if "amount: 1000000" in text
    )
    assert found == [
        ("campaigns/templates/welcome_email.yaml", 1, "internal.check_failed"),
        ("campaigns/vip_bonus_accrual.yaml", line, "bonus.above_cap"),
    ]


def test_the_broken_check_is_named_in_one_line(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner.static, "CHECKS", with_broken_check("template.zero_bonus"))
    monkeypatch.chdir(repo_copy)
    code = main(["--root", str(repo_copy), "validate", "--now", NOW, "campaigns/templates/welcome_email.yaml"])
    assert (code, capsys.readouterr().out) == (
        3,
        f"campaigns/templates/welcome_email.yaml:1:1: error internal.check_failed: {BROKE}\nfound 1 error\n",
    )


def test_a_file_whose_validation_breaks_loses_no_other_file(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_a_rule(repo_copy)
    read = Repository.document

    def document(self: Repository, rel: str) -> Document:
        if rel == "campaigns/welcome_chain.yaml":
            raise RecursionError("maximum recursion depth exceeded")
        return read(self, rel)

    monkeypatch.setattr(Repository, "document", document)
    code, found = _validate(repo_copy, capsys)
    assert code == 3
    assert [f for f in found if f[2] != "bonus.above_cap"] == [
        ("campaigns/welcome_chain.yaml", 1, "internal.check_failed")
    ]
    assert [f[0] for f in found if f[2] == "bonus.above_cap"] == ["campaigns/vip_bonus_accrual.yaml"]


def test_forked_workers_isolate_a_broken_check_too(repo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_a_rule(repo_copy)
    monkeypatch.setattr(runner.static, "CHECKS", with_broken_check("template.zero_bonus"))
    now = datetime.fromisoformat(NOW)
    alone = validation.validate(Repository(repo_copy), Repository(repo_copy).files, now)
    monkeypatch.setattr(validation, "PARALLEL_MINIMUM", 1)
    forked = validation.validate(Repository(repo_copy), Repository(repo_copy).files, now, jobs=2)
    templates = sorted(p.relative_to(repo_copy).as_posix() for p in (repo_copy / "campaigns/templates").glob("*.yaml"))
    assert forked == alone
    assert [f.path for f in forked if f.check_id == "internal.check_failed"] == templates
    assert {f.message for f in forked if f.check_id == "internal.check_failed"} == {BROKE}
    assert [f.path for f in forked if f.check_id == "bonus.above_cap"] == ["campaigns/vip_bonus_accrual.yaml"]
    assert validation.exit_code(forked, strict=False) == 3
