"""runner.schema_errors: a type error says what YAML made of the author's text and what to write instead."""

from __future__ import annotations

import jsonschema
import pytest

from runner.positions import Locator
from runner.schema_errors import explain
from runner.yaml_loader import parse

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "count": {"type": "integer"},
        "share": {"type": "number"},
        "flag": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "string"}},
    },
}


def messages(text: str) -> list[str]:
    data = parse(text)
    errors = jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)
    return [issue.message for error in errors for issue in explain(error, data, Locator(text).written)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("text: 10:30\n", "text: 10:30 was read as a number (630); quote it: '10:30'"),
        ("text: 0123\n", "text: 0123 was read as a number (83); quote it: '0123'"),
        ("text: 1.10\n", "text: 1.10 was read as a number (1.1); quote it: '1.10'"),
        ("text: 110\n", "text: 110 was read as a number; quote it: '110'"),
        ("text: true\n", "text: true was read as true or false; quote it: 'true'"),
        ("text: 12:00 o'clock\n", None),  # a string: nothing to say
        ("count: 1e3\n", "count: 1e3 was read as text, not a number; write it as 1000"),
        ("count: '500'\n", "count: '500' is quoted, so it is text; write the number without quotes: 500"),
        ("count: 1.5e3\n", "count: 1.5e3 was read as text, not a number; write it as 1500"),  # YAML 1.1 wants 1.5e+3
        ("count: 1.25e0\n", "count: expected an integer, got a string"),  # no integer to suggest
        ("share: 2.5e3\n", "share: 2.5e3 was read as text, not a number; write it as 2500"),
        ("flag: yes\n", "flag: yes is text here, not true or false; write true"),
        ("flag: Off\n", "flag: Off is text here, not true or false; write false"),
        ("items: [a, 0110]\n", "items[2]: 0110 was read as a number (72); quote it: '0110'"),
    ],
)
def test_a_misread_value_is_explained_in_the_authors_words(text: str, message: str | None) -> None:
    assert messages(text) == ([message] if message else [])
