"""Checks of the mapping in rules/sources.yaml that need no data: names of the contract, text formats.

What `run` would otherwise find only against the live source - or never, like a mask that names no
column and so masks nothing - is reported by validate, at its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runner.contract import DATASETS, time_columns, time_kind
from runner.document import Document
from runner.findings import Severity
from runner.static.check import Check, Context, Hit


def invalid_mapping(document: Document, ctx: Context) -> Iterator[Hit]:
    """A dataset mapping names a column the contract does not have (in `columns` or `samples`), a text
    time's format cannot be converted, or a monitored dataset's timestamp is none of its columns.

    A mask on a misspelled column masks nothing, and a column mapped under a wrong name is never read."""
    if document.kind.name == "monitored_tables":
        yield from _monitored(document)
        return
    for source, spec in document.data["sources"].items():
        for dataset, mapping in spec.get("datasets", {}).items():
            yield from _dataset(("sources", source, "datasets", dataset), dataset, mapping)


def _dataset(path: tuple[str, ...], dataset: str, mapping: Mapping[str, Any]) -> Iterator[Hit]:
    known = DATASETS[dataset]
    listed = ", ".join(known)
    for logical, real in mapping.get("columns", {}).items():
        if logical not in known:
            yield Hit(
                (*path, "columns", logical),
                f"dataset {dataset} has no column {logical!r}; its columns: {listed}",
                key=True,
            )
        elif isinstance(real, Mapping):
            from runner.timetext import check_format  # SQLAlchemy with it: only for a time kept as text

            try:
                check_format(str(real["format"]), time_kind(logical))
            except ValueError as error:
                yield Hit((*path, "columns", logical, "format"), f"dataset {dataset}, column {logical}: {error}")
    for rule, names in mapping.get("samples", {}).items():
        for index, name in enumerate(names):
            if name not in known:
                yield Hit(
                    (*path, "samples", rule, index),
                    f"samples {rule} names {name!r}, no column of dataset {dataset}, so it would {rule} nothing; "
                    f"its columns: {listed}",
                )


def _monitored(document: Document) -> Iterator[Hit]:
    for index, table in enumerate(document.data["tables"]):
        dataset, stamp = table["table"], table["timestamp_column"]
        if dataset in DATASETS and stamp not in DATASETS[dataset]:
            times = ", ".join(time_columns(dataset))
            yield Hit(
                ("tables", index, "timestamp_column"),
                f"dataset {dataset} has no column {stamp!r}; a monitored dataset names its time by the contract: "
                f"{times}",
            )


CHECKS = (
    Check(
        "mapping.invalid",
        Severity.PROBLEM,
        "integration",
        ("sources", "monitored_tables"),
        "Use the data contract's column names (`campaign-guard docs configuration`) and a fixed-width strftime format "
        "(%Y %m %d %H %M %S %f and literal characters).",
        invalid_mapping,
    ),
)
