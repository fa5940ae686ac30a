"""Problems campaign-guard opens about itself: the big red button is pressed, a source failed.

They are not evaluated against data: `outbound stop|start` and every `run` report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runner.engine.check import About
from runner.engine.result import Result, Status
from runner.findings import Severity

OUTBOUND_STOP = About(
    "system.outbound_stopped",
    "All outbound is stopped",
    Severity.PROBLEM,
    "system",
    "Find out why (`campaign-guard outbound status`); start outbound with `campaign-guard outbound start` "
    "once it is safe.",
)
SOURCE_FAILED = About(
    "system.source_failed",
    "A data source could not answer",
    Severity.PROBLEM,
    "system",
    "Check the source's URL, credentials, network and the tables it maps (rules/sources.yaml); "
    "the run's error results name each check that could not be evaluated.",
)
SUMMARIES = {
    OUTBOUND_STOP.check: "Somebody pressed the big red button (`campaign-guard outbound stop`); it stands "
    "until `outbound start`.",
    SOURCE_FAILED.check: "A run could not evaluate some checks because their source did not answer; "
    "resolved by the next run the source answers.",
}
SYSTEM_CHECKS = (OUTBOUND_STOP, SOURCE_FAILED)


def source_health(evaluated: Sequence[Result], answered: Iterable[str]) -> list[Result]:
    """One result per source the run used: failed when any of its checks could not be evaluated."""
    failures: dict[str, list[Result]] = {}
    for result in evaluated:
        if result.status is Status.ERROR and result.source:
            failures.setdefault(result.source, []).append(result)
    verdicts = []
    for source in sorted(set(answered) | set(failures)):
        failed = failures.get(source, [])
        if not failed:
            verdicts.append(SOURCE_FAILED.result(source, Status.PASS, observed=0, expected="every check answered"))
            continue
        checks = sorted({result.check for result in failed})
        verdicts.append(
            SOURCE_FAILED.result(
                source,
                Status.FAIL,
                observed=len(checks),
                expected="every check answered",
                cause=f"{len(checks)} checks could not be evaluated ({', '.join(checks[:5])}"
                f"{', ...' if len(checks) > 5 else ''}): {failed[0].cause}",
                source=source,
            )
        )
    return verdicts
