"""Hostile YAML (explicit tags, huge integers, deep nesting, mutated files) is a finding, never a crash."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner import yaml_loader
from runner.files import FileSystem
from runner.repository import Repository
from runner.validation import validate
from runner.yaml_loader import YamlError, parse

from .conftest import ROOT, run_cli

LAUNCH_DAY = "2026-12-01T11:00:00+03:00"


def error_of(text: str) -> YamlError:
    with pytest.raises(YamlError) as caught:
        parse(text)
    return caught.value


def test_an_explicit_tag_that_changes_the_value_is_refused_at_its_value():
    error = error_of("id: a\ntemplate: !!int abc\n")
    assert (error.check_id, error.line, error.column) == ("yaml.explicit_tag", 2, 11)
    assert error.message == (
        "explicit tag !!int cannot be read here: configuration takes plain YAML values (only !!str is allowed); "
        "remove the tag, or quote the value to make it text"
    )


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!float abc\n", "!!float"),
        ("a: !!bool maybe\n", "!!bool"),
        ("a: !!map [1]\n", "!!map"),
        ("a: !!set {x}\n", "!!set"),
        ("a: !!binary eA==\n", "!!binary"),
        ("a: !!timestamp 2026-01-01\n", "!!timestamp"),
        ("a: !!python/object:os.system x\n", "!!python/object:os.system"),
        ("a: !custom x\n", "!custom"),
    ],
)
def test_other_explicit_tags_are_refused(text: str, tag: str):
    error = error_of(text)
    assert (error.check_id, error.line, error.column) == ("yaml.explicit_tag", 1, 4)
    assert error.message.startswith(f"explicit tag {tag} cannot be read here: ")


def test_str_and_tags_that_change_nothing_are_read():
    assert parse("a: !!str 12\nb: !!int 7\nc: ! x\nd: [!!str 1]\n") == {"a": "12", "b": 7, "c": "x", "d": ["1"]}


def test_an_integer_of_more_than_100_digits_is_refused():
    assert parse(f"a: {'9' * 100}\n") == {"a": int("9" * 100)}
    error = error_of(f"id: a\nmax_clients: 1{'0' * 4999}\n")
    assert (error.check_id, error.line, error.column) == ("yaml.integer_too_long", 2, 14)
    assert error.message == (
        "integer of 5,000 digits: configuration integers are limited to 100 digits; quote the value if it is text"
    )
    assert error_of(f"a: 0x{'f' * 5000}\n").check_id == "yaml.integer_too_long"


def test_nesting_deeper_than_100_levels_is_refused_where_it_goes_too_deep():
    assert parse("a: " + "[" * 99 + "]" * 99 + "\n")["a"] is not None
    error = error_of("a: " + "[" * 150 + "]" * 150 + "\n")
    assert (error.check_id, error.line, error.column) == ("yaml.too_deep", 1, 103)
    assert error.message == (
        "values nested more than 100 levels deep: configuration is never this deep; flatten the structure"
    )
    block = "".join(" " * level + f"k{level}:\n" for level in range(200)) + " " * 200 + "x: 1\n"
    assert (error_of(block).check_id, error_of(block).line) == ("yaml.too_deep", 101)


def test_ten_thousand_levels_are_a_finding_not_a_recursion_error():
    for text in ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "a: " + "{b: " * 10_000 + "1" + "}" * 10_000 + "\n"):
        error = error_of(text)
        assert (error.check_id, error.line) == ("yaml.too_deep", 1)


def test_any_other_exception_in_the_loader_is_a_finding_at_line_1(monkeypatch: pytest.MonkeyPatch):
    def broken(self: object, node: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(yaml_loader._ConfigLoader, "construct_document", broken)
    error = error_of("a: 1\n")
    assert (error.check_id, error.line, error.column) == ("yaml.syntax", 1, 1)
    assert error.message == "YAML could not be read: ZeroDivisionError: division by zero"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    directory = tmp_path_factory.mktemp("demo")
    env = {"CAMPAIGN_GUARD_DEMO_URL": f"sqlite:///{directory / 'demo.db'}"}
    built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, env=env)
    assert built.returncode == 0, built.stderr
    yield env


def test_run_skips_a_campaign_the_loader_refuses_and_evaluates_the_rest(demo: dict[str, str], repo_copy: Path) -> None:
    campaign = repo_copy / "campaigns/birthday_bonus.yaml"
    campaign.write_text(campaign.read_text().replace("    template: birthday_push\n", "    template: !!int abc\n"))
    done = run_cli("run", "--now", LAUNCH_DAY, "--format", "json", cwd=repo_copy, env=demo)
    assert done.returncode == 3
    assert done.stderr == (
        "campaign-guard: campaigns/birthday_bonus.yaml:49: skipped: explicit tag !!int cannot be read here: "
        "configuration takes plain YAML values (only !!str is allowed); remove the tag, or quote the value to make "
        "it text; run `campaign-guard validate campaigns/birthday_bonus.yaml`\n"
    )
    evaluated = {(r["check"], r["subject"]) for r in json.loads(done.stdout)}
    assert ("gate.dedup_window", "birthday_bonus") not in evaluated  # its gate was skipped with the file
    assert ("gate.dedup_window", "churn_reactivation") in evaluated  # the other campaigns' gates ran


def test_validate_reports_a_huge_integer_and_deep_nesting_without_a_traceback(repo_copy: Path) -> None:
    campaign = repo_copy / "campaigns/birthday_bonus.yaml"
    text = campaign.read_text()
    campaign.write_text(
        text.replace("    template: birthday_push\n", f"    template: birthday_push\n    x: {'7' * 5000}\n")
    )
    deep = repo_copy / "campaigns/welcome_chain.yaml"
    deep.write_text(deep.read_text() + "extra: " + "[" * 10_000 + "]" * 10_000 + "\n")
    done = run_cli("validate", "--now", "2026-11-22T12:00:00+00:00", cwd=repo_copy)
    assert (done.returncode, done.stderr) == (3, "")
    assert done.stdout.splitlines() == [
        "campaigns/birthday_bonus.yaml:50:8: error yaml.integer_too_long: integer of 5,000 digits: configuration "
        "integers are limited to 100 digits; quote the value if it is text",
        "campaigns/welcome_chain.yaml:62:1007: error yaml.too_deep: values nested more than 100 levels deep: "
        "configuration is never this deep; flatten the structure",  # where libyaml's own limit of 1,000 stops
        "found 2 errors",
    ]


# --- fuzz: mutated shipped files go through the loader and every check of validate without raising

SHIPPED = sorted(
    str(path.relative_to(ROOT)) for pattern in ("campaigns/**/*.yaml", "rules/**/*.yaml") for path in ROOT.glob(pattern)
)


class _Overlay(FileSystem):
    """The repository as shipped, with one file replaced by the mutated bytes."""

    def __init__(self, root: Path, rel: str, raw: bytes) -> None:
        super().__init__(root)
        self.rel, self.raw = rel, raw

    def read(self, rel: str) -> bytes:
        return self.raw if rel == self.rel else super().read(rel)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(SHIPPED))
    lines = (ROOT / rel).read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["flip", "delete", "duplicate", "digits", "tag", "nest"]))
        if action == "flip" and lines[at]:
            line = bytearray(lines[at])
            column = draw(st.integers(0, len(line) - 1))
            line[column] = draw(st.integers(0, 255))
            lines[at] = bytes(line)
        elif action == "delete":
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "digits":  # a number grows, or a value becomes one
            huge = b"9" * draw(st.integers(50, 6000))
            lines[at] = re.sub(rb"(: )\S.*|\d+", lambda m, huge=huge: (m.group(1) or b"") + huge, lines[at], count=1)
        elif action == "tag":
            tag = draw(st.sampled_from([b"!!int ", b"!!float ", b"!!set ", b"!!binary ", b"!!str ", b"!x "]))
            lines[at] = lines[at].replace(b": ", b": " + tag, 1)
        elif action == "nest":
            depth = draw(st.integers(90, 3000))
            lines[at] = lines[at].replace(b": ", b": " + b"[" * depth + b"1" + b"]" * depth + b" #", 1)
    return rel, b"".join(lines)


# Two thousand examples (~45 s of CPU); the deadline catches a mutation that makes validate hang.
@settings(
    max_examples=2000, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(mutated())
def test_validate_never_raises_on_a_mutated_shipped_file(case: tuple[str, bytes]) -> None:
    rel, raw = case
    repo = Repository(ROOT, _Overlay(ROOT, rel, raw))
    findings = validate(repo, [rel], datetime(2026, 11, 22, 12, tzinfo=UTC))
    assert all(finding.check_id for finding in findings)
    assert not any(finding.check_id == "internal.check_failed" for finding in findings), findings
