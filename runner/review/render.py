"""A review as Markdown (a pull-request comment), JSON (scripts) or GitHub annotations (the PR's lines)."""

from __future__ import annotations

import difflib
import html
import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from runner.findings import Severity
from runner.formats import github, gitlab
from runner.review.diff import KIND_LABELS, MANY, ONE
from runner.review.model import ABSENT, Change, FieldChange, Review, Risk
from runner.review.risks import BY_ID, FLAGS
from runner.review.risks.campaigns import describe_schedule
from runner.review.risks.flags import amount, times

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.PROBLEM: 1, Severity.WARNING: 2}
FOLD_ABOVE = 10  # longer lists of risks or static findings are folded
LIST_AT_MOST = 200  # and cut here
DETAILS_BUDGET = 40_000  # characters of field diffs; a GitHub comment holds at most 65,536


def ordered_risks(risks: Sequence[Risk]) -> list[Risk]:
    """Problems first, then by file and line."""
    return sorted(risks, key=lambda r: (_SEVERITY_ORDER[r.severity], r.file, r.line, r.column, r.flag, r.reason))


# --- words for values ---------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A configuration value as a marketer reads it: 5,000; yes; sms, push; (not set)."""
    if value is ABSENT:
        return "(not set)"
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return amount(value)
    if isinstance(value, str):
        lines = value.strip("\n").splitlines() or ['""']
        return lines[0] + (" …" if len(lines) > 1 else "")
    if isinstance(value, list):
        if any(isinstance(item, dict | list) for item in value):
            return f"{len(value)} entries"
        return ", ".join(show(item) for item in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_nested(item)}" for key, item in value.items()) or "(none)"
    return str(value)


def _nested(value: Any) -> str:
    return f"({show(value)})" if isinstance(value, dict) else show(value)


def describe_element(element: Any) -> str:
    """send by sms, template birthday_sms, max_clients 40,000, released"""
    if not isinstance(element, dict):
        return show(element)
    kind = element.get("type")
    parts = [f"send by {element.get('channel', '?')}" if kind == "send" else str(kind)]
    for key in ("template", "amount", "max_clients", "duration", "event", "predicate"):
        if key in element:
            parts.append(f"{key} {show(element[key])}")
    for key in ("next", "then", "else"):
        if key in element:
            parts.append(f"{key} → {show(element[key])}")
    parts.append("released" if element.get("released") is True else "not released")
    return ", ".join(parts)


def field_label(kind: str, path: Sequence[str]) -> str:
    """max_clients of element birthday_sms; attribute bonus_amount; limits.max_bonus"""
    groups = {"campaign": ("elements", "element"), "template": ("attributes", "attribute")}
    groups |= {"sources": ("sources", "source")}
    if kind in groups and len(path) >= 2 and path[0] == groups[kind][0]:
        rest = ".".join(path[2:])
        return f"{rest} of {groups[kind][1]} {path[1]}" if rest else f"{groups[kind][1]} {path[1]}"
    if kind == "campaign" and len(path) == 2 and path[0] == "labels":
        return f"label {path[1]}"
    return ".".join(path) or "the whole entry"


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value.rstrip("\n") or len(value) > 80)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def describe_field(kind: str, change: FieldChange) -> str:
    """One line: max_clients of element birthday_sms: 40,000 → 400,000 (×10)."""
    label = field_label(kind, change.path)
    element = kind == "campaign" and len(change.path) == 2 and change.path[0] == "elements"
    shown = describe_element if element else show
    if change.before is ABSENT:
        return f"{label} added: {shown(change.after)}"
    if change.after is ABSENT:
        return f"{label} removed (was {shown(change.before)})"
    if kind == "campaign" and change.path == ("schedule",):
        return f"{label}: {describe_schedule(change.before)} → {describe_schedule(change.after)}"
    old, new = _number(change.before), _number(change.after)
    ratio = times(old, new) if old is not None and new is not None else ""
    return f"{label}: {shown(change.before)} → {shown(change.after)}{ratio}"


def describe_added(change: Change) -> str:
    """What an added campaign does, in one line; the id alone for anything else."""
    data = change.entity.data
    if change.kind != "campaign" or not isinstance(data, dict):
        return ""
    channels = show(data.get("channels", []))
    schedule = data.get("schedule")
    when = describe_schedule(schedule) if isinstance(schedule, dict) else "no schedule"
    elements = data.get("elements")
    count = len(elements) if isinstance(elements, dict) else 0
    return f"{show(data.get('name', ''))}: {data.get('status', '?')}, {when}, by {channels}, {count} elements"


def counts(review: Review) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for change in review.changes:
        table.setdefault(change.kind, {"added": 0, "removed": 0, "changed": 0})[change.status] += 1
    return {kind: table[kind] for kind, _, _ in KIND_LABELS if kind in table}


def _totals(review: Review) -> Counter[Severity]:
    return Counter([*(r.severity for r in review.risks), *(f.severity for f in review.findings)])


# --- Markdown -----------------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]|"})


def md(text: str) -> str:
    """Plain text inside Markdown: no accidental emphasis, links, tables or HTML."""
    return html.escape(text, quote=False).translate(_MD_SPECIAL)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _verdict(review: Review) -> str:
    totals = _totals(review)
    problems = totals[Severity.PROBLEM] + totals[Severity.ERROR]
    warnings = totals[Severity.WARNING]
    if problems:
        risky = sum(1 for r in review.risks if r.severity is Severity.PROBLEM)
        parts = [_plural(risky, "risk")] if risky else []
        if problems - risky:
            parts.append(_plural(problems - risky, "static finding"))
        also = f" and {_plural(warnings, 'warning')}" if warnings else ""
        them = "it" if problems == 1 else "them"
        return (
            f"**{_plural(problems, 'problem')}** ({', '.join(parts)}){also}: "
            f"fix {them}, or have {them} accepted, before merging."
        )
    if warnings:
        them = "it" if warnings == 1 else "them"
        return f"**No problems**, {_plural(warnings, 'warning')}: read {them} before merging."
    return "**Nothing risky found.**"


def _summary(review: Review) -> list[str]:
    lines = ["| what | added | removed | changed |", "|---|---:|---:|---:|"]
    for kind, row in counts(review).items():
        lines.append(f"| {MANY[kind]} | {row['added']} | {row['removed']} | {row['changed']} |")
    lines += ["", "| risk | severity | count |", "|---|---|---:|"]
    by_flag = Counter(r.flag for r in review.risks)
    lines += [f"| {flag.title} | {flag.severity} | {by_flag[flag.id]} |" for flag in FLAGS if by_flag[flag.id]]
    by_severity = Counter(f.severity for f in review.findings)
    for severity in (Severity.ERROR, Severity.PROBLEM, Severity.WARNING):
        if by_severity[severity]:
            lines.append(f"| static findings | {severity} | {by_severity[severity]} |")
    if not review.risks and not review.findings:
        lines.append("| risks and static findings | - | 0 |")
    return lines


def _entity_name(change: Change) -> str:
    if change.key == change.kind:
        return f"{ONE[change.kind]} (`{change.file}`)"
    return f"{ONE[change.kind]} `{change.key}` (`{change.file}`)"


def _text_diff(before: str, after: str) -> list[str]:
    old, new = before.splitlines(), after.splitlines()
    body = list(difflib.unified_diff(old, new, lineterm="", n=max(len(old), len(new))))[3:]
    fence = "````" if "```" in before + after else "```"
    return [f"  {fence}diff", *(f"  {line}" for line in body), f"  {fence}"]


def _field_lines(change: Change) -> list[str]:
    lines: list[str] = []
    for field in change.fields:
        both_texts = isinstance(field.before, str) and isinstance(field.after, str)
        if both_texts and (_is_text(field.before) or _is_text(field.after)):
            lines.append(f"- {md(field_label(change.kind, field.path))} changed:")
            lines += _text_diff(str(field.before), str(field.after))
        else:
            lines.append(f"- {md(describe_field(change.kind, field))}")
    return lines


def _changes(review: Review) -> list[str]:
    lines = ["### What changed", ""]
    # a file that cannot be read is not compared: what it defined is neither removed nor changed
    entries = [f"- {md(u.headline)} (not compared until it parses)" for u in review.unparsed]
    if not review.changes:
        if entries:
            return lines + entries
        files = _plural(len(review.changed_files), "file")
        return [*lines, f"No campaign, template or rule changed ({files} changed only in form or comments)."]
    for change in review.changes:
        if change.status == "added":
            what = describe_added(change)
            entries.append(f"- added {_entity_name(change)}" + (f": {md(what)}" if what else ""))
        elif change.status == "removed":
            entries.append(f"- removed {_entity_name(change)}")
    if entries:
        lines += [*_listed(entries, "entry added or removed", "entries added or removed"), ""]
    changed = [change for change in review.changes if change.status == "changed"]
    for shown, change in enumerate(changed):
        if sum(len(line) + 1 for line in lines) > DETAILS_BUDGET:
            more = _plural(len(changed) - shown, "more changed entry", "more changed entries")
            lines += [f"… and {more}: the comment would grow too long; `--format json` lists every field.", ""]
            break
        name = html.escape(change.key if change.key != change.kind else change.file)
        count = _plural(len(change.fields), "change")
        summary = f"{ONE[change.kind]} <b>{name}</b>: {count} ({html.escape(change.file)})"
        lines += [f"<details><summary>{summary}</summary>", "", *_field_lines(change), "", "</details>", ""]
    return lines[:-1] if lines[-1] == "" else lines


def _listed(items: list[str], one: str, many: str) -> list[str]:
    """A long list folded, a very long one cut (the JSON output has everything)."""
    if len(items) <= FOLD_ABOVE:
        return items
    shown = items[:LIST_AT_MOST]
    if len(items) > LIST_AT_MOST:
        shown.append(f"- … and {len(items) - LIST_AT_MOST} more: `--format json` lists every one")
    return [f"<details><summary>{_plural(len(items), one, many)}</summary>", "", *shown, "", "</details>"]


def _risks(review: Review) -> list[str]:
    lines = ["### Risks", ""]
    if not review.risks:
        return [*lines, "No risk flag raised."]
    items = [
        f"- **{r.severity}** {BY_ID[r.flag].title}, `{r.subject}` (`{r.file}:{r.line}`): {md(r.reason)}"
        for r in ordered_risks(review.risks)
    ]
    return lines + _listed(items, "risk", "risks")


def _findings(review: Review) -> list[str]:
    lines = ["### Static findings on changed files", ""]
    if not review.findings:
        return [*lines, "None: `campaign-guard validate` finds nothing new in what changed."]
    items = [
        f"- **{f.severity}** `{f.check_id}` (`{f.path}:{f.line}:{f.column}`): {md(f.message)}"
        for f in sorted(review.findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f))
    ]
    return lines + _listed(items, "finding", "findings")


def markdown(review: Review, exit_code: int) -> str:
    head = "the working tree" if review.head.label == "working tree" else f"`{review.head.label}`"
    lines = [
        "## campaign-guard review",
        "",
        f"`{review.base.label}` → {head}: {_plural(len(review.changed_files), 'file')} changed. {_verdict(review)}",
        "",
        *_summary(review),
        "",
        *_changes(review),
        "",
        *_risks(review),
        "",
        *_findings(review),
        "",
        f"<sub>campaign-guard review, exit code {exit_code}. "
        "Rules of every risk flag: `campaign-guard docs review`.</sub>",
    ]
    return "\n".join(lines) + "\n"


# --- JSON and GitHub ------------------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    return None if value is ABSENT else value


def as_json(review: Review, exit_code: int) -> str:
    document = {
        "base": review.base.label,
        "head": review.head.label,
        "exit_code": exit_code,
        "changed_files": list(review.changed_files),
        "summary": {
            "changes": counts(review),
            "risks": dict(sorted(Counter(r.flag for r in review.risks).items())),
            "findings": dict(sorted(Counter(f.severity.value for f in review.findings).items())),
        },
        "changes": [
            {
                "kind": c.kind,
                "id": c.key,
                "status": c.status,
                "file": c.file,
                "fields": [
                    {
                        "field": ".".join(f.path),
                        "label": field_label(c.kind, f.path),
                        "before": _value(f.before),
                        "after": _value(f.after),
                    }
                    for f in c.fields
                ],
            }
            for c in review.changes
        ],
        "unparsed": [
            {
                "file": u.file,
                "kind": u.label,
                "line": u.line,
                "column": u.column,
                "check": u.check_id,
                "message": u.message,
                "parsed_before": u.parsed_before,
            }
            for u in review.unparsed
        ],
        "risks": [
            {
                "flag": r.flag,
                "severity": r.severity.value,
                "subject": r.subject,
                "reason": r.reason,
                "path": r.file,
                "line": r.line,
                "column": r.column,
            }
            for r in ordered_risks(review.risks)
        ],
        "findings": [f.to_json() for f in review.findings],
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"


def github_annotations(review: Review, exit_code: int) -> str:
    """Risks, then static findings, as ::error / ::warning workflow commands on their lines."""
    return github.render([r.as_finding() for r in ordered_risks(review.risks)]) + github.render(list(review.findings))


def gitlab_code_quality(review: Review, exit_code: int) -> str:
    """Risks and static findings as a GitLab Code Quality report (a merge request's widget and diff)."""
    return gitlab.render([*(r.as_finding() for r in ordered_risks(review.risks)), *review.findings])


RENDERERS: dict[str, Callable[[Review, int], str]] = {
    "markdown": markdown,
    "json": as_json,
    "github": github_annotations,
    "gitlab": gitlab_code_quality,
}
