"""Progress on stderr, only when stderr is a terminal: logs, pipes and tests get nothing of it."""

from __future__ import annotations

import sys
from typing import TextIO

ERASE_LINE = "\r\x1b[K"


class Progress:
    """Finished steps as lines, a running count rewritten in place; all silent unless stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.shown = self.stream.isatty()
        except (OSError, ValueError):  # closed or detached
            self.shown = False
        self._counting = False

    def line(self, text: str) -> None:
        """A step that is done (or starting), on a line of its own."""
        if self.shown:
            self._write(("\n" if self._counting else "") + text + "\n")
            self._counting = False

    def count(self, done: int, total: int, what: str) -> None:
        """`[37/141] checks`, over the previous count."""
        if self.shown:
            self._write(f"\r[{done}/{total}] {what}")
            self._counting = True

    def end(self) -> None:
        """Erase the count, so that what the command prints next starts on a clean line."""
        if self.shown and self._counting:
            self._write(ERASE_LINE)
            self._counting = False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
