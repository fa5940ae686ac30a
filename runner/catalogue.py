"""Every check id campaign-guard can report, with what it means: the source of docs/checks.md."""

from __future__ import annotations

from dataclasses import dataclass

from runner.findings import Severity
from runner.repository import Repository
from runner.static import CHECKS


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: Severity
    localization: str
    summary: str
    fix: str
    stage: str = "file"  # file and static: validate; gate: check / run; monitor: run; system: campaign-guard itself
    dirty_data: str = ""  # data checks: how they read NULLs, replicated rows, test launches


FILE_RULES = (
    CheckInfo(
        "yaml.unreadable",
        Severity.ERROR,
        "system",
        "The file cannot be opened.",
        "Check that the file exists and is readable.",
    ),
    CheckInfo("yaml.encoding", Severity.ERROR, "system", "The file is not UTF-8 text.", "Save the file as UTF-8."),
    CheckInfo(
        "yaml.too_large",
        Severity.ERROR,
        "system",
        "The file is larger than 1 MB, far beyond any configuration file.",
        "Split the file, or keep data out of the configuration repository.",
    ),
    CheckInfo(
        "yaml.syntax",
        Severity.ERROR,
        "system",
        "The file is not valid YAML.",
        "Fix the YAML at the reported position (indentation, quotes, a missing colon).",
    ),
    CheckInfo(
        "yaml.duplicate_key",
        Severity.ERROR,
        "system",
        "A mapping has the same key twice; YAML would silently keep only the last value.",
        "Remove or rename one of the keys.",
    ),
    CheckInfo(
        "yaml.alias_bomb",
        Severity.ERROR,
        "system",
        "YAML aliases expand the document to an enormous size ('billion laughs'), or refer to themselves.",
        "Write the values out instead of nesting aliases.",
    ),
    CheckInfo(
        "yaml.integer_too_long",
        Severity.ERROR,
        "system",
        "An integer has more than 100 digits, far beyond any configuration value.",
        "Write a sane number, or quote the value if it is text.",
    ),
    CheckInfo(
        "yaml.explicit_tag",
        Severity.ERROR,
        "system",
        "A value carries an explicit YAML tag (`!!int abc`, `!!set`, `!custom`); only `!!str` is allowed.",
        "Remove the tag, or quote the value to make it text.",
    ),
    CheckInfo(
        "yaml.too_deep",
        Severity.ERROR,
        "system",
        "Values are nested more than 100 levels deep.",
        "Flatten the structure; no configuration file needs this depth.",
    ),
    CheckInfo(
        "schema.violation",
        Severity.PROBLEM,
        "system",
        "The file does not match the JSON Schema of its kind (a missing field, an unknown field, a wrong type).",
        "Follow the message; `campaign-guard docs configuration` lists every field.",
    ),
    CheckInfo(
        "schema.invalid_schema",
        Severity.ERROR,
        "system",
        "A file in schemas/ is not a valid JSON Schema 2020-12.",
        "Fix the schema file.",
    ),
    CheckInfo(
        "internal.check_failed",
        Severity.ERROR,
        "system",
        "A check broke on the file (a campaign-guard bug), so the file is not fully checked; the findings of "
        "every other check and file are still reported.",
        "Report the bug with the message, which names the check and the error; the other findings stand.",
    ),
    CheckInfo(
        "config.unknown_file",
        Severity.WARNING,
        "system",
        "A file was named that is not a campaign-guard configuration file, so it was not checked.",
        "Move it to where its kind lives (see `campaign-guard docs configuration`) or leave it out.",
    ),
)


def catalogue() -> list[CheckInfo]:
    """File-level rules first, then the static checks, then the data checks, each in declared order."""
    from runner.builtin.declarations import BUILTIN_CHECKS
    from runner.builtin.system import SUMMARIES, SYSTEM_CHECKS

    static = [CheckInfo(c.id, c.severity, c.localization, c.summary, c.fix, "static") for c in CHECKS]
    data = [
        CheckInfo(c.id, c.severity, c.localization, c.summary, c.fix, c.stage, c.dirty_data) for c in BUILTIN_CHECKS
    ]
    system = [
        CheckInfo(a.check, a.severity, a.localization, SUMMARIES[a.check], a.hint, "system") for a in SYSTEM_CHECKS
    ]
    return [*FILE_RULES, *static, *data, *system]


def known_check_ids(repo: Repository) -> set[str]:
    """Ids a subscription may match: the built-in catalogue and the repository's own checks."""
    configured = set(repo.definitions("functional_checks")) | set(repo.definitions("data_checks"))
    return {info.id for info in catalogue()} | configured
