"""A notification as text, Markdown or HTML, in Russian or English (Jinja2 templates of this package).

Built-in templates: templates/message.{txt,md,html}.j2, one per format; the words of each language
come from `WORDS`. HTML (*.html.j2) is autoescaped, so a title containing markup shows as text; text
and Markdown are not HTML-escaped, and Markdown escapes the characters that would change its
formatting (`md` filter). Moments are written in the subscription's zone: 2026-12-01 11:00 +03:00.

A subscription's own `template` (schemas/subscriptions.schema.json: "A Jinja2 template that replaces
the built-in one") is the Jinja2 text itself, not a file path; it is rendered in the bounded sandbox
(runner/sandbox.py: output, loops, integers and time limited), autoescaped when the format is html,
with the same settings (trim_blocks, lstrip_blocks, undefined variables are errors) and the same
context as the built-in templates:

    message       the Message (runner/notify/message.py)
    items         message.items, the listed Items
    more          how many further items were summarised, not listed
    total         len(items) + more
    kind, subscription, group, since, until, escalated_from    the fields of the message
    format        text, html or markdown;  language  ru or en;  zone  the ZoneInfo
    words         the dictionary of the language (WORDS[language]): events, severities, statuses,
                  labels, headlines...
    subject       the built-in subject line ("[campaign-guard] problem opened: Title (subject)")
    heading       the first line of the built-in body ("Problem opened: Title (subject)")
    note          escalation: who did not acknowledge; "" otherwise
    period        a digest's period in the zone ("2026-12-01 10:00 - 11:00 +03:00"), or None
    summary       the events counted ("3 opened, 2 resolved"), "" when nothing happened
    more_line     "and 14 more problems" / "и ещё 14 проблем", "" when more is 0
    nothing       the empty digest's text ("Nothing happened: ...")
    footer        the last line ("campaign-guard, subscription NAME")
    headline(item)          "problem opened", "warning reopened", "reminder: problem still open"
    problems(n)             "5 problems" / "5 проблем"
    plural(n, one, few, many)   the Russian plural rule (English: one if n == 1 else few)
    when(moment), |when     a moment in the zone;  |md  Markdown escaping of one line of text

The subject: a custom template may set it with a top-level `{% set subject = "..." %}` (or a
`{% set subject %}...{% endset %}` block); the value is collapsed to one line. Otherwise, and always
for the built-in templates, the subject is the built-in one. A custom template that does not parse
or fails to render raises UsageError naming the subscription's template and the line.
"""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from runner.errors import UsageError
from runner.notify.message import Item, Message, Rendered
from runner.notify.subscriptions import Subscription
from runner.report.times import zone_name
from runner.sandbox import BoundedSandbox, refusal

FORMATS = {"text": "txt", "markdown": "md", "html": "html"}
LANGUAGES = ("ru", "en")
EVENTS = ("opened", "reopened", "escalated", "resolved", "reminder")
PREFIX = "[campaign-guard] "

_LABELS = {
    "en": {
        "when": "When",
        "subject": "Subject",
        "check": "Check",
        "localization": "Localization",
        "status": "Status",
        "cause": "Cause",
        "hint": "How to fix",
        "observed": "Observed",
        "expected": "Expected",
        "first_seen": "First seen",
        "last_seen": "Last seen",
        "occurrences": "Occurrences",
        "regressions": "Regressions",
        "campaign": "Campaign",
        "owner": "Owner",
        "link": "Where",
        "url": "Problem page",
        "fingerprint": "Fingerprint",
        "period": "Period",
        "group": "Group",
        "events": "Events",
    },
    "ru": {
        "when": "Когда",
        "subject": "Объект",
        "check": "Проверка",
        "localization": "Локализация",
        "status": "Статус",
        "cause": "Причина",
        "hint": "Как исправить",
        "observed": "Значение",
        "expected": "Ожидалось",
        "first_seen": "Впервые",
        "last_seen": "Последний раз",
        "occurrences": "Повторений",
        "regressions": "Повторных открытий",
        "campaign": "Кампания",
        "owner": "Владелец",
        "link": "Где",
        "url": "Страница проблемы",
        "fingerprint": "Отпечаток",
        "period": "Период",
        "group": "Группа",
        "events": "События",
    },
}

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "events": {
            "opened": "opened",
            "reopened": "reopened",
            "escalated": "escalated",
            "resolved": "resolved",
            "reminder": "reminder",
        },
        "severities": {"problem": "problem", "warning": "warning"},
        "statuses": {"open": "open", "acknowledged": "acknowledged", "muted": "muted", "resolved": "resolved"},
        "headlines": {
            severity: {
                "opened": f"{severity} opened",
                "reopened": f"{severity} reopened",
                "escalated": f"{severity} escalated",
                "resolved": f"{severity} resolved",
                "reminder": f"reminder: {severity} still open",
            }
            for severity in ("problem", "warning")
        },
        # the events counted: "3 opened, 2 resolved"
        "counted": {
            "opened": "opened",
            "reopened": "reopened",
            "escalated": "escalated",
            "resolved": "resolved",
            "reminder": "still open",
        },
        "count": "{n} {word}",
        "more_short": "{n} more",
        "problem": ("problem", "problems", "problems"),
        "more": "and {n} more {noun}",
        "digest": "digest",
        "escalation": "escalation from {name}",
        "escalation_plain": "escalation",
        "escalation_note": "Escalated: nobody acknowledged in subscription {name}.",
        "reminder": "reminder: {problems} {still_open}",
        "still_open": ("still open", "still open", "still open"),
        "nothing": "nothing happened",
        "nothing_text": "Nothing happened: no problem event in this period; campaign-guard is running.",
        "footer": "campaign-guard, subscription {name}",
        "labels": _LABELS["en"],
    },
    "ru": {
        "events": {
            "opened": "открыта",
            "reopened": "повторно открыта",
            "escalated": "эскалирована",
            "resolved": "решена",
            "reminder": "напоминание",
        },
        "severities": {"problem": "проблема", "warning": "предупреждение"},
        "statuses": {"open": "открыта", "acknowledged": "подтверждена", "muted": "заглушена", "resolved": "решена"},
        "headlines": {
            "problem": {
                "opened": "проблема открыта",
                "reopened": "проблема повторно открыта",
                "escalated": "проблема эскалирована",
                "resolved": "проблема решена",
                "reminder": "напоминание: проблема не решена",
            },
            "warning": {
                "opened": "предупреждение открыто",
                "reopened": "предупреждение повторно открыто",
                "escalated": "предупреждение эскалировано",
                "resolved": "предупреждение снято",
                "reminder": "напоминание: предупреждение не снято",
            },
        },
        "counted": {
            "opened": "открыто",
            "reopened": "повторно открыто",
            "escalated": "эскалировано",
            "resolved": "решено",
            "reminder": "не решено",
        },
        "count": "{word} {n}",
        "more_short": "ещё {n}",
        "problem": ("проблема", "проблемы", "проблем"),
        "more": "и ещё {n} {noun}",
        "digest": "сводка",
        "escalation": "эскалация из {name}",
        "escalation_plain": "эскалация",
        "escalation_note": "Эскалация: в подписке {name} никто не подтвердил.",
        "reminder": "напоминание: {problems} {still_open}",
        "still_open": ("всё ещё открыта", "всё ещё открыты", "всё ещё открыты"),
        "nothing": "ничего не произошло",
        "nothing_text": "Ничего не произошло: за период нет событий по проблемам; campaign-guard работает.",
        "footer": "campaign-guard, подписка {name}",
        "labels": _LABELS["ru"],
    },
}
for _words in WORDS.values():
    _words["width"] = max(len(label) for label in _words["labels"].values()) + 2  # text: labels in a column


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural rule: 1, 21, 101 -> one; 2-4, 22-24 -> few; 0, 5-20, 25-30, 111 -> many."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _plural(language: str, n: int, forms: tuple[str, str, str]) -> str:
    if language == "ru":
        return plural(n, *forms)
    return forms[0] if n == 1 else forms[1]


def problems(n: int, language: str) -> str:
    """`5 problems`, `1 проблема`, `2 проблемы`, `5 проблем`, `21 проблема`."""
    return f"{n} {_plural(language, n, WORDS[language]['problem'])}"


def more_problems(n: int, language: str) -> str:
    """`and 14 more problems`, `и ещё 14 проблем`."""
    words = WORDS[language]
    return str(words["more"].format(n=n, noun=_plural(language, n, words["problem"])))


def moment(value: datetime, zone: ZoneInfo) -> str:
    """`value` in `zone`, minutes precision: 2026-12-01 11:00 +03:00 (UTC for a zero offset); naive is UTC."""
    local = _aware(value).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone_name(local)}"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def period(since: datetime, until: datetime, zone: ZoneInfo) -> str:
    """A digest's period: 2026-12-01 10:00 - 11:00 +03:00, the date repeated only when it changes."""
    first, last = moment(since, zone), moment(until, zone)
    if first[:10] == last[:10]:
        return f"{first[:16]} - {last[11:]}"
    return f"{first[:16]} - {last}"


def _short_period(since: datetime, until: datetime, zone: ZoneInfo) -> str:
    first, last = _aware(since).astimezone(zone), _aware(until).astimezone(zone)
    if first.date() == last.date():
        return f"{first:%H:%M}-{last:%H:%M}"
    return f"{first:%Y-%m-%d %H:%M}-{last:%Y-%m-%d %H:%M}"


def markdown_text(value: Any) -> str:
    """One line of Markdown showing `value` literally: \\ * _ ` [ ] escaped, whitespace collapsed."""
    text = "" if value is None else str(value)
    for char in "\\*_`[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def headline(item: Item, language: str) -> str:
    """`problem opened`, `warning reopened`, `reminder: problem still open`, `проблема открыта`."""
    words = WORDS[language]
    by_severity = words["headlines"].get(item.severity, words["headlines"]["problem"])
    return str(by_severity.get(item.event, item.event))


def summary(message: Message, language: str) -> str:
    """The listed events counted, then the rest: `3 opened, 2 resolved, 14 more`."""
    words = WORDS[language]
    counts = Counter(item.event for item in message.items)
    order = [*EVENTS, *sorted(set(counts) - set(EVENTS))]
    parts = [
        words["count"].format(n=counts[event], word=words["counted"].get(event, event))
        for event in order
        if counts[event]
    ]
    if message.more:
        parts.append(words["more_short"].format(n=message.more))
    return ", ".join(parts)


def subject_line(message: Message, *, language: str, zone: ZoneInfo) -> str:
    """The built-in subject: `[campaign-guard] ` and the heading."""
    return PREFIX + _heading(message, language, zone)


def _heading(message: Message, language: str, zone: ZoneInfo) -> str:
    """One line: a title with a line break cannot split the subject header."""
    return " ".join(_phrase(message, language, zone).split())


def _phrase(message: Message, language: str, zone: ZoneInfo) -> str:
    words = WORDS[language]
    total = len(message.items) + message.more
    single = message.items[0] if total == 1 and message.items else None
    about = f"{single.title} ({single.subject})" if single else problems(total, language)
    if message.kind == "digest":
        head = words["digest"]
        if message.since and message.until:
            head += " " + _short_period(message.since, message.until, zone)
        return f"{head}: {about if total else words['nothing']}"
    if message.kind == "escalation":
        head = words["escalation"].format(name=message.escalated_from) if message.escalated_from else ""
        head = head or words["escalation_plain"]
        return f"{head}: {about if total else words['nothing']}"
    if not total:
        return str(words["nothing"])
    if single:
        return f"{headline(single, language)}: {about}"
    if message.kind == "reminder":
        still_open = _plural(language, total, words["still_open"])
        return str(words["reminder"].format(problems=about, still_open=still_open))
    group = f" ({', '.join(value for _, value in message.group)})" if message.group else ""
    return f"{about}: {summary(message, language)}{group}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def context(message: Message, *, format: str, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """What every template, built-in or custom, receives (see the module docstring)."""
    words = WORDS[language]
    heading = _heading(message, language, zone)
    forms: Callable[[int, str, str, str], str] = (
        plural if language == "ru" else (lambda n, one, few, many: one if n == 1 else few)
    )
    return {
        "message": message,
        "items": message.items,
        "more": message.more,
        "total": len(message.items) + message.more,
        "kind": message.kind,
        "subscription": message.subscription,
        "group": message.group,
        "since": message.since,
        "until": message.until,
        "escalated_from": message.escalated_from,
        "format": format,
        "language": language,
        "zone": zone,
        "words": words,
        "subject": PREFIX + heading,
        "heading": _capital(heading),
        "note": words["escalation_note"].format(name=message.escalated_from) if message.escalated_from else "",
        "period": period(message.since, message.until, zone) if message.since and message.until else None,
        "summary": summary(message, language),
        "more_line": more_problems(message.more, language) if message.more else "",
        "nothing": words["nothing_text"],
        "footer": words["footer"].format(name=message.subscription),
        "headline": lambda item: headline(item, language),
        "problems": lambda n: problems(n, language),
        "plural": forms,
    }


@jinja2.pass_context
def _when(ctx: jinja2.runtime.Context, value: datetime | None) -> str:
    return "-" if value is None else moment(value, ctx["zone"])


def _equip(env: jinja2.Environment) -> jinja2.Environment:
    env.filters["when"] = _when
    env.filters["md"] = markdown_text
    env.globals["when"] = _when
    return env


_SETTINGS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


@cache
def environment() -> jinja2.Environment:
    """The built-in templates; *.html.j2 autoescaped."""
    return _equip(
        jinja2.Environment(
            loader=jinja2.PackageLoader("runner.notify", "templates"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            **_SETTINGS,
        )
    )


class _NothingToLoad(jinja2.BaseLoader):
    """A custom template stands alone: include, import and extends find nothing."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        raise jinja2.TemplateNotFound(
            template, f"{template!r} not loaded: a subscription's template cannot include, import or extend"
        )


@cache
def sandbox(autoescape: bool) -> BoundedSandbox:
    """Custom templates: sandboxed and bounded, nothing to include, autoescaped for html."""
    env = BoundedSandbox(loader=_NothingToLoad(), autoescape=autoescape, **_SETTINGS)
    _equip(env)
    return env


def render(
    message: Message,
    *,
    format: str,
    language: str,
    zone: ZoneInfo,
    template: str | None = None,
) -> Rendered:
    """`message` as a subject and a body in `format` and `language`, moments in `zone`.

    `template` is a subscription's own Jinja2 template text (not a path); it replaces the built-in one.
    """
    if format not in FORMATS:
        raise UsageError(f"subscription {message.subscription!r}: unknown format {format!r} (text, html, markdown)")
    if language not in LANGUAGES:
        raise UsageError(f"subscription {message.subscription!r}: unknown language {language!r} (ru, en)")
    values = context(message, format=format, language=language, zone=zone)
    if template is None:
        values["blocks"] = [_block(item, format, language, zone, values) for item in message.items]
        body = environment().get_template(f"message.{FORMATS[format]}.j2").render(values)
        return Rendered(subject=values["subject"], body=body, format=format)
    return _custom(message.subscription, template, format, values)


_BLOCKS: dict[tuple[str, str, str, str], str] = {}  # one problem's block, rendered once per format, language, zone
_BLOCKS_KEPT = 50_000


def _block(item: Item, format: str, language: str, zone: ZoneInfo, values: dict[str, Any]) -> str:
    """A problem's part of a message: the same in every message that lists it, so rendered once.

    A planning pass lists one problem in the messages of many subscriptions; caching its block
    turns hundreds of thousands of renders into one per problem event, format, language and zone.
    """
    key = (repr(item), format, language, zone.key)
    block = _BLOCKS.get(key)
    if block is None:
        if len(_BLOCKS) >= _BLOCKS_KEPT:
            _BLOCKS.clear()
        block = environment().get_template(f"item.{FORMATS[format]}.j2").render({**values, "item": item})
        _BLOCKS[key] = block = Markup(block) if format == "html" else block
    return block


def render_for(sub: Subscription, message: Message) -> Rendered:
    """A message as its subscription asks: format, language, time zone and its own template."""
    return render(message, format=sub.format, language=sub.language, zone=sub.zone, template=sub.template)


class TemplateFailed(UsageError):
    """A subscription's own template does not parse or fails to render: where, and why."""

    def __init__(self, subscription: str, line: int | None, reason: str, refused: str | None = None) -> None:
        where = f" line {line}" if line else ""
        super().__init__(f"subscription {subscription!r}: template{where}: {reason}")
        self.line, self.reason, self.refused = line, reason, refused


def _custom(subscription: str, text: str, format: str, values: dict[str, Any]) -> Rendered:
    try:
        compiled = sandbox(format == "html").from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailed(subscription, exc.lineno, exc.message or "") from exc
    try:
        module = compiled.make_module(values)
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        raise TemplateFailed(subscription, _line(compiled, exc.__traceback__), reason, refusal(exc)) from exc
    subject: Any = getattr(module, "subject", values["subject"])
    if isinstance(subject, Markup):
        subject = subject.unescape()
    return Rendered(subject=" ".join(str(subject).split()), body=str(module), format=format)


def _line(compiled: jinja2.Template, trace: types.TracebackType | None) -> int | None:
    """The template line of the innermost template frame of a rendering error."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == compiled.filename:
            line = compiled.get_corresponding_lineno(trace.tb_lineno)
        trace = trace.tb_next
    return line
