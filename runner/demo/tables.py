"""The demo database's tables: the data contract, one integration table and the outbound switch."""

from __future__ import annotations

import sqlalchemy as sa

from runner.contract import DATASETS, column_type

metadata = sa.MetaData()

_TEXT_LENGTH = {"message": 500, "value": 200}


def _column(name: str) -> sa.Column[object]:
    kind = column_type(name)
    if kind is None:
        kind = (
            sa.BigInteger() if name.endswith("_id") and name not in _TEXT_IDS else sa.String(_TEXT_LENGTH.get(name, 80))
        )
    return sa.Column(name, kind)


_TEXT_IDS = {"campaign_id", "element_id", "pool_id", "webhook_id", "store_id", "job_name"}

CONTRACT_TABLES = {name: sa.Table(name, metadata, *(_column(c) for c in columns)) for name, columns in DATASETS.items()}

loyalty_cards = sa.Table(
    "loyalty_cards",
    metadata,
    sa.Column("card_id", sa.BigInteger),
    sa.Column("customer_id", sa.BigInteger),
    sa.Column("status", sa.String(20)),
    sa.Column("updated_at", sa.DateTime),
)
outbound_switch = sa.Table(
    "outbound_switch", metadata, sa.Column("channel", sa.String(20)), sa.Column("enabled", sa.Integer)
)
demo_info = sa.Table("demo_info", metadata, sa.Column("key", sa.String(40)), sa.Column("value", sa.String(200)))

INDEXES = (
    sa.Index(
        "ix_messages_campaign", CONTRACT_TABLES["messages"].c.campaign_id, CONTRACT_TABLES["messages"].c.created_at
    ),
    sa.Index("ix_messages_created", CONTRACT_TABLES["messages"].c.created_at),
    sa.Index("ix_messages_launch", CONTRACT_TABLES["messages"].c.launch_id),
    sa.Index("ix_attributes_message", CONTRACT_TABLES["message_attributes"].c.message_id),
    sa.Index(
        "ix_accruals_campaign",
        CONTRACT_TABLES["bonus_accruals"].c.campaign_id,
        CONTRACT_TABLES["bonus_accruals"].c.created_at,
    ),
    sa.Index(
        "ix_accruals_customer",
        CONTRACT_TABLES["bonus_accruals"].c.campaign_id,
        CONTRACT_TABLES["bonus_accruals"].c.customer_id,
        CONTRACT_TABLES["bonus_accruals"].c.created_at,
    ),
    sa.Index(
        "ix_messages_customer",
        CONTRACT_TABLES["messages"].c.campaign_id,
        CONTRACT_TABLES["messages"].c.customer_id,
        CONTRACT_TABLES["messages"].c.created_at,
    ),
    sa.Index("ix_accruals_launch", CONTRACT_TABLES["bonus_accruals"].c.launch_id),
    sa.Index(
        "ix_members_campaign",
        CONTRACT_TABLES["target_group_members"].c.campaign_id,
        CONTRACT_TABLES["target_group_members"].c.run_date,
        CONTRACT_TABLES["target_group_members"].c.customer_id,
    ),
    sa.Index(
        "ix_launches_campaign", CONTRACT_TABLES["launches"].c.campaign_id, CONTRACT_TABLES["launches"].c.launched_at
    ),
    sa.Index("ix_transactions_time", CONTRACT_TABLES["transactions"].c.occurred_at),
    sa.Index("ix_webhooks_time", CONTRACT_TABLES["webhook_calls"].c.called_at),
    sa.Index("ix_errors_time", CONTRACT_TABLES["error_log"].c.logged_at),
    sa.Index("ix_customers_id", CONTRACT_TABLES["customers"].c.customer_id),
    sa.Index("ix_customers_created", CONTRACT_TABLES["customers"].c.created_at),
    sa.Index("ix_promo_pool", CONTRACT_TABLES["promo_codes"].c.pool_id, CONTRACT_TABLES["promo_codes"].c.status),
)
