"""campaign-guard review against real git repositories: every risk flag raised and not raised,
the Markdown snapshot, exact JSON and GitHub annotations, exit codes, and a base read from git objects.

The Markdown snapshot lives in tests/snapshots/; after an intended change of the output, rewrite it with
CAMPAIGN_GUARD_UPDATE_SNAPSHOTS=1 pytest tests/test_review.py and review the diff before committing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import LAUNCH_DAY, NOW, ROOT, run_cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
_ENV = {
    "GIT_AUTHOR_NAME": "Reviewer",
    "GIT_AUTHOR_EMAIL": "reviewer@example.com",
    "GIT_COMMITTER_NAME": "Reviewer",
    "GIT_COMMITTER_EMAIL": "reviewer@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **_ENV, "HOME": str(repo)},
        check=True,
    )
    return done.stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(repo_copy: Path) -> Path:
    """This repository's configuration as the one commit of a fresh git repository."""
    git(repo_copy, "init", "-q")
    commit(repo_copy, "base")
    return repo_copy


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def review(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("review", "--base", "HEAD", "--now", NOW, *args, cwd=repo)


def risks(repo: Path, *args: str) -> list[tuple[str, str, str]]:
    """(flag, subject, reason) of every risk of the working tree against HEAD."""
    result = review(repo, "--format", "json", *args)
    assert result.returncode in (0, 1, 2), result.stderr
    return [(r["flag"], r["subject"], r["reason"]) for r in json.loads(result.stdout)["risks"]]


def flags(repo: Path) -> list[tuple[str, str]]:
    return [(flag, subject) for flag, subject, _ in risks(repo)]


BIRTHDAY = "campaigns/birthday_bonus.yaml"
SMS_ELEMENT = "    template: birthday_sms\n    max_clients: 40000\n"
SPRING = "campaigns/omnichannel_spring_sale.yaml"
CHURN = "campaigns/churn_reactivation.yaml"
VIP = "campaigns/vip_bonus_accrual.yaml"
WELCOME = "campaigns/welcome_chain.yaml"
NEW_ELEMENT = """  done:
    type: exit
    released: true
  follow_up:
    type: send
    name: Follow-up SMS
    channel: sms
    template: birthday_sms
    max_clients: 1000
    released: {released}
"""


# --- every flag: a change that raises it and a similar one that must not -------------------------------------


def test_max_clients_raised_more_than_twice(repo: Path) -> None:
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "400000"))
    assert risks(repo) == [
        (
            "review.max_clients_raised",
            "birthday_bonus/birthday_sms",
            "element birthday_sms may now reach 400,000 customers per launch instead of 40,000 (×10); "
            "make sure the audience really grew that much",
        )
    ]


def test_max_clients_doubled_is_not_flagged(repo: Path) -> None:
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "80000"))
    assert flags(repo) == []


def test_bonus_amount_raised(repo: Path) -> None:
    edit(repo, BIRTHDAY, "    amount: 500\n", "    amount: 800\n")
    assert risks(repo) == [
        (
            "review.bonus_raised",
            "birthday_bonus/accrue_bonus",
            "element accrue_bonus now credits 800 bonus points to each customer instead of 500 (×1.6)",
        )
    ]


def test_bonus_caps_raised_or_removed(repo: Path) -> None:
    edit(repo, BIRTHDAY, "  max_bonus_total: 20000000\n", "  max_bonus_total: 30000000\n")
    edit(repo, VIP, "  max_bonus: 1500\n", "")
    edit(repo, "rules/thresholds.yaml", "max_bonus_per_client: 5000\n", "max_bonus_per_client: 50000\n")
    assert risks(repo) == [
        (
            "review.bonus_raised",
            "birthday_bonus",
            "limits.max_bonus_total (the largest sum of bonuses one launch may credit) rises from 20,000,000 to "
            "30,000,000 (×1.5)",
        ),
        (
            "review.bonus_raised",
            "vip_bonus_accrual",
            "limits.max_bonus (the largest bonus one customer may get from one launch) of 1,500 is removed: "
            "nothing caps it any more",
        ),
        (
            "review.bonus_raised",
            "thresholds",
            "the global cap max_bonus_per_client rises from 5,000 to 50,000 (×10): every campaign may now credit "
            "more to one customer",
        ),
    ]


def test_bonus_lowered_is_not_flagged(repo: Path) -> None:
    edit(repo, BIRTHDAY, "    amount: 500\n", "    amount: 300\n")
    edit(repo, BIRTHDAY, "  max_bonus_total: 20000000\n", "  max_bonus_total: 12000000\n")
    edit(repo, "rules/thresholds.yaml", "max_bonus_per_client: 5000\n", "max_bonus_per_client: 4000\n")
    assert flags(repo) == []


def test_channel_switched(repo: Path) -> None:
    edit(repo, BIRTHDAY, "channels: [sms, push]\n", "channels: [sms, push, email]\n")
    edit(repo, BIRTHDAY, "    channel: sms\n", "    channel: push\n")
    edit(repo, "campaigns/templates/welcome_email.yaml", "channel: email\n", "channel: web\n")
    assert risks(repo) == [
        (
            "review.channel_switched",
            "birthday_bonus",
            "the campaign's channels change from sms, push to sms, push, email: now also sends by email",
        ),
        (
            "review.channel_switched",
            "birthday_bonus/birthday_sms",
            "element birthday_sms now sends by push instead of sms: other customers are reached, at another cost",
        ),
        (
            "review.channel_switched",
            "welcome_email",
            "template welcome_email is now for web instead of email; campaigns sending it: welcome_chain",
        ),
    ]


def test_channels_reordered_or_same_channel_template_is_not_flagged(repo: Path) -> None:
    edit(repo, BIRTHDAY, "channels: [sms, push]\n", "channels: [push, sms]\n")
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("birthday_sms", "welcome_reminder_sms"))
    assert flags(repo) == []


def test_schedule_moved_into_the_past(repo: Path) -> None:
    edit(repo, SPRING, '  start_at: "2027-03-01T10:00:00"\n', '  start_at: "2026-11-01T10:00:00"\n')
    assert risks(repo) == [
        (
            "review.schedule_in_past",
            "omnichannel_spring_sale",
            "start_at moves from 2027-03-01T10:00:00 to 2026-11-01T10:00:00, which is in the past: the campaign "
            "may launch (or catch up on missed launches) as soon as this is merged",
        )
    ]


def test_schedule_moved_earlier_but_still_ahead_is_not_flagged(repo: Path) -> None:
    edit(repo, SPRING, '  start_at: "2027-03-01T10:00:00"\n', '  start_at: "2027-02-01T10:00:00"\n')
    assert flags(repo) == []


def test_schedule_more_frequent(repo: Path) -> None:
    edit(repo, CHURN, "  type: weekly\n  days: [tue]\n", "  type: daily\n")
    edit(repo, VIP, '  cron: "0 10 1 * *"\n', '  cron: "0 10 1,15 * *"\n')
    assert risks(repo) == [
        (
            "review.schedule_more_frequent",
            "churn_reactivation",
            "the campaign now launches 7 times a week instead of once a week (weekly on tue at 11:00 → daily at "
            "11:00): customers hear from it more often",
        ),
        (
            "review.schedule_more_frequent",
            "vip_bonus_accrual",
            "the campaign now launches 2 times a month instead of once a month (cron 0 10 1 * * → cron 0 10 1,15 "
            "* *): customers hear from it more often",
        ),
    ]


def test_schedule_moved_to_another_day_is_not_more_frequent(repo: Path) -> None:
    edit(repo, CHURN, "  days: [tue]\n", "  days: [thu]\n")
    edit(repo, VIP, '  cron: "0 10 1 * *"\n', '  cron: "30 8 2 * *"\n')
    assert flags(repo) == []


def test_element_added_but_not_released(repo: Path) -> None:
    edit(repo, BIRTHDAY, NEW_ELEMENT.split("  follow_up")[0], NEW_ELEMENT.format(released="false"))
    edit(repo, WELCOME, "    duration: 2d\n    released: true\n", "    duration: 2d\n    released: false\n")
    assert risks(repo) == [
        (
            "review.element_unreleased",
            "birthday_bonus/follow_up",
            "element follow_up is added but not released: customers who reach it stop there until someone sets "
            "released: true",
        ),
        (
            "review.element_unreleased",
            "welcome_chain/wait_2d",
            "element wait_2d was released and is not any more: customers who reach it stop there",
        ),
    ]


def test_element_added_and_released_is_not_flagged(repo: Path) -> None:
    edit(repo, BIRTHDAY, NEW_ELEMENT.split("  follow_up")[0], NEW_ELEMENT.format(released="true"))
    assert flags(repo) == []


def test_template_reopened(repo: Path) -> None:
    edit(repo, "campaigns/templates/legacy_points_sms.yaml", "closed: true\n", "closed: false\n")
    assert risks(repo) == [
        (
            "review.template_reopened",
            "legacy_points_sms",
            "template legacy_points_sms was closed (retired) and is open again: campaigns may send it; make sure "
            "its texts are still right",
        )
    ]


def test_template_closed_is_not_flagged(repo: Path) -> None:
    edit(repo, "campaigns/templates/birthday_sms.yaml", "channel: sms\n", "channel: sms\nclosed: true\n")
    assert flags(repo) == []


def test_template_placeholders_changed(repo: Path) -> None:
    template = "campaigns/templates/birthday_sms.yaml"
    edit(repo, template, "{{ first_name }}, с днём", "{{ first_name }} {{ last_name }}, с днём")
    edit(
        repo,
        template,
        "attributes:\n",
        "attributes:\n  last_name:\n    type: string\n    example: Иванов\n",
    )
    assert risks(repo) == [
        (
            "review.template_placeholders_changed",
            "birthday_sms",
            "template birthday_sms: attributes added: last_name; placeholders in the texts added: last_name. Every "
            "campaign sending it must provide the values: birthday_bonus",
        )
    ]


def test_template_reworded_with_the_same_placeholders_is_not_flagged(repo: Path) -> None:
    edit(repo, "campaigns/templates/birthday_sms.yaml", "с днём рождения!", "поздравляем с днём рождения!")
    assert flags(repo) == []


def test_dedup_window_removed_or_shortened(repo: Path) -> None:
    edit(repo, BIRTHDAY, "dedup_window: 1d\n", "")
    edit(repo, WELCOME, "dedup_window: 30d\n", "dedup_window: 7d\n")
    assert risks(repo) == [
        (
            "review.dedup_removed",
            "birthday_bonus",
            "dedup_window 1d is removed: a customer may now get this campaign again in the very next launch "
            "(two birthdays in a row)",
        ),
        (
            "review.dedup_shortened",
            "welcome_chain",
            "dedup_window shortens from 30d to 7d: a customer may get this campaign again sooner",
        ),
    ]


def test_dedup_window_lengthened_is_not_flagged(repo: Path) -> None:
    edit(repo, WELCOME, "dedup_window: 30d\n", "dedup_window: 60d\n")
    edit(repo, BIRTHDAY, "dedup_window: 1d\n", "dedup_window: 24h\n")
    assert flags(repo) == []


def test_thresholds_and_checks_loosened(repo: Path) -> None:
    edit(repo, "rules/thresholds.yaml", "promo_pool_min_free: 100\n", "promo_pool_min_free: 50\n")
    edit(repo, "rules/thresholds.yaml", "    sms_outbound: 50000 ", "    sms_outbound: 90000 ")
    edit(repo, "rules/checks/crm_health.yaml", '    fail: "> 1000000"\n', '    fail: "> 2000000"\n')
    edit(repo, "rules/functional_checks.yaml", "    fail_rows: 20\n", "    fail_rows: 50\n")
    edit(repo, "rules/monitored_tables.yaml", "    max_silence_minutes: 10\n", "    max_silence_minutes: 60\n")
    assert risks(repo) == [
        (
            "review.threshold_loosened",
            "bonus.largest_accrual_today",
            "the fail level of data check bonus.largest_accrual_today moves from > 1000000 to > 2000000: results "
            "that used to fail now pass",
        ),
        (
            "review.threshold_loosened",
            "welcome.missing_message",
            "fail_rows of functional check welcome.missing_message rises from 20 to 50: up to 49 violating rows "
            "are now not reported at that level",
        ),
        (
            "review.threshold_loosened",
            "demo.customers",
            "table demo.customers may now stay silent 60 minutes instead of 10 before anyone is told its feed stopped",
        ),
        (
            "review.threshold_loosened",
            "thresholds",
            "promo_pool_min_free falls from 100 to 50: a promo-code pool may run lower before it is reported",
        ),
        (
            "review.threshold_loosened",
            "thresholds",
            "queue sms_outbound may now grow to 90,000 instead of 50,000 before it is reported",
        ),
    ]


def test_words_allowed_as_test_markers_loosen_the_thresholds(repo: Path) -> None:
    edit(repo, "rules/thresholds.yaml", "test_marker_allow: []\n", 'test_marker_allow: ["Test-Drive"]\n')
    assert risks(repo) == [
        (
            "review.threshold_loosened",
            "thresholds",
            "test_marker_allow now includes Test-Drive: test markers inside these words are no longer rejected",
        ),
    ]


def test_thresholds_and_checks_tightened_are_not_flagged(repo: Path) -> None:
    edit(repo, "rules/thresholds.yaml", "promo_pool_min_free: 100\n", "promo_pool_min_free: 200\n")
    edit(repo, "rules/thresholds.yaml", "    sms_outbound: 50000 ", "    sms_outbound: 30000 ")
    edit(repo, "rules/checks/crm_health.yaml", '    fail: "> 1000000"\n', '    fail: "> 500000"\n')
    edit(repo, "rules/functional_checks.yaml", "    fail_rows: 20\n", "    fail_rows: 10\n")
    edit(repo, "rules/monitored_tables.yaml", "    max_silence_minutes: 10\n", "    max_silence_minutes: 5\n")
    assert flags(repo) == []


def _only_hotline_hears_availability(repo: Path) -> None:
    """The shipped heartbeat and VIP subscriptions hear of every localization; narrow them in the base."""
    subscriptions = "rules/subscriptions.yaml"
    edit(
        repo,
        subscriptions,
        '    digest_schedule: "0 9 * * *"\n',
        '    digest_schedule: "0 9 * * *"\n    localizations: [system]\n',
    )
    edit(
        repo, subscriptions, "    customer_types: [vip]\n", "    customer_types: [vip]\n    localizations: [campaign]\n"
    )
    commit(repo, "narrow the catch-all subscriptions")


def test_subscription_change_leaving_a_localization_unheard(repo: Path) -> None:
    _only_hotline_hears_availability(repo)
    edit(
        repo,
        "rules/subscriptions.yaml",
        "  - name: loyalty_hotline\n",
        "  - name: loyalty_hotline\n    enabled: false\n",
    )
    assert risks(repo) == [
        (
            "review.subscription_unreached",
            "availability",
            "no enabled subscription is told of new problems in localization availability any more (before: "
            "loyalty_hotline): they would open and nobody would hear of them",
        )
    ]


def test_subscription_disabled_while_another_still_hears_is_not_flagged(repo: Path) -> None:
    edit(
        repo,
        "rules/subscriptions.yaml",
        "  - name: loyalty_hotline\n",
        "  - name: loyalty_hotline\n    enabled: false\n",
    )
    assert flags(repo) == []


# --- the whole review -----------------------------------------------------------------------------------------


def _realistic_change(repo: Path) -> None:
    """A marketer's pull request: a bigger birthday campaign, a reworded SMS, a new reminder, a retired subscription."""
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "400000"))
    edit(repo, BIRTHDAY, "    amount: 500\n", "    amount: 700\n")
    edit(repo, BIRTHDAY, "  max_messages: 40000\n", "  max_messages: 400000\n")
    edit(repo, BIRTHDAY, NEW_ELEMENT.split("  follow_up")[0], NEW_ELEMENT.format(released="false"))
    edit(
        repo,
        "campaigns/templates/birthday_sms.yaml",
        "они действуют до {{ bonus_valid_until }}.",
        "они действуют до {{ bonus_valid_until }}.\n  Ждём вас!",
    )
    edit(repo, "campaigns/templates/birthday_sms.yaml", "name: Birthday greeting SMS\n", "name: Birthday SMS\n")
    text = (repo / "rules/subscriptions.yaml").read_text(encoding="utf-8")
    start = text.index("  # Kept for reference")
    (repo / "rules/subscriptions.yaml").write_text(text[:start].rstrip("\n") + "\n", encoding="utf-8")
    (repo / "campaigns/templates/birthday_email.yaml").write_text(
        "id: birthday_email\nname: Birthday email\nchannel: email\ncustomer_types: [regular]\n"
        "subject: Happy birthday\nbody: 'Happy birthday, {{ first_name }}!'\n",
        encoding="utf-8",
    )
    commit(repo, "bigger birthday campaign")


def test_markdown_snapshot(repo: Path) -> None:
    _realistic_change(repo)
    result = run_cli("review", "--base", "HEAD~1", "--head", "HEAD", "--now", NOW, cwd=repo)
    assert result.returncode == 1, result.stderr
    snapshot = SNAPSHOTS / "review.md"
    if os.environ.get("CAMPAIGN_GUARD_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == snapshot.read_text(encoding="utf-8")


def test_json_structure(repo: Path) -> None:
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "100000"))
    edit(repo, BIRTHDAY, "  occasion: birthday\n", "")
    result = review(repo, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "base": "HEAD",
        "head": "working tree",
        "exit_code": 0,
        "changed_files": [BIRTHDAY],
        "summary": {
            "changes": {"campaign": {"added": 0, "removed": 0, "changed": 1}},
            "risks": {"review.max_clients_raised": 1},
            "findings": {},
        },
        "changes": [
            {
                "kind": "campaign",
                "id": "birthday_bonus",
                "status": "changed",
                "file": BIRTHDAY,
                "fields": [
                    {
                        "field": "labels.occasion",
                        "label": "label occasion",
                        "before": "birthday",
                        "after": None,
                    },
                    {
                        "field": "elements.birthday_sms.max_clients",
                        "label": "max_clients of element birthday_sms",
                        "before": 40000,
                        "after": 100000,
                    },
                ],
            }
        ],
        "unparsed": [],
        "risks": [
            {
                "flag": "review.max_clients_raised",
                "severity": "warning",
                "subject": "birthday_bonus/birthday_sms",
                "reason": "element birthday_sms may now reach 100,000 customers per launch instead of 40,000 (×2.5); "
                "make sure the audience really grew that much",
                "path": BIRTHDAY,
                "line": 57,
                "column": 18,
            }
        ],
        "findings": [],
    }


def test_github_annotations(repo: Path) -> None:
    edit(repo, BIRTHDAY, "    amount: 500\n", "    amount: 600\n")
    edit(repo, BIRTHDAY, "    template: birthday_push\n", "    template: birthday_sms\n")
    result = review(repo, "--format", "github")
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "::error file=campaigns/birthday_bonus.yaml,line=34,col=13,title=review.bonus_raised::"
        "birthday_bonus/accrue_bonus: element accrue_bonus now credits 600 bonus points to each customer instead "
        "of 500 (×1.2)\n"
        "::error file=campaigns/birthday_bonus.yaml,line=48,col=14,title=template.channel_mismatch::"
        "element 'birthday_push' sends by push but template 'birthday_sms' is for sms; pick a push template or "
        "change the channel\n"
    )


def test_findings_caused_on_files_the_change_did_not_touch(repo: Path) -> None:
    (repo / "campaigns/templates/welcome_reminder_sms.yaml").unlink()
    result = review(repo, "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["changes"][0]["status"] == "removed"
    assert [(f["path"], f["check"]) for f in report["findings"]] == [(WELCOME, "template.missing")]


def test_warnings_only_exit_0_or_2_with_strict(repo: Path) -> None:
    edit(repo, WELCOME, "dedup_window: 30d\n", "dedup_window: 7d\n")
    assert review(repo, "--format", "json").returncode == 0
    assert review(repo, "--format", "json", "--strict").returncode == 2


def test_no_change(repo: Path) -> None:
    edit(repo, BIRTHDAY, "owner: crm-loyalty\n", "owner: crm-loyalty   # the loyalty team\n")
    result = review(repo)
    assert result.returncode == 0, result.stderr
    assert "No campaign, template or rule changed (1 file changed only in form or comments)." in result.stdout
    assert "**Nothing risky found.**" in result.stdout


def test_base_is_read_from_git_objects_without_touching_the_working_tree(repo: Path) -> None:
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "400000"))
    commit(repo, "raise the audience cap")
    edit(repo, BIRTHDAY, "    amount: 500\n", "    amount: 900\n")  # not committed
    (repo / "campaigns/templates/birthday_push.yaml").unlink()  # not committed either
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    status = git(repo, "status", "--porcelain")
    result = run_cli("review", "--base", "HEAD~1", "--head", "HEAD", "--now", NOW, "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["flag"] for r in report["risks"]] == ["review.max_clients_raised"]
    assert report["findings"] == []
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "worktree", "list").count("\n") == 1


def test_the_working_tree_is_the_default_head(repo: Path) -> None:
    (repo / "campaigns/templates/birthday_push.yaml").unlink()
    report = json.loads(review(repo, "--format", "json").stdout)
    assert [(c["kind"], c["id"], c["status"]) for c in report["changes"]] == [("template", "birthday_push", "removed")]
    assert [(f["path"], f["check"]) for f in report["findings"]] == [(BIRTHDAY, "template.missing")]


def test_a_configuration_in_a_subdirectory_of_the_git_repository(tmp_path: Path) -> None:
    crm = tmp_path / "monorepo" / "crm"
    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, crm / name)
    git(tmp_path / "monorepo", "init", "-q")
    commit(tmp_path / "monorepo", "base")
    edit(crm, BIRTHDAY, "dedup_window: 1d\n", "")
    result = run_cli("--root", "crm", "review", "--base", "HEAD", "--now", NOW, "--format", "json", cwd=crm.parent)
    assert result.returncode == 1, result.stderr
    assert [(r["flag"], r["path"]) for r in json.loads(result.stdout)["risks"]] == [("review.dedup_removed", BIRTHDAY)]


def test_not_a_git_repository(repo_copy: Path) -> None:
    result = run_cli("review", "--base", "main", cwd=repo_copy)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == "campaign-guard: .: not a git repository; review compares two git revisions of it\n"


def test_unknown_revision(repo: Path) -> None:
    result = run_cli("review", "--base", "no-such-branch", cwd=repo)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == "campaign-guard: unknown git revision 'no-such-branch' in .\n"


def test_an_unreadable_changed_file_exits_3_as_validate_does(repo: Path) -> None:
    edit(repo, BIRTHDAY, "owner: crm-loyalty\n", "owner: [crm-loyalty\n")
    result = review(repo, "--format", "github")
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("::error file=campaigns/birthday_bonus.yaml,line=")
    assert ",title=yaml.syntax::" in result.stdout


DUPLICATE_KEY = "duplicate key 'customer_type': YAML would silently keep only the last value; remove or rename one"


def test_a_campaign_file_that_no_longer_parses_is_not_reported_as_removed(repo: Path) -> None:
    """Its only fault is a duplicate key: the review says the file no longer parses, and nothing else."""
    edit(repo, WELCOME, "customer_type: new\n", "customer_type: new\ncustomer_type: mass\n")
    line = (repo / WELCOME).read_text(encoding="utf-8").splitlines().index("customer_type: mass") + 1
    commit(repo, "a second customer type")
    base_head = ("review", "--base", "HEAD~1", "--head", "HEAD", "--now", NOW)
    report = json.loads(run_cli(*base_head, "--format", "json", cwd=repo).stdout)
    assert report["exit_code"] == 3
    assert report["changes"] == [] and report["summary"]["changes"] == {}
    assert report["unparsed"] == [
        {
            "file": WELCOME,
            "kind": "campaign file",
            "line": line,
            "column": 1,
            "check": "yaml.duplicate_key",
            "message": DUPLICATE_KEY,
            "parsed_before": True,
        }
    ]
    # the check and the subscription naming welcome_chain are not told it does not exist
    assert [(f["path"], f["line"], f["check"]) for f in report["findings"]] == [(WELCOME, line, "yaml.duplicate_key")]
    assert report["risks"] == []

    result = run_cli(*base_head, cwd=repo)
    assert result.returncode == 3, result.stderr
    assert "- removed" not in result.stdout
    assert (
        f"- campaign file no longer parses: campaigns/welcome_chain.yaml line {line}: {DUPLICATE_KEY} "
        "(not compared until it parses)\n" in result.stdout
    )


def test_other_changes_are_still_compared_beside_a_file_that_does_not_parse(repo: Path) -> None:
    edit(repo, WELCOME, "customer_type: new\n", "customer_type: new\ncustomer_type: mass\n")
    edit(repo, BIRTHDAY, SMS_ELEMENT, SMS_ELEMENT.replace("40000", "400000"))
    (repo / "campaigns/templates/draft.yaml").write_text("id: draft\nchannel: [sms\n", encoding="utf-8")
    commit(repo, "three changes")
    result = run_cli("review", "--base", "HEAD~1", "--head", "HEAD", "--now", NOW, "--format", "json", cwd=repo)
    report = json.loads(result.stdout)
    assert result.returncode == 3
    assert [(c["kind"], c["id"], c["status"]) for c in report["changes"]] == [("campaign", "birthday_bonus", "changed")]
    assert [r["flag"] for r in report["risks"]] == ["review.max_clients_raised"]
    assert [(u["file"], u["kind"], u["check"], u["parsed_before"]) for u in report["unparsed"]] == [
        ("campaigns/templates/draft.yaml", "template file", "yaml.syntax", False),
        (WELCOME, "campaign file", "yaml.duplicate_key", True),
    ]
    assert sorted({(f["path"], f["check"]) for f in report["findings"]}) == [
        ("campaigns/templates/draft.yaml", "yaml.syntax"),
        (WELCOME, "yaml.duplicate_key"),
    ]
    markdown = run_cli("review", "--base", "HEAD~1", "--head", "HEAD", "--now", NOW, cwd=repo).stdout
    draft = next(u for u in report["unparsed"] if u["file"] == "campaigns/templates/draft.yaml")
    assert f"- template file does not parse: campaigns/templates/draft.yaml line {draft['line']}: " in markdown
    assert "- removed" not in markdown


def test_a_template_that_no_longer_parses_does_not_break_the_campaigns_using_it(repo: Path) -> None:
    template = "campaigns/templates/welcome_reminder_sms.yaml"
    edit(repo, template, "channel: sms\n", "channel: sms\nchannel: sms\n")
    result = review(repo, "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 3
    assert report["changes"] == []
    assert [(u["file"], u["kind"], u["check"]) for u in report["unparsed"]] == [
        (template, "template file", "yaml.duplicate_key")
    ]
    assert [(f["path"], f["check"]) for f in report["findings"]] == [(template, "yaml.duplicate_key")]


def test_a_base_before_campaign_guard_adds_everything(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("a CRM\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    commit(tmp_path, "first")
    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, tmp_path / name)
    result = review(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    campaigns = len(list((ROOT / "campaigns").glob("*.yaml")))
    assert report["summary"]["changes"]["campaign"] == {"added": campaigns, "removed": 0, "changed": 0}
    assert {c["status"] for c in report["changes"]} == {"added"}
    assert (report["risks"], report["findings"]) == ([], [])


# --- review --dry-run --------------------------------------------------------------------------------------


def test_dry_run_adds_the_figures_of_each_changed_campaign(repo: Path, demo_url: str) -> None:
    edit(repo, "campaigns/churn_reactivation.yaml", "    max_clients: 70000\n", "    max_clients: 80000\n")
    plain = run_cli("review", "--base", "HEAD", "--now", LAUNCH_DAY, "--format", "json", cwd=repo)
    done = run_cli("review", "--base", "HEAD", "--now", LAUNCH_DAY, "--format", "json", "--dry-run", cwd=repo,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert done.returncode == plain.returncode, done.stderr
    (run,) = json.loads(done.stdout)["dry_run"]
    assert (run["campaign"], run["file"], run["day"], run["error"]) == (
        "churn_reactivation",
        "campaigns/churn_reactivation.yaml",
        "2026-12-01",
        None,
    )
    comeback = next(e for e in run["figures"]["elements"] if e["element"] == "comeback_email")
    assert (comeback["audience"], comeback["excluded"], comeback["final"], comeback["max_clients"]) == (
        1234,
        70,
        1164,
        80000,
    )
    assert run["figures"]["exclusions"]["reasons"] == {"type_mismatch": 40, "dedup": 30, "empty_attributes": 0}
    page = run_cli("review", "--base", "HEAD", "--now", LAUNCH_DAY, "--dry-run", cwd=repo,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url}).stdout  # fmt: skip
    assert "### Dry run" in page
    assert "| comeback_email | send | email | 1,234 | 70 | 1,164 |" in page
    assert page.rstrip().splitlines()[-1].startswith("<sub>campaign-guard review")


def test_dry_run_without_a_reachable_source_changes_nothing_but_says_so(repo: Path) -> None:
    edit(repo, "campaigns/churn_reactivation.yaml", "    max_clients: 70000\n", "    max_clients: 80000\n")
    unreachable = {"CAMPAIGN_GUARD_DEMO_URL": "postgresql+psycopg://postgres@127.0.0.1:1/crm"}
    plain = run_cli("review", "--base", "HEAD", "--now", LAUNCH_DAY, cwd=repo)
    done = run_cli("review", "--base", "HEAD", "--now", LAUNCH_DAY, "--dry-run", cwd=repo, env=unreachable)
    assert done.returncode == plain.returncode
    assert "- `churn_reactivation`: no dry run: source 'demo'" in done.stdout
    assert "cannot connect" in done.stdout


def test_a_base_branch_that_moved_on_is_compared_from_where_the_change_branched_off(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "campaigns/churn_reactivation.yaml", "    max_clients: 70000\n", "    max_clients: 700000\n")
    commit(repo, "raise the churn audience cap")
    git(repo, "checkout", "-q", "main")
    edit(repo, "campaigns/churn_reactivation.yaml", "    max_clients: 60000\n", "    max_clients: 65000\n")
    commit(repo, "meanwhile on main: the last-chance cap moves")
    git(repo, "checkout", "-q", "feature")
    result = run_cli("review", "--base", "main", "--now", NOW, "--format", "json", cwd=repo)
    (change,) = json.loads(result.stdout)["changes"]
    assert [(f["field"], f["before"], f["after"]) for f in change["fields"]] == [
        ("elements.comeback_email.max_clients", 70000, 700000)
    ]  # main's newer 65,000 is not shown as the change undoing it
