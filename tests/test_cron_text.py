"""runner.cron_text and runner.zones: the reason a cron expression or a time zone cannot be used."""

from __future__ import annotations

import pytest

from runner.cron_text import cron_problem
from runner.zones import zone_problem


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 24 25 * *", "hour 24 is out of range 0-23"),
        ("0 9-21 * * mon-fry", "day of week 'fry' is not a day name (mon..sun) or 0-7"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 0 0 * *", "day of month 0 is out of range 1-31"),
        ("0 0 1 13 *", "month 13 is out of range 1-12"),
        ("0 9 * jan,fev *", "month 'fev' is not a month name (jan..dec) or 1-12"),
        ("0 9 * * 8", "day of week 8 is out of range 0-7"),
        ("0 0 1-40/2 * *", "day of month 40 is out of range 1-31"),
        ("*/0 * * * *", "minute step '0' must be a whole number from 1"),
        ("a * * * *", "minute 'a' is not a number 0-59"),
        ("1,,2 * * * *", "minute '1,,2' has an empty item between commas"),
        ("0 6 30 2 *", "it never fires: day of month '30' never occurs in month '2'"),
        (
            "0 0 1 1 * 5",
            "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has 6",
        ),
    ],
)
def test_a_bad_cron_is_explained_by_its_field(expression: str, reason: str) -> None:
    assert cron_problem(expression) == reason


@pytest.mark.parametrize("expression", ["*/5 * * * *", "0 9-21 * * mon-fri", "0 9 * * 7", "0 9 L * *", "0 9 * * mon#2"])
def test_what_croniter_reads_is_valid(expression: str) -> None:
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Europe/Moskva", "unknown time zone 'Europe/Moskva'; did you mean Europe/Moscow?"),
        ("europe/moscow", "unknown time zone 'europe/moscow'; did you mean Europe/Moscow?"),
        ("Asia/Ekaterinburg", "unknown time zone 'Asia/Ekaterinburg'; did you mean Asia/Yekaterinburg?"),
        ("Mars/Olympus", "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Moscow"),
    ],
)
def test_an_unknown_zone_names_the_close_match(name: str, reason: str) -> None:
    assert zone_problem(name) == reason


@pytest.mark.parametrize("name", ["UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires"])
def test_known_zones_are_valid(name: str) -> None:
    assert zone_problem(name) is None
