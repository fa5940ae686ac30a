"""${NAME} and ${NAME:-default}: how configuration names a secret without holding it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from runner.errors import UsageError
from runner.masking import conceal

_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::-(?P<default>[^}]*))?\}$")


def is_reference(value: str) -> bool:
    return _REFERENCE.match(value) is not None


def default_of(value: str) -> str | None:
    """What ${NAME:-default} falls back to; None when value is no reference or has no default."""
    match = _REFERENCE.match(value)
    return match.group("default") if match is not None else None


def expand(value: str, environ: Mapping[str, str], *, where: str) -> str:
    """The value a reference stands for; like compose files, ':-' also covers an empty variable.

    A value from the environment is a secret from then on (runner.masking); a default is in the repository.
    """
    match = _REFERENCE.match(value)
    if match is None:
        return value
    name, default = match.group("name"), match.group("default")
    if environ.get(name):
        conceal(environ[name])
        return environ[name]
    if default is not None:
        return default
    raise UsageError(f"{where}: environment variable {name} is not set; export it before running campaign-guard")
