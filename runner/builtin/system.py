"""Problems campaign-guard opens about itself: the big red button is pressed, a source or a subscription failed.

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
CHECK_FAILED = About(
    "system.check_failed",
    "A check could not be evaluated",
    Severity.PROBLEM,
    "system",
    "Read the error result of the check (`campaign-guard run --check ID`): it names the dataset, the source "
    "and the exception. Fix the data or the mapping it stumbled on, or report the bug.",
)
NOTIFY_FAILED = About(
    "system.notify_failed",
    "A subscription's messages could not be made or delivered",
    Severity.PROBLEM,
    "system",
    "Read the message's error (`campaign-guard notify --format json`): fix the subscription's template "
    "(`campaign-guard validate rules/subscriptions.yaml`), channel or recipients, then "
    "`campaign-guard notify --retry-failed`.",
)
SUMMARIES = {
    OUTBOUND_STOP.check: "Somebody pressed the big red button (`campaign-guard outbound stop`); it stands "
    "until `outbound start`.",
    SOURCE_FAILED.check: "A run could not evaluate some checks because their source did not answer; "
    "resolved by the next run the source answers.",
    CHECK_FAILED.check: "A check broke on something unexpected (an exception while it evaluated); the run "
    "went on with every other check. Resolved by the next run that evaluates the check.",
    NOTIFY_FAILED.check: "A subscription's template failed to render, or its channel or recipient refused a "
    "message for good; its messages are kept as failed, every other subscription's are sent. Resolved by the "
    "next notify that makes and delivers the subscription's messages.",
}
SYSTEM_CHECKS = (OUTBOUND_STOP, SOURCE_FAILED, CHECK_FAILED, NOTIFY_FAILED)


def check_health(evaluated: Sequence[Result]) -> list[Result]:
    """One result per check the run evaluated: failed when the check itself broke on some subject."""
    crashed: dict[str, list[Result]] = {}
    for result in evaluated:
        crashed.setdefault(result.check, [])
        if result.crashed:
            crashed[result.check].append(result)
    verdicts = []
    for check, failures in sorted(crashed.items()):
        if not failures:
            verdicts.append(CHECK_FAILED.result(check, Status.PASS, observed=0, expected="the check evaluates"))
            continue
        verdicts.append(
            CHECK_FAILED.result(
                check,
                Status.FAIL,
                observed=len(failures),
                expected="the check evaluates",
                cause=failures[0].cause,
                campaign=failures[0].campaign,
                location=failures[0].location,
            )
        )
    return verdicts


def source_health(evaluated: Sequence[Result], answered: Iterable[str]) -> list[Result]:
    """One result per source the run used: failed when any of its checks could not be evaluated."""
    failures: dict[str, list[Result]] = {}
    for result in evaluated:
        if result.status is Status.ERROR and result.source and not result.crashed:
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
