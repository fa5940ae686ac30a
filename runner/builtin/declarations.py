"""The built-in data checks: what each finds, its severity and where it lives (docs/checks.md).

Declared apart from their evaluators, so that validation can know every check id without
importing the SQL machinery.
"""

from __future__ import annotations

from runner.engine.check import DataCheck
from runner.findings import Severity

AUDIENCE_OVER_MAX_CLIENTS = DataCheck(
    "gate.audience_over_max_clients",
    Severity.PROBLEM,
    "campaign",
    "Audience larger than max_clients",
    "Check the target group; if the audience really grew, raise max_clients on the element.",
    stage="gate",
    evaluator="runner.builtin.gate:audience_over_max_clients",
    summary="Today's target group of a send or bonus element is larger than the element's max_clients.",
    dirty_data="Counts distinct customers: a member listed twice in a target group is one customer.",
)
SEGMENTATION_NOT_DONE = DataCheck(
    "gate.segmentation_not_done",
    Severity.PROBLEM,
    "segmentation",
    "Segmentation job did not succeed today",
    "Restart the segmentation job, wait for it to succeed, then launch.",
    stage="gate",
    evaluator="runner.builtin.gate:segmentation_not_done",
    summary="The campaign's segmentation job has no successful run today, so the audience would be stale.",
    dirty_data=(
        "Statuses are compared trimmed and case-insensitively ('SUCCEEDED ' succeeded); a run without a "
        "status has not succeeded."
    ),
)
AUDIENCE_ANOMALY = DataCheck(
    "gate.audience_anomaly",
    Severity.PROBLEM,
    "campaign",
    "Audience size far from the last launches",
    "Compare the target group with previous launches; if the change is planned, launch by hand.",
    stage="gate",
    evaluator="runner.builtin.gate:audience_anomaly",
    summary="Today's audience of an element is outside 3 sigma of its last N live launches.",
    dirty_data=(
        "The history is the last N completed live launches, each launch id once (a replicated row is one "
        "launch); test launches never count. A launch whose clients is NULL is left out, and the "
        "expected value says how many were; no usable launch at all is a warning 'no history' (when "
        "today's audience reaches the minimum volume). Today's audience counts distinct customers."
    ),
)
CUSTOMER_TYPE_MISMATCH = DataCheck(
    "gate.customer_type_mismatch",
    Severity.WARNING,
    "segmentation",
    "Customers of another type in the target group",
    "Fix the segment filter so that it selects only the campaign's customer type.",
    stage="gate",
    evaluator="runner.builtin.gate:customer_type_mismatch",
    summary="Customers in today's target group whose type differs from the campaign's customer_type.",
    dirty_data=(
        "A member without a customer type (NULL) is a mismatch, shown as '(unknown type)'. Types are "
        "compared trimmed and case-insensitively; a member listed twice counts once."
    ),
)
EMPTY_ATTRIBUTE = DataCheck(
    "gate.empty_attribute",
    Severity.PROBLEM,
    "mailing",
    "Message attributes empty or zero",
    "Find where the attribute comes from (see the template's attributes) and fill the data, then prepare again.",
    stage="gate",
    evaluator="runner.builtin.gate:empty_attribute",
    summary='Messages prepared today whose template attributes are empty or zero ("0 points" SMS).',
    dirty_data=(
        "Numeric attributes (template type integer or number) are empty when missing, NULL, blank or "
        "written as zero: 0, 0.00, 0,00, -0. Text attributes (string, date, url) are empty when missing, "
        "NULL or blank once trimmed; '0.5' and ' x ' are not empty. A message row replicated counts "
        "once."
    ),
)
SECOND_LIVE_LAUNCH = DataCheck(
    "gate.second_live_launch",
    Severity.PROBLEM,
    "campaign",
    "Launched twice in one period",
    "Check start_at and the schedule; cancel the duplicate launch before it sends.",
    stage="gate",
    evaluator="runner.builtin.gate:second_live_launch",
    summary="An element was launched live more than once in the campaign's period (day, week, or run).",
    dirty_data=(
        "Counts distinct launch ids: a launch row replicated twice is one launch. Mode and status are "
        "compared trimmed and case-insensitively; test launches never count."
    ),
)
BONUS_OVER_CAP = DataCheck(
    "gate.bonus_over_cap",
    Severity.PROBLEM,
    "bonus",
    "Bonus per customer above the cap",
    "Correct the bonus amount; the cap is max_bonus_per_client in rules/thresholds.yaml.",
    stage="gate",
    evaluator="runner.builtin.gate:bonus_over_cap",
    summary="Customers credited more today by the campaign than the per-client cap.",
    dirty_data=(
        "Each accrual id is credited once (a replicated row is not a second accrual); accruals of test "
        "launches are left out; a NULL amount adds nothing."
    ),
)
DEDUP_WINDOW = DataCheck(
    "gate.dedup_window",
    Severity.PROBLEM,
    "campaign",
    "Customers repeated inside the dedup window",
    "Exclude customers reached within dedup_window from the target group.",
    stage="gate",
    evaluator="runner.builtin.gate:dedup_window",
    summary="Customers in today's target group who already got this campaign within its dedup_window.",
    dirty_data="Customers count once; a message without a customer id matches nobody.",
)
NEW_ERRORS = DataCheck(
    "monitor.new_errors",
    Severity.PROBLEM,
    "operation",
    "New errors in the error log",
    "Follow the fix of the error code in rules/error_codes.yaml.",
    stage="monitor",
    evaluator="runner.builtin.incidents:new_errors",
    summary="New error_log rows, one result per code/subcode and campaign, in the words of the error-code dictionary.",
    dirty_data=(
        "Rows are grouped by code, subcode and campaign as the source writes them; a row without a code "
        "is reported as the unknown code '(no code)'."
    ),
)
NEW_DUMPS = DataCheck(
    "monitor.new_dumps",
    Severity.PROBLEM,
    "dump",
    "A program crashed",
    "Read the dump of the program and hand it to the developers; check what the program left unfinished.",
    stage="monitor",
    evaluator="runner.builtin.incidents:new_dumps",
    summary="Programs that crashed (new rows in dumps) within the monitoring window.",
    dirty_data="A dump without a program is reported under '(none)'.",
)
CANCELLED_JOBS = DataCheck(
    "monitor.cancelled_jobs",
    Severity.PROBLEM,
    "job",
    "A job was cancelled or failed",
    "Read the job log, fix the cause and restart the job; campaigns depending on it wait for it.",
    stage="monitor",
    evaluator="runner.builtin.incidents:cancelled_jobs",
    summary="Jobs that ended cancelled or failed within the jobs window (24 hours by default).",
    dirty_data="Statuses are compared trimmed and case-insensitively ('CANCELLED ' is cancelled).",
)
QUEUE_SIZE = DataCheck(
    "monitor.queue_size",
    Severity.PROBLEM,
    "queue",
    "Queue above its limit",
    "Find what stopped consuming the queue (gateway, loyalty processing) and restart it.",
    stage="monitor",
    evaluator="runner.builtin.health:queue_size",
    summary="A queue held more entries than its limit at some sample within the window.",
    dirty_data="A sample without a size (NULL) is left out of the largest size.",
)
TABLE_FRESHNESS = DataCheck(
    "monitor.table_freshness",
    Severity.PROBLEM,
    "integration",
    "A monitored table fell silent",
    "Check the integration that feeds the table.",
    stage="monitor",
    evaluator="runner.builtin.health:table_freshness",
    summary="A monitored table received no new row for longer than its max_silence_minutes.",
    dirty_data=(
        "Rows without a timestamp are left out; a table with no timestamp at all fails. The table is "
        "found through its source: a dataset as mapped there, a table under `tables:`, or the table of "
        "that name; a table or column the source lacks is an error of that table alone."
    ),
)
AVAILABILITY = DataCheck(
    "monitor.availability",
    Severity.PROBLEM,
    "availability",
    "Availability below the floor",
    "Call the loyalty-processing hot line; look at the critical error codes of the last hour.",
    stage="monitor",
    evaluator="runner.builtin.health:availability",
    summary="The share of transactions without a critical error fell below the availability floor.",
    dirty_data="A transaction whose critical flag is NULL counts as without a critical error.",
)
WEBHOOK_ERROR_RATE = DataCheck(
    "monitor.webhook_error_rate",
    Severity.PROBLEM,
    "webhook",
    "Webhook failing",
    "Check the receiving endpoint and its credentials; events are lost while it fails.",
    stage="monitor",
    evaluator="runner.builtin.health:webhook_error_rate",
    summary="A webhook answered too many calls with a non-2xx status within the monitoring window.",
    dirty_data="A call without a status code (NULL: no answer) counts as an error.",
)
PROMO_POOL_LOW = DataCheck(
    "monitor.promo_pool_low",
    Severity.WARNING,
    "promo_pool",
    "Promo-code pool running dry",
    "Upload new codes to the pool before it is empty: customers then get no code at all.",
    stage="monitor",
    evaluator="runner.builtin.health:promo_pool_low",
    summary="A promo-code pool has fewer free codes than thresholds.promo_pool_min_free (Mindbox: 100).",
    dirty_data=(
        "Statuses are compared trimmed and case-insensitively ('FREE' is free); a code without a status is not free."
    ),
)
DUPLICATE_PARTICIPATION = DataCheck(
    "monitor.duplicate_participation",
    Severity.WARNING,
    "campaign",
    "Customers messaged twice by one element yesterday",
    "Look at the segmentation job and the dedup window; apologise to the customers if needed.",
    stage="monitor",
    evaluator="runner.builtin.activity:duplicate_participation",
    summary="Customers who got the same element of a campaign more than once yesterday.",
    dirty_data=("Counts distinct message ids: a message row replicated is one message, not a customer messaged twice."),
)
LAUNCHED_LAST_HOUR = DataCheck(
    "monitor.launched_last_hour",
    Severity.WARNING,
    "campaign",
    "Campaigns launched in the last hour",
    "Nothing to fix: the launches are listed so that the hourly report shows them.",
    stage="monitor",
    evaluator="runner.builtin.activity:launched_last_hour",
    summary="Campaigns launched within the monitoring window, with their audience (report only, never fails).",
    dirty_data="Counts distinct launch ids; a launch without a client count adds none.",
)
UNRELEASED_ELEMENTS = DataCheck(
    "monitor.unreleased_elements",
    Severity.PROBLEM,
    "scenario",
    "Element of a running campaign not released",
    "Review the element and release it in the CRM and in the repository (released: true).",
    stage="monitor",
    evaluator="runner.builtin.activity:unreleased_elements",
    summary="A running campaign has an element nobody released: the chain silently stops there.",
    dirty_data="Launch statuses are compared trimmed and case-insensitively ('NOT_RELEASED').",
)
MESSAGES_BELOW_MIN = DataCheck(
    "campaign.messages_below_min",
    Severity.PROBLEM,
    "mailing",
    "Fewer messages than planned",
    "Check the target group and the send element's log; an empty segment is the usual cause.",
    stage="monitor",
    evaluator="runner.builtin.campaign_limits:messages_below_min",
    summary="A launch sent fewer messages than the campaign's limits.min_messages (the segment came out empty).",
    dirty_data=(
        "Only completed live launches are judged (test launches never are), each launch id once; "
        "messages count by distinct message id."
    ),
)
MESSAGES_ABOVE_MAX = DataCheck(
    "campaign.messages_above_max",
    Severity.PROBLEM,
    "mailing",
    "More messages than planned",
    "Stop the campaign and check the segment: customers may have received messages not meant for them.",
    stage="monitor",
    evaluator="runner.builtin.campaign_limits:messages_above_max",
    summary="A launch sent more messages than the campaign's limits.max_messages.",
    dirty_data=(
        "Only completed live launches are judged (test launches never are), each launch id once; "
        "messages count by distinct message id."
    ),
)
BONUS_BELOW_MIN = DataCheck(
    "campaign.bonus_below_min",
    Severity.PROBLEM,
    "bonus",
    "Bonus smaller than planned",
    "Correct the bonus amount and credit the difference by hand.",
    stage="monitor",
    evaluator="runner.builtin.campaign_limits:bonus_below_min",
    summary="A launch credited a customer less than the campaign's limits.min_bonus.",
    dirty_data=(
        "Only completed live launches are judged (test launches never are), each launch and accrual id "
        "once; NULL amounts are left out."
    ),
)
BONUS_ABOVE_MAX = DataCheck(
    "campaign.bonus_above_max",
    Severity.PROBLEM,
    "bonus",
    "Bonus larger than planned",
    "Stop the bonus element and reverse the excess with the bonus reversal tool.",
    stage="monitor",
    evaluator="runner.builtin.campaign_limits:bonus_above_max",
    summary="A launch credited a customer more than the campaign's limits.max_bonus.",
    dirty_data=(
        "Only completed live launches are judged (test launches never are), each launch and accrual id "
        "once; NULL amounts are left out."
    ),
)
BONUS_TOTAL_ABOVE_MAX = DataCheck(
    "campaign.bonus_total_above_max",
    Severity.PROBLEM,
    "bonus",
    "Bonus total above the plan",
    "Stop the bonus element; the budget of the launch is spent.",
    stage="monitor",
    evaluator="runner.builtin.campaign_limits:bonus_total_above_max",
    summary="A launch credited more bonus in total than the campaign's limits.max_bonus_total.",
    dirty_data=(
        "Only completed live launches are judged (test launches never are), each launch and accrual id "
        "once; NULL amounts add nothing."
    ),
)

UNKNOWN_VALUES = DataCheck(
    "monitor.unknown_values",
    Severity.WARNING,
    "integration",
    "Values outside the data contract's vocabulary",
    "Map the CRM's value onto the contract's (a query in rules/sources.yaml with a CASE), or fix the feed "
    "that writes it; until then the checks that look for it do not see these rows.",
    stage="monitor",
    evaluator="runner.builtin.vocabulary:unknown_values",
    summary="Rows of the last jobs window whose status, mode, channel or customer type is none the contract knows.",
    dirty_data=(
        "Values are compared trimmed and lower-cased; a NULL in a column the contract does not allow to "
        "be NULL counts as unknown. Customer types are those of thresholds.customer_types."
    ),
)
OUTBOUND_STOPPED = DataCheck(
    "gate.outbound_stopped",
    Severity.PROBLEM,
    "system",
    "All outbound is stopped",
    "Find out why outbound was stopped (`campaign-guard outbound status`); "
    "start it with `campaign-guard outbound start` once it is safe.",
    stage="gate",
    evaluator="runner.builtin.gate:outbound_stopped",
    summary="Somebody pressed the big red button (`campaign-guard outbound stop`): no campaign may launch.",
)

GATE_CHECKS: tuple[DataCheck, ...] = (
    OUTBOUND_STOPPED,
    AUDIENCE_OVER_MAX_CLIENTS,
    SEGMENTATION_NOT_DONE,
    AUDIENCE_ANOMALY,
    CUSTOMER_TYPE_MISMATCH,
    EMPTY_ATTRIBUTE,
    SECOND_LIVE_LAUNCH,
    BONUS_OVER_CAP,
    DEDUP_WINDOW,
)
MONITOR_CHECKS: tuple[DataCheck, ...] = (
    NEW_ERRORS,
    NEW_DUMPS,
    CANCELLED_JOBS,
    QUEUE_SIZE,
    TABLE_FRESHNESS,
    AVAILABILITY,
    WEBHOOK_ERROR_RATE,
    PROMO_POOL_LOW,
    DUPLICATE_PARTICIPATION,
    LAUNCHED_LAST_HOUR,
    UNRELEASED_ELEMENTS,
    MESSAGES_BELOW_MIN,
    MESSAGES_ABOVE_MAX,
    BONUS_BELOW_MIN,
    BONUS_ABOVE_MAX,
    BONUS_TOTAL_ABOVE_MAX,
    UNKNOWN_VALUES,
)
BUILTIN_CHECKS: tuple[DataCheck, ...] = (*GATE_CHECKS, *MONITOR_CHECKS)
