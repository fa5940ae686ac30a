"""Check-result history as checks read it: the newest values of one check, per subject."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.tables import results


class History:
    """Reads the stored observed values of a check (numbers only, errors left out)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, check: str, until: datetime, keep: int) -> dict[str, list[float]]:
        """Per subject, up to `keep` values evaluated at or before `until`, newest first."""
        rank = (
            sa.func.row_number()
            .over(partition_by=results.c.subject, order_by=(results.c.evaluated_at.desc(), results.c.id.desc()))
            .label("rank")
        )
        ranked = (
            sa.select(results.c.subject, results.c.value, results.c.evaluated_at, rank)
            .where(
                results.c.check_id == check,
                results.c.value.is_not(None),
                results.c.status != "error",
                results.c.evaluated_at <= to_store(until),
            )
            .subquery()
        )
        query = (
            sa.select(ranked.c.subject, ranked.c.value)
            .where(ranked.c.rank <= keep)
            .order_by(ranked.c.subject, ranked.c.rank)
        )
        found: dict[str, list[float]] = defaultdict(list)
        with self.store.read() as connection:
            for subject, value in connection.execute(query):
                found[subject].append(float(value))
        return dict(found)
