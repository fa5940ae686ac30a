"""Files of the source repository that a pip user gets inside the wheel (pyproject.toml, force-include).

In the wheel they live under runner/ (runner/docs/checks.md); in a source checkout (an editable
install, the tests) they are read where they are kept (docs/checks.md).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(packaged: str, checkout: str) -> Path:
    """packaged: the path inside the runner package of the wheel; checkout: the same file in the source tree."""
    inside = Path(str(resources.files("runner"))) / packaged
    return inside if inside.exists() else CHECKOUT / checkout


def docs_dir() -> Path:
    """The documentation pages (checks.md, configuration.md, ci.md ...) of the installed version."""
    return shipped("docs", "docs")
