from __future__ import annotations

from runner.positions import Locator, path_text

TEXT = """\
id: welcome
schedule:
  type: event
  timezone: UTC
elements:
  start:
    type: send
    channel: email
  done: {type: exit}
tags: [a, b]
"""


def test_value_and_key_positions():
    locator = Locator(TEXT)
    assert locator.position(("schedule", "type")) == (3, 9)
    assert locator.position(("schedule", "type"), key=True) == (3, 3)
    assert locator.position(("elements", "start"), key=True) == (6, 3)
    assert locator.position(("elements", "done", "type")) == (9, 16)
    assert locator.position(("tags", 1)) == (10, 11)


def test_missing_path_points_at_the_deepest_existing_key():
    locator = Locator(TEXT)
    assert locator.position(("schedule", "start_at")) == (2, 1)
    assert locator.position(("elements", "start", "max_clients")) == (6, 3)


def test_root_and_unparsable_text():
    assert Locator(TEXT).position(()) == (1, 1)
    assert Locator("a: [\n").position(("a",)) == (1, 1)


BODIES = """\
literal: |
  one
  two {{ x }}

  four
folded: >
  one
  still one

  two {{ x }}
  still two
quoted: "one {{ x }}\\ntwo"
plain: one
  still one

  two {{ x }}
"""


def test_a_line_inside_a_text_is_found_in_the_file():
    locator = Locator(BODIES)
    assert [locator.position_in_text(("literal",), n) for n in (1, 2, 3, 4)] == [(2, 3), (3, 3), (4, 1), (5, 3)]
    assert locator.position_in_text(("folded",), 1) == (7, 3)
    assert locator.position_in_text(("plain",), 1) == (13, 8)  # a flow scalar starts on its key's line
    assert locator.position_in_text(("folded",), 2) == (10, 3)
    assert locator.position_in_text(("plain",), 2) == (16, 3)
    assert locator.position_in_text(("quoted",), 2) == (12, 9)  # written on one line
    assert locator.position_in_text(("missing",), 2) == (1, 1)


def test_written_is_the_source_text_of_a_scalar():
    locator = Locator("schedule:\n  at: 10:30\ncodes: [0110, '7']\n")
    assert locator.written(("schedule", "at")) == "10:30"  # YAML read 630
    assert locator.written(("codes", 0)) == "0110"  # YAML read 72
    assert locator.written(("codes", 1)) == "'7'"
    assert locator.written(("schedule",)) is None  # a mapping, not a scalar
    assert locator.written(("nothing",)) is None


def test_path_text_names_list_items_or_counts_them_from_one():
    data = {"subscriptions": [{"name": "ops_mail", "working_days": ["mon", "fry"]}, {"channel": "sms"}]}
    assert path_text(("subscriptions", 0, "working_days", 1), data) == "subscriptions[ops_mail].working_days[2]"
    assert path_text(("subscriptions", 1, "channel"), data) == "subscriptions[2].channel"
    assert path_text(("elements", "start", "type")) == "elements.start.type"
    assert path_text(("tests", 0)) == "tests[1]"
    assert path_text(()) == ""
