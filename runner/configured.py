"""The repository's own checks: rules/functional_checks.yaml and the generic checks of rules/checks/*.yaml."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runner.checktypes.anomaly import Baseline, anomaly
from runner.checktypes.failed_rows import failed_rows
from runner.checktypes.freshness import freshness
from runner.checktypes.history_anomaly import history_anomaly
from runner.checktypes.measure import measure
from runner.checktypes.ratio import ratio
from runner.checktypes.target import Target, sql_condition
from runner.document import Document
from runner.durations import parse_duration
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.levels import Levels
from runner.engine.result import Result
from runner.errors import UsageError
from runner.findings import Severity


@dataclass(frozen=True)
class ConfiguredCheck:
    id: str
    about: About
    spec: Mapping[str, Any]
    kind: str  # functional_checks or data_checks

    @property
    def subject(self) -> str:
        return str(self.spec.get("campaign") or self.spec.get("dataset") or self.id)

    def evaluate(self, ev: Evaluation) -> list[Result]:
        if self.kind == "functional_checks":
            return _functional(ev, self)
        return EVALUATORS[self.spec["type"]](ev, self)


def configured_checks(documents: Iterator[Document]) -> list[ConfiguredCheck]:
    found = []
    for document in documents:
        if not document.schema_valid:
            continue
        for index, spec in enumerate(document.data["checks"]):
            line, _column = document.position(("checks", index))
            about = About(
                spec["id"],
                spec["title"],
                Severity(spec["severity"]),
                spec["localization"],
                " ".join(spec["hint"].split()),
                owner=spec.get("owner"),
                campaign=spec.get("campaign"),
                location=f"{document.rel}:{line}",
                source=spec.get("source"),
            )
            found.append(ConfiguredCheck(spec["id"], about, spec, document.kind.name))
    return found


def _functional(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    spec = check.spec
    warn = spec.get("warn_rows")
    fail = spec.get("fail_rows", 1)
    levels = Levels.parse(fail=f">= {fail}", warn=f">= {warn}" if warn and warn < fail else None)
    source = spec.get("source")
    return failed_rows(ev, check.about, spec["sql"], subject=check.subject, levels=levels, source_name=source)


def _levels(spec: Mapping[str, Any], default_fail: str | None = None) -> Levels:
    return Levels.parse(fail=spec.get("fail", default_fail), warn=spec.get("warn"))


def _target(spec: Mapping[str, Any]) -> Target:

    return Target(
        dataset=spec["dataset"],
        where=sql_condition(spec["filter"]) if "filter" in spec else None,
        timestamp=spec.get("timestamp"),
        window=parse_duration(spec["window"]) if "window" in spec else None,
        group_by=tuple(spec.get("group_by", ())),
        source=spec.get("source"),
        subject=spec.get("campaign") or spec["dataset"],
    )


def _row_count(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    return measure(ev, check.about, _target(check.spec), _levels(check.spec, "> 0"))


def _metric(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    spec = check.spec
    return measure(
        ev, check.about, _target(spec), _levels(spec), aggregate=spec["aggregate"], column=spec.get("column")
    )


def _freshness(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    return freshness(ev, check.about, _target(check.spec), _levels(check.spec))


def _ratio(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    return ratio(ev, check.about, _target(check.spec), sql_condition(check.spec["matching"]), _levels(check.spec))


def _failed_rows(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    spec = check.spec
    levels = _levels(spec, "> 0")
    if levels.percent and "of" not in spec:
        raise UsageError(
            f"{check.about.location}: check {check.id!r} has levels in % but no 'of: DATASET' to count them of"
        )
    return failed_rows(
        ev,
        check.about,
        spec["sql"],
        subject=check.subject,
        levels=levels,
        samples=spec.get("samples", 5),
        source_name=spec.get("source"),
        of_dataset=spec.get("of"),
    )


def _anomaly(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:

    spec = check.spec
    return anomaly(
        ev,
        check.about,
        _target(spec),
        period=parse_duration(spec["period"]),
        baseline=Baseline(spec.get("history", 30), spec.get("min_volume", 0), spec.get("sigma", 3)),
        aggregate=spec.get("aggregate", "count"),
        column=spec.get("column"),
    )


def _history_anomaly(ev: Evaluation, check: ConfiguredCheck) -> list[Result]:
    spec = check.spec
    baseline = Baseline(spec.get("history", 30), spec.get("min_volume", 0), spec.get("sigma", 3))
    return history_anomaly(ev, check.about, metric=spec["metric"], baseline=baseline)


EVALUATORS: dict[str, Callable[[Evaluation, ConfiguredCheck], list[Result]]] = {
    "row_count": _row_count,
    "new_rows": _row_count,
    "metric": _metric,
    "freshness": _freshness,
    "ratio": _ratio,
    "failed_rows": _failed_rows,
    "anomaly": _anomaly,
    "history_anomaly": _history_anomaly,
}
