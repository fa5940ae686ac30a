"""The configuration of two revisions compared by id, field by field."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from runner.document import Document
from runner.kinds import KINDS
from runner.positions import JsonPath
from runner.repository import Repository
from runner.review.model import ABSENT, Change, Entity, FieldChange, Unparsed, canonical

# (kind, label of one, label of many), in the order a review lists them
KIND_LABELS: tuple[tuple[str, str, str], ...] = (
    ("campaign", "campaign", "campaigns"),
    ("template", "template", "templates"),
    ("subscriptions", "subscription", "subscriptions"),
    ("thresholds", "thresholds", "thresholds"),
    ("data_checks", "data check", "data checks"),
    ("functional_checks", "functional check", "functional checks"),
    ("monitored_tables", "monitored table", "monitored tables"),
    ("error_codes", "error code", "error codes"),
    ("sources", "sources", "sources"),
    ("schedules", "schedule", "schedules"),
    ("rule_tests", "rule test", "rule tests"),
)
ONE = {kind: one for kind, one, _ in KIND_LABELS}
MANY = {kind: many for kind, _, many in KIND_LABELS}
ORDER = {kind: index for index, (kind, _, _) in enumerate(KIND_LABELS)}
STATUS_ORDER = {"added": 0, "removed": 1, "changed": 2}

# list kinds: the list, and the field(s) that identify an item
_LISTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "functional_checks": ("checks", ("id",)),
    "data_checks": ("checks", ("id",)),
    "subscriptions": ("subscriptions", ("name",)),
    "rule_tests": ("tests", ("name",)),
    "schedules": ("schedules", ("name",)),
    "monitored_tables": ("tables", ("source", "table")),
    "error_codes": ("codes", ("code", "subcode")),
}
_WHOLE_FILE = ("thresholds", "sources")  # one entity per file, keyed by the kind's name


def entities(repo: Repository | None, files: Collection[str]) -> dict[tuple[str, str], Entity]:
    """The identified things of some files; of an id defined twice, the first (validate reports the rest).

    Only changed files need reading: a file the same on both sides holds the same things on both.
    """
    found: dict[tuple[str, str], Entity] = {}
    if repo is None:
        return found
    sources = repo.single("sources")
    default_source = str(sources["default"]) if isinstance(sources, dict) else ""
    for kind in KINDS:
        for rel in repo.files_of(kind):
            if rel not in files:
                continue
            document = repo.document(rel)
            if document.error is not None or not isinstance(document.data, dict):
                continue
            for key, path, data in _things(kind.name, document, default_source):
                found.setdefault((kind.name, key), Entity(kind.name, key, document, path, data))
    return found


def unparsed(base: Repository | None, head: Repository | None, files: Collection[str]) -> list[Unparsed]:
    """The configuration files among these that the head cannot read (bad YAML, a duplicate key ...)."""
    found: list[Unparsed] = []
    if head is None:
        return found
    for kind in KINDS:
        label = f"{ONE[kind.name] if kind.name in ('campaign', 'template') else MANY[kind.name]} file"
        for rel in head.files_of(kind):
            error = head.document(rel).error if rel in files else None
            if error is None:
                continue
            before = base is not None and rel in base.files and base.document(rel).error is None
            found.append(Unparsed(rel, error.line, error.column, label, error.check_id, error.message, before))
    return sorted(found)


def carry_over(base: dict[tuple[str, str], Entity], head: dict[tuple[str, str], Entity], files: set[str]) -> None:
    """What the base defined in files the head cannot read stays as it was: not removed, not changed."""
    for ident, entity in base.items():
        if entity.file in files:
            head.setdefault(ident, entity)


def _things(kind: str, document: Document, default_source: str = "") -> Iterator[tuple[str, JsonPath, Any]]:
    data = document.data
    if kind in ("campaign", "template"):
        if isinstance(data.get("id"), str):
            yield data["id"], (), data
    elif kind in _WHOLE_FILE:
        yield kind, (), data
    elif kind in _LISTED:
        section, fields = _LISTED[kind]
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if kind == "monitored_tables" and isinstance(item, dict):  # named like its results: source.table
                named = {"source": default_source, **item} if default_source else item
            else:
                named = item
            if not isinstance(named, dict) or not isinstance(named.get(fields[0]), str):
                continue
            parts = [str(named[name]) for name in fields if named.get(name) is not None]
            yield ("/" if kind == "error_codes" else ".").join(parts), (section, index), item


def compare(base: dict[tuple[str, str], Entity], head: dict[tuple[str, str], Entity]) -> list[Change]:
    changes: list[Change] = []
    for ident in set(base) | set(head):
        before, after = base.get(ident), head.get(ident)
        if before is None and after is not None:
            changes.append(Change(ident[0], ident[1], "added", None, after))
        elif after is None and before is not None:
            changes.append(Change(ident[0], ident[1], "removed", before, None))
        elif before is not None and after is not None and canonical(before.data) != canonical(after.data):
            changes.append(Change(ident[0], ident[1], "changed", before, after, tuple(fields(before.data, after.data))))
    return sorted(changes, key=lambda c: (ORDER.get(c.kind, 99), STATUS_ORDER[c.status], c.key))


def fields(before: Any, after: Any, path: tuple[str, ...] = ()) -> Iterator[FieldChange]:
    """Field-level differences: mappings are followed key by key, anything else is compared whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            old, new = before.get(key, ABSENT), after.get(key, ABSENT)
            if old is ABSENT or new is ABSENT:
                yield FieldChange((*path, str(key)), old, new)
            else:
                yield from fields(old, new, (*path, str(key)))
    elif canonical(before) != canonical(after):
        yield FieldChange(path, before, after)
