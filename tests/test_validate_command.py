from __future__ import annotations

import json
from pathlib import Path

from .conftest import NOW, ROOT, run_cli


def findings(result) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["check"]) for f in json.loads(result.stdout)]


def test_the_shipped_repository_is_clean():
    result = run_cli("validate", "--strict", "--now", NOW)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_python_dash_m_and_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("campaign-guard ")


def test_one_named_file_is_checked_against_the_whole_repository(repo_copy: Path):
    template = repo_copy / "campaigns/templates/birthday_sms.yaml"
    template.write_text(template.read_text(encoding="utf-8").replace("channel: sms", "channel: push"), encoding="utf-8")
    result = run_cli(
        "--root",
        str(repo_copy),
        "validate",
        "--format",
        "json",
        "--now",
        NOW,
        "campaigns/birthday_bonus.yaml",
        cwd=repo_copy,
    )
    assert result.returncode == 1
    assert {(path, check) for path, _line, check in findings(result)} == {
        ("campaigns/birthday_bonus.yaml", "template.channel_mismatch")
    }


def test_only_named_files_are_reported(repo_copy: Path):
    broken = repo_copy / "campaigns/vip_bonus_accrual.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("amount: 1500", "amount: 1000000"), encoding="utf-8")
    clean = run_cli("validate", "campaigns/welcome_chain.yaml", "--now", NOW, cwd=repo_copy)
    assert (clean.returncode, clean.stdout) == (0, "")
    dirty = run_cli("validate", "--format", "json", "campaigns/vip_bonus_accrual.yaml", "--now", NOW, cwd=repo_copy)
    assert dirty.returncode == 1
    assert [check for _path, _line, check in findings(dirty)] == ["bonus.above_cap"]


def test_a_changed_schema_revalidates_everything(repo_copy: Path):
    broken = repo_copy / "campaigns/welcome_chain.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("owner: crm-marketing\n", ""), encoding="utf-8")
    result = run_cli("validate", "--format", "json", "schemas/common.schema.json", "--now", NOW, cwd=repo_copy)
    assert result.returncode == 1
    first_key = next(
        i for i, line in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1) if line[:1].isalpha()
    )
    assert findings(result) == [("campaigns/welcome_chain.yaml", first_key, "schema.violation")]
    assert json.loads(result.stdout)[0]["message"] == "missing required field 'owner'"


def test_directory_argument_expands_to_its_files(repo_copy: Path):
    target = repo_copy / "campaigns/templates/welcome_email.yaml"
    target.write_text(target.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    result = run_cli("validate", "--format", "json", "campaigns/templates", "--now", NOW, cwd=repo_copy)
    assert findings(result) == [
        ("campaigns/templates/welcome_email.yaml", len(target.read_text().splitlines()), "schema.violation")
    ]


def test_missing_path_is_a_usage_error(repo_copy: Path):
    result = run_cli("validate", "campaigns/nope.yaml", cwd=repo_copy)
    assert result.returncode == 3
    assert result.stderr == "campaign-guard: campaigns/nope.yaml: no such file or directory\n"
    assert "Traceback" not in result.stderr


def test_outside_a_repository_is_a_usage_error(tmp_path: Path):
    result = run_cli("validate", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == (
        f"campaign-guard: no campaign-guard repository here or above {tmp_path} (a directory with campaigns/ or "
        "rules/); run inside one or pass --root\n"
    )


def test_bad_option_is_exit_3_a_usage_error_not_a_traceback():
    result = run_cli("validate", "--format", "xml")
    assert result.returncode == 3
    assert result.stderr.splitlines()[0].startswith("usage: campaign-guard validate ")
    assert result.stderr.splitlines()[-1].startswith(
        "campaign-guard validate: error: argument --format: invalid choice: 'xml' (choose from 'text', 'json', "
    )


def test_text_format_line(repo_copy: Path):
    campaign = repo_copy / "campaigns/welcome_chain.yaml"
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("customer_type: new", "customer_type: nwe"), encoding="utf-8"
    )
    result = run_cli("validate", "campaigns/welcome_chain.yaml", "--now", NOW, cwd=repo_copy)
    lines = result.stdout.splitlines()
    line_no = campaign.read_text(encoding="utf-8").splitlines().index("customer_type: nwe") + 1
    assert lines[0] == (
        f"campaigns/welcome_chain.yaml:{line_no}:16: problem campaign.unknown_customer_type: "
        "customer type 'nwe' is unknown; use one of regular, new, vip, employee "
        "(rules/thresholds.yaml customer_types)"
    )
    assert lines[-1].startswith("found ") and "problem" in lines[-1]


def test_github_format_escapes_and_levels(repo_copy: Path):
    campaign = repo_copy / "campaigns/welcome_chain.yaml"
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("start: registered", "start: nowhere"), encoding="utf-8"
    )
    result = run_cli("validate", "--format", "github", "campaigns/welcome_chain.yaml", "--now", NOW, cwd=repo_copy)
    line_no = campaign.read_text(encoding="utf-8").splitlines().index("start: nowhere") + 1
    assert result.stdout.splitlines()[0] == (
        f"::error file=campaigns/welcome_chain.yaml,line={line_no},col=8,title=graph.start_missing::"
        "start element 'nowhere' does not exist; set start to one of: registered, welcome_email, wait_2d, "
        "code_unused, reminder_sms, done"
    )


def test_sarif_output_matches_the_sarif_schema(repo_copy: Path):
    import jsonschema

    campaign = repo_copy / "campaigns/welcome_chain.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace("    max_clients: 15000\n", ""), encoding="utf-8")
    result = run_cli("validate", "--format", "sarif", "--now", NOW, cwd=repo_copy)
    log = json.loads(result.stdout)
    schema = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("element.max_clients_missing", "error")]
    rule = log["runs"][0]["tool"]["driver"]["rules"][results[0]["ruleIndex"]]
    assert rule["id"] == "element.max_clients_missing"
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "campaigns/welcome_chain.yaml"


def test_unreadable_input_is_exit_3_even_with_problems_elsewhere(repo_copy: Path):
    (repo_copy / "campaigns/broken.yaml").write_bytes(b"id: [\n")
    campaign = repo_copy / "campaigns/welcome_chain.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace("    max_clients: 15000\n", ""), encoding="utf-8")
    result = run_cli("validate", "--format", "json", "--now", NOW, cwd=repo_copy)
    assert result.returncode == 3
    assert [(p, c) for p, _l, c in findings(result)] == [
        ("campaigns/broken.yaml", "yaml.syntax"),
        ("campaigns/welcome_chain.yaml", "element.max_clients_missing"),
    ]


def test_validation_never_modifies_files(repo_copy: Path):
    before = {p: p.read_bytes() for p in repo_copy.rglob("*") if p.is_file()}
    (repo_copy / "campaigns/broken.yaml").write_bytes(b"id: a\nid: b\n")
    run_cli("validate", "--now", NOW, cwd=repo_copy)
    after = {
        p: p.read_bytes()
        for p in repo_copy.rglob("*")
        if p.is_file() and p.name != "broken.yaml" and ".campaign-guard" not in p.parts
    }
    assert after == before


def test_schemas_remembered_as_valid_are_checked_again_once_edited(repo_copy: Path):
    assert run_cli("validate", "--now", NOW, cwd=repo_copy).returncode == 0
    cache = repo_copy / ".campaign-guard/cache/valid-schemas.txt"
    assert len(cache.read_text(encoding="utf-8").split()) == len(list((repo_copy / "schemas").glob("*.json")))
    schema = repo_copy / "schemas/thresholds.schema.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace('"minimum": 1,', '"minimum": "1",', 1), encoding="utf-8"
    )
    result = run_cli("validate", "--format", "json", "campaigns/welcome_chain.yaml", "--now", NOW, cwd=repo_copy)
    assert result.returncode == 3
    assert [(p, c) for p, _l, c in findings(result)] == [("schemas/thresholds.schema.json", "schema.invalid_schema")]


def test_a_misspelt_rules_file_is_reported_in_whole_repository_runs(repo_copy: Path):
    (repo_copy / "rules/threshold.yaml").write_text("max_bonus_per_client: 100\n", encoding="utf-8")
    result = run_cli("validate", "--format", "json", "--now", NOW, cwd=repo_copy)
    assert findings(result) == [("rules/threshold.yaml", 1, "config.unknown_file")]
    assert result.returncode == 0
    assert run_cli("validate", "--strict", "--now", NOW, cwd=repo_copy).returncode == 2


def test_worker_processes_find_exactly_what_one_process_finds(repo_copy: Path, monkeypatch):
    from datetime import datetime

    from runner import validation
    from runner.repository import Repository

    edits = [
        ("welcome_chain", "    max_clients: 15000\n", ""),
        ("vip_bonus_accrual", "amount: 1500", "amount: 1000000"),
    ]
    for name, old, new in edits:
        path = repo_copy / f"campaigns/{name}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    monkeypatch.setattr(validation, "PARALLEL_MINIMUM", 0)
    now = datetime.fromisoformat(NOW)
    serial = validation.validate(Repository(repo_copy), Repository(repo_copy).files, now, jobs=1)
    repo = Repository(repo_copy)
    parallel = validation.validate(repo, repo.files, now, jobs=3)
    assert parallel == serial
    assert {f.check_id for f in parallel} == {"element.max_clients_missing", "bonus.above_cap"}


def test_a_schedule_pattern_that_selects_nothing_is_a_warning(repo_copy: Path):
    schedules = repo_copy / "rules/schedules.yaml"
    text = schedules.read_text(encoding="utf-8")
    schedules.write_text(text.replace("      - vip.*\n", "      - vip.*\n      - vips.*\n"), encoding="utf-8")
    line = text.splitlines().index("      - vip.*") + 2
    done = run_cli("validate", "rules/schedules.yaml", "--now", NOW, cwd=repo_copy)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == (
        f"rules/schedules.yaml:{line}:9: warning reference.no_match: checks pattern 'vips.*' matches no check; "
        "fix the pattern or remove it"
    )
