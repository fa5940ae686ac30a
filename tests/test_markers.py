"""runner.static.markers: test markers are whole words in Latin and Cyrillic; allowed words are never markers."""

from __future__ import annotations

import pytest

from runner.static.markers import find_marker

MARKERS = ["test", "тест", "xxx", "lorem ipsum", "[draft]", "!!!"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("This is a test.", "test"),
        ("[TEST] Welcome", "TEST"),
        ("Это тест рассылки", "тест"),
        ("Тест, не отправлять", "Тест"),
        ("промокод test1", "test"),  # digits do not make a longer word
        ("Lorem ipsum dolor", "Lorem ipsum"),
        ("Size XXX", "XXX"),
        ("Скидка[draft]20%", "[draft]"),  # a marker that starts and ends with punctuation matches where written
        ("Wow!!!", "!!!"),
    ],
)
def test_a_marker_written_as_a_word_is_found(text: str, found: str) -> None:
    assert find_marker(text, MARKERS) == found


@pytest.mark.parametrize(
    "text",
    ["Read our testimonials", "Рецепт: тесто для пирогов", "Футболки XXXL", "протест", "contest", "attestation"],
)
def test_a_marker_inside_a_longer_word_is_not(text: str) -> None:
    assert find_marker(text, MARKERS) is None


def test_allowed_words_are_never_markers() -> None:
    assert find_marker("Запишитесь на Test-Drive", MARKERS, ["test-drive"]) is None
    assert find_marker("Запишитесь на Test-Drive, это тест", MARKERS, ["test-drive"]) == "тест"
    assert find_marker("test-driven", MARKERS, ["test-drive"]) == "test"  # the allowed word is a whole word too


def test_no_markers_find_nothing() -> None:
    assert find_marker("test", []) is None
