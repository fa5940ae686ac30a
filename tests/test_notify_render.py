"""Notifications rendered with Jinja2: built-in templates per format and language, a subscription's own template."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from runner.errors import UsageError
from runner.notify.message import Item, Message
from runner.notify.render import EVENTS, WORDS, headline, markdown_text, more_problems, plural, problems, render

T = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 11:00 in Moscow
MOSCOW = ZoneInfo("Europe/Moscow")
XSS = "<script>alert(1)</script>"


def item(**changes: Any) -> Item:
    fields: dict[str, Any] = {
        "event": "opened",
        "at": T,
        "fingerprint": "4f1c2a9e7b3d",
        "check": "promo.pool_low",
        "subject": "WELCOME10",
        "severity": "problem",
        "localization": "promo_pool",
        "status": "open",
        "title": "Promo-code pool running dry",
        "cause": "Only 120 unused codes are left, below the minimum of 500.",
        "hint": "Upload a new batch of codes.",
        "campaign": "welcome_series",
        "owner": "crm-loyalty",
        "link": "campaigns/welcome_series.yaml:14",
        "first_seen": T - timedelta(hours=2),
        "last_seen": T,
        "occurrences": 3,
        "regressions": 1,
        "observed": 120,
        "expected": ">= 500",
        "url": "https://guard.example/problems/4f1c2a9e7b3d",
    }
    return Item(**{**fields, **changes})


def message(*items: Item, **changes: Any) -> Message:
    return Message(**{"subscription": "crm_loyalty_bonus", "kind": "immediate", "items": items, **changes})


def digest(*items: Item, more: int = 0) -> Message:
    return message(
        *items, subscription="crm_marketers_digest", kind="digest", more=more, since=T - timedelta(hours=1), until=T
    )


def test_one_opened_item_as_text_in_english() -> None:
    rendered = render(message(item()), format="text", language="en", zone=MOSCOW)

    assert rendered.subject == "[campaign-guard] problem opened: Promo-code pool running dry (WELCOME10)"
    assert rendered.format == "text"
    assert rendered.body == (
        "Problem opened: Promo-code pool running dry (WELCOME10)\n"
        "\n"
        "Problem opened: Promo-code pool running dry\n"
        "  When          2026-12-01 11:00 +03:00\n"
        "  Subject       WELCOME10\n"
        "  Check         promo.pool_low\n"
        "  Localization  promo_pool\n"
        "  Status        open\n"
        "  Cause         Only 120 unused codes are left, below the minimum of 500.\n"
        "  How to fix    Upload a new batch of codes.\n"
        "  Observed      120\n"
        "  Expected      >= 500\n"
        "  First seen    2026-12-01 09:00 +03:00\n"
        "  Last seen     2026-12-01 11:00 +03:00\n"
        "  Occurrences   3\n"
        "  Regressions   1\n"
        "  Campaign      welcome_series\n"
        "  Owner         crm-loyalty\n"
        "  Where         campaigns/welcome_series.yaml:14\n"
        "  Problem page  https://guard.example/problems/4f1c2a9e7b3d\n"
        "  Fingerprint   4f1c2a9e7b3d\n"
        "\n"
        "campaign-guard, subscription crm_loyalty_bonus\n"
    )


def test_one_opened_item_as_text_in_russian() -> None:
    rendered = render(message(item()), format="text", language="ru", zone=MOSCOW)

    assert rendered.subject == "[campaign-guard] проблема открыта: Promo-code pool running dry (WELCOME10)"
    assert rendered.body == (
        "Проблема открыта: Promo-code pool running dry (WELCOME10)\n"
        "\n"
        "Проблема открыта: Promo-code pool running dry\n"
        "  Когда               2026-12-01 11:00 +03:00\n"
        "  Объект              WELCOME10\n"
        "  Проверка            promo.pool_low\n"
        "  Локализация         promo_pool\n"
        "  Статус              открыта\n"
        "  Причина             Only 120 unused codes are left, below the minimum of 500.\n"
        "  Как исправить       Upload a new batch of codes.\n"
        "  Значение            120\n"
        "  Ожидалось           >= 500\n"
        "  Впервые             2026-12-01 09:00 +03:00\n"
        "  Последний раз       2026-12-01 11:00 +03:00\n"
        "  Повторений          3\n"
        "  Повторных открытий  1\n"
        "  Кампания            welcome_series\n"
        "  Владелец            crm-loyalty\n"
        "  Где                 campaigns/welcome_series.yaml:14\n"
        "  Страница проблемы   https://guard.example/problems/4f1c2a9e7b3d\n"
        "  Отпечаток           4f1c2a9e7b3d\n"
        "\n"
        "campaign-guard, подписка crm_loyalty_bonus\n"
    )


def test_optional_lines_are_left_out() -> None:
    bare = item(regressions=0, url=None, campaign=None, owner=None, link=None, observed=None)
    lines = render(message(bare), format="text", language="en", zone=MOSCOW).body.splitlines()

    assert "  Observed      -" in lines
    for label in ("Regressions", "Problem page", "Campaign", "Owner", "Where"):
        assert not any(line.startswith(f"  {label} ") for line in lines), label


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "проблем"),
        (1, "проблема"),
        (2, "проблемы"),
        (4, "проблемы"),
        (5, "проблем"),
        (11, "проблем"),
        (12, "проблем"),
        (14, "проблем"),
        (21, "проблема"),
        (22, "проблемы"),
        (25, "проблем"),
        (101, "проблема"),
        (111, "проблем"),
    ],
)
def test_russian_plural_forms(n: int, form: str) -> None:
    assert plural(n, "проблема", "проблемы", "проблем") == form
    assert problems(n, "ru") == f"{n} {form}"
    assert more_problems(n, "ru") == f"и ещё {n} {form}"


def test_english_counts() -> None:
    assert [problems(n, "en") for n in (0, 1, 2, 21)] == ["0 problems", "1 problem", "2 problems", "21 problems"]
    assert more_problems(1, "en") == "and 1 more problem"
    assert more_problems(14, "en") == "and 14 more problems"


@pytest.mark.parametrize("language", sorted(WORDS))
def test_every_event_and_severity_has_its_words(language: str) -> None:
    words = WORDS[language]
    assert words["labels"].keys() == WORDS["en"]["labels"].keys()
    for severity in ("problem", "warning"):
        for event in EVENTS:
            phrase = headline(item(severity=severity, event=event), language)
            assert phrase == words["headlines"][severity][event]
            assert phrase != event
    assert headline(item(severity="warning", event="opened"), "ru") == "предупреждение открыто"
    assert headline(item(event="reminder"), "en") == "reminder: problem still open"


def test_markdown_shows_a_title_literally() -> None:
    title = "Bonus *x2* for new_customers [VIP] `beta`"
    rendered = render(message(item(title=title)), format="markdown", language="en", zone=MOSCOW)
    lines = rendered.body.splitlines()

    escaped = r"Bonus \*x2\* for new\_customers \[VIP\] \`beta\`"
    assert lines[0] == rf"**Problem opened: {escaped} (WELCOME10)**"
    assert rf"**Problem opened: {escaped}**" in lines
    assert "- Fingerprint: `4f1c2a9e7b3d`" in lines
    assert r"- Where: campaigns/welcome\_series.yaml:14" in lines
    assert "- Problem page: https://guard.example/problems/4f1c2a9e7b3d" in lines
    assert rendered.subject == f"[campaign-guard] problem opened: {title} (WELCOME10)"  # the subject is not Markdown
    assert "&lt;" not in render(message(item(title=XSS)), format="markdown", language="en", zone=MOSCOW).body
    assert markdown_text("a\\b\n  c") == "a\\\\b c"


def test_html_is_autoescaped_and_self_contained() -> None:
    rendered = render(message(item(title=XSS, cause="<b>bold</b> & co")), format="html", language="en", zone=MOSCOW)
    body = rendered.body

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script" not in body.lower()
    assert "<b>bold</b>" not in body
    assert "<tr><th>Cause</th><td>&lt;b&gt;bold&lt;/b&gt; &amp; co</td></tr>" in body
    assert "<h1>Problem opened: &lt;script&gt;alert(1)&lt;/script&gt; (WELCOME10)</h1>" in body
    assert body.startswith('<!DOCTYPE html>\n<html lang="en">\n')
    # nothing loaded from outside: no stylesheet, image, script or font
    assert not re.search(r"<link|<img|<script|<iframe|\bsrc=|@import|url\(", body, re.IGNORECASE)
    assert "<style>" in body
    assert '<a href="https://guard.example/problems/4f1c2a9e7b3d">' in body
    assert rendered.subject == f"[campaign-guard] problem opened: {XSS} (WELCOME10)"  # a header, not HTML
    assert f"Problem opened: {XSS}" in render(message(item(title=XSS)), format="text", language="en", zone=MOSCOW).body


def test_the_subject_is_one_line() -> None:
    rendered = render(message(item(title="Pool\r\nBcc: all@example.com")), format="text", language="en", zone=MOSCOW)

    assert rendered.subject == "[campaign-guard] problem opened: Pool Bcc: all@example.com (WELCOME10)"


def test_several_items_are_counted_in_the_subject() -> None:
    resolved = item(event="resolved", status="resolved", fingerprint="9a8b7c6d5e4f")
    several = message(item(), item(), item(), resolved, resolved)

    assert render(several, format="text", language="en", zone=MOSCOW).subject == (
        "[campaign-guard] 5 problems: 3 opened, 2 resolved"
    )
    assert render(several, format="text", language="ru", zone=MOSCOW).subject == (
        "[campaign-guard] 5 проблем: открыто 3, решено 2"
    )
    grouped = replace(several, group=(("campaign", "welcome_series"),))
    rendered = render(grouped, format="text", language="en", zone=MOSCOW)
    assert rendered.subject == "[campaign-guard] 5 problems: 3 opened, 2 resolved (welcome_series)"
    assert "Group: campaign=welcome_series" in rendered.body.splitlines()
    reminder = message(*[item(event="reminder")] * 21, kind="reminder")
    assert render(reminder, format="text", language="ru", zone=MOSCOW).subject == (
        "[campaign-guard] напоминание: 21 проблема всё ещё открыта"
    )
    assert render(reminder, format="text", language="en", zone=MOSCOW).subject == (
        "[campaign-guard] reminder: 21 problems still open"
    )


def test_digest_names_its_period_and_summarises_the_rest() -> None:
    listed = digest(item(), item(event="resolved", status="resolved"), more=14)
    rendered = render(listed, format="text", language="en", zone=MOSCOW)
    lines = rendered.body.splitlines()

    assert rendered.subject == "[campaign-guard] digest 10:00-11:00: 16 problems"
    assert lines[:3] == [
        "Digest 10:00-11:00: 16 problems",
        "Period: 2026-12-01 10:00 - 11:00 +03:00",
        "Events: 1 opened, 1 resolved, 14 more",
    ]
    assert lines[-3:] == ["and 14 more problems", "", "campaign-guard, subscription crm_marketers_digest"]
    assert lines.count("Problem opened: Promo-code pool running dry") == 1
    assert lines.count("Problem resolved: Promo-code pool running dry") == 1

    russian = render(listed, format="text", language="ru", zone=MOSCOW)
    assert russian.subject == "[campaign-guard] сводка 10:00-11:00: 16 проблем"
    assert "Период: 2026-12-01 10:00 - 11:00 +03:00" in russian.body.splitlines()
    assert "и ещё 14 проблем" in russian.body.splitlines()
    html = render(listed, format="html", language="en", zone=MOSCOW).body
    assert '<p class="more">and 14 more problems</p>' in html
    assert "и ещё 14 проблем" in render(listed, format="markdown", language="ru", zone=MOSCOW).body.splitlines()


def test_empty_digest_is_a_heartbeat() -> None:
    empty = digest()

    english = render(empty, format="text", language="en", zone=MOSCOW)
    assert english.subject == "[campaign-guard] digest 10:00-11:00: nothing happened"
    assert english.body == (
        "Digest 10:00-11:00: nothing happened\n"
        "Period: 2026-12-01 10:00 - 11:00 +03:00\n"
        "\n"
        "Nothing happened: no problem event in this period; campaign-guard is running.\n"
        "\n"
        "campaign-guard, subscription crm_marketers_digest\n"
    )
    russian = render(empty, format="text", language="ru", zone=MOSCOW)
    assert russian.subject == "[campaign-guard] сводка 10:00-11:00: ничего не произошло"
    heartbeat = "Ничего не произошло: за период нет событий по проблемам; campaign-guard работает."
    assert heartbeat in russian.body.splitlines()
    html = render(empty, format="html", language="ru", zone=MOSCOW).body
    assert f'<p class="nothing">{heartbeat}</p>' in html


def test_escalation_names_the_subscription_nobody_acknowledged_in() -> None:
    escalation = message(
        item(event="escalated"), subscription="oncall_head", kind="escalation", escalated_from="loyalty_hotline"
    )

    english = render(escalation, format="text", language="en", zone=MOSCOW)
    assert english.subject == (
        "[campaign-guard] escalation from loyalty_hotline: Promo-code pool running dry (WELCOME10)"
    )
    assert english.body.splitlines()[:4] == [
        "Escalation from loyalty_hotline: Promo-code pool running dry (WELCOME10)",
        "Escalated: nobody acknowledged in subscription loyalty_hotline.",
        "",
        "Problem escalated: Promo-code pool running dry",
    ]
    russian = render(escalation, format="markdown", language="ru", zone=MOSCOW)
    assert russian.subject == "[campaign-guard] эскалация из loyalty_hotline: Promo-code pool running dry (WELCOME10)"
    assert r"Эскалация: в подписке loyalty\_hotline никто не подтвердил." in russian.body.splitlines()
    several = replace(escalation, items=(item(event="escalated"), item(event="escalated")))
    assert render(several, format="text", language="ru", zone=MOSCOW).subject == (
        "[campaign-guard] эскалация из loyalty_hotline: 2 проблемы"
    )


def test_times_are_written_in_the_subscriptions_zone() -> None:
    at_eight_utc = message(item(first_seen=T, last_seen=T))

    moscow = render(at_eight_utc, format="text", language="en", zone=MOSCOW).body.splitlines()
    assert "  When          2026-12-01 11:00 +03:00" in moscow
    assert "  First seen    2026-12-01 11:00 +03:00" in moscow
    utc = render(at_eight_utc, format="text", language="en", zone=ZoneInfo("UTC")).body.splitlines()
    assert "  When          2026-12-01 08:00 UTC" in utc
    new_york = render(at_eight_utc, format="markdown", language="en", zone=ZoneInfo("America/New_York"))
    assert "- Last seen: 2026-12-01 03:00 -05:00" in new_york.body.splitlines()
    html = render(at_eight_utc, format="html", language="en", zone=MOSCOW).body
    assert "<tr><th>When</th><td>2026-12-01 11:00 +03:00</td></tr>" in html


SUBSCRIPTION = """\
name: crm_loyalty_bonus
channel: email
recipients: [crm-loyalty@romashka-market.ru]
format: text
template: |
  {% set subject = "[loyalty] " ~ problems(total) ~ " for " ~ subscription %}
  {% for item in items %}
  * {{ item.title }} ({{ words.events[item.event] }} {{ item.at|when }}, seen {{ when(item.first_seen) }})
  {% endfor %}
  {% if more %}
  {{ more_line }}
  {% endif %}
"""


def custom(text: str, *, format: str = "text", title: str = "Promo-code pool running dry") -> str:
    return render(message(item(title=title)), format=format, language="en", zone=MOSCOW, template=text).body


def test_a_subscriptions_own_template_replaces_the_built_in_one() -> None:
    subscription = yaml.safe_load(SUBSCRIPTION)
    rendered = render(
        message(item(), item(event="resolved"), more=2),
        format=subscription["format"],
        language="ru",
        zone=MOSCOW,
        template=subscription["template"],
    )

    assert rendered.subject == "[loyalty] 4 проблемы for crm_loyalty_bonus"
    assert rendered.body == (
        "* Promo-code pool running dry (открыта 2026-12-01 11:00 +03:00, seen 2026-12-01 09:00 +03:00)\n"
        "* Promo-code pool running dry (решена 2026-12-01 11:00 +03:00, seen 2026-12-01 09:00 +03:00)\n"
        "и ещё 2 проблемы\n"
    )
    assert rendered.format == "text"


def test_without_a_subject_a_custom_template_keeps_the_built_in_one() -> None:
    rendered = render(message(item()), format="text", language="en", zone=MOSCOW, template="{{ heading }}\n")

    assert rendered.subject == "[campaign-guard] problem opened: Promo-code pool running dry (WELCOME10)"
    assert rendered.body == "Problem opened: Promo-code pool running dry (WELCOME10)\n"


def test_a_custom_html_template_is_autoescaped() -> None:
    template = "{% set subject %}<b>{{ items[0].title }}</b>{% endset %}<p>{{ items[0].title }}</p>\n"

    assert custom(template, format="html", title=XSS) == ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n")
    assert custom(template, format="text", title=XSS) == f"<p>{XSS}</p>\n"


def test_a_custom_template_that_does_not_parse_names_the_template_and_line() -> None:
    template = yaml.safe_load(SUBSCRIPTION.replace("{{ item.title }}", "{{ item.title }"))["template"]

    with pytest.raises(UsageError) as caught:
        render(message(item()), format="text", language="en", zone=MOSCOW, template=template)
    assert str(caught.value) == "subscription 'crm_loyalty_bonus': template line 3: unexpected '}'"


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("line one\n\n{{ items[0].nope }}\n", "template line 3: 'runner.notify.message.Item object' has no attribute"),
        ("{{ missing }}", "template line 1: 'missing' is undefined"),
        ("ok\n{{ ''.__class__.__mro__ }}", "template line 2: access to attribute '__class__' of 'str' object"),
        ("{% include 'rules/footer.j2' %}", "template line 1: 'rules/footer.j2' not loaded: a subscription's template"),
        ("{{ 1 // 0 }}", "template line 1: integer division or modulo by zero"),
        ("{{ total|nofilter }}", "template line 1: No filter named 'nofilter'"),
    ],
)
def test_a_custom_template_that_fails_raises_a_usage_error(template: str, error: str) -> None:
    with pytest.raises(UsageError) as caught:
        custom(template)
    assert str(caught.value).startswith(f"subscription 'crm_loyalty_bonus': {error}")


def test_unknown_format_or_language_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'pdf'"):
        render(message(item()), format="pdf", language="en", zone=MOSCOW)
    with pytest.raises(UsageError, match="unknown language 'de'"):
        render(message(item()), format="text", language="de", zone=MOSCOW)
