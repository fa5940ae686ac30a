from __future__ import annotations

import pytest

from runner.yaml_loader import MAX_FILE_BYTES, YamlError, decode, parse


def error_of(text: str) -> YamlError:
    with pytest.raises(YamlError) as caught:
        parse(text)
    return caught.value


def test_plain_document_parses():
    assert parse("id: a\nitems: [1, 2]\n") == {"id": "a", "items": [1, 2]}


def test_duplicate_key_is_an_error_at_the_second_key():
    error = error_of("id: a\nname: x\nid: b\n")
    assert (error.check_id, error.line, error.column) == ("yaml.duplicate_key", 3, 1)
    assert "'id'" in error.message


def test_duplicate_key_in_a_nested_mapping():
    error = error_of("elements:\n  a:\n    type: exit\n    type: wait\n")
    assert (error.check_id, error.line, error.column) == ("yaml.duplicate_key", 4, 5)


def test_merge_keys_may_be_overridden_without_a_duplicate_error():
    data = parse("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n")
    assert data["child"] == {"x": 1, "y": 3}


def test_dates_stay_text_and_only_true_false_are_booleans():
    data = parse("start_at: 2026-12-01T10:00:00\ncountry: NO\nflag: yes\nreleased: true\noff: off\n")
    assert data == {"start_at": "2026-12-01T10:00:00", "country": "NO", "flag": "yes", "released": True, "off": "off"}


def test_syntax_error_has_a_position():
    error = error_of("id: a\nname: [unclosed\n")
    assert error.check_id == "yaml.syntax"
    assert error.line == 3


def test_billion_laughs_is_refused_at_the_first_alias():
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join(["*" + previous] * 9) + "]\n"
        previous = name
    error = error_of(text)
    assert (error.check_id, error.line, error.column) == ("yaml.alias_bomb", 2, 8)


def test_a_few_aliases_are_fine():
    assert parse("a: &x [1, 2]\nb: *x\nc: *x\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_recursive_alias_is_refused():
    assert error_of("a: &x\n  b: *x\n").check_id == "yaml.alias_bomb"


def test_non_utf8_byte_position():
    with pytest.raises(YamlError) as caught:
        decode("id: a\nname: caf\xe9\n".encode("latin-1"))
    assert (caught.value.check_id, caught.value.line, caught.value.column) == ("yaml.encoding", 2, 10)


def test_too_large_file_is_refused_before_parsing():
    with pytest.raises(YamlError) as caught:
        decode(b"x" * (MAX_FILE_BYTES + 1))
    assert caught.value.check_id == "yaml.too_large"


def test_empty_document_is_none():
    assert parse("") is None
    assert parse("# only a comment\n") is None


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a:\n\tb: 1\n", 2, 1),  # a tab as the whole indentation
        ("a:\n  b: 1\n\tc: 2\n", 3, 1),  # a tab where the mapping's indentation continues
        ("items:\n  -\tx\n", 2, 4),  # a tab after a dash
        ("a:\n  b:\n  \tc: 1\n", 3, 3),  # a tab after spaces
    ],
)
def test_a_tab_is_named_with_its_position(text: str, line: int, column: int):
    error = error_of(text)
    assert (error.check_id, error.line, error.column, error.message) == (
        "yaml.syntax",
        line,
        column,
        f"tab character at line {line} column {column}: YAML indents with spaces only; replace it with spaces",
    )


def test_a_tab_between_key_and_value_is_fine():
    assert parse("a:\t1\n") == {"a": 1}
