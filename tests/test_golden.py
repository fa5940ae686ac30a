"""Golden-folder acceptance tests for `campaign-guard validate` (the check-jsonschema / sqlfluff style).

Every directory under tests/golden/invalid/ and tests/golden/valid/ is a tiny configuration repository.
An invalid case lists in expected.txt every finding it must produce, one `path:line:check-id` a line, in
the order the tool reports them; a valid case must produce none. Each case runs the real command in a
subprocess, on a copy of the case, at a fixed moment. See tests/golden/README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.catalogue import catalogue
from runner.findings import Severity

GOLDEN = Path(__file__).parent / "golden"
NOW = "2026-11-22T12:00:00+00:00"
SEVERITY = {info.id: info.severity for info in catalogue()}
EXPECTED_LINE = re.compile(r"^(?P<path>[^:/][^:]*):(?P<line>[1-9][0-9]*):(?P<check>[a-z_]+\.[a-z_]+)$")


def _cases(group: str) -> list[Path]:
    return sorted(path for path in (GOLDEN / group).iterdir() if path.is_dir())


INVALID = _cases("invalid")
VALID = _cases("valid")


# --- cases that cannot be stored as files -------------------------------------------------------


def _make_unreadable(case: Path) -> None:
    target = case / "campaigns" / "welcome_chain.yaml"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        target.chmod(0)
    elif Path("/proc/self/mem").is_file():  # root reads through any mode; reading this file fails with EIO
        target.unlink()
        target.symlink_to("/proc/self/mem")
    else:
        pytest.skip("cannot make a file unreadable on this system")


def _make_too_large(case: Path) -> None:
    target = case / "campaigns" / "welcome_chain.yaml"
    padding = "# padding that pushes the file over the documented 1 MB limit\n"
    with target.open("a", encoding="utf-8") as stream:
        stream.write(padding * (1_000_000 // len(padding) + 1))
    assert target.stat().st_size > 1_000_000


SETUP: dict[str, Callable[[Path], None]] = {
    "yaml.unreadable": _make_unreadable,
    "yaml.too_large": _make_too_large,
}

# Cases run with one static check that raises (tests/crashing_check.py): a bug cannot be stored as a file.
BROKEN_CHECK: dict[str, str] = {"internal.check_failed": "template.zero_bonus"}

# Cases whose expected.txt says what the tool should report but does not yet; strict, so a fix fails
# the test until the entry is removed here.
KNOWN_BUGS: dict[str, str] = {}


# --- helpers ---------------------------------------------------------------------------------------


def _prepare(case: Path, tmp_path: Path) -> Path:
    """A private copy of the case, with anything that cannot be stored made at test time."""
    work = tmp_path / case.name
    shutil.copytree(case, work, symlinks=True)
    if case.name in SETUP:
        SETUP[case.name](work)
    return work


def _args(case: Path) -> list[str]:
    args_file = case / "args.txt"
    if not args_file.exists():
        return []
    return [line for line in args_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def _validate(case: Path, *options: str, output_format: str = "json") -> subprocess.CompletedProcess[str]:
    program = ["-m", "runner"]
    if case.name in BROKEN_CHECK:
        program = [str(Path(__file__).parent / "crashing_check.py"), BROKEN_CHECK[case.name]]
    command = [
        sys.executable,
        *program,
        "--root",
        str(case),
        "validate",
        "--format",
        output_format,
        "--now",
        NOW,
        *options,
        *_args(case),
    ]
    return subprocess.run(command, cwd=case, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)


def _findings(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.strip(), f"no output (exit {result.returncode}): {result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def _expected(case: Path) -> list[str]:
    expected = case / "expected.txt"
    if not expected.exists():
        return []
    return expected.read_text(encoding="utf-8").splitlines()


def _documented_exit(check_ids: list[str], *, strict: bool = False) -> int:
    """README: 3 when a file could not be read (an error), else 1 for problems, else 2 for warnings
    with --strict, else 0."""
    severities = {SEVERITY[check_id] for check_id in check_ids}
    if Severity.ERROR in severities:
        return 3
    if Severity.PROBLEM in severities:
        return 1
    if Severity.WARNING in severities and strict:
        return 2
    return 0


def _case_param(case: Path) -> Any:
    marks = []
    if case.parent.name == "invalid" and case.name in KNOWN_BUGS:
        marks.append(pytest.mark.xfail(reason=KNOWN_BUGS[case.name], strict=True, raises=AssertionError))
    return pytest.param(case, id=f"{case.parent.name}/{case.name}", marks=marks)


# --- the golden cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [_case_param(case) for case in [*INVALID, *VALID]])
def test_golden_case(case: Path, tmp_path: Path) -> None:
    result = _validate(_prepare(case, tmp_path))
    findings = _findings(result)
    got = [f"{f['path']}:{f['line']}:{f['check']}" for f in findings]
    shown = "\n".join(
        f"{f['path']}:{f['line']}:{f['column']}: {f['severity']} {f['check']}: {f['message']}" for f in findings
    )
    assert got == _expected(case), f"actual findings:\n{shown}"
    assert [f["severity"] for f in findings] == [SEVERITY[f["check"]].value for f in findings]
    expected_ids = [line.rsplit(":", 1)[1] for line in _expected(case)]
    assert result.returncode == _documented_exit(expected_ids), result.stderr


# --- the layout itself -----------------------------------------------------------------------------


def test_every_check_has_a_golden_invalid_case() -> None:
    validated = [info for info in catalogue() if info.stage in ("file", "static")]
    missing = [info.id for info in validated if not (GOLDEN / "invalid" / info.id / "expected.txt").is_file()]
    assert missing == [], f"add tests/golden/invalid/<id>/ with an expected.txt for: {', '.join(missing)}"


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.name)
def test_invalid_case_is_well_formed(case: Path) -> None:
    lines = _expected(case)
    assert lines, "expected.txt is missing or empty"
    parsed = [EXPECTED_LINE.match(line) for line in lines]
    assert all(parsed), f"every line must read path:line:check-id, got {lines}"
    keys = [(m["path"], int(m["line"])) for m in parsed if m]
    assert keys == sorted(keys), "expected.txt must be sorted by path and line, as the tool sorts findings"
    checks = [m["check"] for m in parsed if m]
    assert set(checks) <= set(SEVERITY), f"unknown check ids: {set(checks) - set(SEVERITY)}"
    named = case.name.split("-", 1)[0]
    assert named in checks, f"a case named after {named!r} must expect at least one {named} finding"
    assert any((case / name).is_dir() for name in ("campaigns", "rules"))


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.name)
def test_valid_case_is_well_formed(case: Path) -> None:
    assert not (case / "expected.txt").exists(), "a valid case expects nothing; move it to invalid/"
    assert any((case / name).is_dir() for name in ("campaigns", "rules"))


def test_special_cases_exist() -> None:
    names = {case.name for case in INVALID}
    assert set(SETUP) <= names
    assert set(BROKEN_CHECK) <= names
    assert set(KNOWN_BUGS) <= names


def test_there_are_enough_valid_cases() -> None:
    assert len(VALID) >= 5


# --- exit codes, formats and messages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plain", "strict"),
    [
        ("invalid/reference.no_match", 0, 2),
        ("invalid/graph.unreachable", 0, 2),
        ("invalid/config.unknown_file", 0, 2),
        ("invalid/template.channel_mismatch", 1, 1),
        ("invalid/yaml.duplicate_key", 3, 3),
        ("valid/minimal_event_campaign", 0, 0),
    ],
)
def test_strict_exit_codes(name: str, plain: int, strict: int, tmp_path: Path) -> None:
    work = _prepare(GOLDEN / name, tmp_path)
    assert _validate(work).returncode == plain
    assert _validate(work, "--strict").returncode == strict


def test_text_format(tmp_path: Path) -> None:
    work = _prepare(GOLDEN / "invalid" / "template.channel_mismatch", tmp_path)
    result = _validate(work, output_format="text")
    assert result.stdout == (
        "campaigns/welcome_chain.yaml:46:14: problem template.channel_mismatch: element 'reminder_sms' sends by "
        "sms but template 'welcome_email' is for email; pick a sms template or change the channel\n"
        "found 1 problem\n"
    )
    assert result.returncode == 1


def test_text_format_of_a_valid_repository_is_silent(tmp_path: Path) -> None:
    result = _validate(_prepare(GOLDEN / "valid" / "rules_complete", tmp_path), output_format="text")
    assert (result.stdout, result.returncode) == ("", 0)


MESSAGES = {
    "schema.violation-unknown_key": [
        "campaigns/welcome_chain.yaml:14:1: unknown field 'dedup_windows'; did you mean 'dedup_window'?",
    ],
    "schema.violation-unknown_element_field": [
        "campaigns/welcome_chain.yaml:48:5: elements.reminder_sms: unknown field 'max_client'; "
        "did you mean 'max_clients'?",
    ],
    "schema.violation-empty_file": [
        "campaigns/spring_sale.yaml:1:1: the file is empty; a campaign file holds a mapping "
        "(see `campaign-guard docs configuration`)",
    ],
    "schema.violation-list_for_mapping": ["rules/monitored_tables.yaml:2:1: expected a mapping, got a list"],
    "yaml.duplicate_key": [
        "campaigns/welcome_chain.yaml:51:5: duplicate key 'next': YAML would silently keep only the last value; "
        "remove or rename one",
    ],
    "yaml.alias_bomb": [
        "campaigns/welcome_chain.yaml:20:12: aliases expand this document to more than 100,000 values "
        "(a 'billion laughs' structure); write the values out instead",
    ],
    "yaml.alias_bomb-recursive": [
        "campaigns/welcome_chain.yaml:20:9: an alias refers to itself; recursive structures are not configuration",
    ],
    "yaml.integer_too_long": [
        "campaigns/welcome_chain.yaml:48:18: integer of 5,001 digits: configuration integers are limited to 100 "
        "digits; quote the value if it is text",
    ],
    "yaml.explicit_tag": [
        "campaigns/welcome_chain.yaml:47:15: explicit tag !!int cannot be read here: configuration takes plain YAML "
        "values (only !!str is allowed); remove the tag, or quote the value to make it text",
    ],
    "yaml.too_deep": [
        "campaigns/welcome_chain.yaml:49:1011: values nested more than 100 levels deep: configuration is never this "
        "deep; flatten the structure",
    ],
    "yaml.encoding": ["campaigns/welcome_chain.yaml:5:14: byte 0xcf is not UTF-8; save the file as UTF-8"],
    "yaml.too_large": [
        "campaigns/welcome_chain.yaml:1:1: file is 1.0 MB; configuration files are limited to 1 MB - split it "
        "or move data out of the repository",
    ],
    "id.duplicate": [
        "campaigns/welcome_chain.yaml:3:5: campaign id 'welcome_chain' is also defined at "
        "campaigns/welcome_chain_v2.yaml:3; ids must be unique across the repository - rename one",
        "campaigns/welcome_chain_v2.yaml:3:5: campaign id 'welcome_chain' is also defined at "
        "campaigns/welcome_chain.yaml:3; ids must be unique across the repository - rename one",
    ],
    "config.unknown_file": [
        "rules/threshold.yaml:1:1: not a campaign-guard configuration file, not checked; expected one of: "
        "campaigns/templates/*.yaml, campaigns/*.yaml, rules/thresholds.yaml, rules/monitored_tables.yaml, "
        "rules/functional_checks.yaml, rules/checks/*.yaml, rules/error_codes.yaml, rules/sources.yaml, "
        "rules/subscriptions.yaml, rules/tests/*.yaml, rules/schedules.yaml",
    ],
    "schema.invalid_schema": [
        "schemas/monitored_tables.schema.json:20:65: properties.tables.items.properties.max_silence_minutes.minimum: "
        "'1' is not of type 'number'",
    ],
    "internal.check_failed": [
        "campaigns/templates/welcome_email.yaml:1:1: check template.zero_bonus broke on this file (KeyError: "
        "'attributes'), so the file is not fully checked; this is a campaign-guard bug - please report it",
        "campaigns/templates/welcome_reminder_sms.yaml:1:1: check template.zero_bonus broke on this file "
        "(KeyError: 'attributes'), so the file is not fully checked; this is a campaign-guard bug - please report it",
        "campaigns/templates/welcome_reminder_sms.yaml:7:7: body uses {{ bonus_amount }} but attributes does not "
        "declare 'bonus_amount'; declare it with a type and an example, or remove it",
    ],
    "template.render_error-unknown_filter": [
        "campaigns/templates/welcome_email.yaml:9:3: body: there is no Jinja2 filter 'capitalise'; "
        "did you mean 'capitalize'?",
    ],
    "template.render_error-sample_type_error": [
        "campaigns/templates/welcome_email.yaml:10:3: body fails to render with the example values: unsupported "
        "operand type(s) for /: 'str' and 'int'; fix the expression or the attribute's example",
    ],
    "template.render_error-syntax_line": [
        "campaigns/templates/welcome_email.yaml:11:3: body: unexpected '}'; fix the template syntax",
    ],
    "template.render_error-include": [
        "campaigns/templates/welcome_email.yaml:11:3: body: a template stands alone and cannot load another one "
        "(extends, include, import); write the text out here",
    ],
    "template.render_error-too_large": [
        "campaigns/templates/welcome_email.yaml:10:3: body breaks a limit of the template sandbox: the repetition "
        "would make 4,000,000,000 characters or items, more than 1,000,000; render less (fewer loops, smaller "
        "repetitions)",
        "campaigns/templates/welcome_reminder_sms.yaml:7:7: body breaks a limit of the template sandbox: the "
        "template's loops run more than 100,000 times in all; render less (fewer loops, smaller repetitions)",
    ],
    "template.render_error-subscription": [
        "rules/subscriptions.yaml:21:7: template fails to render with a sample problem: division by zero; fix the "
        "template (`campaign-guard docs notifications` lists what it may use)",
        "rules/subscriptions.yaml:25:15: template is refused by the template sandbox: access to attribute "
        "'__class__' of 'str' object is unsafe; use the template's values, not Python internals",
        "rules/subscriptions.yaml:32:7: template breaks a limit of the template sandbox: the template's loops run "
        "more than 100,000 times in all; render less (fewer loops, smaller repetitions)",
        "rules/subscriptions.yaml:37:15: template breaks a limit of the template sandbox: the power 10 ** 100000 "
        "would have more than 4,300 digits; render less (fewer loops, smaller repetitions)",
    ],
    "template.render_error-sandbox": [
        "campaigns/templates/welcome_email.yaml:7:10: subject: there is no Jinja2 test 'capitalized'",
        "campaigns/templates/welcome_email.yaml:14:3: body is refused by the template sandbox: access to "
        "attribute '__class__' of 'str' object is unsafe; use the template's values, not Python internals",
    ],
    "security.inline_credentials-env_default": [
        "rules/sources.yaml:6:10: the default of this environment reference looks like a credential, and a default "
        "is written into the repository; drop the default (${NAME}) and set the value in the environment",
    ],
    "security.inline_credentials-schema_invalid": [
        "rules/monitored_tables.yaml:2:1: expected a mapping, got a string",
        "rules/monitored_tables.yaml:2:1: this looks like a credential written into the repository; move it into "
        "an environment variable and write ${NAME} here",
        "rules/sources.yaml:6:10: sources.demo.url: 'postgresql://crm_reader:***@crm-db.romashka.local/crm' is not "
        "valid here: A reference to an environment variable: ${NAME}, or ${NAME:-default} with a default used when "
        "NAME is unset.",
        "rules/sources.yaml:6:10: this looks like a credential written into the repository; move it into "
        "an environment variable and write ${NAME} here",
    ],
    "schema.violation-quote_it": [
        "campaigns/welcome_chain.yaml:11:7: schedule.at: 10:30 was read as a number (630); quote it: '10:30'",
        "rules/error_codes.yaml:3:11: codes[1].code: 0110 was read as a number (72); quote it: '0110'",
    ],
    "schema.violation-yes_is_not_boolean": [
        "campaigns/welcome_chain.yaml:36:15: elements.wait_2d.released: yes is text here, not true or false; "
        "write true",
    ],
    "schema.violation-list_position": [
        "rules/subscriptions.yaml:10:9: subscriptions[hotline].recipients[2]: expected a string or an integer, "
        "got a list",
        "rules/subscriptions.yaml:11:40: subscriptions[hotline].working_days[5]: 'fry' is not one of: mon, tue, wed, "
        "thu, fri, sat, sun; did you mean 'fri'?",
    ],
    "yaml.syntax-tab": [
        "rules/subscriptions.yaml:5:1: tab character at line 5 column 1: YAML indents with spaces only; "
        "replace it with spaces",
    ],
    "cron.invalid": ["rules/schedules.yaml:8:11: cron '0 24 25 * *': hour 24 is out of range 0-23"],
    "cron.invalid-digest_schedule": [
        "rules/subscriptions.yaml:8:22: digest_schedule '0 9-21 * * mon-fry': day of week 'fry' is not a day name "
        "(mon..sun) or 0-7",
        "rules/subscriptions.yaml:13:22: digest_schedule '0 9 * fev *': month 'fev' is not a month name (jan..dec) "
        "or 1-12",
    ],
    "cron.invalid-check_schedule": [
        "rules/functional_checks.yaml:9:15: schedule '0 6 30 2 *': it never fires: day of month '30' never occurs "
        "in month '2'",
    ],
    "quiet_hours.invalid": [
        "rules/subscriptions.yaml:6:18: quiet_hours '21:00-24:15': hour 24 is out of range 0-23",
        "rules/subscriptions.yaml:10:18: quiet_hours '08:00-08:00': start and end are equal, so nothing is ever "
        "held; write the window you mean, such as 22:00-08:00",
    ],
    "timezone.unknown-subscription": [
        "rules/subscriptions.yaml:6:15: unknown time zone 'Europe/Moskva'; did you mean Europe/Moscow?",
    ],
    "template.test_marker-whole_word": [
        "campaigns/templates/welcome_reminder_sms.yaml:7:7: body contains the test marker 'тест'; replace the "
        "placeholder text with the real one",
    ],
    "security.inline_credentials-slack_webhook": [
        "rules/subscriptions.yaml:18:18: this looks like a credential written into the repository; move it into "
        "an environment variable and write ${NAME} here",
    ],
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_messages(name: str, tmp_path: Path) -> None:
    findings = _findings(_validate(_prepare(GOLDEN / "invalid" / name, tmp_path)))
    assert [f"{f['path']}:{f['line']}:{f['column']}: {f['message']}" for f in findings] == MESSAGES[name]


def test_broken_schema_in_use_is_reported_not_a_crash(tmp_path: Path) -> None:
    work = _prepare(GOLDEN / "invalid" / "schema.invalid_schema", tmp_path)
    schema = work / "schemas" / "campaign.schema.json"
    text = schema.read_text(encoding="utf-8")
    broken = text.replace('"name": {"type": "string"', '"name": {"type": "str"', 1)
    assert broken != text
    schema.write_text(broken, encoding="utf-8")
    result = _validate(work)
    findings = _findings(result)
    assert ("schemas/campaign.schema.json", "schema.invalid_schema") in {(f["path"], f["check"]) for f in findings}
    assert result.returncode == 3
