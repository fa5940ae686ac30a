"""Test markers as whole words, in any script: "test" and "тест", never "testimonials" or "тесто".

A marker counts where no letter touches it: digits and punctuation next to it do not make a longer
word ("test1", "[тест]"), letters do ("XXXL"). Boundaries are checked only at a marker's ends that are
letters themselves, so markers that start or end with punctuation ("[draft]") match where written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_AFTER_LETTER = r"(?<![^\W\d_])"  # [^\W\d_] is a letter of any script
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"


def _word(word: str) -> str:
    head = _NOT_AFTER_LETTER if word[:1].isalpha() else ""
    tail = _NOT_BEFORE_LETTER if word[-1:].isalpha() else ""
    return head + re.escape(word) + tail


def whole_words(words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the words, longest first; None for no words."""
    ordered = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(_word(w) for w in ordered), re.IGNORECASE) if ordered else None


def find_marker(text: str, markers: Iterable[str], allowed: Iterable[str] = ()) -> str | None:
    """The first marker written in text as a whole word, outside every allowed word; None if there is none."""
    marker = whole_words(markers)
    if marker is None:
        return None
    allow = whole_words(allowed)
    spans = [found.span() for found in allow.finditer(text)] if allow else []
    for found in marker.finditer(text):
        if not any(start <= found.start() and found.end() <= end for start, end in spans):
            return found.group(0)
    return None
