"""Build the foreign CRM: a small, deterministic data set, dirty the way real CRM data is, with the faults
and must-pass boundaries of faults.py.

Every time is written in the source's zone (Europe/Moscow, as sources.yaml declares) without a zone, as
DATETIME or as text in the table's own format (schema.TEXT_FORMATS). Vocabulary values are spelled the way
several generations of the CRM wrote them ('CANCELLED ', ' Live ', 'FAILED', 'Regular ').

Customers (ids BP00000001 ... BP00001000):
    1-40 VIP, 41-60 employees, 61-940 regular (61-63 of unknown type), 941-1000 new (1000 registered 10 min ago,
    one more every hour before). Campaign audiences are taken from fixed ranges, so each fault is findable by id.
Message attributes are kept for today's messages only (what the launch gate reads; the CRM purges sent ones).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.foreign_crm.schema import (
    CARD_TIME,
    ERROR_TIME,
    JOB_TIME,
    LAUNCH_TIME,
    MESSAGE_TIME,
    RUN_DATE,
    metadata,
)

ZONE = ZoneInfo("Europe/Moscow")

MODES = {  # zcrm_run_mode: the codes of two CRM generations, texts as each wrote them
    "L": "live",
    "LV": " Live ",
    "LX": "LIVE",
    "T": "TEST",
    "TS": " test",
}
LIVE = ("L", "LV", "LX")

ATTRIBUTE_CODES = {  # zcrm_attr_def: numeric codes, upper-case keys
    "first_name": 101,
    "bonus_amount": 102,
    "bonus_valid_until": 103,
    "days_since_purchase": 104,
    "discount_percent": 105,
    "promo_code": 106,
    "promo_valid_until": 107,
    "shop_url": 108,
    "month_name": 109,
    "balance": 110,
    "manager_name": 111,
    "manager_phone": 112,
    "account_url": 113,
}
TEMPLATE_ATTRIBUTES = {  # what each template of a campaign launching on the 1st declares (campaigns/templates)
    "birthday_push": ("first_name", "bonus_amount", "bonus_valid_until"),
    "birthday_sms": ("first_name", "bonus_amount", "bonus_valid_until"),
    "churn_comeback_email": (
        "first_name",
        "days_since_purchase",
        "discount_percent",
        "promo_code",
        "promo_valid_until",
        "shop_url",
    ),
    "churn_last_chance_email": ("first_name", "promo_code", "discount_percent", "promo_valid_until", "shop_url"),
    "vip_bonus_email": (
        "first_name",
        "month_name",
        "bonus_amount",
        "balance",
        "manager_name",
        "manager_phone",
        "account_url",
    ),
    "vip_bonus_email_en": (
        "first_name",
        "month_name",
        "bonus_amount",
        "balance",
        "manager_name",
        "manager_phone",
        "account_url",
    ),
}
FIRST_NAMES = ("Анна", "Сергей", "Мария", "Иван", "Ольга", "Дмитрий")

VIP = range(1, 41)
EMPLOYEES = range(41, 61)
UNTYPED = range(61, 64)  # regular customers the CRM lost the type of
NEW = range(941, 1001)
MISSING_WELCOME = (40, 41, 42)  # hours before the newest registration: never welcomed (welcome.missing_message)
WELCOMED_TWICE = (20, 21, 22)  # registered yesterday, welcomed twice (monitor.duplicate_participation)
REMINDED = range(48, 60)  # registered 48-59 hours before the newest: their reminder SMS went out in the last day


def partner(number: int) -> str:
    return f"BP{number:08d}"


def build(url: str, now: datetime) -> None:
    """Create the foreign CRM's tables in the (empty, or earlier foreign-CRM) database at url and fill them."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
            for name, rows in ForeignCrm(now).tables().items():
                if rows:
                    connection.execute(metadata.tables[name].insert(), rows)
    finally:
        engine.dispose()


class ForeignCrm:
    """The rows of every table, as of `now` (an aware moment; the CRM writes Moscow time without a zone)."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(ZONE).replace(tzinfo=None)
        self.today = self.now.date()
        self._rows: dict[str, list[dict[str, Any]]] = {name: [] for name in metadata.tables}
        self._ids: dict[str, Iterator[int]] = {}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        self.customers()
        self.birthday_bonus()
        self.churn_reactivation()
        self.vip_bonus_accrual()
        self.welcome_chain()
        self.draft_reminders()
        self.jobs()
        self.errors_and_dumps()
        self.operations()
        self.integration()
        return self._rows

    # -- helpers ---------------------------------------------------------------------------
    def add(self, table: str, **row: Any) -> None:
        self._rows[table].append(row)

    def next_id(self, prefix: str, width: int) -> str:
        return f"{prefix}-{next(self._ids.setdefault(prefix, itertools.count(1))):0{width}d}"

    def day(self, days_ago: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
        return datetime.combine(self.today - timedelta(days=days_ago), time(hour, minute, second))

    def ago(self, **delta: float) -> datetime:
        return self.now - timedelta(**delta)

    def launch(
        self,
        campaign: str,
        element: str,
        at: datetime,
        *,
        mode: str,
        clients: int | None,
        status: str = "completed",
        copies: int = 1,
    ) -> str:
        """A launch row; copies > 1 is a row the replication wrote more than once (one launch all the same)."""
        run = self.next_id("RUN", 4)
        for _ in range(copies):
            self.add(
                "zcrm_run",
                run_guid=run,
                camp=campaign,
                elem=element,
                start_ts=at.strftime(LAUNCH_TIME),
                mode_cd=mode,
                clients_cnt=clients,
                run_stat=status,
            )
        return run

    def message(
        self,
        campaign: str,
        element: str,
        customer: int,
        channel: str,
        status: str,
        at: datetime,
        *,
        run: str | None = None,
        attributes: Mapping[str, str | None] | None = None,
        copies: int = 1,
    ) -> str:
        """A message row (copies > 1: duplicated by the replication) and its attributes (None: a NULL value)."""
        message_id = self.next_id("MSG", 6)
        for _ in range(copies):
            self.add(
                "zcrm_msg",
                msg_guid=message_id,
                run_guid=run,
                camp=campaign,
                elem=element,
                partner=partner(customer),
                chnl=channel,
                msg_status=status,
                crt_ts=at.strftime(MESSAGE_TIME),
            )
        for name, value in (attributes or {}).items():
            self.add("zcrm_msg_attr", msg_guid=message_id, attr_code=ATTRIBUTE_CODES[name], attr_val=value)
        return message_id

    def accrual(
        self, run: str | None, campaign: str, element: str, customer: int, amount: int, at: datetime, *, copies: int = 1
    ) -> None:
        accrual_id = self.next_id("ACC", 5)
        for _ in range(copies):
            self.add(
                "zcrm_bonus",
                acc_guid=accrual_id,
                run_guid=run,
                camp=campaign,
                elem=element,
                partner=partner(customer),
                pts=amount,
                crt_dt=at,
            )

    def member(self, segment: str, customer: int, kind: str | None, run_date: date) -> None:
        self.add(
            "zcrm_seg_member",
            seg_id=segment,
            partner=partner(customer),
            bp_type=kind,
            run_dt=run_date.strftime(RUN_DATE),
        )

    def attributes(
        self, template: str, customer: int, amount: int = 500, **overrides: str | None
    ) -> dict[str, str | None]:
        """Every attribute the template declares, filled; overrides replace (None: NULL) or drop ("-") values."""
        usual = {
            "first_name": FIRST_NAMES[customer % len(FIRST_NAMES)],
            "bonus_amount": str(amount),
            "bonus_valid_until": (self.today + timedelta(days=19)).isoformat(),
            "days_since_purchase": "97",
            "discount_percent": "15",
            "promo_code": f"CMB-15-{customer:06d}",
            "promo_valid_until": (self.today + timedelta(days=13)).isoformat(),
            "shop_url": "https://romashka-market.ru/new?utm_source=email",
            "month_name": "декабрь",
            "balance": "12735",
            "manager_name": "Екатерина Смирнова",
            "manager_phone": "+7 495 120-45-67",
            "account_url": "https://romashka-market.ru/account?utm_source=email",
        }
        values = {name: usual[name] for name in TEMPLATE_ATTRIBUTES[template]}
        for name, value in overrides.items():
            if value == "-":
                del values[name]
            else:
                values[name] = value
        return values

    # -- reference data and customers --------------------------------------------------------
    def customers(self) -> None:
        for code, text in MODES.items():
            self.add("zcrm_run_mode", mode_cd=code, mode_txt=text)
        for name, code in ATTRIBUTE_CODES.items():
            self.add("zcrm_attr_def", attr_code=code, attr_key=name.upper())
        segments = (
            ("SEG-BD-BONUS", "birthday_bonus", "accrue_bonus"),
            ("SEG-CH-EMAIL", "churn_reactivation", "comeback_email"),
            ("SEG-VIP-BONUS", "vip_bonus_accrual", "accrue_bonus"),
            ("SEG-VIP-RU", "vip_bonus_accrual", "vip_email_ru"),
            ("SEG-VIP-EN", "vip_bonus_accrual", "vip_email_en"),
        )
        for segment, campaign, element in segments:
            self.add("zcrm_segment", seg_id=segment, camp=campaign, elem=element)
        for number in range(1, 1001):
            kind: str | None
            if number in VIP:
                kind = ("vip", "VIP", " Vip ")[number % 3]
            elif number in EMPLOYEES:
                kind = ("employee", "Employee")[number % 2]
            elif number in UNTYPED:
                kind = None
            elif number in NEW:
                kind = ("new", "New", "NEW ")[number % 3]
            else:
                kind = ("regular", "REGULAR", " Regular ")[number % 3]
            created = (
                self.registered(1000 - number)
                if number in NEW
                else datetime(2024, 1, 1, 8) + timedelta(days=number % 600, minutes=number)
            )
            self.add("zcrm_partner", partner=partner(number), bp_type=kind, crt_dt=created)

    def registered(self, hours_before_newest: int) -> datetime:
        """New customer 1000 - k registered k hours before the newest one, who registered 10 minutes ago."""
        return self.ago(minutes=10, hours=hours_before_newest)

    # -- birthday_bonus: daily at 09:00; today's segmentation was cancelled -------------------
    def birthday_bonus(self) -> None:
        runs = {}
        for days_ago in range(14, 0, -1):  # live history; one launch of the old CRM did not record its audience
            clients = None if days_ago == 9 else 28 + days_ago % 5
            status = ("completed", "COMPLETED")[days_ago % 2]
            runs[days_ago] = self.launch(
                "birthday_bonus",
                "accrue_bonus",
                self.day(days_ago, 9),
                mode=LIVE[days_ago % 3],
                clients=clients,
                status=status,
            )
        # yesterday's launch: 30 customers credited and greeted; three message rows replicated twice over
        for index, customer in enumerate(range(200, 230)):
            at = self.day(1, 9) + timedelta(seconds=10 * index)
            self.accrual(runs[1], "birthday_bonus", "accrue_bonus", customer, 500, at)
            push = index % 2 == 0
            status = "FAILED" if index in (1, 3, 5) else ("sent", "SENT")[index % 2]
            self.message(
                "birthday_bonus",
                "birthday_push" if push else "birthday_sms",
                customer,
                "push" if push else "SMS",
                status,
                at,
                run=runs[1],
                copies=3 if index in (10, 11, 12) else 1,
            )
            self.member("SEG-BD-BONUS", customer, None if index < 3 else "regular", self.today - timedelta(days=1))
        # a greeting re-sent at 23:59:59 two days ago, one second before the 1-day dedup window (not a repeat)
        self.accrual(runs[2], "birthday_bonus", "accrue_bonus", 100, 500, self.day(2, 9))
        self.message("birthday_bonus", "birthday_push", 100, "push", "sent", self.day(2, 23, 59, 59), run=runs[2])
        # a greeting without points (card blocked), and an accrual of 0 points
        self.message("birthday_bonus", "birthday_sms", 300, "sms", "SENT", self.day(6, 9, 0, 30), run=runs[6])
        self.accrual(runs[7], "birthday_bonus", "accrue_bonus", 301, 0, self.day(7, 9, 0, 40))
        # today: the target group (types spelled three ways), a dry run, and what was prepared for the launch
        for index, customer in enumerate(range(100, 130)):
            self.member("SEG-BD-BONUS", customer, ("regular", " REGULAR", "Regular ")[index % 3], self.today)
        self.launch("birthday_bonus", "accrue_bonus", self.day(0, 8, 30), mode="T", clients=None)
        zeros = ("0.00", "0,00", " 0.00", "0,00 ")  # the "0 points" SMS, written as decimals
        for index, customer in enumerate(range(100, 108)):
            amount = zeros[index] if index < len(zeros) else "500"
            self.message(
                "birthday_bonus",
                "birthday_sms",
                customer,
                ("sms", "SMS")[index % 2],
                "prepared",
                self.day(0, 8, 0, index),
                attributes=self.attributes("birthday_sms", customer, bonus_amount=amount),
            )
        pushes = (  # not zero, not empty: half a point, ten points, decimals, padding, a one-letter name
            {"bonus_amount": "0.5"},
            {"bonus_amount": "10"},
            {"bonus_amount": "500.00"},
            {"bonus_amount": " 500 "},
            {"first_name": " x "},
            {},
        )
        for index, (customer, overrides) in enumerate(zip(range(108, 114), pushes, strict=True)):
            self.message(
                "birthday_bonus",
                "birthday_push",
                customer,
                ("push", "PUSH")[index % 2],
                "prepared",
                self.day(0, 8, 1, index),
                attributes=self.attributes("birthday_push", customer, **overrides),
            )

    # -- churn_reactivation: Tuesdays at 11:00 -----------------------------------------------
    def churn_reactivation(self) -> None:
        audiences = {7: 15000, 14: 14800, 21: 15200, 28: None, 35: 15100, 42: 14900, 49: 15050, 56: 14950, 63: 15000}
        runs = {}
        for days_ago, clients in audiences.items():
            runs[days_ago] = self.launch(
                "churn_reactivation",
                "comeback_email",
                self.day(days_ago, 11),
                mode=LIVE[days_ago % 3],
                clients=clients,
                status=(" Completed", "completed", "COMPLETED")[days_ago % 3],
            )
        # marketers' test launches with tiny audiences: never part of the 3-sigma history
        self.launch("churn_reactivation", "comeback_email", self.day(8, 15), mode="T", clients=50)
        self.launch("churn_reactivation", "comeback_email", self.day(15, 15), mode="TS", clients=70)
        # a launch cancelled yesterday (Monday) and the last-chance letter the CRM refused today
        self.launch(
            "churn_reactivation", "comeback_email", self.day(1, 10), mode="L", clients=15000, status="Cancelled"
        )
        self.launch(
            "churn_reactivation", "last_chance_email", self.day(0, 9, 15), mode="L", clients=0, status="NOT_RELEASED"
        )
        # two weeks ago three customers of today's target group got the win-back email (dedup window 30d)
        for index, customer in enumerate(range(403, 406)):
            at = self.day(14, 11, 0, index)
            self.message("churn_reactivation", "comeback_email", customer, "email", "sent", at, run=runs[14])
            self.add(
                "zcrm_promo",
                pool="COMEBACK15",
                code_val=f"CB-{customer:08d}",
                code_kind="COMEBACK15",
                code_stat="ISSUED",
                partner=partner(customer),
                issue_dt=at,
            )
        # today's target group came out with 60 customers instead of ~15,000; three have no type at all
        for index, customer in enumerate(range(400, 460)):
            self.member("SEG-CH-EMAIL", customer, None if index < 3 else ("regular", "Regular")[index % 2], self.today)
        broken = ({"promo_code": None}, {"promo_valid_until": "   "}, {}, {})
        for index, (customer, overrides) in enumerate(zip(range(406, 410), broken, strict=True)):
            self.message(
                "churn_reactivation",
                "comeback_email",
                customer,
                "email",
                "prepared",
                self.day(0, 10, 30, index),
                attributes=self.attributes("churn_comeback_email", customer, **overrides),
            )
        # the pool: exactly 100 free codes, spelled three ways, and expired ones
        for index in range(100):
            status = "free" if index < 60 else "FREE" if index < 85 else " Free "
            self.add(
                "zcrm_promo",
                pool="COMEBACK15",
                code_val=f"CB-F{index:05d}",
                code_kind="comeback15",
                code_stat=status,
                partner=None,
                issue_dt=None,
            )
        for index in range(10):
            self.add(
                "zcrm_promo",
                pool="COMEBACK15",
                code_val=f"CB-E{index:05d}",
                code_kind="comeback15",
                code_stat="expired",
                partner=partner(410 + index),
                issue_dt=self.day(70, 11, 0, index),
            )

    # -- vip_bonus_accrual: the 1st at 10:00; re-run 25 minutes ago ------------------------------
    def vip_bonus_accrual(self) -> None:
        history = {  # first of the month -> audience of accrue_bonus, vip_email_ru; the EN letter never recorded one
            date(2026, 11, 1): (41, 37),
            date(2026, 10, 1): (40, 36),
            date(2026, 9, 1): (42, 38),
            date(2026, 8, 1): (39, 36),
        }
        for first, (bonus, russian) in history.items():
            at = datetime.combine(first, time(10))
            self.launch("vip_bonus_accrual", "accrue_bonus", at, mode="L", clients=bonus)
            self.launch("vip_bonus_accrual", "vip_email_ru", at, mode="LV", clients=russian)
            self.launch("vip_bonus_accrual", "vip_email_en", at, mode="LX", clients=None)
        start = self.day(0, 10)
        bonus_run = self.launch("vip_bonus_accrual", "accrue_bonus", start, mode="L", clients=42)
        russian_run = self.launch("vip_bonus_accrual", "vip_email_ru", start, mode="LV", clients=37, copies=3)
        english_run = self.launch("vip_bonus_accrual", "vip_email_en", start, mode="LX", clients=3)
        self.launch("vip_bonus_accrual", "vip_email_en", self.day(0, 9, 30), mode="T", clients=None)
        rerun = self.launch("vip_bonus_accrual", "accrue_bonus", self.ago(minutes=25), mode="LX", clients=5)
        for customer in VIP:
            self.member("SEG-VIP-BONUS", customer, ("vip", "VIP", " Vip ")[customer % 3], self.today)
            self.member("SEG-VIP-RU" if customer <= 37 else "SEG-VIP-EN", customer, "vip", self.today)
        for customer in (130, 131):  # regular customers in the VIP club's segment
            self.member("SEG-VIP-BONUS", customer, "regular", self.today)
        amounts = {1: 15_000, 2: 150}  # two typos
        for customer in VIP:
            at = start + timedelta(seconds=customer)
            amount = amounts.get(customer, 1_500)
            self.accrual(
                bonus_run, "vip_bonus_accrual", "accrue_bonus", customer, amount, at, copies=2 if customer == 3 else 1
            )
            russian = customer <= 37
            template = "vip_bonus_email" if russian else "vip_bonus_email_en"
            values = self.attributes(template, customer, amount, **({"bonus_amount": "-"} if customer == 40 else {}))
            self.message(
                "vip_bonus_accrual",
                "vip_email_ru" if russian else "vip_email_en",
                customer,
                ("email", "EMAIL")[customer % 2],
                "sent",
                at,
                run=russian_run if russian else english_run,
                attributes=values,
            )
        # a goodwill accrual booked by hand in October: it belongs to no launch
        self.accrual(None, "vip_bonus_accrual", "accrue_bonus", 20, 1_500, datetime(2026, 10, 15, 16, 20))
        for customer in range(4, 9):  # the re-run credited five members again and sent nothing
            at = self.ago(minutes=25) + timedelta(seconds=customer)
            self.accrual(rerun, "vip_bonus_accrual", "accrue_bonus", customer, 1_500, at)

    # -- welcome_chain: event campaign, a promo code per new customer -----------------------------
    def welcome_chain(self) -> None:
        for hours in range(60):
            customer = 1000 - hours
            if hours in MISSING_WELCOME:
                continue
            registered = self.registered(hours)
            welcomed = registered + timedelta(minutes=1)
            self.message("welcome_chain", "welcome_email", customer, ("email", "EMAIL")[hours % 2], "sent", welcomed)
            if hours in WELCOMED_TWICE:
                self.message(
                    "welcome_chain", "welcome_email", customer, "email", "sent", welcomed + timedelta(minutes=30)
                )
            self.add(
                "zcrm_promo",
                pool="WELCOME10",
                code_val=f"W10-{customer:08d}",
                code_kind="welcome10",
                code_stat="issued",
                partner=partner(customer),
                issue_dt=welcomed,
            )
            if hours in REMINDED:
                status = {48: "ESME_RTHROTTLED", 50: "FAILED", 55: "Failed "}.get(hours, ("sent", "SENT")[hours % 2])
                reminded = registered + timedelta(hours=48)
                self.message("welcome_chain", "reminder_sms", customer, ("sms", "SMS")[hours % 2], status, reminded)
            if hours == 59:  # the oldest new customer holds a second code, spelled differently
                self.add(
                    "zcrm_promo",
                    pool="WELCOME10",
                    code_val=f"W10-{customer:08d}-2",
                    code_kind=" WELCOME10",
                    code_stat="Issued",
                    partner=partner(customer),
                    issue_dt=welcomed + timedelta(minutes=1),
                )
        for index in range(37):
            status = "free" if index < 20 else "Free" if index < 30 else "FREE "
            self.add(
                "zcrm_promo",
                pool="WELCOME10",
                code_val=f"W10-F{index:05d}",
                code_kind="welcome10",
                code_stat=status,
                partner=None,
                issue_dt=None,
            )
        self.add(
            "zcrm_promo",
            pool="WELCOME10",
            code_val="W10-LOST00001",
            code_kind="welcome10",
            code_stat=" Issued",
            partner=None,
            issue_dt=self.ago(hours=3),
        )
        for index in range(5):
            self.add(
                "zcrm_promo",
                pool="WELCOME10",
                code_val=f"W10-E{index:05d}",
                code_kind="welcome10",
                code_stat="expired",
                partner=partner(700 + index),
                issue_dt=self.day(60, 12, index),
            )

    def draft_reminders(self) -> None:
        for customer, at in (
            (500, self.day(2, 12)),
            (501, self.day(1, 12)),
            (502, self.day(1, 18)),
            (503, self.day(0, 9)),
        ):
            self.message("application_draft_reminder", "send_reminder", customer, "email", "sent", at)

    # -- jobs, errors, dumps -----------------------------------------------------------------------
    def job(self, name: str, started: datetime, finished: datetime | None, status: str) -> None:
        self.add(
            "zcrm_job_log",
            job=name,
            beg_ts=started.strftime(JOB_TIME),
            end_ts=finished.strftime(JOB_TIME) if finished else None,
            job_stat=status,
        )

    def jobs(self) -> None:
        fine = ("succeeded", "SUCCEEDED", " Succeeded")
        for days_ago in range(7, 0, -1):
            status = fine[days_ago % 3]
            self.job("SEG_BIRTHDAY_DAILY", self.day(days_ago, 2), self.day(days_ago, 2, 20), status)
            self.job("SEG_EMPLOYEES_ACTIVE", self.day(days_ago, 2, 30), self.day(days_ago, 2, 35), status)
            self.job("LOYALTY_EXPORT", self.day(days_ago, 4), self.day(days_ago, 4, 10), status)
        for days_ago in (7, 14):
            self.job("SEG_CHURN_90D_WEEKLY", self.day(days_ago, 2), self.day(days_ago, 2, 40), "succeeded")
        for first in (date(2026, 10, 1), date(2026, 11, 1)):
            started = datetime.combine(first, time())
            self.job("SEG_VIP_MONTHLY", started, started + timedelta(minutes=10), "succeeded")
        self.job("SEG_EMPLOYEES_ACTIVE", datetime(2026, 10, 31, 2, 30), datetime(2026, 10, 31, 2, 31), "failed")
        # today
        self.job("SEG_BIRTHDAY_DAILY", self.day(0, 2), None, "CANCELLED ")  # killed: it never finished
        self.job("SEG_CHURN_90D_WEEKLY", self.day(0, 2), self.day(0, 2, 40), "FAILED")
        self.job("SEG_CHURN_90D_WEEKLY", self.day(0, 3), self.day(0, 3, 20), "SUCCEEDED")
        self.job("SEG_VIP_MONTHLY", self.day(1, 23, 59, 59), self.day(1, 23, 59, 59), "FAILED")
        self.job("SEG_VIP_MONTHLY", self.day(0), self.day(0, 0, 10), "succeeded")
        self.job("SEG_EMPLOYEES_ACTIVE", self.day(0, 2, 30), self.day(0, 2, 35), "succeeded")
        self.job("LOYALTY_EXPORT", self.day(0, 4), self.day(0, 4, 10), "succeeded")
        self.job("LOYALTY_EXPORT", self.day(0, 10), self.day(0, 10, 5), "ABORTED_BY_OPERATOR")

    def error(
        self,
        at: datetime,
        code: str,
        subcode: str | None,
        text: str | None,
        campaign: str | None,
        customer: int | None,
    ) -> None:
        self.add(
            "zcrm_err_log",
            err_ts=at.strftime(ERROR_TIME),
            err_code=code,
            err_sub=subcode,
            err_text=text,
            camp=campaign,
            partner=partner(customer) if customer is not None else None,
        )

    def errors_and_dumps(self) -> None:
        for index, customer in enumerate(range(100, 104)):
            at = self.day(0, 10, 10 + index)
            self.error(at, "121", "2", "Empty attribute BONUS_AMOUNT for message", "birthday_bonus", customer)
        for at in (self.ago(hours=1), self.ago(minutes=40), self.ago(minutes=30)):
            self.error(at, "999", "7", "Gateway returned an unexpected answer", None, None)
        self.error(self.day(0, 10, 5), "JOB_CANCELLED", None, "LOYALTY_EXPORT aborted by operator", None, None)
        self.error(self.day(0, 10, 50), "SMS_GW", "429", "ESME_RTHROTTLED", "welcome_chain", 952)
        self.error(self.ago(hours=1, seconds=1), "888", "1", "Unknown answer of the old gateway", None, None)
        for days_ago in range(14, 0, -1):
            customer = None if days_ago % 4 == 0 else 600 + days_ago
            self.error(self.day(days_ago, 9, 5), "130", "2", "Card blocked", "birthday_bonus", customer)
        self.error(self.day(11, 14), "LOY_UNAVAILABLE", None, None, None, None)
        self.error(self.day(7, 11, 5), "EMAIL_BOUNCE", "hard", "550 no such mailbox", "churn_reactivation", None)

        self.add("zcrm_dump", dump_dt=self.ago(minutes=20), prog="ZCRM_SMS_SENDER", dump_text="TIME_OUT")
        self.add("zcrm_dump", dump_dt=self.ago(hours=1, seconds=1), prog="ZCRM_BONUS_CALC", dump_text="MESSAGE_TYPE_X")
        self.add("zcrm_dump", dump_dt=self.ago(days=2), prog="ZCRM_BONUS_CALC", dump_text=None)
        self.add("zcrm_dump", dump_dt=self.ago(days=7), prog="ZCRM_SMS_SENDER", dump_text="TIME_OUT")

    # -- queues, tills, webhooks ---------------------------------------------------------------------
    def operations(self) -> None:
        for step in range(14):  # every 5 minutes, the newest 2 minutes ago
            at = self.ago(minutes=2 + 5 * step)
            sizes = {
                "sms_outbound": 62_000 if step == 4 else 9_000 + 100 * (step % 3),
                "email_outbound": 30_000 + 500 * (step % 4),
                "push_outbound": 8_000 + 50 * (step % 5),
                "bonus_accrual": 5_000 if step == 2 else 400 + 10 * step,
                "webhook_delivery": 150 + step,
                "crm_export": 10_000 if step == 5 else 7_000 + 100 * step,
            }
            for queue, size in sizes.items():
                self.add("zcrm_queue_stat", qname=queue, smp_dt=at, qsize=size)
        self.add("zcrm_queue_stat", qname="webhook_delivery", smp_dt=self.ago(hours=1, seconds=1), qsize=2_500)

        for step in range(390):  # a till receipt every 4 minutes for 26 hours, the newest 2 minutes ago
            critical = step == 3 or (step > 15 and step % 60 == 59)
            self.add(
                "zpos_trx",
                trx_dt=self.ago(minutes=2 + 4 * step),
                store=f"S{step % 12:03d}",
                trx_stat=("FAILED" if step % 2 else "failed") if critical else ("ok", "OK")[step % 2],
                err_cd="E_PROC_TIMEOUT" if critical else None,
                crit=critical,
            )
        for step in range(10):  # old tills that report neither their store nor criticality
            self.add(
                "zpos_trx",
                trx_dt=self.ago(days=3, minutes=step),
                store=None,
                trx_stat="OK",
                err_cd=None,
                crit=None,
            )

        for minute in range(1, 121):  # both webhooks once a minute; in the last hour 7 and 3 calls of 60 failed
            at = self.ago(minutes=minute, seconds=-30)
            old = minute > 60
            draft = 500 if not old and (minute % 9 == 0 or minute == 1) else None if old and minute % 20 == 0 else 200
            self.add(
                "zweb_hook_log",
                call_dt=at,
                hook="application_draft_saved",
                camp=None if old and minute % 30 == 0 else "application_draft_reminder",
                http_code=draft,
            )
            registered = 500 if minute in (10, 30, 50) else None if old and minute % 25 == 0 else 200
            self.add(
                "zweb_hook_log", call_dt=at, hook="customer_registered", camp="welcome_chain", http_code=registered
            )

    def integration(self) -> None:
        for step in range(84):  # card replication every 10 minutes, silent for the last 3 hours
            self.add(
                "zlc_cards",
                card_no=f"LC{step:06d}",
                partner=partner(61 + step),
                card_stat=("active", "ACTIVE", "blocked")[step % 3],
                upd_ts=self.ago(hours=3, minutes=10 * step).strftime(CARD_TIME),
            )
        for channel in ("email", "sms", "push"):
            self.add("zcrm_outbound", chnl=channel, active=1)
