"""Exit codes and the one user-facing error type."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented and stable; scripts and CI gate on them."""

    OK = 0
    PROBLEMS = 1
    WARNINGS = 2
    CONFIG_ERROR = 3
    SOURCE_ERROR = 4


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, never as a traceback."""

    exit_code = ExitCode.CONFIG_ERROR


class SourceUnreachable(UsageError):
    """A database could not be reached or refused the work."""

    exit_code = ExitCode.SOURCE_ERROR
