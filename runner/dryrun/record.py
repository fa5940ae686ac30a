"""Keep a dry run's figures as a test launch (mode `test`) in the state store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from runner.store.clock import from_store, to_store
from runner.store.connect import Store
from runner.store.tables import test_launches

MODE = "test"


def record(store: Store, campaign: str, evaluated_at: datetime, figures: Mapping[str, Any]) -> str:
    """Store one test launch; its id is returned."""
    launch_id = uuid.uuid4().hex
    with store.write() as connection:
        connection.execute(
            sa.insert(test_launches).values(
                id=launch_id,
                campaign=campaign,
                evaluated_at=to_store(evaluated_at),
                mode=MODE,
                figures=json.dumps(figures, ensure_ascii=False, sort_keys=True),
                recorded_at=to_store(datetime.now(UTC)),
            )
        )
    return launch_id


def stored_launches(store: Store, campaign: str | None = None) -> list[dict[str, Any]]:
    """Stored test launches, oldest first, with their figures parsed."""
    query = sa.select(test_launches).order_by(test_launches.c.evaluated_at, test_launches.c.recorded_at)
    if campaign is not None:
        query = query.where(test_launches.c.campaign == campaign)
    with store.read() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        row["figures"] = json.loads(row["figures"])
        row["evaluated_at"] = from_store(row["evaluated_at"])
        row["recorded_at"] = from_store(row["recorded_at"])
    return rows
