"""Risk flags of the rules: thresholds, checks and monitored tables loosened, subscriptions reaching nobody."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.engine.levels import Bound
from runner.errors import UsageError
from runner.review.model import Compared, Entity, Risk, Snapshot
from runner.review.risks.flags import amount, as_dict, as_int, as_number, risk, thresholds_entity

# --- thresholds and checks --------------------------------------------------------------------------------

# path in rules/thresholds.yaml, True when a higher value is looser, what a looser value means
_THRESHOLDS: tuple[tuple[tuple[str, ...], bool, str], ...] = (
    (("anomaly", "min_volume"), True, "the 3-sigma check skips more launches as too small"),
    (("anomaly", "sigma"), True, "the 3-sigma check needs a bigger jump before it reports"),
    (("promo_pool_min_free",), False, "a promo-code pool may run lower before it is reported"),
    (("availability_floor_percent",), False, "lower availability of loyalty processing passes"),
    (("webhook_error_rate_percent",), True, "more failing webhook calls pass"),
    (("warning_escalation_occurrences",), True, "a repeated warning takes longer to become a problem"),
)
_WORD_LISTS = {
    "test_markers": "texts with these words are no longer rejected",
    "zero_bonus_words": "'0' before these words is no longer caught",
}
_SEVERITY_RANK = {"warning": 0, "problem": 1}


def _at(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for step in path:
        value = as_dict(value).get(step)
    return value


def _moved(old: float, new: float, higher_is_looser: bool) -> bool:
    return new > old if higher_is_looser else new < old


def _threshold_risks(c: Compared) -> Iterator[Risk]:
    entity = thresholds_entity(c)
    if entity is None or c.base.repo is None or c.head.repo is None:
        return
    before, after = c.base.thresholds, c.head.thresholds
    for path, higher_is_looser, meaning in _THRESHOLDS:
        old, new = as_number(_at(before, path)), as_number(_at(after, path))
        if old is not None and new is not None and _moved(old, new, higher_is_looser):
            name = ".".join(path)
            verb = "rises" if new > old else "falls"
            reason = f"{name} {verb} from {amount(old)} to {amount(new)}: {meaning}"
            yield risk("review.threshold_loosened", entity, path, "thresholds", reason)
    old_queues, new_queues = as_dict(before.get("queue_limits")), as_dict(after.get("queue_limits"))
    names = sorted(set(as_dict(old_queues.get("queues"))) | set(as_dict(new_queues.get("queues"))))
    for queue in ["default", *names]:
        if queue == "default":
            old, new = as_number(old_queues.get("default")), as_number(new_queues.get("default"))
            path = ("queue_limits", "default")
        else:
            old = as_number(as_dict(old_queues.get("queues")).get(queue, old_queues.get("default")))
            new = as_number(as_dict(new_queues.get("queues")).get(queue, new_queues.get("default")))
            path = ("queue_limits", "queues", queue)
        if old is not None and new is not None and new > old:
            what = "queues without a limit of their own" if queue == "default" else f"queue {queue}"
            yield risk(
                "review.threshold_loosened",
                entity,
                path,
                "thresholds",
                f"{what} may now grow to {amount(new)} instead of {amount(old)} before it is reported",
            )
    for name, meaning in _WORD_LISTS.items():
        old_words = {w for w in before.get(name) or [] if isinstance(w, str)}
        new_words = {w for w in after.get(name) or [] if isinstance(w, str)}
        if old_words - new_words:
            yield risk(
                "review.threshold_loosened",
                entity,
                (name,),
                "thresholds",
                f"{name} no longer include {', '.join(sorted(old_words - new_words))}: {meaning}",
            )
    old_allowed = {w for w in before.get("test_marker_allow") or [] if isinstance(w, str)}
    new_allowed = {w for w in after.get("test_marker_allow") or [] if isinstance(w, str)}
    if new_allowed - old_allowed:
        yield risk(
            "review.threshold_loosened",
            entity,
            ("test_marker_allow",),
            "thresholds",
            f"test_marker_allow now includes {', '.join(sorted(new_allowed - old_allowed))}: "
            "test markers inside these words are no longer rejected",
        )


def _level_loosened(old_text: Any, new_text: Any) -> bool | None:
    """True when a level (> 100, < 99.7%) lets more through; None when the two cannot be compared."""
    if not isinstance(old_text, str):
        return None
    if not isinstance(new_text, str):
        return True  # the level is gone
    try:
        old, new = Bound.parse(old_text), Bound.parse(new_text)
    except ValueError:
        return None
    upper = {">": True, ">=": True, "<": False, "<=": False}
    if old.op not in upper or new.op not in upper or upper[old.op] != upper[new.op] or old.percent != new.percent:
        return None
    if new.value != old.value:
        return _moved(old.value, new.value, upper[old.op])
    return len(old.op) == 2 and len(new.op) == 1  # >= 100 -> > 100 lets 100 through


def _severity_lowered(change_before: Any, change_after: Any) -> bool:
    old = _SEVERITY_RANK.get(as_dict(change_before).get("severity", "problem"), 1)
    return _SEVERITY_RANK.get(as_dict(change_after).get("severity", "problem"), 1) < old


def _check_risks(c: Compared) -> Iterator[Risk]:
    for kind, label in (("data_checks", "data check"), ("functional_checks", "functional check")):
        for change in c.of(kind, "removed"):
            assert change.before is not None
            yield risk(
                "review.threshold_loosened",
                change.before,
                (),
                change.key,
                f"{label} {change.key} is removed: nothing checks this any more",
            )
        for change in c.of(kind, "changed"):
            assert change.before is not None and change.after is not None
            old, new = change.before.data, change.after.data
            if kind == "data_checks":
                for level in ("warn", "fail"):
                    if _level_loosened(old.get(level), new.get(level)):
                        now = f"moves from {old[level]} to {new[level]}" if level in new else f"{old[level]} is removed"
                        yield risk(
                            "review.threshold_loosened",
                            change.after,
                            (level,),
                            change.key,
                            f"the {level} level of {label} {change.key} {now}: results that used to "
                            f"{'warn' if level == 'warn' else 'fail'} now pass",
                        )
            else:
                for level in ("warn_rows", "fail_rows"):
                    was, becomes = as_int(old.get(level, 1)), as_int(new.get(level, 1))
                    if was is not None and becomes is not None and becomes > was:
                        yield risk(
                            "review.threshold_loosened",
                            change.after,
                            (level,),
                            change.key,
                            f"{level} of {label} {change.key} rises from {amount(was)} to {amount(becomes)}: up to "
                            f"{amount(becomes - 1)} violating rows are now not reported at that level",
                        )
            if _severity_lowered(old, new):
                yield risk(
                    "review.threshold_loosened",
                    change.after,
                    ("severity",),
                    change.key,
                    f"{label} {change.key} is only a warning now, no longer a problem",
                )


def _table_risks(c: Compared) -> Iterator[Risk]:
    for change in c.of("monitored_tables", "removed"):
        assert change.before is not None
        yield risk(
            "review.threshold_loosened",
            change.before,
            (),
            change.key,
            f"monitored table {change.key} is removed: nobody is told when its feed stops",
        )
    for change in c.of("monitored_tables", "changed"):
        assert change.before is not None and change.after is not None
        old, new = (as_int(side.data.get("max_silence_minutes")) for side in (change.before, change.after))
        if old is not None and new is not None and new > old:
            yield risk(
                "review.threshold_loosened",
                change.after,
                ("max_silence_minutes",),
                change.key,
                f"table {change.key} may now stay silent {amount(new)} minutes instead of {amount(old)} before "
                "anyone is told its feed stopped",
            )
        if _severity_lowered(change.before.data, change.after.data):
            yield risk(
                "review.threshold_loosened",
                change.after,
                ("severity",),
                change.key,
                f"silence of table {change.key} is only a warning now, no longer a problem",
            )


def threshold_loosened(c: Compared) -> Iterator[Risk]:
    """A threshold, a check's level or severity, or a monitored table's silence moved the permissive way."""
    yield from _threshold_risks(c)
    yield from _check_risks(c)
    yield from _table_risks(c)


# --- subscriptions ----------------------------------------------------------------------------------------


def localizations(snapshot: Snapshot) -> list[str]:
    """The localizations a problem may have, from the schemas of that side."""
    if snapshot.repo is None:
        return []
    try:
        enum = snapshot.repo.schemas.schema("common.schema.json")["$defs"]["localization"]["enum"]
    except (KeyError, TypeError, UsageError):
        return []
    return [x for x in enum if isinstance(x, str)]


def reaching(snapshot: Snapshot, localization: str) -> list[str]:
    """Subscriptions told when a problem opens in a localization: enabled, with opened among their
    events (the default), and no localization filter or one that names it."""
    found = []
    for key, entity in snapshot.of("subscriptions").items():
        data = entity.data
        events = data.get("events", ["opened"])
        wanted = data.get("localizations")
        if (
            data.get("enabled", True) is not False
            and isinstance(events, list)
            and "opened" in events
            and (not isinstance(wanted, list) or not wanted or localization in wanted)
        ):
            found.append(key)
    return sorted(found)


def _subscriptions_file(c: Compared) -> Entity | None:
    """rules/subscriptions.yaml of the head (of the base when the head has none), as a place to point at."""
    for snapshot in (c.head, c.base):
        for document in snapshot.repo.documents("subscriptions") if snapshot.repo is not None else []:
            if document.error is None:
                return Entity("subscriptions", "", document, (), None)
    return None


def subscription_unreached(c: Compared) -> Iterator[Risk]:
    """A localization that some subscription was told of before is told to nobody now."""
    where = _subscriptions_file(c) if c.of("subscriptions") else None
    if where is None:
        return
    for localization in localizations(c.head) or localizations(c.base):
        before = reaching(c.base, localization)
        if before and not reaching(c.head, localization):
            yield risk(
                "review.subscription_unreached",
                where,
                ("subscriptions",),
                localization,
                f"no enabled subscription is told of new problems in localization {localization} any more "
                f"(before: {', '.join(before)}): they would open and nobody would hear of them",
                key=True,
            )
