"""Plain text from HTML and message splitting: what channels need when they cannot show markup."""

from __future__ import annotations

import html
import re

_INVISIBLE = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PARAGRAPH = re.compile(r"</?(p|h[1-6]|table|ul|ol|blockquote|pre|hr)\b[^>]*>", re.IGNORECASE)
_LINE = re.compile(r"<br\b[^>]*>|</(div|tr)\s*>", re.IGNORECASE)
_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_CELL = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL)
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(body: str) -> str:
    """A crude but readable text rendering: block elements become line breaks, entities are decoded."""
    text = _COMMENT.sub("", _INVISIBLE.sub("", body))
    text = re.sub(r"\s+", " ", text)  # HTML whitespace is not significant; the markup says where lines end
    text = _LINK.sub(_link, text)
    text = _PARAGRAPH.sub("\n\n", text)
    text = _LINE.sub("\n", text)
    text = _ITEM.sub("\n- ", text)
    text = _CELL.sub(" ", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _link(match: re.Match[str]) -> str:
    """`label (address)`, so the address survives; just the address when it is its own label."""
    address, label = match.group(1), match.group(2)
    shown = html.unescape(_TAG.sub("", label)).strip()
    return label if shown == html.unescape(address) else f"{label} ({address})"


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP take two units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def split(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a line break (else a space) when one is near the end."""
    pieces: list[str] = []
    while utf16_length(text) > limit:
        cut = _longest_prefix(text, limit)
        for separator in ("\n", " "):
            at = text.rfind(separator, 0, cut + 1)  # a separator right after the prefix is as good
            if at > cut // 2:
                pieces.append(text[:at])
                text = text[at + 1 :]
                break
        else:
            pieces.append(text[:cut])
            text = text[cut:]
    pieces.append(text)
    return pieces


def _longest_prefix(text: str, limit: int) -> int:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)
