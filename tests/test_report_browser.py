"""The HTML report in a real browser (headless Chromium): markup held by the store stays text.

Skipped where Chromium is not installed, unless CAMPAIGN_GUARD_REQUIRE_BROWSER is set (CI sets it
and installs Chromium), so that the check cannot silently vanish from CI.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.store.connect import open_store
from runner.store.record import record
from runner.store.runs import start_run

from .conftest import ROOT, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
if CHROMIUM is None and not os.environ.get("CAMPAIGN_GUARD_REQUIRE_BROWSER"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TITLE = "<script>document.title='pwned'</script>Two promo codes"
SAMPLE = "<img src=x onerror=\"document.title='pwned'\">"


def dom_after_scripts(page: Path) -> str:
    """The document as Chromium has it after loading the file and running whatever it would run."""
    assert CHROMIUM is not None, "CAMPAIGN_GUARD_REQUIRE_BROWSER is set but Chromium is not installed"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_markup_in_a_problem_is_shown_as_text_and_never_runs(tmp_path: Path) -> None:
    store = open_store(ROOT)
    verdict = Result(
        "promo.two_codes_same_type",
        "promo.two_codes_same_type",
        Severity.PROBLEM,
        "promo_pool",
        Status.FAIL,
        TITLE,
        observed=1,
        expected="< 1",
        cause="the rule's query returned 1 rows",
        samples=({"code": SAMPLE},),
    )
    record(store, start_run(store, "run", "", NOW), [verdict], NOW)
    store.close()
    page = tmp_path / "report.html"
    done = run_cli("report", "--format", "html", "--now", NOW.isoformat(), "--output", str(page))
    assert done.returncode == 0, done.stderr

    dom = dom_after_scripts(page)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "pwned" not in title.group(1)
    assert "<script" not in dom.split("</head>", 1)[1] and "<img" not in dom
    assert html.escape(TITLE, quote=False) in dom  # the browser shows the markup as text
    assert html.escape(SAMPLE, quote=False) in dom
