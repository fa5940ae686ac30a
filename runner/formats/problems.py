"""Stored problems for people (a table, a card) and for programs (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, Protocol

from runner.display import Display, count

# the fields of `problems list --format json|csv`, in this order
LIST_FIELDS = (
    "fingerprint",
    "check",
    "subject",
    "severity",
    "localization",
    "status",
    "title",
    "cause",
    "hint",
    "campaign",
    "link",
    "owner",
    "first_seen",
    "last_seen",
    "occurrences",
    "regressions",
    "observed",
    "expected",
    "escalated",
    "acknowledged_by",
    "muted_until",
    "resolved_at",
)


def _listed(problem: dict[str, Any]) -> dict[str, Any]:
    return {key: problem[key] for key in LIST_FIELDS}


# the free-text columns of the table (title, check, subject), cut with "…" widest first to fit the terminal
_FREE = (5, 6, 7)


def list_text(problems: Sequence[dict[str, Any]], total: int, display: Display | None = None) -> str:
    """One row per problem, as wide as the terminal: title, check and subject give way first."""
    if not problems:
        return "No problems match.\n"
    display = display or Display()
    seen = [count(p["occurrences"]) for p in problems]
    digits = max(len("SEEN"), *(len(n) for n in seen))
    header = ["FINGERPRINT", "SEVERITY", "STATUS", "SEEN".rjust(digits), "LAST SEEN", "TITLE", "CHECK", "SUBJECT"]
    rows = [
        [
            p["fingerprint"],
            p["severity"],
            p["status"] + ("!" if p["regressions"] else ""),
            n.rjust(digits),
            display.time(p["last_seen"]),
            p["title"],
            p["check"],
            p["subject"],
        ]
        for p, n in zip(problems, seen, strict=True)
    ]
    lines = display.table(header, rows, free=_FREE, tones=[(1, p["severity"]) for p in problems])
    shown = f"{count(len(problems))} of {count(total)}" if total > len(problems) else count(total)
    lines.append(f"{shown} problems ('!' marks a regression; campaign-guard problems show FINGERPRINT for the card)")
    return "\n".join(lines) + "\n"


def list_json(problems: Sequence[dict[str, Any]], total: int, display: Display | None = None) -> str:
    return json.dumps([_listed(p) for p in problems], ensure_ascii=False, indent=2) + "\n"


def list_csv(problems: Sequence[dict[str, Any]], total: int, display: Display | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LIST_FIELDS, lineterminator="\n")
    writer.writeheader()
    for p in problems:
        row = _listed(p)
        row["observed"] = json.dumps(row["observed"], ensure_ascii=False) if row["observed"] is not None else ""
        writer.writerow(row)
    return buffer.getvalue()


class ListReporter(Protocol):
    def __call__(self, problems: Sequence[dict[str, Any]], total: int, display: Display | None = None) -> str: ...


LIST_REPORTERS: dict[str, ListReporter] = {
    "text": list_text,
    "json": list_json,
    "csv": list_csv,
}


def card_text(problem: dict[str, Any], events: Sequence[dict[str, Any]], display: Display | None = None) -> str:
    """The whole card: what, where, why, how to fix, how often, the evidence and the history."""
    p = problem
    display = display or Display()
    lines = [
        f"{display.paint(p['title'], 'bold')}  [{display.paint(p['severity'], p['severity'])}, {p['status']}]",
        f"  fingerprint   {p['fingerprint']}",
        f"  check         {p['check']}",
        f"  subject       {p['subject']}",
        f"  localization  {p['localization']}",
    ]
    for label, key in (("campaign", "campaign"), ("owner", "owner"), ("link", "link"), ("source", "source")):
        if p[key]:
            lines.append(f"  {label:<13} {p[key]}")
    lines += [
        f"  cause         {p['cause']}",
        f"  fix           {p['hint']}",
        f"  observed      {json.dumps(p['observed'], ensure_ascii=False)}",
        f"  expected      {p['expected']}",
        f"  first seen    {display.time(p['first_seen'])}",
        f"  last seen     {display.time(p['last_seen'])}",
        f"  occurrences   {count(p['occurrences'])} (regressions: {count(p['regressions'])})",
    ]
    if p["acknowledged_by"]:
        lines.append(f"  acknowledged  by {p['acknowledged_by']}")
    if p["muted_until"]:
        lines.append(f"  muted until   {display.time(p['muted_until'])}")
    if p["samples"]:
        lines.append("  samples")
        lines += ["    " + ", ".join(f"{k}={v}" for k, v in row.items()) for row in p["samples"]]
    lines.append("  events")
    for event in events:
        who = f" by {event['actor']}" if event["actor"] else ""
        note = f": {event['note']}" if event["note"] else ""
        lines.append(f"    {display.time(event['at'])}  {event['kind']}{who} ({event['severity']}){note}")
    return "\n".join(lines) + "\n"


def card_json(problem: dict[str, Any], events: Sequence[dict[str, Any]], display: Display | None = None) -> str:
    card = {key: value for key, value in problem.items() if key != "id"}
    return json.dumps({**card, "events": list(events)}, ensure_ascii=False, indent=2) + "\n"


class CardReporter(Protocol):
    def __call__(
        self, problem: dict[str, Any], events: Sequence[dict[str, Any]], display: Display | None = None
    ) -> str: ...


CARD_REPORTERS: dict[str, CardReporter] = {
    "text": card_text,
    "json": card_json,
}
