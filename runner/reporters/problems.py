"""Stored problems for people (a table, a card) and for programs (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

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


def list_text(problems: Sequence[dict[str, Any]], total: int) -> str:
    if not problems:
        return "No problems match.\n"
    lines = [f"{'FINGERPRINT':<17}{'SEVERITY':<9}{'STATUS':<13}{'SEEN':>5}  {'LAST SEEN':<17}{'CHECK':<36}SUBJECT"]
    for p in problems:
        status = p["status"] + ("!" if p["regressions"] else "")
        last = (p["last_seen"] or "")[:16].replace("T", " ")
        lines.append(
            f"{p['fingerprint']:<17}{p['severity']:<9}{status:<13}{p['occurrences']:>5}  {last:<17}"
            f"{p['check']:<36}{p['subject']}"
        )
    shown = f"{len(problems)} of {total} problems" if total > len(problems) else f"{total} problems"
    lines.append(f"{shown} ('!' marks a regression; campaign-guard problems show FINGERPRINT for the card)")
    return "\n".join(lines) + "\n"


def list_json(problems: Sequence[dict[str, Any]], total: int) -> str:
    return json.dumps([_listed(p) for p in problems], ensure_ascii=False, indent=2) + "\n"


def list_csv(problems: Sequence[dict[str, Any]], total: int) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LIST_FIELDS, lineterminator="\n")
    writer.writeheader()
    for p in problems:
        row = _listed(p)
        row["observed"] = json.dumps(row["observed"], ensure_ascii=False) if row["observed"] is not None else ""
        writer.writerow(row)
    return buffer.getvalue()


LIST_REPORTERS = {"text": list_text, "json": list_json, "csv": list_csv}


def card_text(problem: dict[str, Any], events: Sequence[dict[str, Any]]) -> str:
    """The whole card: what, where, why, how to fix, how often, the evidence and the history."""
    p = problem
    lines = [
        f"{p['title']}  [{p['severity']}, {p['status']}]",
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
        f"  first seen    {p['first_seen']}",
        f"  last seen     {p['last_seen']}",
        f"  occurrences   {p['occurrences']} (regressions: {p['regressions']})",
    ]
    if p["acknowledged_by"]:
        lines.append(f"  acknowledged  by {p['acknowledged_by']}")
    if p["muted_until"]:
        lines.append(f"  muted until   {p['muted_until']}")
    if p["samples"]:
        lines.append("  samples")
        lines += ["    " + ", ".join(f"{k}={v}" for k, v in row.items()) for row in p["samples"]]
    lines.append("  events")
    for event in events:
        who = f" by {event['actor']}" if event["actor"] else ""
        note = f": {event['note']}" if event["note"] else ""
        lines.append(f"    {event['at']}  {event['kind']}{who} ({event['severity']}){note}")
    return "\n".join(lines) + "\n"


def card_json(problem: dict[str, Any], events: Sequence[dict[str, Any]]) -> str:
    card = {key: value for key, value in problem.items() if key != "id"}
    return json.dumps({**card, "events": list(events)}, ensure_ascii=False, indent=2) + "\n"


CARD_REPORTERS = {"text": card_text, "json": card_json}
