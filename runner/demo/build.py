"""Generate the demo CRM: 60 days of campaign history, today's state, and the injected faults.

Everything is derived from the seed and the build moment, so a build is reproducible. Sizes grow
with --scale (1 = about a million messages; bulk service notifications fill up to the target),
while each campaign stays within its planned limits and every fault is injected at a size that
its check finds at any scale (see runner/demo/faults.py).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from runner.demo.sink import Sink

HISTORY_DAYS = 60
CAMPAIGN_ZONE = ZoneInfo("Europe/Moscow")
FIRST_NAMES = ("Анна", "Сергей", "Мария", "Иван", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья", "Павел")


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(value, low), high))


@dataclass
class Volumes:
    """Per-launch and per-day sizes at a scale, inside the example campaigns' limits."""

    scale: float

    @property
    def customers(self) -> int:
        return max(40_000, int(300_000 * self.scale))

    @property
    def vip_customers(self) -> int:
        return max(13_000, int(0.05 * self.customers))

    @property
    def registrations(self) -> int:
        return max(3_600, int(120_000 * self.scale))

    @property
    def birthday(self) -> int:
        return _clamp(2_400 * self.scale, 360, 7_000)

    @property
    def churn(self) -> int:
        return _clamp(15_000 * self.scale, 1_200, 50_000)

    @property
    def vip(self) -> int:
        return _clamp(9_000 * self.scale, 600, 9_000)

    @property
    def drafts_per_day(self) -> int:
        return _clamp(300 * self.scale, 20, 1_500)

    @property
    def transactions_per_hour(self) -> int:
        return _clamp(2_000 * self.scale, 500, 20_000)

    @property
    def messages(self) -> int:
        return int(1_000_000 * self.scale)


class DemoBuilder:
    def __init__(
        self, sink: Sink, now: datetime, *, seed: int, scale: float, attributes: Mapping[str, tuple[str, ...]]
    ) -> None:
        self.sink = sink
        self.now = now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None, microsecond=0)  # the source keeps UTC
        self.random = random.Random(seed)
        self.size = Volumes(scale)
        self.attributes = attributes  # template id -> the attributes it declares
        local_now = now.astimezone(CAMPAIGN_ZONE)
        self.today = local_now.date()
        self.today_start = self._utc(datetime.combine(self.today, time()))
        self._ids: dict[str, Iterator[int]] = {}
        self._swing = itertools.cycle((0.95, 1.04, 0.98, 1.06, 0.97, 1.02, 0.94, 1.05))
        self.campaign_messages = 0

    # -- helpers -----------------------------------------------------------------------
    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=CAMPAIGN_ZONE).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def _day_at(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        return self._utc(datetime.combine(self.today - timedelta(days=days_ago), time(hour, minute)))

    def today_slot(self, fraction: float) -> datetime:
        """A moment today (campaign time) before now: a fraction of the day so far."""
        return self.today_start + (self.now - self.today_start) * fraction

    def next_id(self, kind: str) -> int:
        return next(self._ids.setdefault(kind, itertools.count(1)))

    def _value(self, name: str, amount: int) -> str:
        if "name" in name:
            return self.random.choice(FIRST_NAMES)
        if "bonus" in name or "balance" in name:
            return str(amount)
        if "percent" in name:
            return "15"
        if "date" in name or "until" in name or name.endswith("_on"):
            return (self.today + timedelta(days=30)).isoformat()
        if "url" in name:
            return "https://romashka.example/r/ab12"
        if "code" in name:
            return f"CODE{self.random.randrange(10**6):06d}"
        return str(self.random.randrange(1, 100))

    def message(
        self,
        campaign: str,
        element: str,
        template: str,
        customer: int,
        channel: str,
        at: datetime,
        *,
        launch: int | None,
        status: str = "sent",
        amount: int = 500,
        overrides: Mapping[str, str] | None = None,
    ) -> int:
        message_id = self.next_id("message")
        self.sink.add("messages", message_id, launch, campaign, element, customer, channel, status, at)
        for name in self.attributes.get(template, ("first_name",)):
            value = (overrides or {}).get(name) or self._value(name, amount)
            self.sink.add("message_attributes", message_id, name, value)
        self.campaign_messages += 1
        return message_id

    def launch(self, campaign: str, element: str, at: datetime, clients: int, status: str = "completed") -> int:
        launch_id = self.next_id("launch")
        self.sink.add("launches", launch_id, campaign, element, at, "live", clients, status)
        return launch_id

    def noisy(self, size: int) -> int:
        """The usual launch-to-launch swing, within 6 % (a 3-sigma band of about 12 %)."""
        return max(1, int(size * next(self._swing)))

    # -- the build ---------------------------------------------------------------------
    def build(self, step_done: Callable[[str, float], None] | None = None) -> None:
        """Every part of the CRM in turn, its rows written; step_done(part, seconds) after each."""
        steps = (
            self.customers,
            self.birthday_bonus,
            self.churn_reactivation,
            self.vip_bonus_accrual,
            self.welcome_chain,
            self.draft_reminders,
            self.service_notifications,
            self.jobs,
            self.operations,
            self.integration,
        )
        for step in steps:
            started = perf_counter()
            step()
            self.sink.flush()
            if step_done is not None:
                step_done(step.__name__, perf_counter() - started)

    def customers(self) -> None:
        size = self.size
        first_new = size.customers - size.registrations + 1
        self.vip_ids = list(range(1, size.vip_customers + 1))
        self.employee_ids = list(range(size.vip_customers + 1, size.vip_customers + 801))
        self.regular_ids = list(range(size.vip_customers + 801, first_new))
        self.new_ids = list(range(first_new, size.customers + 1))
        for customer in range(1, first_new):
            kind = (
                "vip"
                if customer <= size.vip_customers
                else "employee"
                if customer in range(self.employee_ids[0], self.employee_ids[-1] + 1)
                else "regular"
            )
            created = self.now - timedelta(days=HISTORY_DAYS + 1 + customer % 1000)
            self.sink.add("customers", customer, kind, created)
        # registrations: spread over 60 days, the last 30 every 4 minutes up to 2 minutes ago
        self.registered: dict[int, datetime] = {}
        spread = len(self.new_ids) - 30
        span = timedelta(days=HISTORY_DAYS) - timedelta(hours=2)
        for index, customer in enumerate(self.new_ids):
            if index < spread:
                at = self.now - timedelta(days=HISTORY_DAYS) + span * (index / spread)
            else:
                at = self.now - timedelta(minutes=2 + 4 * (len(self.new_ids) - 1 - index))
            self.registered[customer] = at.replace(microsecond=0)
            self.sink.add("customers", customer, "new", self.registered[customer])

    def _rotation(self, pool: list[int]) -> Iterator[int]:
        return itertools.cycle(pool)

    def birthday_bonus(self) -> None:
        rotation = self._rotation(self.regular_ids)
        for days_ago in range(HISTORY_DAYS, 0, -1):
            at = self._day_at(days_ago, 9)
            audience = [next(rotation) for _ in range(self.noisy(self.size.birthday))]
            launch = self.launch("birthday_bonus", "accrue_bonus", at, len(audience))
            for index, customer in enumerate(audience):
                moment = at + timedelta(seconds=index % 600)
                self.sink.add(
                    "bonus_accruals",
                    self.next_id("accrual"),
                    launch,
                    "birthday_bonus",
                    "accrue_bonus",
                    customer,
                    500,
                    moment,
                )
                push = index % 2 == 0
                self.message(
                    "birthday_bonus",
                    "birthday_push" if push else "birthday_sms",
                    "birthday_push" if push else "birthday_sms",
                    customer,
                    "push" if push else "sms",
                    moment,
                    launch=launch,
                )
        # today: the segment came out 5x its size (fault), built by a cancelled job (fault)
        today = [next(rotation) for _ in range(max(5 * self.size.birthday, 12_000))]
        for customer in today:
            self.sink.add("target_group_members", "birthday_bonus", "accrue_bonus", self.today, customer, "regular")
        # 200 SMS prepared for the launch, 12 of them promise 0 points (fault)
        for index, customer in enumerate(today[:200]):
            zero = {"bonus_amount": "0"} if index < 12 else None
            self.message(
                "birthday_bonus",
                "birthday_sms",
                "birthday_sms",
                customer,
                "sms",
                self.today_slot(0.2),
                launch=None,
                status="prepared",
                overrides=zero,
            )
        for index in range(12):
            self.sink.add(
                "error_log",
                self.now - timedelta(minutes=50 - index),
                "121",
                "2",
                "Empty attribute bonus_amount for message",
                "birthday_bonus",
                today[index],
            )

    def churn_reactivation(self) -> None:
        rotation = self._rotation(self.regular_ids[::-1])  # the other end of the base than birthdays
        tuesdays = [d for d in range(1, HISTORY_DAYS + 1) if (self.today - timedelta(days=d)).weekday() == 1]
        earlier: list[int] = []
        for days_ago in sorted(tuesdays, reverse=True):
            at = self._day_at(days_ago, 11)
            audience = [next(rotation) for _ in range(self.noisy(self.size.churn))]
            launch = self.launch("churn_reactivation", "comeback_email", at, len(audience))
            for index, customer in enumerate(audience):
                moment = at + timedelta(seconds=index % 900)
                self.message(
                    "churn_reactivation",
                    "comeback_email",
                    "churn_comeback_email",
                    customer,
                    "email",
                    moment,
                    launch=launch,
                )
                code_status = "issued" if index % 3 else "expired"
                self.sink.add(
                    "promo_codes",
                    "COMEBACK15",
                    f"CB{self.next_id('code'):08d}",
                    "comeback15",
                    code_status,
                    customer,
                    moment,
                )
                later = moment + timedelta(days=3)
                if index % 5 < 3 and later < self.now - timedelta(minutes=5):
                    self.message(
                        "churn_reactivation",
                        "last_chance_email",
                        "churn_last_chance_email",
                        customer,
                        "email",
                        later,
                        launch=launch,
                    )
            if days_ago >= 14:
                earlier = audience
        for _ in range(5_000):
            self.sink.add(
                "promo_codes", "COMEBACK15", f"CB{self.next_id('code'):08d}", "comeback15", "free", None, None
            )
        # today's target group: usual size, plus 40 VIPs (fault) and 30 customers of an earlier launch (fault)
        members = [(c, "regular") for c in (next(rotation) for _ in range(self.noisy(self.size.churn)))]
        members += [(c, "vip") for c in self.vip_ids[-40:]]
        members += [(c, "regular") for c in earlier[:30]]
        for customer, kind in members:
            self.sink.add("target_group_members", "churn_reactivation", "comeback_email", self.today, customer, kind)
        # the CRM refused the last-chance element: not released there (fault)
        self.launch("churn_reactivation", "last_chance_email", self.today_slot(0.6), 0, status="not_released")

    def vip_bonus_accrual(self) -> None:
        firsts = [d for d in range(1, HISTORY_DAYS + 1) if (self.today - timedelta(days=d)).day == 1]
        for days_ago in sorted(firsts, reverse=True):
            at = self._day_at(days_ago, 10)
            audience = self.vip_ids[: self.noisy(self.size.vip)]
            launch = self.launch("vip_bonus_accrual", "accrue_bonus", at, len(audience))
            self._vip_launch(launch, audience, at, {})
        # today: a launch that reached 12,500 VIPs (max 12,000), with a 15,000 and a 150 typo ...
        first = self.today_slot(0.35)
        audience = self.vip_ids[:12_500]
        launch = self.launch("vip_bonus_accrual", "accrue_bonus", first, len(audience))
        self._vip_launch(launch, audience, first, {audience[100]: 15_000, audience[101]: 150})
        # ... and a re-run 25 minutes ago that credited 25 of them again (faults)
        rerun_at = max(self.now - timedelta(minutes=25), self.today_slot(0.9))
        rerun = self.launch("vip_bonus_accrual", "accrue_bonus", rerun_at, 25)
        self._vip_launch(rerun, audience[:25], rerun_at, {})
        # the English letter's target group: 3,400 VIPs, max_clients 3,000 (fault)
        for customer in self.vip_ids[-3_400:]:
            self.sink.add("target_group_members", "vip_bonus_accrual", "vip_email_en", self.today, customer, "vip")

    def _vip_launch(self, launch: int, audience: list[int], at: datetime, amounts: Mapping[int, int]) -> None:
        for index, customer in enumerate(audience):
            amount = amounts.get(customer, 1_500)
            moment = at + timedelta(seconds=index % 300)
            self.sink.add(
                "bonus_accruals",
                self.next_id("accrual"),
                launch,
                "vip_bonus_accrual",
                "accrue_bonus",
                customer,
                amount,
                moment,
            )
            english = index % 20 == 0
            element = "vip_email_en" if english else "vip_email_ru"
            template = "vip_bonus_email_en" if english else "vip_bonus_email"
            self.message(
                "vip_bonus_accrual", element, template, customer, "email", moment, launch=launch, amount=amount
            )

    def welcome_chain(self) -> None:
        skipped = set(self._customers_registered_days_ago(2)[:3])  # never welcomed (fault)
        yesterday = self._customers_registered_days_ago(1)
        twice = set(yesterday[:15])  # welcomed twice yesterday (fault)
        codes = 0
        for customer, registered in self.registered.items():
            if customer in skipped:
                continue
            at = registered + timedelta(minutes=1)
            code = f"W10{self.next_id('code'):08d}"
            self.sink.add("promo_codes", "WELCOME10", code, "welcome10", "issued", customer, at)
            codes += 1
            self.message(
                "welcome_chain",
                "welcome_email",
                "welcome_email",
                customer,
                "email",
                at,
                launch=None,
                overrides={"promo_code": code},
            )
            if customer in twice:
                self.message(
                    "welcome_chain",
                    "welcome_email",
                    "welcome_email",
                    customer,
                    "email",
                    at + timedelta(minutes=30),
                    launch=None,
                    overrides={"promo_code": code},
                )
            reminder = registered + timedelta(days=2)
            if customer % 5 < 2 and reminder < self.now - timedelta(minutes=5):
                self.message(
                    "welcome_chain",
                    "reminder_sms",
                    "welcome_reminder_sms",
                    customer,
                    "sms",
                    reminder,
                    launch=None,
                    overrides={"promo_code": code},
                )
        # a customer with a second WELCOME10 code (fault), and 37 free codes left (fault)
        first_customer = next(iter(self.registered))
        self.sink.add(
            "promo_codes",
            "WELCOME10",
            f"W10{self.next_id('code'):08d}",
            "welcome10",
            "issued",
            first_customer,
            self.registered[first_customer] + timedelta(minutes=2),
        )
        for _ in range(37):
            self.sink.add("promo_codes", "WELCOME10", f"W10{self.next_id('code'):08d}", "welcome10", "free", None, None)

    def _customers_registered_days_ago(self, days: int) -> list[int]:
        day = (self.now - timedelta(days=days)).date()
        return [c for c, at in self.registered.items() if at.date() == day and at.hour < 20]

    def draft_reminders(self) -> None:
        rotation = self._rotation(self.regular_ids[len(self.regular_ids) // 3 :])
        for days_ago in range(HISTORY_DAYS, 0, -1):
            for index in range(self.size.drafts_per_day):
                at = self.now - timedelta(days=days_ago, seconds=index * 86_400 // self.size.drafts_per_day)
                self.message(
                    "application_draft_reminder",
                    "send_reminder",
                    "application_draft_email",
                    next(rotation),
                    "email",
                    at,
                    launch=None,
                )

    def service_notifications(self) -> None:
        """Order notifications outside the managed campaigns: the bulk that --scale adds."""
        customers = self.size.customers
        for index in range(4):  # a mail server's word the contract lacks: status 'DEFERRED'
            at = self.now - timedelta(minutes=5 + index)
            message = (self.next_id("message"), None, "order_notifications", "order_status", 1 + index, "email")
            self.sink.add("messages", *message, "DEFERRED", at)
            self.campaign_messages += 1
        bulk = self.size.messages - self.campaign_messages
        for index in range(max(0, bulk)):
            at = self.now - timedelta(seconds=60 + (index * HISTORY_DAYS * 86_400) // max(bulk, 1))
            self.sink.add(
                "messages",
                self.next_id("message"),
                None,
                "order_notifications",
                "order_status",
                1 + index % customers,
                "sms" if index % 3 else "email",
                "sent",
                at,
            )

    def jobs(self) -> None:
        jobs = (
            "SEG_BIRTHDAY_DAILY",
            "SEG_CHURN_90D_WEEKLY",
            "SEG_VIP_MONTHLY",
            "SEG_EMPLOYEES_ACTIVE",
            "LOYALTY_EXPORT",
        )
        for days_ago in range(HISTORY_DAYS, 0, -1):
            for offset, job in enumerate(jobs):
                started = self._day_at(days_ago, 2, offset * 7)
                status = (
                    "failed"
                    if (days_ago, job) in ((17, "LOYALTY_EXPORT"), (40, "SEG_CHURN_90D_WEEKLY"))
                    else ("succeeded")
                )
                self.sink.add("job_runs", job, started, started + timedelta(minutes=5), status)
        for job in jobs:  # today's runs: every one succeeded but the birthday segmentation (fault)
            started = self.today_slot(0.05)
            status = "cancelled" if job == "SEG_BIRTHDAY_DAILY" else "succeeded"
            self.sink.add("job_runs", job, started, started + timedelta(seconds=30), status)
        for day in range(0, HISTORY_DAYS, 5):
            self.sink.add("dumps", self.now - timedelta(days=day + 2), "ZCRM_BONUS_CALC", "MESSAGE_TYPE_X")
        self.sink.add("dumps", self.now - timedelta(minutes=20), "ZCRM_SMS_SENDER", "TIME_OUT")
        for day in range(2, HISTORY_DAYS):
            self.sink.add(
                "error_log",
                self.now - timedelta(days=day, hours=3),
                "130",
                "2",
                "Card blocked",
                "birthday_bonus",
                self.regular_ids[day],
            )
        for index in range(3):
            self.sink.add(
                "error_log",
                self.now - timedelta(minutes=30 + index),
                "999",
                "7",
                "Gateway returned an unexpected answer",
                None,
                None,
            )

    def operations(self) -> None:
        # queues sampled every 5 minutes for two days; the SMS queue overflowed 20 minutes ago (fault)
        queues = {
            "sms_outbound": 9_000,
            "email_outbound": 30_000,
            "push_outbound": 8_000,
            "bonus_accrual": 400,
            "webhook_delivery": 150,
        }
        for step in range(1, 2 * 288):
            at = self.now - timedelta(minutes=2 + 5 * step) + timedelta(minutes=5)
            for queue, usual in queues.items():
                size = 62_000 if queue == "sms_outbound" and step == 4 else self.noisy(usual)
                self.sink.add("queue_samples", queue, at, size)
        # transactions: the last hour 1.8 % critical (fault), before that 0.1 %
        per_hour = self.size.transactions_per_hour
        for hour in range(48):
            for index in range(per_hour):
                at = self.now - timedelta(seconds=10 + hour * 3_600 + index * 3_400 // per_hour)
                critical = index < per_hour * 18 // 1000 if hour == 0 else index % 1000 == 999
                code = "E_PROC_TIMEOUT" if critical else None
                self.sink.add("transactions", at, f"S{index % 120:03d}", "failed" if critical else "ok", code, critical)
        # webhooks: one call a minute each; the draft webhook failed 7 of the last 60 (fault)
        for minute in range(1, 2 * 24 * 60):
            at = self.now - timedelta(minutes=minute, seconds=-30)
            failing = minute <= 60 and (minute % 9 == 0 or minute == 1)
            self.sink.add(
                "webhook_calls", at, "application_draft_saved", "application_draft_reminder", 500 if failing else 200
            )
            self.sink.add("webhook_calls", at, "customer_registered", "welcome_chain", 200)

    def integration(self) -> None:
        # loyalty card replication: every 5 minutes, silent for the last 3 hours (fault)
        for step in range(36, 36 + 12 * 48):
            at = self.now - timedelta(minutes=5 * step + 5)
            self.sink.add("loyalty_cards", step, self.regular_ids[step], "active", at)
        for channel in ("email", "sms", "push"):
            self.sink.add("outbound_switch", channel, 1)


def template_attributes(templates: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {tid: tuple(data.get("attributes", {})) for tid, data in templates.items()}


def demo_facts(now: datetime, seed: int, scale: float) -> list[tuple[str, str]]:
    return [("built_at", now.isoformat()), ("seed", str(seed)), ("scale", f"{scale:g}")]


def local_date(moment: datetime) -> date:
    return moment.astimezone(CAMPAIGN_ZONE).date()
