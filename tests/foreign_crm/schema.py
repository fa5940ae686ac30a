"""The foreign CRM's tables ("ZCRM"): nothing is named like the data contract.

Times are real DATETIME columns in some tables and VARCHAR text in others, in five fixed-width formats
(TEXT_FORMATS). Every contract column that may be NULL (runner.contract.NULLABLE) is a nullable column here
and holds NULLs somewhere; every other column is NOT NULL, so the fixture holds no NULL the contract forbids.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# text time formats, as sources.yaml declares them (fixed width: %Y %m %d %H %M %S %f and literals)
MESSAGE_TIME = "%Y-%m-%dT%H:%M:%S"
LAUNCH_TIME = "%Y-%m-%d %H:%M:%S.%f"
JOB_TIME = "%d.%m.%Y %H:%M:%S"  # also the loyalty-card table: day first, so text order is not time order
ERROR_TIME = "%Y%m%d%H%M%S"  # the SAP style DEC 15 timestamp, as text
RUN_DATE = "%Y%m%d"  # the SAP DATS date
CARD_TIME = JOB_TIME
TEXT_FORMATS = (MESSAGE_TIME, LAUNCH_TIME, JOB_TIME, ERROR_TIME, RUN_DATE)


def _text(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


ID = 20  # guid-like identifiers: MSG-000001, RUN-0001, ...
PARTNER = 12  # business partner numbers: BP00000123
CAMPAIGN = 40

zcrm_partner = sa.Table(  # customers
    "zcrm_partner",
    metadata,
    _text("partner", PARTNER),
    _text("bp_type", 20, nullable=True),
    _time("crt_dt"),
)
zcrm_segment = sa.Table(  # which campaign element a segment feeds
    "zcrm_segment",
    metadata,
    _text("seg_id", ID),
    _text("camp", CAMPAIGN),
    _text("elem", CAMPAIGN),
)
zcrm_seg_member = sa.Table(  # target_group_members, with zcrm_segment
    "zcrm_seg_member",
    metadata,
    _text("seg_id", ID),
    _text("partner", PARTNER),
    _text("bp_type", 20, nullable=True),
    _text("run_dt", 8),
)
zcrm_run_mode = sa.Table(  # launch modes of two generations of the CRM, coded
    "zcrm_run_mode",
    metadata,
    _text("mode_cd", 4),
    _text("mode_txt", 20),
)
zcrm_run = sa.Table(  # launches, with zcrm_run_mode
    "zcrm_run",
    metadata,
    _text("run_guid", ID),
    _text("camp", CAMPAIGN),
    _text("elem", CAMPAIGN),
    _text("start_ts", 26),
    _text("mode_cd", 4),
    sa.Column("clients_cnt", sa.Integer(), nullable=True),
    _text("run_stat", 20),
)
zcrm_msg = sa.Table(  # messages
    "zcrm_msg",
    metadata,
    _text("msg_guid", ID),
    _text("run_guid", ID, nullable=True),
    _text("camp", CAMPAIGN),
    _text("elem", CAMPAIGN),
    _text("partner", PARTNER),
    _text("chnl", 10),
    _text("msg_status", 30),
    _text("crt_ts", 19),
)
zcrm_attr_def = sa.Table(  # the attribute dictionary: numeric codes, upper-case keys
    "zcrm_attr_def",
    metadata,
    sa.Column("attr_code", sa.Integer(), nullable=False),
    _text("attr_key", 40),
)
zcrm_msg_attr = sa.Table(  # message_attributes (key-value), with zcrm_attr_def
    "zcrm_msg_attr",
    metadata,
    _text("msg_guid", ID),
    sa.Column("attr_code", sa.Integer(), nullable=False),
    _text("attr_val", 200, nullable=True),
)
zcrm_bonus = sa.Table(  # bonus_accruals
    "zcrm_bonus",
    metadata,
    _text("acc_guid", ID),
    _text("run_guid", ID, nullable=True),  # a manual accrual belongs to no launch
    _text("camp", CAMPAIGN),
    _text("elem", CAMPAIGN),
    _text("partner", PARTNER),
    sa.Column("pts", sa.Numeric(12, 2), nullable=False),
    _time("crt_dt"),
)
zcrm_promo = sa.Table(  # promo_codes
    "zcrm_promo",
    metadata,
    _text("pool", 20),
    _text("code_val", 30),
    _text("code_kind", 20),
    _text("code_stat", 20),
    _text("partner", PARTNER, nullable=True),
    _time("issue_dt", nullable=True),
)
zcrm_job_log = sa.Table(  # job_runs
    "zcrm_job_log",
    metadata,
    _text("job", 40),
    _text("beg_ts", 19),
    _text("end_ts", 19, nullable=True),
    _text("job_stat", 30),
)
zcrm_err_log = sa.Table(  # error_log
    "zcrm_err_log",
    metadata,
    _text("err_ts", 14),
    _text("err_code", 30),
    _text("err_sub", 30, nullable=True),
    _text("err_text", 200, nullable=True),
    _text("camp", CAMPAIGN, nullable=True),
    _text("partner", PARTNER, nullable=True),
)
zcrm_dump = sa.Table(  # dumps
    "zcrm_dump",
    metadata,
    _time("dump_dt"),
    _text("prog", 40),
    _text("dump_text", 200, nullable=True),
)
zcrm_queue_stat = sa.Table(  # queue_samples
    "zcrm_queue_stat",
    metadata,
    _text("qname", 40),
    _time("smp_dt"),
    sa.Column("qsize", sa.Integer(), nullable=False),
)
zpos_trx = sa.Table(  # transactions, from the tills
    "zpos_trx",
    metadata,
    _time("trx_dt"),
    _text("store", 10, nullable=True),
    _text("trx_stat", 10),
    _text("err_cd", 30, nullable=True),
    sa.Column("crit", sa.Boolean(), nullable=True),
)
zweb_hook_log = sa.Table(  # webhook_calls
    "zweb_hook_log",
    metadata,
    _time("call_dt"),
    _text("hook", CAMPAIGN),
    _text("camp", CAMPAIGN, nullable=True),
    sa.Column("http_code", sa.Integer(), nullable=True),
)
zlc_cards = sa.Table(  # loyalty cards replicated from loyalty processing (outside the contract)
    "zlc_cards",
    metadata,
    _text("card_no", ID),
    _text("partner", PARTNER),
    _text("card_stat", 20),
    _text("upd_ts", 19),
)
zcrm_outbound = sa.Table(  # the CRM's sending switch, for the big red button
    "zcrm_outbound",
    metadata,
    _text("chnl", 10),
    sa.Column("active", sa.Integer(), nullable=False),
)

LOCATION: dict[str, dict[str, tuple[str, str]]] = {
    "customers": {
        "customer_id": ("zcrm_partner", "partner"),
        "customer_type": ("zcrm_partner", "bp_type"),
        "created_at": ("zcrm_partner", "crt_dt"),
    },
    "target_group_members": {
        "campaign_id": ("zcrm_segment", "camp"),
        "element_id": ("zcrm_segment", "elem"),
        "run_date": ("zcrm_seg_member", "run_dt"),
        "customer_id": ("zcrm_seg_member", "partner"),
        "customer_type": ("zcrm_seg_member", "bp_type"),
    },
    "launches": {
        "launch_id": ("zcrm_run", "run_guid"),
        "campaign_id": ("zcrm_run", "camp"),
        "element_id": ("zcrm_run", "elem"),
        "launched_at": ("zcrm_run", "start_ts"),
        "mode": ("zcrm_run_mode", "mode_txt"),
        "clients": ("zcrm_run", "clients_cnt"),
        "status": ("zcrm_run", "run_stat"),
    },
    "messages": {
        "message_id": ("zcrm_msg", "msg_guid"),
        "launch_id": ("zcrm_msg", "run_guid"),
        "campaign_id": ("zcrm_msg", "camp"),
        "element_id": ("zcrm_msg", "elem"),
        "customer_id": ("zcrm_msg", "partner"),
        "channel": ("zcrm_msg", "chnl"),
        "status": ("zcrm_msg", "msg_status"),
        "created_at": ("zcrm_msg", "crt_ts"),
    },
    "message_attributes": {
        "message_id": ("zcrm_msg_attr", "msg_guid"),
        "name": ("zcrm_attr_def", "attr_key"),
        "value": ("zcrm_msg_attr", "attr_val"),
    },
    "bonus_accruals": {
        "accrual_id": ("zcrm_bonus", "acc_guid"),
        "launch_id": ("zcrm_bonus", "run_guid"),
        "campaign_id": ("zcrm_bonus", "camp"),
        "element_id": ("zcrm_bonus", "elem"),
        "customer_id": ("zcrm_bonus", "partner"),
        "amount": ("zcrm_bonus", "pts"),
        "created_at": ("zcrm_bonus", "crt_dt"),
    },
    "promo_codes": {
        "pool_id": ("zcrm_promo", "pool"),
        "code": ("zcrm_promo", "code_val"),
        "code_type": ("zcrm_promo", "code_kind"),
        "status": ("zcrm_promo", "code_stat"),
        "customer_id": ("zcrm_promo", "partner"),
        "issued_at": ("zcrm_promo", "issue_dt"),
    },
    "job_runs": {
        "job_name": ("zcrm_job_log", "job"),
        "started_at": ("zcrm_job_log", "beg_ts"),
        "finished_at": ("zcrm_job_log", "end_ts"),
        "status": ("zcrm_job_log", "job_stat"),
    },
    "error_log": {
        "logged_at": ("zcrm_err_log", "err_ts"),
        "code": ("zcrm_err_log", "err_code"),
        "subcode": ("zcrm_err_log", "err_sub"),
        "message": ("zcrm_err_log", "err_text"),
        "campaign_id": ("zcrm_err_log", "camp"),
        "customer_id": ("zcrm_err_log", "partner"),
    },
    "dumps": {
        "occurred_at": ("zcrm_dump", "dump_dt"),
        "program": ("zcrm_dump", "prog"),
        "message": ("zcrm_dump", "dump_text"),
    },
    "queue_samples": {
        "queue_name": ("zcrm_queue_stat", "qname"),
        "sampled_at": ("zcrm_queue_stat", "smp_dt"),
        "size": ("zcrm_queue_stat", "qsize"),
    },
    "transactions": {
        "occurred_at": ("zpos_trx", "trx_dt"),
        "store_id": ("zpos_trx", "store"),
        "status": ("zpos_trx", "trx_stat"),
        "error_code": ("zpos_trx", "err_cd"),
        "critical": ("zpos_trx", "crit"),
    },
    "webhook_calls": {
        "called_at": ("zweb_hook_log", "call_dt"),
        "webhook_id": ("zweb_hook_log", "hook"),
        "campaign_id": ("zweb_hook_log", "camp"),
        "status_code": ("zweb_hook_log", "http_code"),
    },
}
"""Where each contract column lives: (table, column). Query datasets draw on several tables."""

ROWS_OF: dict[str, str] = {
    "customers": "zcrm_partner",
    "target_group_members": "zcrm_seg_member",
    "launches": "zcrm_run",
    "messages": "zcrm_msg",
    "message_attributes": "zcrm_msg_attr",
    "bonus_accruals": "zcrm_bonus",
    "promo_codes": "zcrm_promo",
    "job_runs": "zcrm_job_log",
    "error_log": "zcrm_err_log",
    "dumps": "zcrm_dump",
    "queue_samples": "zcrm_queue_stat",
    "transactions": "zpos_trx",
    "webhook_calls": "zweb_hook_log",
    "loyalty_cards": "zlc_cards",
}
"""The table whose rows are a dataset's rows (emptying it empties the dataset); loyalty_cards is a raw table."""
