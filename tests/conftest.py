from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import masking

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-22T12:00:00+00:00"


def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, as a user or pre-commit runs it; env adds variables."""
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


LAUNCH_DAY = "2026-12-01T11:00:00+03:00"  # a Tuesday and the 1st: birthday, churn and VIP campaigns launch


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo CRM (scale 0.01, built as of LAUNCH_DAY) in a SQLite file of this test module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, "--url", url)
    assert built.returncode == 0, built.stderr
    return url


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A writable copy of this repository's configuration (campaigns, rules, schemas)."""
    import shutil

    for name in ("campaigns", "rules", "schemas"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture(autouse=True)
def state_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test gets its own empty state store (commands read CAMPAIGN_GUARD_STATE_URL)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"
    monkeypatch.setenv("CAMPAIGN_GUARD_STATE_URL", url)
    return url


@pytest.fixture(autouse=True)
def loopback_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook and Telegram stubs listen on loopback, which the egress policy refuses by default."""
    monkeypatch.setenv("CAMPAIGN_GUARD_ALLOW_PRIVATE_TARGETS", LOOPBACK_TARGETS)


@pytest.fixture(autouse=True)
def nothing_concealed() -> Iterator[None]:
    """The values one test concealed (runner.masking) are not masked in the next one's output."""
    yield
    masking.forget()


LOOPBACK_TARGETS = "127.0.0.1"
ALLOW_LOOPBACK = {"CAMPAIGN_GUARD_ALLOW_PRIVATE_TARGETS": LOOPBACK_TARGETS}  # for channels given their own environ

from .servers import drip, smtp_server  # noqa: E402, F401 - server fixtures, shared by the notification tests
