"""history_anomaly: 3 sigma on any metric the store keeps - a check's newest value per subject
against the values stored before it (the history of `campaign-guard run`)."""

from __future__ import annotations

from runner.checktypes.anomaly import Baseline, judge
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result


def history_anomaly(ev: Evaluation, about: About, *, metric: str, baseline: Baseline) -> list[Result]:
    """One result per subject the metric check reported; no history, nothing to judge."""
    found = ev.history.values(metric, ev.now, baseline.history + 1) if ev.history is not None else {}
    verdicts = []
    for subject, (current, *previous) in sorted(found.items()):
        status, expected, cause = judge(current, previous, baseline)
        verdicts.append(about.result(subject, status, observed=current, expected=expected, cause=cause))
    return verdicts
