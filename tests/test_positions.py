from __future__ import annotations

from runner.positions import Locator

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
