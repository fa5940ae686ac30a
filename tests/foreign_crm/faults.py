"""What `campaign-guard run --now NOW` must find in the foreign CRM, and what it must let pass.

FAULTS are every result that does not pass, exactly: a run reporting one more, or one fewer, is wrong.
BOUNDARIES sit right next to a fault and must pass - or, where the check has nothing to judge there,
produce no result for that subject at all (absent=True). `observed`, where given, is the exact observed value.

Subjects: monitored tables are named SOURCE.table; launch-gate results campaign or campaign/element.
"""

from __future__ import annotations

from dataclasses import dataclass

NOW = "2026-12-01T11:00:00+03:00"  # a Tuesday and the 1st: birthday, churn and VIP campaigns launch
SOURCE = "crm"  # the foreign CRM's source in sources.yaml, the default one
UNKNOWN_VALUES = "monitor.unknown_values"


@dataclass(frozen=True)
class Case:
    """A fault: the result (check, subject) must have this status."""

    check: str
    subject: str
    status: str  # fail or warn
    what: str
    observed: object = None


@dataclass(frozen=True)
class Boundary:
    """A must-pass case: the result (check, subject) must pass - or not exist, when absent."""

    check: str
    subject: str
    what: str
    observed: object = None
    absent: bool = False


FAULTS: tuple[Case, ...] = (
    # -- the launch gate of birthday_bonus (daily) ---------------------------------------------------------
    Case(
        "gate.segmentation_not_done",
        "SEG_BIRTHDAY_DAILY",
        "fail",
        "Today's run of the birthday segmentation job was killed: status 'CANCELLED ' (padded), no end time.",
    ),
    Case(
        "gate.empty_attribute",
        "birthday_bonus/birthday_sms",
        "fail",
        "Four birthday SMS prepared today carry bonus_amount '0.00', '0,00', ' 0.00', '0,00 ' (integer attribute).",
        observed=4,
    ),
    # -- the launch gate of churn_reactivation (Tuesdays) ----------------------------------------------------
    Case(
        "gate.audience_anomaly",
        "churn_reactivation/comeback_email",
        "fail",
        "Today's churn target group has 60 customers; the 8 live launches with a client count had ~15,000 "
        "(the test launches of 50 and 70 and the launch without a count must not widen the band).",
        observed=60,
    ),
    Case(
        "gate.customer_type_mismatch",
        "churn_reactivation",
        "fail",
        "Three members of today's churn target group have no customer type at all (NULL): unknown type.",
        observed=3,
    ),
    Case(
        "gate.dedup_window",
        "churn_reactivation",
        "fail",
        "Three customers of today's churn target group got the win-back email two weeks ago (dedup window 30d).",
        observed=3,
    ),
    Case(
        "gate.empty_attribute",
        "churn_reactivation/comeback_email",
        "fail",
        "Two win-back emails prepared today: one with promo_code NULL, one with promo_valid_until blank.",
        observed=2,
    ),
    # -- the launch gate of vip_bonus_accrual (the 1st) ----------------------------------------------------
    Case(
        "gate.customer_type_mismatch",
        "vip_bonus_accrual",
        "fail",
        "Two regular customers are in today's VIP bonus segment (the members typed 'VIP', ' Vip ' are VIPs).",
        observed=2,
    ),
    Case(
        "gate.second_live_launch",
        "vip_bonus_accrual/accrue_bonus",
        "fail",
        "The VIP accrual was launched live at 10:00 and again 25 minutes ago (mode 'LIVE').",
        observed=2,
    ),
    Case(
        "gate.bonus_over_cap",
        "vip_bonus_accrual",
        "fail",
        "Six VIPs were credited more than 1,500 today: the 15,000 typo and five credited again by the re-run.",
        observed=6,
    ),
    Case(
        "gate.empty_attribute",
        "vip_bonus_accrual/vip_email_en",
        "fail",
        "One English VIP letter sent today has no bonus_amount attribute row at all.",
        observed=1,
    ),
    # -- monitoring: incidents ---------------------------------------------------------------------------------
    Case(
        "monitor.new_errors",
        "121/2@birthday_bonus",
        "fail",
        "Four error-log rows (text time 'YYYYMMDDhhmmss') in the last hour: empty message attribute, code 121/2.",
        observed=4,
    ),
    Case(
        "monitor.new_errors",
        "999/7",
        "fail",
        "Three rows of the unknown code 999/7, the first exactly one hour ago (the window's start is inside).",
        observed=3,
    ),
    Case(
        "monitor.new_errors",
        "JOB_CANCELLED",
        "fail",
        "The job-cancelled error of the aborted loyalty export, without subcode (NULL) and without campaign.",
        observed=1,
    ),
    Case(
        "monitor.new_errors",
        "SMS_GW/429@welcome_chain",
        "fail",
        "The SMS gateway throttled a welcome reminder 10 minutes ago.",
        observed=1,
    ),
    Case("monitor.new_dumps", "ZCRM_SMS_SENDER", "fail", "The SMS sender crashed 20 minutes ago.", observed=1),
    Case(
        "monitor.cancelled_jobs",
        "SEG_BIRTHDAY_DAILY",
        "fail",
        "The birthday segmentation was cancelled today at 02:00 ('CANCELLED ', day-first text times).",
        observed=1,
    ),
    Case(
        "monitor.cancelled_jobs",
        "SEG_CHURN_90D_WEEKLY",
        "fail",
        "The churn segmentation failed at 02:00 ('FAILED'); its retry at 03:00 succeeded, the failure still counts.",
        observed=1,
    ),
    Case(
        "monitor.cancelled_jobs",
        "SEG_VIP_MONTHLY",
        "fail",
        "The VIP segmentation failed at 23:59:59 yesterday, inside the 24-hour jobs window.",
        observed=1,
    ),
    # -- monitoring: health ------------------------------------------------------------------------------------
    Case(
        "monitor.queue_size",
        "sms_outbound",
        "fail",
        "The SMS queue held 62,000 entries 22 minutes ago (limit 50,000).",
        observed=62000,
    ),
    Case(
        "monitor.table_freshness",
        f"{SOURCE}.loyalty_cards",
        "fail",
        "The loyalty-card replication (zlc_cards, times as 'dd.mm.YYYY HH:MM:SS' text) is silent for 180 minutes "
        "(limit 30); read as text, '30.11.2026 ...' would sort after '01.12.2026 ...'.",
        observed=180,
    ),
    Case(
        "monitor.availability",
        "transactions",
        "fail",
        "One of the 15 till receipts of the last hour failed critically: 93.33 % (floor 99.7 %).",
        observed="93.33%",
    ),
    Case(
        "monitor.webhook_error_rate",
        "application_draft_saved",
        "fail",
        "The draft-saved webhook answered 7 of its last 60 calls with HTTP 500 (11.67 %, limit 5 %).",
        observed="11.67%",
    ),
    Case(
        "monitor.promo_pool_low",
        "WELCOME10",
        "fail",
        "WELCOME10 has 37 free codes, written 'free', 'Free' and 'FREE ' (minimum 100).",
        observed=37,
    ),
    # -- monitoring: activity and campaign limits -------------------------------------------------------------
    Case(
        "monitor.duplicate_participation",
        "welcome_chain",
        "fail",
        "Three new customers got two welcome emails (two message ids) yesterday.",
        observed=3,
    ),
    Case(
        "monitor.unreleased_elements",
        "churn_reactivation/last_chance_email",
        "fail",
        "The CRM refused the churn last-chance letter today with status 'NOT_RELEASED'.",
    ),
    Case(
        "campaign.messages_below_min",
        "vip_bonus_accrual",
        "fail",
        "The VIP re-run sent no letter (and the 10:00 run 40); the campaign plans at least 500 per launch.",
        observed=0,
    ),
    Case(
        "campaign.bonus_below_min",
        "vip_bonus_accrual",
        "fail",
        "One VIP was credited 150 instead of 1,500 by the 10:00 run.",
        observed=150,
    ),
    Case(
        "campaign.bonus_above_max",
        "vip_bonus_accrual",
        "fail",
        "One VIP was credited 15,000 instead of 1,500 by the 10:00 run.",
        observed=15000,
    ),
    # -- the repository's own checks ------------------------------------------------------------------------
    Case(
        "messages.sms_failure_share",
        "messages",
        "fail",
        "2 of the last day's 20 SMS failed, written 'FAILED' and 'Failed ' by the gateway: 10 % (fail above 5 %).",
        observed="10%",
    ),
    Case(
        "promo.issued_without_customer",
        "promo.issued_without_customer",
        "warn",
        "One WELCOME10 code is ' Issued' but held by nobody: 1 of 214 codes, 0.47 % (warn above 0.1 %).",
        observed="0.47% (1 of 214 promo_codes)",
    ),
    Case(
        "promo.two_codes_same_type",
        "promo.two_codes_same_type",
        "fail",
        "The oldest new customer holds two WELCOME10 codes, one typed ' WELCOME10' and 'Issued'.",
        observed=1,
    ),
    Case(
        "welcome.missing_message",
        "welcome_chain",
        "warn",
        "Three new customers (typed 'New', 'NEW ') registered 2 days ago never got the welcome email.",
        observed=3,
    ),
    Case(
        "bonus.non_positive_amount",
        "bonus.non_positive_amount",
        "fail",
        "A birthday accrual of 0 points a week ago.",
        observed=1,
    ),
    Case(
        "bonus.birthday_message_without_accrual",
        "birthday_bonus",
        "fail",
        "A birthday SMS went out ('SENT') six days ago to a customer who was never credited.",
        observed=1,
    ),
    # -- values outside the vocabularies (monitor.unknown_values) ---------------------------------------------
    Case(
        UNKNOWN_VALUES,
        "messages.status",
        "warn",
        "A welcome reminder SMS of 10 minutes ago has the status 'ESME_RTHROTTLED' (an SMPP code).",
        observed=1,
    ),
    Case(
        UNKNOWN_VALUES,
        "job_runs.status",
        "warn",
        "Today's 10:00 loyalty export ended 'ABORTED_BY_OPERATOR': neither cancelled nor failed.",
        observed=1,
    ),
)

BOUNDARIES: tuple[Boundary, ...] = (
    Boundary(
        "gate.second_live_launch",
        "vip_bonus_accrual/vip_email_ru",
        "Today's Russian VIP letter launch row is replicated three times: one live launch.",
        observed=1,
    ),
    Boundary(
        "gate.second_live_launch",
        "vip_bonus_accrual/vip_email_en",
        "A test launch (mode 'TEST') of the English letter at 09:30 next to its live launch at 10:00.",
        observed=1,
    ),
    Boundary(
        "monitor.launched_last_hour",
        "vip_bonus_accrual/live",
        "The 10:00 run (exactly one hour ago, inside the window) and the re-run: 4 launches, not 6 rows.",
        observed="4 live launches, 87 clients",
    ),
    Boundary(
        "campaign.messages_above_max",
        "vip_bonus_accrual",
        "The 10:00 VIP run sent 40 letters, counted once although the Russian letter's launch row is there 3 times.",
        observed=40,
    ),
    Boundary(
        "campaign.bonus_total_above_max",
        "vip_bonus_accrual",
        "The 10:00 VIP run credited 72,150 in total: its replicated accrual row counts once (not 73,650).",
        observed=72150,
    ),
    Boundary(
        "campaign.messages_below_min",
        "birthday_bonus",
        "Today's birthday dry run (a completed launch in mode 'TEST', no messages) is no production run.",
        absent=True,
    ),
    Boundary(
        "gate.audience_anomaly",
        "birthday_bonus/accrue_bonus",
        "One of the 14 birthday launches has no client count (NULL): left out of the history, 13 remain.",
        observed=30,
    ),
    Boundary(
        "gate.audience_anomaly",
        "vip_bonus_accrual/vip_email_en",
        "No launch of the English letter has a client count: no history, but 3 customers are below the "
        "10,000 minimum volume, so nothing to warn about.",
        observed=3,
    ),
    Boundary(
        "monitor.duplicate_participation",
        "birthday_bonus",
        "Three of yesterday's birthday message rows were replicated three times each: one message per customer.",
        observed=0,
    ),
    Boundary(
        "bonus.double_accrual",
        "bonus.double_accrual",
        "One VIP accrual row of today is replicated (same accrual id): credited once, not twice by one launch.",
        observed=0,
    ),
    Boundary(
        "gate.empty_attribute",
        "birthday_bonus/birthday_push",
        "Pushes prepared today with bonus_amount '0.5', '10', '500.00', ' 500 ' and first_name ' x ': none empty.",
        observed=0,
    ),
    Boundary(
        "gate.dedup_window",
        "birthday_bonus",
        "A member of today's birthday group got a greeting at 23:59:59 two days ago, one second before the "
        "1-day dedup window.",
        observed=0,
    ),
    Boundary(
        "gate.customer_type_mismatch",
        "birthday_bonus",
        "Today's birthday group is typed 'regular', ' REGULAR' and 'Regular ': all regular.",
        observed=0,
    ),
    Boundary(
        "vip.message_to_non_vip",
        "vip_bonus_accrual",
        "VIP letters went to customers typed 'vip', 'VIP' and ' Vip ' in the customer master: all VIPs.",
        observed=0,
    ),
    Boundary(
        "gate.segmentation_not_done",
        "SEG_CHURN_90D_WEEKLY",
        "The churn segmentation's latest run today is 'SUCCEEDED', after the failed one.",
        observed="succeeded",
    ),
    Boundary(
        "gate.segmentation_not_done",
        "SEG_VIP_MONTHLY",
        "The VIP segmentation succeeded at exactly 00:00:00 today (the failed run at 23:59:59 was yesterday).",
        observed="succeeded",
    ),
    Boundary(
        "monitor.promo_pool_low",
        "COMEBACK15",
        "COMEBACK15 has exactly the minimum of 100 free codes, written 'free', 'FREE' and ' Free '.",
        observed=100,
    ),
    Boundary(
        "monitor.queue_size",
        "bonus_accrual",
        "The bonus queue peaked at exactly its limit of 5,000.",
        observed=5000,
    ),
    Boundary(
        "monitor.queue_size",
        "crm_export",
        "A queue with no limit of its own peaked at exactly the default limit of 10,000.",
        observed=10000,
    ),
    Boundary(
        "monitor.queue_size",
        "webhook_delivery",
        "The webhook queue held 2,500 (limit 2,000) one hour and one second ago, just outside the window.",
        observed=161,
    ),
    Boundary(
        "monitor.webhook_error_rate",
        "customer_registered",
        "The registration webhook failed 3 of its last 60 calls: exactly the 5 % limit.",
        observed="5%",
    ),
    Boundary(
        "monitor.table_freshness",
        f"{SOURCE}.customers",
        "The newest customer registered exactly 10 minutes ago: the table's limit.",
        observed=10,
    ),
    Boundary(
        "customers.base_present",
        "customers",
        "Exactly 1,000 customers, the check's minimum.",
        observed=1000,
    ),
    Boundary(
        "monitor.new_errors",
        "888/1",
        "An error of an unknown code one hour and one second ago: outside the window.",
        absent=True,
    ),
    Boundary(
        "monitor.new_dumps",
        "ZCRM_BONUS_CALC",
        "A dump one hour and one second ago: outside the window.",
        absent=True,
    ),
    Boundary(
        "monitor.cancelled_jobs",
        "SEG_EMPLOYEES_ACTIVE",
        "A run failed on 31.10.2026, a month ago; as day-first text it would sort after today's window start.",
        absent=True,
    ),
)
