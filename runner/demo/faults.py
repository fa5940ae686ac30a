"""The faults the demo injects: each one, what it is, and the check result that must find it.

docs/demo.md is written from this list and a test asserts that `campaign-guard run` on the
demo database reports exactly these (and nothing else that is not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    check: str
    subject: str
    status: str  # the result status that finds it: fail or warn
    what: str
    on_launch_day: bool = False  # a launch-gate fault: `run` judges it when the campaign is due


FAULTS: tuple[Fault, ...] = (
    Fault(
        "gate.segmentation_not_done",
        "SEG_BIRTHDAY_DAILY",
        "fail",
        "Today's run of the birthday segmentation job was cancelled.",
    ),
    Fault(
        "gate.audience_anomaly",
        "birthday_bonus/accrue_bonus",
        "fail",
        "Today's birthday target group is 5x its usual size (at least 12,000 customers).",
    ),
    Fault(
        "gate.empty_attribute",
        "birthday_bonus/birthday_sms",
        "fail",
        '12 birthday SMS prepared today carry bonus_amount = 0 (the "0 points" SMS).',
    ),
    Fault(
        "gate.customer_type_mismatch",
        "churn_reactivation",
        "fail",
        "40 VIP customers are in today's target group of the regular churn campaign.",
        True,
    ),
    Fault(
        "gate.dedup_window",
        "churn_reactivation",
        "fail",
        "30 customers of today's churn target group got the campaign two weeks ago (dedup window 30d).",
        True,
    ),
    Fault(
        "gate.audience_over_max_clients",
        "vip_bonus_accrual/vip_email_en",
        "fail",
        "Today's target group of the English VIP letter has 3,400 customers; max_clients is 3,000.",
        True,
    ),
    Fault(
        "gate.second_live_launch",
        "vip_bonus_accrual/accrue_bonus",
        "fail",
        "The VIP accrual was launched live twice today: a re-run 25 minutes ago.",
        True,
    ),
    Fault(
        "gate.bonus_over_cap",
        "vip_bonus_accrual",
        "fail",
        "26 VIP customers were credited more than the 1,500 cap today (the re-run, and one 15,000 typo).",
        True,
    ),
    Fault(
        "monitor.new_errors",
        "121/2@birthday_bonus",
        "fail",
        "12 error-log rows in the last hour: empty message attribute (known code 121/2).",
    ),
    Fault(
        "monitor.new_errors",
        "999/7",
        "fail",
        "3 error-log rows in the last hour with code 999/7, which the dictionary does not know.",
    ),
    Fault("monitor.new_dumps", "ZCRM_SMS_SENDER", "fail", "The SMS sender crashed 20 minutes ago."),
    Fault("monitor.cancelled_jobs", "SEG_BIRTHDAY_DAILY", "fail", "The birthday segmentation job was cancelled today."),
    Fault(
        "monitor.queue_size", "sms_outbound", "fail", "The SMS queue held 62,000 entries 20 minutes ago (limit 50,000)."
    ),
    Fault(
        "monitor.table_freshness",
        "demo.loyalty_cards",
        "fail",
        "The loyalty-card replication has been silent for 3 hours (limit 30 minutes).",
    ),
    Fault(
        "monitor.availability",
        "transactions",
        "fail",
        "1.8 % of the last hour's transactions failed critically: availability 98.2 % (floor 99.7 %).",
    ),
    Fault(
        "monitor.webhook_error_rate",
        "application_draft_saved",
        "fail",
        "The draft-saved webhook answered 7 of its last 60 calls with HTTP 500 (11.7 %, limit 5 %).",
    ),
    Fault("monitor.promo_pool_low", "WELCOME10", "fail", "The WELCOME10 pool has 37 free codes left (minimum 100)."),
    Fault(
        "monitor.duplicate_participation",
        "welcome_chain",
        "fail",
        "15 customers got the welcome email twice yesterday.",
    ),
    Fault(
        "monitor.unreleased_elements",
        "churn_reactivation/last_chance_email",
        "fail",
        "The CRM refused to run the churn campaign's last-chance letter today: the element is not released there.",
    ),
    Fault(
        "campaign.messages_below_min",
        "vip_bonus_accrual",
        "fail",
        "The VIP re-run sent 25 letters; the campaign plans at least 500 per launch.",
    ),
    Fault(
        "campaign.messages_above_max",
        "vip_bonus_accrual",
        "fail",
        "Today's VIP launch sent 12,500 letters; the campaign plans at most 12,000.",
    ),
    Fault(
        "campaign.bonus_below_min", "vip_bonus_accrual", "fail", "One VIP customer was credited 150 instead of 1,500."
    ),
    Fault(
        "campaign.bonus_above_max",
        "vip_bonus_accrual",
        "fail",
        "One VIP customer was credited 15,000 instead of 1,500.",
    ),
    Fault(
        "campaign.bonus_total_above_max",
        "vip_bonus_accrual",
        "fail",
        "Today's VIP launch credited 18.8 million points in total; the plan is at most 18 million.",
    ),
    Fault(
        "monitor.unknown_values",
        "messages.status",
        "warn",
        "4 order e-mails of the last 10 minutes carry the mail server's status 'DEFERRED', which is no status of "
        "the data contract: checks looking for failed messages would pass them by.",
    ),
    Fault(
        "promo.two_codes_same_type",
        "promo.two_codes_same_type",
        "fail",
        "A customer holds two issued WELCOME10 codes (functional check).",
    ),
    Fault(
        "welcome.missing_message",
        "welcome_chain",
        "warn",
        "3 new customers registered two days ago never got the welcome email (functional check, warn from 1 row).",
    ),
)

REPORTED = ("monitor.launched_last_hour",)
"""Report-only checks: they pass, and list what happened (the VIP re-run 25 minutes ago)."""
