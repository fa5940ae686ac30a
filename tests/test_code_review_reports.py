"""Reports for code-review dashboards: SARIF (GitHub code scanning) and GitLab Code Quality.

The SARIF is validated against the SARIF 2.1.0 schema (tests/data, with its `uri` and
`uri-reference` formats checked by rfc3986-validator); the GitLab report is asserted exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runner.findings import Finding, Severity
from runner.formats import fingerprints, links

from .conftest import NOW, ROOT

SCHEMA = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
COPY = "campaigns/templates/birthday sms копия.yaml"  # a space and Cyrillic in the name
COPY_URI = "campaigns/templates/birthday%20sms%20%D0%BA%D0%BE%D0%BF%D0%B8%D1%8F.yaml"
ORIGINAL = "campaigns/templates/birthday_sms.yaml"
CI_VARIABLES = ("GITHUB_", "CI_", "GITLAB_", links.DOCS_URL_VARIABLE)


def cli(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """campaign-guard in repo, with no CI variables of the machine running the tests."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CI_VARIABLES)}
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, **env},
    )


def sarif(repo: Path, **env: str) -> dict[str, Any]:
    result = cli(repo, "validate", "--format", "sarif", "--now", NOW, **env)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    return dict(log)


@pytest.fixture
def duplicated(repo_copy: Path) -> Path:
    """A template copied under a name with a space and Cyrillic: id.duplicate on both files."""
    shutil.copy(repo_copy / ORIGINAL, repo_copy / COPY)
    return repo_copy


def test_the_uri_formats_are_really_checked() -> None:
    """Without rfc3986-validator jsonschema skips `uri` formats silently: a raw space must fail."""
    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference"} <= set(checker.checkers)
    assert not checker.conforms("campaigns/a b.yaml", "uri-reference")
    assert not checker.conforms("campaigns/копия.yaml", "uri-reference")
    assert checker.conforms(COPY_URI, "uri-reference")


def test_artifact_uris_are_percent_encoded(duplicated: Path) -> None:
    results = sarif(duplicated)["runs"][0]["results"]
    locations = [r["locations"][0]["physicalLocation"] for r in results]
    assert [(loc["artifactLocation"]["uri"], loc["region"]["startLine"]) for loc in locations] == [
        (COPY_URI, 2),
        (ORIGINAL, 2),
    ]
    assert {loc["artifactLocation"]["uriBaseId"] for loc in locations} == {"%SRCROOT%"}
    # the message keeps the file's name as people read it
    assert results[1]["message"]["text"].startswith(f"template id 'birthday_sms' is also defined at {COPY}:2;")


def expected_fingerprint(check: str, path: str, message: str, occurrence: int = 1) -> str:
    identity = "\0".join((check, path, message)).encode("utf-8")
    return f"{hashlib.sha256(identity).hexdigest()[:32]}:{occurrence}"


def test_results_carry_fingerprints_that_survive_moved_lines(duplicated: Path) -> None:
    before = sarif(duplicated)["runs"][0]["results"]
    message = (
        "template id 'birthday_sms' is also defined at campaigns/templates/birthday_sms.yaml:N; ids must be unique "
        "across the repository - rename one"
    )
    assert before[0]["partialFingerprints"] == {"campaignGuard/v1": expected_fingerprint("id.duplicate", COPY, message)}
    assert len({r["partialFingerprints"]["campaignGuard/v1"] for r in before}) == 2

    for rel in (COPY, ORIGINAL):  # three lines above the id: every line and the quoted line move
        path = duplicated / rel
        path.write_text("# moved\n# down\n# three lines\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    after = sarif(duplicated)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [5, 5]
    assert ":5;" in after[0]["message"]["text"]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


def test_identical_findings_of_one_file_are_told_apart_by_their_order() -> None:
    same = [Finding("campaigns/a.yaml", line, 1, "graph.unreachable", Severity.WARNING, "x") for line in (3, 9)]
    other = Finding("campaigns/a.yaml", 4, 1, "graph.unreachable", Severity.WARNING, "y")
    prints = fingerprints.fingerprints([same[0], other, same[1]])
    assert prints[0].endswith(":1") and prints[2].endswith(":2") and prints[1].endswith(":1")
    assert prints[0].split(":")[0] == prints[2].split(":")[0] != prints[1].split(":")[0]
    assert fingerprints.logical_message("body line 12: x at rules/a.yml:3:7 and b.json:4") == (
        "body line N: x at rules/a.yml:N and b.json:N"
    )
    assert fingerprints.logical_message("at 10:30 every day") == "at 10:30 every day"


def rules_of(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}


def test_rules_carry_a_full_description_and_a_help_uri_into_the_checks_page(duplicated: Path) -> None:
    log = sarif(duplicated, CAMPAIGN_GUARD_DOCS_URL="https://git.example.com/crm/rules/-/blob/v1.4/docs/")
    rule = rules_of(log)["id.duplicate"]
    assert rule["helpUri"] == "https://git.example.com/crm/rules/-/blob/v1.4/docs/checks.md#id.duplicate"
    assert rule["shortDescription"]["text"] == (
        "Two definitions share one id (a campaign, template, check, subscription or error code)."
    )
    assert rule["fullDescription"]["text"] == (
        "Two definitions share one id (a campaign, template, check, subscription or error code). "
        "How to fix: Rename one of the two definitions."
    )
    assert rule["help"] == {"text": "Rename one of the two definitions."}
    # the anchor is there: every rule's fragment is an id of docs/checks.md
    page = (ROOT / "docs/checks.md").read_text(encoding="utf-8")
    for rule_id, each in rules_of(log).items():
        assert each["helpUri"].endswith(f"/checks.md#{rule_id}")
        assert f'<a id="{rule_id}"></a>' in page


def test_in_github_actions_the_help_uri_is_the_repositorys_page_at_the_analysed_commit(duplicated: Path) -> None:
    (duplicated / "docs").mkdir()
    shutil.copy(ROOT / "docs/checks.md", duplicated / "docs/checks.md")
    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/crm-rules",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_WORKSPACE": str(duplicated),
    }
    rule = rules_of(sarif(duplicated, **github))["template.missing"]
    assert rule["helpUri"] == (
        "https://github.com/acme/crm-rules/blob/0123456789abcdef0123456789abcdef01234567/docs/checks.md"
        "#template.missing"
    )
    local = rules_of(sarif(duplicated))["template.missing"]
    assert local["helpUri"] == (duplicated / "docs/checks.md").resolve().as_uri() + "#template.missing"


def test_without_a_checks_page_the_rules_have_no_help_uri(duplicated: Path) -> None:
    log = sarif(duplicated, GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="a/b", GITHUB_SHA="1")
    assert all("helpUri" not in rule for rule in rules_of(log).values())


@pytest.mark.parametrize(
    ("environ", "page"),
    [
        ({}, "file"),
        ({"CAMPAIGN_GUARD_DOCS_URL": "https://docs.example.com/cg"}, "https://docs.example.com/cg/checks.md"),
        (
            {"CI_PROJECT_URL": "https://gitlab.example.com/crm/rules", "CI_COMMIT_SHA": "abc", "CI_PROJECT_DIR": "."},
            "https://gitlab.example.com/crm/rules/-/blob/abc/crm%20config/docs/checks.md",
        ),
        (
            {
                "GITHUB_SERVER_URL": "https://github.example.com/",
                "GITHUB_REPOSITORY": "crm/rules",
                "GITHUB_SHA": "abc",
                "GITHUB_WORKSPACE": ".",
            },
            "https://github.example.com/crm/rules/blob/abc/crm%20config/docs/checks.md",
        ),
        # a checkout that does not hold the repository: the local page
        (
            {"CI_PROJECT_URL": "https://gitlab.example.com/x", "CI_COMMIT_SHA": "abc", "CI_PROJECT_DIR": "/nowhere"},
            "file",
        ),
    ],
)
def test_checks_page(tmp_path: Path, environ: dict[str, str], page: str) -> None:
    """A configuration in a subdirectory of the checkout (a monorepo) links to its own docs/."""
    root = tmp_path / "crm config"
    (root / "docs").mkdir(parents=True)
    (root / "docs/checks.md").write_text("# checks\n", encoding="utf-8")
    environ = {k: str(tmp_path) if v == "." else v for k, v in environ.items()}
    expected = (root / "docs/checks.md").resolve().as_uri() if page == "file" else page
    assert links.checks_page(root, environ) == expected


# --- GitLab Code Quality --------------------------------------------------------------------------------


def test_validate_writes_a_gitlab_code_quality_report(duplicated: Path) -> None:
    result = cli(duplicated, "validate", "--format", "gitlab", "--now", NOW)
    assert result.returncode == 1, result.stderr
    message = (
        "template id 'birthday_sms' is also defined at {}:2; ids must be unique across the repository - rename one"
    )
    assert json.loads(result.stdout) == [
        {
            "description": message.format(ORIGINAL),
            "check_name": "id.duplicate",
            "fingerprint": expected_fingerprint("id.duplicate", COPY, message.replace(":2", ":N").format(ORIGINAL)),
            "severity": "critical",
            "location": {"path": COPY, "lines": {"begin": 2}},
        },
        {
            "description": message.format(COPY),
            "check_name": "id.duplicate",
            "fingerprint": expected_fingerprint("id.duplicate", ORIGINAL, message.replace(":2", ":N").format(COPY)),
            "severity": "critical",
            "location": {"path": ORIGINAL, "lines": {"begin": 2}},
        },
    ]


def test_a_clean_repository_is_an_empty_gitlab_report(repo_copy: Path) -> None:
    result = cli(repo_copy, "validate", "--format", "gitlab", "--now", NOW)
    assert (result.returncode, result.stdout) == (0, "[]\n")


def test_review_writes_risks_and_findings_as_a_gitlab_code_quality_report(repo_copy: Path) -> None:
    git = ["git", "-c", "user.name=r", "-c", "user.email=r@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo_copy, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo_copy, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo_copy, check=True)
    campaign = repo_copy / "campaigns/birthday_bonus.yaml"
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("amount: 500\n", "amount: 600\n"), encoding="utf-8"
    )
    (repo_copy / "campaigns/templates/welcome_reminder_sms.yaml").unlink()
    result = cli(repo_copy, "review", "--base", "main", "--format", "gitlab", "--now", NOW)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    welcome = (repo_copy / "campaigns/welcome_chain.yaml").read_text(encoding="utf-8").splitlines()
    uses = welcome.index("    template: welcome_reminder_sms") + 1
    assert [(i["check_name"], i["severity"], i["location"]) for i in report] == [
        ("review.bonus_raised", "critical", {"path": "campaigns/birthday_bonus.yaml", "lines": {"begin": 34}}),
        ("template.missing", "critical", {"path": "campaigns/welcome_chain.yaml", "lines": {"begin": uses}}),
    ]
    assert report[0]["description"] == (
        "birthday_bonus/accrue_bonus: element accrue_bonus now credits 600 bonus points to each customer instead "
        "of 500 (×1.2)"
    )
    assert len({issue["fingerprint"] for issue in report}) == 2
