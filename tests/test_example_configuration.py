"""The shipped example is what a CRM team starts from: it must keep the shapes the articles describe."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from runner.scenario import elements_of, reachable

from .conftest import ROOT


def load(rel: str) -> Any:
    return yaml.safe_load((ROOT / rel).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def campaigns() -> dict[str, Any]:
    loaded = [load(p.relative_to(ROOT).as_posix()) for p in sorted((ROOT / "campaigns").glob("*.yaml"))]
    return {campaign["id"]: campaign for campaign in loaded}


def test_at_least_six_campaigns(campaigns):
    assert len(campaigns) >= 6


def test_welcome_chain_hands_out_promo_codes(campaigns):
    pools = [e.get("promo_pool") for _i, e in elements_of(campaigns["welcome_chain"], "send")]
    assert any(pools)


def test_birthday_bonus_is_daily_with_one_day_dedup(campaigns):
    birthday = campaigns["birthday_bonus"]
    assert (birthday["schedule"]["type"], birthday["dedup_window"]) == ("daily", "1d")
    assert birthday["segmentation_job"]
    assert [e["amount"] for _i, e in elements_of(birthday, "bonus")]


def test_vip_bonus_stays_under_the_cap(campaigns):
    vip = campaigns["vip_bonus_accrual"]
    cap = load("rules/thresholds.yaml")["max_bonus_per_client"]
    assert vip["customer_type"] == "vip"
    assert all(0 < e["amount"] <= cap for _i, e in elements_of(vip, "bonus"))


def test_draft_reminder_is_trigger_wait_condition_send_exit(campaigns):
    draft = campaigns["application_draft_reminder"]
    order = reachable(draft["elements"], draft["start"])
    types = [draft["elements"][element]["type"] for element in order]
    assert types[:3] == ["trigger", "wait", "condition"]
    assert {"send", "exit"} <= set(types)
    condition = draft["elements"][order[2]]
    assert draft["elements"][condition["then"]]["type"] == "send"
    assert draft["elements"][condition["else"]]["type"] == "exit"


def test_omnichannel_campaign_uses_email_sms_and_push(campaigns):
    assert any({"email", "sms", "push"} <= set(c["channels"]) for c in campaigns.values())


def test_churn_reactivation_exists_and_is_periodic(campaigns):
    assert campaigns["churn_reactivation"]["schedule"]["type"] in ("daily", "weekly", "cron")


def test_error_code_dictionary_has_at_least_15_codes_with_text_and_fix():
    codes = load("rules/error_codes.yaml")["codes"]
    assert len(codes) >= 15
    assert all(code["text"] and code["fix"] for code in codes)


def test_default_source_is_the_embedded_sqlite_file_overridable_from_the_environment():
    sources = load("rules/sources.yaml")
    url = sources["sources"][sources["default"]]["url"]
    assert url.startswith("${CAMPAIGN_GUARD_DEMO_URL:-sqlite:///")


def test_subscriptions_cover_marketers_developers_hotline_and_heartbeat():
    subscriptions = {s["name"]: s for s in load("rules/subscriptions.yaml")["subscriptions"]}
    assert len(subscriptions) >= 4
    digests = [s for s in subscriptions.values() if s.get("mode") == "digest"]
    assert any(
        {"mailing", "scenario"} <= set(s.get("localizations", [])) and s["digest_schedule"] == "0 9-21 * * *"
        for s in digests
    )
    assert any(s.get("send_empty") for s in digests)
    assert any(
        {"operation", "integration"} <= set(s.get("localizations", [])) and s.get("mode") == "immediate"
        for s in subscriptions.values()
    )
    hotline = [s for s in subscriptions.values() if "availability" in s.get("localizations", [])]
    assert any(s.get("escalate_after") and s.get("escalate_to") in subscriptions for s in hotline)
