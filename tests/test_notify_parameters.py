"""The 35 subscription parameters (SPEC section 5), one observable effect each, through the real planner.

Problems and their events come from the real state store (record, act); `plan` runs inside
`store.write()` as `campaign-guard notify` runs it; the renderer is a fake that keeps every Message
(the real one where format, language, template and timezone show); delivery sends through a fake.
Every test compares a subscription with the parameter to one without it (or with another value),
so it fails if the parameter stopped working.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa

from runner.commands.route import routes
from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.main import main
from runner.notify.delivery import deliver
from runner.notify.matching import CampaignFacts, campaign_facts, refusal
from runner.notify.message import Message, Rendered
from runner.notify.planner import Planned, plan
from runner.notify.render import render_for
from runner.notify.rendering import Renderer, render_outbox
from runner.notify.subscriptions import Subscription, subscription
from runner.repository import Repository
from runner.store.actions import act
from runner.store.connect import Store, open_store
from runner.store.lifecycle import fingerprint
from runner.store.record import record
from runner.store.runs import start_run
from runner.store.tables import notifications, notify_state, outbox, problem_events
from tests.conftest import ROOT

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday; 11:00 in Moscow


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


# -- the DSL ----------------------------------------------------------------------------------


def sub(name: str = "ops", **parameters: Any) -> Subscription:
    """A subscription as rules/subscriptions.yaml would give it: only what the test sets, the rest default."""
    return subscription({"name": name, "channel": "email", "recipients": [f"{name}@example.com"], **parameters})


def problem(
    subject: str = "WELCOME10",
    *,
    check: str = "monitor.promo_pool_low",
    severity: str = "problem",
    localization: str = "promo_pool",
    campaign: str | None = None,
    owner: str | None = None,
    title: str = "Promo pool running dry",
) -> Result:
    """A failing check result; the same subject and check later is the same problem."""
    return Result(
        check,
        subject,
        Severity(severity),
        localization,
        Status.FAIL if severity == "problem" else Status.WARN,
        title,
        observed=37,
        expected=">= 100",
        cause="37 free codes left",
        hint="Load new codes",
        campaign=campaign,
        owner=owner,
    )


class Out(NamedTuple):
    """An outbox row as the assertions compare it."""

    subscription: str
    kind: str
    items: int
    more: int
    channel: str
    recipients: list[str]


def out(to: Subscription, kind: str = "immediate", items: int = 1, more: int = 0) -> Out:
    return Out(to.name, kind, items, more, to.channel, list(to.recipients))


def told(message: Message) -> list[tuple[str, str]]:
    """(event, subject) of every listed item, in the message's order (problems first, newest first)."""
    return [(item.event, item.subject) for item in message.items]


@cache
def facts() -> Mapping[str, CampaignFacts]:
    return campaign_facts(Repository(ROOT))


class World:
    """The state store, the planner with a recording renderer, and what went into the outbox."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.messages: list[Message] = []  # every rendered message, in outbox order
        self.planned = Planned()

    def fake_render(self, to: Subscription, message: Message) -> Rendered:
        self.messages.append(message)
        return Rendered(f"{message.kind} of {to.name}", f"{len(message.items)} items", format=to.format)

    # problems
    def fail(self, moment: datetime, *results: Result, escalate_after: int = 0) -> None:
        run_id = start_run(self.store, "run", "", moment)
        record(self.store, run_id, list(results), moment, escalate_after=escalate_after)

    def pass_(self, moment: datetime, *results: Result) -> None:
        self.fail(moment, *(replace(r, status=Status.PASS) for r in results))

    def acknowledge(self, moment: datetime, result: Result) -> None:
        problem_id = fingerprint(result.check, result.subject)
        act(self.store, problem_id, "acknowledged", actor="olga", note=None, moment=moment)

    # planning
    def plan(self, now: datetime, *subscriptions: Subscription, render: Renderer | None = None) -> list[Out]:
        """One planning pass at `now`, then its rendering; the outbox rows it made."""
        with self.store.write() as connection:
            self.planned = plan(connection, subscriptions, facts(), now)
        render_outbox(self.store, subscriptions, now, render or self.fake_render)
        return self.outbox(self.planned.messages)

    def outbox(self, ids: list[int] | None = None) -> list[Out]:
        with self.store.read() as connection:
            query = sa.select(outbox).order_by(outbox.c.id)
            rows = connection.execute(query if ids is None else query.where(outbox.c.id.in_(ids))).all()
        return [Out(r.subscription, r.kind, r.items, r.more, r.channel, json.loads(r.recipients)) for r in rows]

    def rendered(self, ids: list[int] | None = None) -> list[Rendered]:
        with self.store.read() as connection:
            query = sa.select(outbox).order_by(outbox.c.id)
            rows = connection.execute(query if ids is None else query.where(outbox.c.id.in_(ids))).all()
        return [Rendered(r.subject, r.body, r.format) for r in rows]

    def notifications(self, name: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as connection:
            query = sa.select(notifications).order_by(notifications.c.id)
            if name is not None:
                query = query.where(notifications.c.subscription == name)
            return [dict(row) for row in connection.execute(query).mappings()]


@pytest.fixture
def world() -> Iterator[World]:
    store = open_store(ROOT)  # CAMPAIGN_GUARD_STATE_URL: a fresh SQLite file per test (conftest)
    try:
        yield World(store)
    finally:
        store.close()


def subjects_reaching(world: World, filtered: Subscription, *results: Result) -> tuple[list[str], list[str]]:
    """Open every result, plan once for an unfiltered subscription and `filtered`: the subjects each is told of."""
    world.fail(at(0), *results)
    everyone = sub("everyone")
    world.plan(at(1), everyone, filtered)
    by_name: dict[str, list[str]] = {everyone.name: [], filtered.name: []}
    for message in world.messages:
        by_name[message.subscription] += sorted(item.subject for item in message.items)
    return by_name[everyone.name], by_name[filtered.name]


def stored(result: Result) -> dict[str, Any]:
    """A problem as `refusal` and `routes` read it, without the store."""
    return {
        "check": result.check,
        "subject": result.subject,
        "severity": result.severity.value,
        "localization": result.localization,
        "campaign": result.campaign,
        "owner": result.owner,
        "occurrences": 1,
        "first_seen": T0,
    }


# -- 1 to 3: who the subscription is ----------------------------------------------------------


def test_p01_name_identifies_the_subscriptions_messages_and_state(world: World) -> None:
    team_a, team_b = sub("team_a"), sub("team_b")
    pool = problem()
    world.fail(at(0), pool)
    assert world.plan(at(1), team_a, team_b) == [out(team_a), out(team_b)]
    assert [m.subscription for m in world.messages] == ["team_a", "team_b"]
    assert [m.items[0].fingerprint for m in world.messages] == [fingerprint(pool.check, pool.subject)] * 2
    # the name keys what a subscription was already told: the same name is not told again ...
    assert world.plan(at(2), team_a) == []
    # ... a renamed subscription is a new one and hears of the last day's events
    team_c = replace(team_a, name="team_c")
    assert world.plan(at(3), team_c) == [Out("team_c", "immediate", 1, 0, "email", ["team_a@example.com"])]
    with world.store.read() as connection:
        assert sorted(connection.execute(sa.select(notify_state.c.subscription)).scalars()) == [
            "team_a",
            "team_b",
            "team_c",
        ]
        keys = connection.execute(sa.select(outbox.c.key).order_by(outbox.c.id)).scalars().all()
    assert [key.split(":")[0] for key in keys] == ["team_a", "team_b", "team_c"]


def _route(root: Path, capsys: pytest.CaptureFixture[str], output_format: str) -> str:
    """`campaign-guard route` for a described promo-pool problem, in-process."""
    problem_options = ["--check", "monitor.promo_pool_low", "--severity", "problem", "--localization", "promo_pool"]
    code = main(["--root", str(root), "route", *problem_options, "--format", output_format, "--now", T0.isoformat()])
    assert code == 0
    return capsys.readouterr().out


ROUTED = """\
subscriptions:
  - name: pools
    description: Promo pools running dry, for the loyalty team
    owner: crm-loyalty
    channel: email
    recipients: [a@example.com]
  - name: bonus_only
    description: Bonus problems only
    owner: crm-dev
    channel: email
    recipients: [b@example.com]
    localizations: [bonus]
  - name: plain
    channel: email
    recipients: [c@example.com]
"""


def test_p02_description_is_shown_by_route(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo_copy / "rules" / "subscriptions.yaml").write_text(ROUTED)
    answers = json.loads(_route(repo_copy, capsys, "json"))
    assert [(a["subscription"], a["reaches"], a["description"]) for a in answers] == [
        ("pools", True, "Promo pools running dry, for the loyalty team"),
        ("bonus_only", False, "Bonus problems only"),
        ("plain", True, ""),
    ]
    lines = _route(repo_copy, capsys, "text").splitlines()
    assert lines[lines.index("YES   pools  (rules/subscriptions.yaml:2, owner crm-loyalty)") + 1] == (
        "      Promo pools running dry, for the loyalty team"
    )
    assert lines[lines.index("no    bonus_only  (rules/subscriptions.yaml:7, owner crm-dev)") + 1] == (
        "      Bonus problems only"
    )
    # without a description the next line is already the channel
    assert lines[lines.index("YES   plain  (rules/subscriptions.yaml:13)") + 1] == (
        "      via email to c@example.com on opened, reopened, escalated"
    )


def test_p03_owner_is_shown_by_route(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo_copy / "rules" / "subscriptions.yaml").write_text(ROUTED)
    answers = json.loads(_route(repo_copy, capsys, "json"))
    assert [(a["subscription"], a["owner"]) for a in answers] == [
        ("pools", "crm-loyalty"),
        ("bonus_only", "crm-dev"),
        ("plain", None),
    ]
    lines = _route(repo_copy, capsys, "text").splitlines()
    assert [line for line in lines if line.startswith(("YES", "no", "LATER"))] == [
        "YES   pools  (rules/subscriptions.yaml:2, owner crm-loyalty)",
        "no    bonus_only  (rules/subscriptions.yaml:7, owner crm-dev)",
        "YES   plain  (rules/subscriptions.yaml:13)",
    ]
    # routes() itself, as other callers use it
    (answer,) = routes([sub("x", owner="crm-dev", description="d")], stored(problem()), dict(facts()), T0)
    assert (answer["owner"], answer["description"]) == ("crm-dev", "d")


# -- 4 to 10: whether and how messages are made -----------------------------------------------


def test_p04_enabled_false_switches_the_subscription_off(world: World) -> None:
    on, off = sub("on"), sub("off", enabled=False)
    world.fail(at(0), problem("A"))
    assert world.plan(at(1), on, off) == [out(on)]
    assert world.notifications("off") == []
    assert refusal(off, stored(problem("A")), facts()) == "the subscription is disabled (enabled: false)"
    assert refusal(on, stored(problem("A")), facts()) is None
    # switched on again (not deleted): it hears of what happens from then on
    world.fail(at(10), problem("B"))
    assert world.plan(at(11), on, replace(off, enabled=True)) == [out(on), out(off)]
    assert [told(m) for m in world.messages[1:]] == [[("opened", "B")]] * 2


def test_p05_channel_is_the_outbox_channel_and_what_delivery_sends_through(world: World) -> None:
    mail = sub("mail", channel="email", recipients=["ops@example.com"])
    chat = sub("chat", channel="telegram", recipients=["-1001234"])
    hook = sub("hook", channel="webhook", recipients=["${HOOK_URL}"])
    world.fail(at(0), problem())
    assert world.plan(at(1), mail, chat, hook) == [out(mail), out(chat), out(hook)]
    calls: list[tuple[str, list[str], str]] = []

    def send(
        channel: str, recipients: list[str], rendered: Rendered, *, key: str, environ: Any, timeout: float
    ) -> None:
        calls.append((channel, recipients, rendered.subject))

    delivered = deliver(world.store, at(2), send)
    assert calls == [
        ("email", ["ops@example.com"], "immediate of mail"),
        ("telegram", ["-1001234"], "immediate of chat"),
        ("webhook", ["${HOOK_URL}"], "immediate of hook"),
    ]
    assert len(delivered.sent) == 3
    assert deliver(world.store, at(3), send).sent == []  # sent once
    assert len(calls) == 3


def test_p06_recipients_get_the_message_with_environment_references_unexpanded(world: World) -> None:
    many = sub("many", recipients=["a@example.com", "b@example.com"])
    chat = sub("chat", channel="telegram", recipients=["${CRM_CHAT}", 12345])
    world.fail(at(0), problem())
    assert world.plan(at(1), many, chat) == [
        Out("many", "immediate", 1, 0, "email", ["a@example.com", "b@example.com"]),
        Out("chat", "immediate", 1, 0, "telegram", ["${CRM_CHAT}", "12345"]),
    ]
    calls: list[tuple[list[str], Any]] = []

    def send(
        channel: str, recipients: list[str], rendered: Rendered, *, key: str, environ: Any, timeout: float
    ) -> None:
        calls.append((recipients, environ))

    deliver(world.store, at(2), send, environ={"CRM_CHAT": "-100777"})
    # the secret is resolved by the channel at send time, never stored in the outbox
    assert calls == [
        (["a@example.com", "b@example.com"], {"CRM_CHAT": "-100777"}),
        (["${CRM_CHAT}", "12345"], {"CRM_CHAT": "-100777"}),
    ]


TRICKY = "Pool <b>WELCOME</b> *dry*"


def test_p07_format_renders_text_html_or_markdown(world: World) -> None:
    text, html, markdown = sub("text"), sub("html", format="html"), sub("markdown", format="markdown")
    world.fail(at(0), problem(title=TRICKY))
    world.plan(at(1), text, html, markdown, render=render_for)
    as_text, as_html, as_markdown = world.rendered()
    assert [r.format for r in (as_text, as_html, as_markdown)] == ["text", "html", "markdown"]
    assert as_text.body.startswith(f"Problem opened: {TRICKY} (WELCOME10)\n")
    assert "<" not in as_text.body.replace(TRICKY, "")  # no markup but the title's own
    assert "<html" in as_html.body and "Pool &lt;b&gt;WELCOME&lt;/b&gt; *dry*" in as_html.body
    assert TRICKY not in as_html.body
    assert as_markdown.body.startswith("**Problem opened: Pool <b>WELCOME</b> \\*dry\\* (WELCOME10)**\n")
    # the subject line is plain text in every format
    assert {r.subject for r in (as_text, as_html, as_markdown)} == {
        f"[campaign-guard] problem opened: {TRICKY} (WELCOME10)"
    }


def test_p08_language_of_the_built_in_templates(world: World) -> None:
    english, russian = sub("english"), sub("russian", language="ru")
    world.fail(at(0), problem())
    world.plan(at(1), english, russian, render=render_for)
    in_english, in_russian = world.rendered()
    assert in_english.subject == "[campaign-guard] problem opened: Promo pool running dry (WELCOME10)"
    assert in_russian.subject == "[campaign-guard] проблема открыта: Promo pool running dry (WELCOME10)"
    assert "How to fix" in in_english.body and "Как исправить" not in in_english.body
    assert "Как исправить" in in_russian.body and "How to fix" not in in_russian.body
    assert in_russian.body.rstrip().endswith("campaign-guard, подписка russian")


def test_p09_template_replaces_the_built_in_one(world: World) -> None:
    own = (
        '{% set subject = "Pools: " ~ total %}'
        "{% for item in items %}{{ item.subject }} {{ item.event }} at {{ item.at|when }}\n{% endfor %}"
    )
    custom, built_in = sub("custom", template=own), sub("built_in")
    world.fail(at(0), problem("WELCOME10"), problem("COMEBACK15"))
    world.plan(at(1), custom, built_in, render=render_for)
    mine, theirs = world.rendered()
    assert mine == Rendered(
        "Pools: 2", "COMEBACK15 opened at 2026-12-01 08:00 UTC\nWELCOME10 opened at 2026-12-01 08:00 UTC\n", "text"
    )
    assert theirs.subject == "[campaign-guard] 2 problems: 2 opened"
    assert theirs.body.startswith("2 problems: 2 opened\n")


def test_p10_timezone_of_timestamps_in_messages(world: World) -> None:
    utc, moscow = sub("utc"), sub("moscow", timezone="Europe/Moscow")
    world.fail(at(0), problem())
    world.plan(at(1), utc, moscow, render=render_for)
    in_utc, in_moscow = world.rendered()
    assert "2026-12-01 08:00 UTC" in in_utc.body and "+03:00" not in in_utc.body
    assert "2026-12-01 11:00 +03:00" in in_moscow.body and "08:00 UTC" not in in_moscow.body


def test_p10_timezone_of_quiet_hours_and_digest_schedules(world: World) -> None:
    """22:00-08:00 at 23:00 UTC is quiet in UTC, 08:00 the next morning in Tokyo; 09:00 in Moscow is 06:00 UTC."""
    quiet_utc = sub("quiet_utc", quiet_hours="22:00-08:00")
    quiet_tokyo = sub("quiet_tokyo", quiet_hours="22:00-08:00", timezone="Asia/Tokyo")
    world.fail(at(hours=15), problem())  # 23:00 UTC
    assert world.plan(at(hours=15, minutes=1), quiet_utc, quiet_tokyo) == [out(quiet_tokyo)]
    assert world.planned.held == {"quiet_utc": "quiet hours or not a working day: held until 2026-12-02 08:00 UTC"}

    morning_utc = sub("morning_utc", mode="digest", digest_schedule="0 9 * * *")
    morning_moscow = sub("morning_moscow", mode="digest", digest_schedule="0 9 * * *", timezone="Europe/Moscow")
    assert world.plan(at(hours=16), morning_utc, morning_moscow) == []  # both start waiting for their next 09:00
    assert world.plan(at(hours=22), morning_utc, morning_moscow) == [out(morning_moscow, "digest")]  # 06:00 UTC
    assert world.messages[-1].until == datetime(2026, 12, 2, 9, 0, tzinfo=morning_moscow.zone)
    assert world.plan(at(hours=25), morning_utc, morning_moscow) == [out(morning_utc, "digest")]  # 09:00 UTC


# -- 11 to 20: which problems reach the subscription ------------------------------------------


def test_p11_severities(world: World) -> None:
    everyone, only = subjects_reaching(
        world, sub("warnings", severities=["warning"]), problem("P"), problem("W", severity="warning")
    )
    assert (everyone, only) == (["P", "W"], ["W"])


def test_p12_localizations(world: World) -> None:
    everyone, only = subjects_reaching(
        world,
        sub("pools", localizations=["promo_pool", "queue"]),
        problem("POOL", localization="promo_pool"),
        problem("BONUS", check="bonus.over_cap", localization="bonus"),
        problem("Q", check="monitor.queue", localization="queue"),
    )
    assert (everyone, only) == (["BONUS", "POOL", "Q"], ["POOL", "Q"])


CAMPAIGN_PROBLEMS = (
    problem("VIP", check="bonus.over_cap", campaign="vip_bonus_accrual", owner="crm-loyalty"),
    problem("BIRTHDAY", check="bonus.under_floor", campaign="birthday_bonus", owner="crm-loyalty"),
    problem("WELCOME", check="promo.pool_low", campaign="welcome_chain", owner="crm-marketing"),
    problem("CHURN", check="mailing.bounce_rate", campaign="churn_reactivation", owner="crm-marketing"),
    problem("NOCAMPAIGN", check="monitor.queue", localization="queue"),
)
ALL_SUBJECTS = ["BIRTHDAY", "CHURN", "NOCAMPAIGN", "VIP", "WELCOME"]


def test_p13_campaigns(world: World) -> None:
    everyone, only = subjects_reaching(world, sub("some", campaigns=["vip_*", "welcome_chain"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, ["VIP", "WELCOME"])


def test_p14_exclude_campaigns(world: World) -> None:
    everyone, rest = subjects_reaching(world, sub("rest", exclude_campaigns=["*bonus*"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, rest) == (ALL_SUBJECTS, ["CHURN", "NOCAMPAIGN", "WELCOME"])


def test_p15_checks(world: World) -> None:
    everyone, only = subjects_reaching(world, sub("bonus", checks=["bonus.*", "monitor.q?eue"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, ["BIRTHDAY", "NOCAMPAIGN", "VIP"])


def test_p16_exclude_checks(world: World) -> None:
    everyone, rest = subjects_reaching(world, sub("rest", exclude_checks=["bonus.*", "promo.*"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, rest) == (ALL_SUBJECTS, ["CHURN", "NOCAMPAIGN"])


def test_p17_campaign_channels(world: World) -> None:
    """birthday_bonus sends sms and push, welcome_chain email and sms, the others email only."""
    everyone, only = subjects_reaching(world, sub("sms", campaign_channels=["sms"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, ["BIRTHDAY", "WELCOME"])


def test_p18_customer_types(world: World) -> None:
    """vip_bonus_accrual is for vip, welcome_chain for new, birthday_bonus and churn_reactivation for regular."""
    everyone, only = subjects_reaching(world, sub("vip", customer_types=["vip", "new"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, ["VIP", "WELCOME"])


def test_p19_owners(world: World) -> None:
    everyone, only = subjects_reaching(world, sub("loyalty", owners=["crm-loyalty"]), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, ["BIRTHDAY", "VIP"])


@pytest.mark.parametrize(
    ("labels", "reaching"),
    [
        (["tier=vip"], ["VIP"]),
        (["program!=loyalty"], ["CHURN", "NOCAMPAIGN", "WELCOME"]),  # no campaign: no labels, program is ""
        (["program=~loyalty|onboarding"], ["BIRTHDAY", "VIP", "WELCOME"]),
        (["program=~loy"], []),  # a regex matches the whole value
        (["program!~loy.*"], ["CHURN", "NOCAMPAIGN", "WELCOME"]),
        (["program=loyalty", "occasion=birthday"], ["BIRTHDAY"]),  # all must hold
    ],
)
def test_p20_labels(world: World, labels: list[str], reaching: list[str]) -> None:
    """vip_bonus_accrual: program loyalty, tier vip; birthday_bonus: program loyalty, occasion birthday;
    welcome_chain: program onboarding; churn_reactivation: program retention."""
    everyone, only = subjects_reaching(world, sub("labelled", labels=labels), *CAMPAIGN_PROBLEMS)
    assert (everyone, only) == (ALL_SUBJECTS, reaching)


# -- 21 to 23: when a problem's events become news ----------------------------------------------


def test_p21_min_occurrences(world: World) -> None:
    patient, eager = sub("patient", min_occurrences=3), sub("eager")
    world.fail(at(0), problem("A"), problem("FLAPPING"))
    assert world.plan(at(1), patient, eager) == [out(eager, items=2)]
    world.fail(at(10), problem("A"))
    world.pass_(at(10), problem("FLAPPING"))  # resolved at 1 occurrence: never news for `patient`
    assert world.plan(at(11), patient, eager) == []
    assert [n["state"] for n in world.notifications("patient")] == ["waiting", "dropped"]
    world.fail(at(20), problem("A"))  # the third occurrence
    assert world.plan(at(21), patient, eager) == [out(patient)]
    assert told(world.messages[-1]) == [("opened", "A")]
    assert world.messages[-1].items[0].occurrences == 3


def test_p22_min_duration(world: World) -> None:
    patient = sub("patient", min_duration="30m", events=["opened", "resolved"])
    eager = sub("eager", events=["opened", "resolved"])
    world.fail(at(0), problem("A"), problem("BRIEF"))
    assert world.plan(at(1), patient, eager) == [out(eager, items=2)]
    world.pass_(at(15), problem("BRIEF"))  # open for 15 minutes only
    assert world.plan(at(16), patient, eager) == [out(eager)]  # eager: BRIEF resolved
    assert world.plan(at(29), patient, eager) == []
    assert world.plan(at(30), patient, eager) == [out(patient)]  # A open for 30 minutes, no new result needed
    assert told(world.messages[-1]) == [("opened", "A")]
    assert [n["state"] for n in world.notifications("patient")] == ["batched", "dropped"]


def test_p22_min_duration_of_a_problem_resolved_before_the_pass_counts_until_it_resolved(world: World) -> None:
    """A 10-minute blip is not news for min_duration 30m, even when nothing planned until 45 minutes later."""
    patient = sub("patient", min_duration="30m", events=["opened", "resolved"])
    eager = sub("eager", events=["opened", "resolved"])
    world.fail(at(0), problem("BLIP"), problem("LONG"))
    world.pass_(at(10), problem("BLIP"))
    world.pass_(at(40), problem("LONG"))
    assert world.plan(at(45), patient, eager) == [out(patient, items=2), out(eager, items=4)]
    assert sorted(told(world.messages[0])) == [("opened", "LONG"), ("resolved", "LONG")]
    assert sorted(told(world.messages[1])) == [
        ("opened", "BLIP"),
        ("opened", "LONG"),
        ("resolved", "BLIP"),
        ("resolved", "LONG"),
    ]
    assert world.plan(at(90), patient, eager) == []
    assert {n["state"] for n in world.notifications("patient") if n["problem_id"] == 1} == {"dropped"}


def test_p23_events(world: World) -> None:
    """A warning opens, escalates (3 runs in a row), resolves and reopens; each subscription hears its events."""
    only = {kind: sub(kind, events=[kind]) for kind in ("opened", "escalated", "resolved", "reopened")}
    default = sub("default")  # opened, reopened, escalated
    everything = sub("everything", events=["opened", "reopened", "escalated", "resolved"])
    subscriptions = [*only.values(), default, everything]
    warning = problem(severity="warning")
    for minute in (0, 10, 20):
        world.fail(at(minute), warning, escalate_after=3)
        world.plan(at(minute + 1), *subscriptions)
    world.pass_(at(30), warning)
    world.plan(at(31), *subscriptions)
    world.fail(at(40), warning, escalate_after=3)
    world.plan(at(41), *subscriptions)
    heard: dict[str, list[str]] = {name.name: [] for name in subscriptions}
    for message in world.messages:
        heard[message.subscription] += [item.event for item in message.items]
    assert heard == {
        "opened": ["opened"],
        "escalated": ["escalated"],
        "resolved": [],  # never told the problem opened: its end is no news (planner)
        "reopened": ["reopened"],
        "default": ["opened", "escalated", "reopened"],
        "everything": ["opened", "escalated", "resolved", "reopened"],
    }


def test_p23_events_resolved_in_the_pass_that_tells_of_the_opening(world: World) -> None:
    """Opened and resolved between two passes: a subscription that hears both is told both."""
    both, opened = sub("both", events=["opened", "resolved"]), sub("opened_only", events=["opened"])
    world.fail(at(0), problem())
    world.pass_(at(5), problem())
    assert world.plan(at(6), both, opened) == [out(both, items=2), out(opened)]
    assert [sorted(told(m)) for m in world.messages] == [
        [("opened", "WELCOME10"), ("resolved", "WELCOME10")],
        [("opened", "WELCOME10")],
    ]


# -- 24 to 27: immediate or digest, and when messages may go out ----------------------------------


def test_p24_mode_immediate_or_digest(world: World) -> None:
    immediate, digest = sub("now"), sub("hourly", mode="digest", digest_schedule="0 * * * *")
    world.fail(at(0), problem("A"))
    assert world.plan(at(1), immediate, digest) == [out(immediate)]
    world.fail(at(10), problem("B"))
    assert world.plan(at(11), immediate, digest) == [out(immediate)]
    assert world.plan(at(59), immediate, digest) == []
    assert world.plan(at(60), immediate, digest) == [out(digest, "digest", items=2)]
    assert [m.kind for m in world.messages] == ["immediate", "immediate", "digest"]
    assert told(world.messages[-1]) == [("opened", "B"), ("opened", "A")]
    assert (world.messages[-1].since, world.messages[-1].until) == (at(0), at(60))


def test_p25_digest_schedule(world: World) -> None:
    hourly = sub("hourly", mode="digest", digest_schedule="0 * * * *")
    daily = sub("daily", mode="digest", digest_schedule="30 9 * * *")
    world.fail(at(0), problem("A"))
    assert world.plan(at(1), hourly, daily) == []
    assert world.plan(at(60), hourly, daily) == [out(hourly, "digest")]  # 09:00
    assert world.plan(at(89), hourly, daily) == []
    assert world.plan(at(90), hourly, daily) == [out(daily, "digest")]  # 09:30
    assert (world.messages[-1].since, world.messages[-1].until) == (at(90, days=-1), at(90))
    assert told(world.messages[-1]) == [("opened", "A")]
    assert world.plan(at(100), hourly, daily) == []  # this period's digest went out
    world.fail(at(110), problem("B"))
    assert world.plan(at(120), hourly, daily) == [out(hourly, "digest")]  # 10:00
    assert world.plan(at(90, days=1), hourly, daily) == [out(daily, "digest")]
    assert told(world.messages[-1]) == [("opened", "B")]


def test_p26_quiet_hours_hold_immediate_messages_until_the_window_ends(world: World) -> None:
    quiet, loud = sub("quiet", quiet_hours="22:00-08:00"), sub("loud")
    world.fail(at(hours=15), problem("A"))  # 23:00
    assert world.plan(at(hours=15, minutes=1), quiet, loud) == [out(loud)]
    assert world.planned.held == {"quiet": "quiet hours or not a working day: held until 2026-12-02 08:00 UTC"}
    world.fail(at(hours=18), problem("B"))  # 02:00, past midnight
    assert world.plan(at(hours=18, minutes=1), quiet, loud) == [out(loud)]
    assert world.plan(at(hours=23, minutes=59), quiet, loud) == []  # 07:59
    assert world.plan(at(hours=24), quiet, loud) == [out(quiet, items=2)]  # 08:00: both, nothing dropped
    assert told(world.messages[-1]) == [("opened", "B"), ("opened", "A")]
    assert world.plan(at(hours=24, minutes=1), quiet, loud) == []


def test_p26_quiet_hours_do_not_hold_digests(world: World) -> None:
    """Schema: "immediate messages are held"; a digest keeps its schedule (working_days still apply)."""
    digest = sub("night_digest", mode="digest", digest_schedule="0 * * * *", quiet_hours="22:00-08:00")
    world.fail(at(hours=14, minutes=10), problem())
    assert world.plan(at(hours=14, minutes=11), digest) == []
    assert world.plan(at(hours=15), digest) == [out(digest, "digest")]  # 23:00, inside the quiet hours


def test_p27_working_days_hold_messages_until_the_next_working_day(world: World) -> None:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    office, always = sub("office", working_days=weekdays), sub("always")
    world.fail(at(days=4, hours=2), problem("A"))  # Saturday 10:00
    assert world.plan(at(days=4, hours=2, minutes=1), office, always) == [out(always)]
    assert world.planned.held == {"office": "quiet hours or not a working day: held until 2026-12-07 00:00 UTC"}
    world.fail(at(days=5, hours=2), problem("B"))  # Sunday
    assert world.plan(at(days=5, hours=2, minutes=1), office, always) == [out(always)]
    assert world.plan(at(days=5, hours=15, minutes=59), office, always) == []  # Sunday 23:59
    assert world.plan(at(days=5, hours=16), office, always) == [out(office, items=2)]  # Monday 00:00
    assert told(world.messages[-1]) == [("opened", "B"), ("opened", "A")]


def test_p27_working_days_hold_digests_too(world: World) -> None:
    office = sub("office", mode="digest", digest_schedule="0 9 * * *", working_days=["mon", "tue", "wed", "thu", "fri"])
    world.fail(at(days=3), problem("FRIDAY"))  # Friday 08:00
    assert world.plan(at(days=3, minutes=1), office) == []
    assert world.plan(at(days=3, hours=1), office) == [out(office, "digest")]  # Friday 09:00
    world.fail(at(days=4), problem("SATURDAY"))
    assert world.plan(at(days=4, hours=1), office) == []  # Saturday 09:00
    assert world.plan(at(days=5, hours=1), office) == []  # Sunday 09:00
    assert world.plan(at(days=6, hours=1), office) == [out(office, "digest")]  # Monday 09:00
    assert told(world.messages[-1]) == [("opened", "SATURDAY")]
    assert (world.messages[-1].since, world.messages[-1].until) == (at(days=3, hours=1), at(days=6, hours=1))


# -- 28 to 33: reminders, grouping, limits ------------------------------------------------------


def test_p28_repeat_interval_reminds_of_open_unacknowledged_problems(world: World) -> None:
    reminded = sub("reminded", repeat_interval="1h", events=["opened", "reopened", "escalated", "reminder"])
    no_reminder_event = sub("no_event", repeat_interval="1h")  # "reminder" is not in its events
    never = sub("never", events=["opened", "reminder"])  # no repeat_interval
    subscriptions = (reminded, no_reminder_event, never)
    world.fail(at(0), problem("A"), problem("B"))
    assert world.plan(at(1), *subscriptions) == [
        out(reminded, items=2),
        out(no_reminder_event, items=2),
        out(never, items=2),
    ]
    assert world.plan(at(60), *subscriptions) == []  # 59 minutes after it was told
    assert world.plan(at(61), *subscriptions) == [out(reminded, "reminder", items=2)]
    assert told(world.messages[-1]) == [("reminder", "B"), ("reminder", "A")]
    assert world.plan(at(62), *subscriptions) == []
    world.acknowledge(at(90), problem("A"))
    assert world.plan(at(120), *subscriptions) == []
    assert world.plan(at(121), *subscriptions) == [out(reminded, "reminder")]
    assert told(world.messages[-1]) == [("reminder", "B")]  # A is acknowledged
    world.pass_(at(150), problem("B"))
    assert world.plan(at(6 * 60), *subscriptions) == []  # resolved: nothing to remind of


def test_p29_group_by(world: World) -> None:
    by_campaign, together = sub("by_campaign", group_by=["campaign"]), sub("together")
    world.fail(
        at(0),
        problem("VIP1", check="bonus.over_cap", campaign="vip_bonus_accrual"),
        problem("BDAY", check="bonus.over_cap", campaign="birthday_bonus"),
        problem("VIP2", check="bonus.under_floor", campaign="vip_bonus_accrual"),
    )
    assert world.plan(at(1), by_campaign, together) == [
        out(by_campaign, items=2),
        out(by_campaign),
        out(together, items=3),
    ]
    assert [(m.group, told(m)) for m in world.messages] == [
        ((("campaign", "vip_bonus_accrual"),), [("opened", "VIP2"), ("opened", "VIP1")]),
        ((("campaign", "birthday_bonus"),), [("opened", "BDAY")]),
        ((), [("opened", "VIP2"), ("opened", "BDAY"), ("opened", "VIP1")]),
    ]


def test_p30_group_wait(world: World) -> None:
    waiting, eager = sub("waiting", group_wait="10m"), sub("eager")
    world.fail(at(0), problem("A"))
    assert world.plan(at(0), waiting, eager) == [out(eager)]
    assert world.planned.held == {"waiting": "group_wait 0:10:00"}
    world.fail(at(5), problem("B"))
    assert world.plan(at(5), waiting, eager) == [out(eager)]
    assert world.plan(at(9), waiting, eager) == []
    assert world.plan(at(10), waiting, eager) == [out(waiting, items=2)]
    assert told(world.messages[-1]) == [("opened", "B"), ("opened", "A")]
    # a later event starts a new wait
    world.fail(at(20), problem("C"))
    assert world.plan(at(20), waiting) == []
    assert world.plan(at(30), waiting) == [out(waiting)]


def test_p31_max_items_lists_so_many_and_summarises_the_rest(world: World) -> None:
    ten, default = sub("ten", max_items=10), sub("default")  # 20 by default
    world.fail(at(0), *(problem(f"POOL{n:02d}") for n in range(25)))
    assert world.plan(at(1), ten, default) == [out(ten, items=25, more=15), out(default, items=25, more=5)]
    listed_by_ten, listed_by_default = world.messages
    assert (len(listed_by_ten.items), listed_by_ten.more) == (10, 15)
    assert [item.subject for item in listed_by_ten.items] == [f"POOL{n:02d}" for n in range(24, 14, -1)]
    assert (len(listed_by_default.items), listed_by_default.more) == (20, 5)
    # nothing is lost: all 25 are in the one message
    assert {n["message_id"] for n in world.notifications("ten")} == {1}


def test_p32_rate_limit_holds_messages_beyond_it_and_merges_them_into_the_next(world: World) -> None:
    limited = sub("limited", group_by=["subject"], rate_limit=2)
    free = sub("free", group_by=["subject"])
    world.fail(at(0), problem("A"))
    assert world.plan(at(0), limited, free) == [out(limited), out(free)]
    world.fail(at(10), problem("B"))
    assert world.plan(at(10), limited, free) == [out(limited), out(free)]
    world.fail(at(20), problem("C"), problem("D"), problem("E"))
    assert world.plan(at(20), limited, free) == [out(free)] * 3  # limited: 2 messages this hour already
    assert world.planned.held == {"limited": "rate_limit 2 messages per hour reached"}
    assert world.plan(at(59), limited, free) == []
    assert world.plan(at(60), limited, free) == [out(limited, items=3)]  # the rest merged into one
    merged = world.messages[-1]
    assert (merged.group, sorted(told(merged))) == ((), [("opened", "C"), ("opened", "D"), ("opened", "E")])
    assert {n["state"] for n in world.notifications("limited")} == {"batched"}  # none lost
    assert len(world.notifications("limited")) == 5


def test_p32_rate_limit_never_exceeds_the_limit_when_more_groups_are_due_at_once(world: World) -> None:
    limited = sub("limited", group_by=["subject"], rate_limit=2)
    world.fail(at(0), *(problem(name) for name in "ABCDE"))
    assert world.plan(at(0), limited) == [out(limited), out(limited, items=4)]
    first, rest = world.messages
    assert (first.group, told(first)) == ((("subject", "A"),), [("opened", "A")])
    assert (rest.group, sorted(told(rest))) == ((), [("opened", s) for s in "BCDE"])
    world.fail(at(10), problem("F"))
    assert world.plan(at(10), limited) == []
    assert world.plan(at(60), limited) == [out(limited)]
    assert told(world.messages[-1]) == [("opened", "F")]


def test_p33_send_empty_sends_the_digest_when_nothing_happened(world: World) -> None:
    heartbeat = sub("heartbeat", mode="digest", digest_schedule="0 * * * *", send_empty=True)
    quiet = sub("quiet", mode="digest", digest_schedule="0 * * * *")
    assert world.plan(at(1), heartbeat, quiet) == []
    assert world.plan(at(60), heartbeat, quiet) == [out(heartbeat, "digest", items=0)]
    assert (world.messages[-1].items, world.messages[-1].more) == ((), 0)
    assert world.plan(at(61), heartbeat, quiet) == []  # once per period
    assert world.plan(at(120), heartbeat, quiet) == [out(heartbeat, "digest", items=0)]
    world.fail(at(150), problem())
    assert world.plan(at(180), heartbeat, quiet) == [out(heartbeat, "digest"), out(quiet, "digest")]


# -- 34 and 35: escalation ----------------------------------------------------------------------


def oncall(name: str = "oncall") -> Subscription:
    return sub(name, channel="webhook", recipients=[f"${{{name.upper()}_URL}}"], events=["escalated"])


def test_p34_escalate_after_escalates_unacknowledged_problems_once(world: World) -> None:
    hotline = sub("hotline", escalate_after="30m", escalate_to="oncall")
    no_escalation = sub("no_escalation")
    target = oncall()
    subscriptions = (hotline, no_escalation, target)
    world.fail(at(0), problem("A"), problem("B"), problem("C"))
    assert world.plan(at(1), *subscriptions) == [out(hotline, items=3), out(no_escalation, items=3)]
    world.acknowledge(at(10), problem("B"))
    world.pass_(at(20), problem("C"))
    assert world.plan(at(29), *subscriptions) == []
    assert world.plan(at(30), *subscriptions) == [out(target, "escalation")]
    escalation = world.messages[-1]
    assert (escalation.escalated_from, told(escalation)) == ("hotline", [("escalated", "A")])
    assert world.plan(at(31), *subscriptions) == []
    assert world.plan(at(5 * 60), *subscriptions) == []  # once
    assert [n["note"] for n in world.notifications("oncall")] == ["escalated from hotline: unacknowledged for 0:30:00"]


def test_p34_escalate_after_counts_from_a_reopening(world: World) -> None:
    hotline, target = sub("hotline", escalate_after="30m", escalate_to="oncall"), oncall()
    world.fail(at(0), problem())
    world.plan(at(1), hotline, target)
    assert world.plan(at(30), hotline, target) == [out(target, "escalation")]
    world.pass_(at(40), problem())
    world.fail(at(50), problem())  # reopened: a new opening escalates again, 30 minutes after it
    assert world.plan(at(51), hotline, target) == [out(hotline)]
    assert world.plan(at(79), hotline, target) == []
    assert world.plan(at(80), hotline, target) == [out(target, "escalation")]


@pytest.mark.parametrize("target", ["oncall_a", "oncall_b"])
def test_p35_escalate_to_names_the_subscription_that_receives_escalations(world: World, target: str) -> None:
    hotline = sub("hotline", escalate_after="30m", escalate_to=target)
    targets = {name: oncall(name) for name in ("oncall_a", "oncall_b")}
    world.fail(at(0), problem())
    world.plan(at(1), hotline, *targets.values())
    assert world.plan(at(30), hotline, *targets.values()) == [
        Out(target, "escalation", 1, 0, "webhook", [f"${{{target.upper()}_URL}}"])
    ]
    assert world.messages[-1].subscription == target


def test_p35_escalate_to_a_disabled_subscription_escalates_nowhere(world: World) -> None:
    hotline = sub("hotline", escalate_after="30m", escalate_to="oncall")
    world.fail(at(0), problem())
    world.plan(at(1), hotline, replace(oncall(), enabled=False))
    assert world.plan(at(30), hotline, replace(oncall(), enabled=False)) == []
    assert world.notifications("oncall") == []


# -- once and only once -----------------------------------------------------------------------


def test_every_event_is_notified_once_however_often_plan_runs(world: World) -> None:
    subscriptions = (
        sub("now"),
        sub("grouped", group_by=["check"], group_wait="5m"),
        sub("digest", mode="digest", digest_schedule="*/15 * * * *"),
    )
    world.fail(at(0), *(problem(f"P{n}") for n in range(5)))
    for minute in (1, 1, 2, 6, 6, 15, 15, 16):
        world.plan(at(minute), *subscriptions)
    world.fail(at(20), problem("P0"), problem("LATE"))  # P0: a further occurrence, not a new event
    for minute in (21, 21, 26, 30, 30):
        world.plan(at(minute), *subscriptions)
    assert world.outbox() == [
        out(subscriptions[0], items=5),
        out(subscriptions[1], items=5),
        out(subscriptions[2], "digest", items=5),
        out(subscriptions[0]),
        out(subscriptions[1]),
        out(subscriptions[2], "digest"),
    ]
    keys = [(n["subscription"], n["event_id"]) for n in world.notifications()]
    assert len(keys) == len(set(keys)) == 18


def _fake_render(to: Subscription, message: Message) -> Rendered:
    return Rendered(f"{message.kind} {len(message.items)}", "", to.format)


SPECS: list[dict[str, Any]] = [
    {"name": "now", "channel": "email", "recipients": ["a@example.com"]},
    {"name": "grouped", "channel": "email", "recipients": ["b@example.com"], "group_by": ["subject"]},
    {
        "name": "digest",
        "channel": "email",
        "recipients": ["c@example.com"],
        "mode": "digest",
        "digest_schedule": "*/5 * * * *",
    },
]


def _plan_in_a_process(url: str, offset: int, barrier: Any) -> None:
    store = open_store(ROOT, {"CAMPAIGN_GUARD_STATE_URL": url})
    subscriptions = [subscription(spec) for spec in SPECS]
    known = campaign_facts(Repository(ROOT))
    barrier.wait()
    for step in range(12):
        moment = at(2 * step + offset)
        batch = [problem(f"W{offset}-{step}-{n}") for n in range(3)]
        record(store, start_run(store, "run", "", moment), batch, moment)
        for _ in range(2):
            with store.write() as connection:
                plan(connection, subscriptions, known, moment)
            render_outbox(store, subscriptions, moment, _fake_render)
    store.close()


def test_two_processes_planning_at_once_make_each_notification_and_message_once(world: World, state_store: str) -> None:
    world.fail(at(-1), *(problem(f"EARLY{n}") for n in range(10)))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_plan_in_a_process, args=(state_store, offset, barrier)) for offset in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    subscriptions = [subscription(spec) for spec in SPECS]
    world.plan(at(60), *subscriptions)  # the last digest

    with world.store.read() as connection:
        opened = set(
            connection.execute(sa.select(problem_events.c.id).where(problem_events.c.kind == "opened")).scalars()
        )
        messages = connection.execute(sa.select(outbox.c.id, outbox.c.subscription, outbox.c["items"])).all()
    assert len(opened) == 10 + 2 * 12 * 3
    found = world.notifications()
    for name in ("now", "grouped", "digest"):
        events = [n["event_id"] for n in found if n["subscription"] == name]
        assert sorted(events) == sorted(opened), name  # every event once: none twice, none lost
    assert {n["state"] for n in found} == {"batched"}
    per_message: dict[int, int] = {}
    for n in found:
        per_message[n["message_id"]] = per_message.get(n["message_id"], 0) + 1
    assert {row.id: row.items for row in messages} == per_message  # each message one outbox row, all its items
    assert {(n["subscription"], n["message_id"]) for n in found} == {(row.subscription, row.id) for row in messages}
