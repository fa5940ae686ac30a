"""The CI pipelines and schedulers that ship with the repository (docs/ci.md).

They are validated against their schemas (the SchemaStore schemas vendored in check-jsonschema, the
Kubernetes schemas shipped in kubernetes-validate: no network), every `campaign-guard` command line
in them is parsed by the real argument parser, and their shell steps are run - with a stand-in
`campaign-guard` that exits as told - to show that exit 1 fails a review but not a scheduled run,
and that the review is posted as one comment (GitHub, through the github-script code under Node)
or one merge request note (GitLab, through deploy/gitlab_mr_note.py against a fake GitLab API).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from croniter import croniter

from runner.main import _parser

from .conftest import ROOT

REVIEW = ROOT / ".github/workflows/review.yml"
SCHEDULED = ROOT / ".github/workflows/scheduled.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
CRONJOB = ROOT / "deploy/kubernetes/cronjob.yaml"
DOCKERFILE = ROOT / "deploy/Dockerfile"
CRONTAB = ROOT / "deploy/crontab"
NOTE_SCRIPT = ROOT / "deploy/gitlab_mr_note.py"
DOCS = ROOT / "docs/ci.md"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
MARKER = "<!-- campaign-guard-review -->"

# The runner's own variables a scheduled job passes on (docs/notifications.md, the state store).
RUNNER_VARIABLES = (
    "CAMPAIGN_GUARD_STATE_URL",
    "CAMPAIGN_GUARD_SMTP_URL",
    "CAMPAIGN_GUARD_SMTP_CAFILE",
    "CAMPAIGN_GUARD_TELEGRAM_TOKEN",
    "CAMPAIGN_GUARD_TELEGRAM_API_URL",
    "CAMPAIGN_GUARD_BASE_URL",
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow_steps(path: Path) -> list[dict[str, Any]]:
    jobs = load(path)["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def step(path: Path, name: str) -> dict[str, Any]:
    return next(s for s in workflow_steps(path) if s.get("name") == name)


def rules_references() -> set[str]:
    """Every ${NAME} in rules/ (comments included: a commented-out source shows what to set)."""
    names: set[str] = set()
    for path in (ROOT / "rules").rglob("*.yaml"):
        names |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", path.read_text(encoding="utf-8")))
    return names


# --- schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (REVIEW, "vendor.github-workflows"),
        (REVIEW, "custom.github-workflows-require-timeout"),
        (SCHEDULED, "vendor.github-workflows"),
        (SCHEDULED, "custom.github-workflows-require-timeout"),
        (GITLAB, "vendor.gitlab-ci"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_pipeline_matches_its_schema(path: Path, schema: str) -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ("vendor.github-workflows", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n"),
        ("vendor.gitlab-ci", "job:\n  script: [true]\n  resource_groop: x\n"),
    ],
)
def test_the_schema_check_rejects_a_mistake(tmp_path: Path, schema: str, text: str) -> None:
    """The vendored schemas are really applied (offline): a misspelt key fails."""
    broken = tmp_path / "broken.yml"
    broken.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(broken)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout + result.stderr


def kubernetes_validate() -> Any:
    try:
        import kubernetes_validate as module
    except ImportError:
        pytest.fail("kubernetes-validate missing: install the test extra (pip install -e '.[test]')")
    return module


def test_cronjob_matches_the_kubernetes_schema() -> None:
    module = kubernetes_validate()
    (document,) = yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8"))
    older = [v for v in module.utils.all_versions() if v.startswith("1.25.")][:1]  # a cluster a few years old
    versions = [module.utils.latest_version(), *older]
    for version in versions:
        module.validate(document, version, strict=True)  # raises on an unknown or misspelt field
    broken = json.loads(json.dumps(document))
    broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["envv"] = []
    with pytest.raises(module.ValidationError):
        module.validate(broken, versions[0], strict=True)


def cronjob() -> dict[str, Any]:
    (document,) = yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8"))
    return dict(document)


def cronjob_container() -> dict[str, Any]:
    return dict(cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0])


def test_cronjob_runs_every_five_minutes_one_at_a_time_with_every_variable_from_the_secret() -> None:
    document = cronjob()
    assert (document["apiVersion"], document["kind"]) == ("batch/v1", "CronJob")
    assert document["spec"]["schedule"] == "*/5 * * * *"
    assert document["spec"]["concurrencyPolicy"] == "Forbid"
    pod = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = cronjob_container()["env"]
    assert env, "the container takes its variables from the Secret"
    for variable in env:
        assert "value" not in variable, f"{variable['name']}: a value inline, not from the Secret"
        ref = variable["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("campaign-guard", variable["name"])
        assert ref.get("optional", False) is (variable["name"] != "CAMPAIGN_GUARD_STATE_URL")


def dockerfile() -> dict[str, list[str]]:
    """deploy/Dockerfile's instructions by name (their first lines)."""
    by_name: dict[str, list[str]] = {}
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, rest = line.partition(" ")
            by_name.setdefault(name, []).append(rest)
    return by_name


def test_dockerfile_builds_the_image_the_cronjob_runs() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    by_name = dockerfile()
    assert by_name["FROM"] == ["python:3.11-slim"]
    assert by_name["COPY"] == [". ."]
    assert "pip install '.[postgres]'" in text
    assert json.loads(by_name["ENTRYPOINT"][0]) == ["campaign-guard"]
    assert by_name["USER"] == [
        str(cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"])
    ]
    ignored = (ROOT / "deploy/Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".campaign-guard", ".venv"} <= set(ignored)


# --- every variable reaches every scheduled job ---------------------------------------------------


def test_every_variable_of_the_rules_and_the_runner_reaches_the_scheduled_jobs_and_the_docs() -> None:
    needed = rules_references() | set(RUNNER_VARIABLES)
    assert {"CAMPAIGN_GUARD_DEMO_URL", "CRM_DEV_TELEGRAM_CHAT", "ONCALL_WEBHOOK_URL"} <= needed

    github_env = set(load(SCHEDULED)["jobs"]["run"]["env"])
    github_env.add("CAMPAIGN_GUARD_SMTP_CAFILE")  # written to $GITHUB_ENV from the PEM secret
    assert needed - github_env == set(), ".github/workflows/scheduled.yml"
    assert step(SCHEDULED, "SMTP CA certificate")["run"].count("CAMPAIGN_GUARD_SMTP_CAFILE=") == 1

    kubernetes_env = {variable["name"] for variable in cronjob_container()["env"]}
    assert needed - kubernetes_env == set(), "deploy/kubernetes/cronjob.yaml"

    documented = set(re.findall(r"^\| `([A-Z_][A-Z0-9_]*)` \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE))
    assert needed | {"CAMPAIGN_GUARD_GITLAB_TOKEN"} <= documented, "docs/ci.md: the table of variables"


def test_secrets_reach_github_jobs_only_through_env() -> None:
    """No expression is expanded into a shell script (script injection); each goes through env."""
    for path in (REVIEW, SCHEDULED):
        for each in workflow_steps(path):
            assert "${{" not in each.get("run", ""), f"{path.name}: {each.get('name')}"
        for job in load(path)["jobs"].values():
            for name, value in job.get("env", {}).items():
                assert value in (f"${{{{ secrets.{name} }}}}", f"${{{{ vars.{name} }}}}"), f"{path.name}: {name}"


# --- every campaign-guard command line parses -----------------------------------------------------


SEPARATORS = set("();<>|&\n")
KEYWORDS = {"then", "do", "else", "elif", "!", "exec", "time"}


def strip_comments(script: str) -> str:
    """The script without its shell comments (a # starting a word outside quotes, to the line's end)."""
    kept, quote, index = [], "", 0
    while index < len(script):
        char = script[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or script[index - 1].isspace()):
            while index < len(script) and script[index] != "\n":
                index += 1
            continue
        kept.append(char)
        index += 1
    return "".join(kept)


def invocations(script: str) -> list[list[str]]:
    """The argument lists of every `campaign-guard` command in a shell script, `sh -c '...'` included."""
    lexer = shlex.shlex(strip_comments(script.replace("\\\n", " ")), posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace, lexer.whitespace_split, lexer.commenters = " \t\r", True, ""
    tokens = list(lexer)
    found: list[list[str]] = []
    command_position = True
    for index, token in enumerate(tokens):
        if token == "campaign-guard" and command_position:
            args: list[str] = []
            for arg in tokens[index + 1 :]:
                if arg and set(arg) <= SEPARATORS:
                    break
                args.append(arg)
            found.append(args)
        elif token == "-c" and index > 0 and Path(tokens[index - 1]).name in ("sh", "bash") and index + 1 < len(tokens):
            found.extend(invocations(tokens[index + 1]))
        command_position = (
            (bool(token) and set(token) <= SEPARATORS) or token in KEYWORDS or bool(re.match(r"^[A-Za-z_]\w*=", token))
        )
    return found


def crontab_jobs() -> list[tuple[list[str], str]]:
    """(the five time fields, the command) of every job line of deploy/crontab."""
    jobs = []
    for line in CRONTAB.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        *fields, command = line.split(None, 5)
        jobs.append((fields, command))
    return jobs


def shell_scripts() -> list[tuple[str, str]]:
    """(where, shell script) of every pipeline, scheduler and documented command line."""
    scripts: list[tuple[str, str]] = []
    for path in (REVIEW, SCHEDULED):
        scripts += [(f"{path.name}: {s.get('name')}", s["run"]) for s in workflow_steps(path) if "run" in s]
    for name, job in load(GITLAB).items():
        if isinstance(job, dict) and "script" in job:
            for part in ("before_script", "script"):
                scripts.append((f".gitlab-ci.yml: {name}", "\n".join(job.get(part, []))))
    container = cronjob_container()
    scripts.append(("cronjob.yaml", container["args"][0]))
    scripts += [("deploy/crontab", command) for _fields, command in crontab_jobs()]
    image = dockerfile()
    scripts.append(("Dockerfile", shlex.join(json.loads(image["ENTRYPOINT"][0]) + json.loads(image["CMD"][0]))))
    blocks = re.findall(r"```(?:sh|cron)\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    scripts += [("docs/ci.md", block) for block in blocks]
    return scripts


INVOCATIONS = [(where, args) for where, script in shell_scripts() for args in invocations(script)]


def test_the_pipelines_call_validate_review_run_and_report() -> None:
    calls = {(where.split(":")[0], shlex.join(args)) for where, args in INVOCATIONS}
    for where in ("review.yml", ".gitlab-ci.yml"):
        assert any(w == where and a.startswith("validate") for w, a in calls), where
        assert any(w == where and a.startswith("review --base") for w, a in calls), where
    for where in ("scheduled.yml", ".gitlab-ci.yml", "cronjob.yaml", "deploy/crontab", "Dockerfile"):
        assert (where, "run --due --notify") in calls, where
    assert ("deploy/crontab", "report") in calls
    assert ("review.yml", "review --base 'origin/$BASE_REF' --format markdown") in calls
    assert ("review.yml", "review --base 'origin/$BASE_REF' --format github") in calls
    assert ("review.yml", "validate") in calls
    assert ("review.yml", "validate --format sarif") in calls
    assert (".gitlab-ci.yml", "validate --format gitlab") in calls


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@pytest.mark.parametrize(("where", "args"), INVOCATIONS, ids=[f"{w} | {shlex.join(a)}" for w, a in INVOCATIONS])
def test_command_line_is_accepted_by_campaign_guard(where: str, args: list[str]) -> None:
    parser = _parser()
    if args and args[0] == "review" and "review" not in subcommands(parser):
        pytest.skip("`campaign-guard review` is not implemented yet: its command lines are checked once it exists")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(args)
        except SystemExit as error:
            pytest.fail(
                f"{where}: campaign-guard {shlex.join(args)} is refused (exit {error.code}): {stderr.getvalue()}"
            )


# --- the shell steps, with a stand-in campaign-guard -----------------------------------------------

FAKE = """#!/bin/sh
# a stand-in campaign-guard: logs its arguments, prints a line (unless FAKE_SILENT) and exits with
# FAKE_EXIT_<subcommand>, else FAKE_EXIT, else 0
printf '%s|%s\\n' "$*" "${CAMPAIGN_GUARD_STATE_URL:-}" >> "$FAKE_LOG"
[ -n "${FAKE_SILENT:-}" ] || echo "## fake campaign-guard $1 report"
eval "code=\\${FAKE_EXIT_$1:-\\${FAKE_EXIT:-0}}"
exit "$code"
"""


class Fake:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.log = tmp_path / "campaign-guard.log"
        self.log.touch()
        executable = self.bin / "campaign-guard"
        executable.write_text(FAKE, encoding="utf-8")
        executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
        (self.bin / "python3").symlink_to(sys.executable)

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_GUARD_", "FAKE_", "CI_"))}
        return {**base, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(self.log), **extra}

    def calls(self) -> list[str]:
        return [line.split("|")[0] for line in self.log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    return Fake(tmp_path)


EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class GitHubRun:
    """Runs a workflow's `run` steps as the runner does: bash -eo pipefail, GITHUB_OUTPUT and co."""

    def __init__(self, fake: Fake, tmp_path: Path, context: dict[str, str]) -> None:
        self.fake, self.context = fake, context
        self.workdir, self.temp = tmp_path / "checkout", tmp_path / "runner-temp"
        self.workdir.mkdir()
        self.temp.mkdir()
        self.outputs: dict[str, dict[str, str]] = {}
        self.files = {name: self.temp / name for name in ("output", "env", "summary")}
        for path in self.files.values():
            path.touch()

    def expand(self, value: str) -> str:
        def one(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("steps."):
                _steps, step_id, _outputs, name = expression.split(".")
                return self.outputs.get(step_id, {}).get(name, "")
            if expression.startswith(("secrets.", "vars.")):
                return self.context.get(expression, "")
            return self.context[expression]

        return EXPRESSION.sub(one, str(value))

    def run(self, each: dict[str, Any], **extra: str) -> subprocess.CompletedProcess[str]:
        self.files["output"].write_text("", encoding="utf-8")
        env = self.fake.env(
            GITHUB_OUTPUT=str(self.files["output"]),
            GITHUB_ENV=str(self.files["env"]),
            GITHUB_STEP_SUMMARY=str(self.files["summary"]),
            RUNNER_TEMP=str(self.temp),
            **{name: self.expand(value) for name, value in each.get("env", {}).items()},
            **extra,
        )
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", each["run"]],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = self.files["output"].read_text(encoding="utf-8").splitlines()
        if "id" in each:
            self.outputs[each["id"]] = dict(line.split("=", 1) for line in lines)
        return result


@pytest.mark.parametrize(
    ("validate_exit", "review_exit", "passes"),
    [(0, 0, True), (0, 1, False), (1, 0, False), (0, 3, False), (0, 4, False)],
)
def test_review_workflow_keeps_the_exit_codes_for_the_comment_then_fails_on_problems(
    fake: Fake, tmp_path: Path, validate_exit: int, review_exit: int, passes: bool
) -> None:
    github = GitHubRun(fake, tmp_path, {"github.base_ref": "main"})
    codes = {"FAKE_EXIT_validate": str(validate_exit), "FAKE_EXIT_review": str(review_exit)}
    for name in ("campaign-guard validate", "campaign-guard review (annotations)", "campaign-guard review"):
        result = github.run(step(REVIEW, name), **codes)
        assert result.returncode == 0, f"{name} must not stop the job before the comment: {result.stderr}"
    assert github.outputs["validate"] == {"exit": str(validate_exit)}
    assert github.outputs["review"] == {"exit": str(review_exit)}
    assert (github.workdir / "review.md").read_text(encoding="utf-8") == "## fake campaign-guard review report\n"
    assert "fake campaign-guard review report" in github.files["summary"].read_text(encoding="utf-8")
    assert fake.calls() == [
        "validate",
        "review --base origin/main --format github",
        "review --base origin/main --format markdown",
    ]
    comment = step(REVIEW, "Post or update the review comment")
    assert "!cancelled()" in comment["if"] and "steps.review.outputs.exit != ''" in comment["if"]
    assert github.expand(comment["env"]["REVIEW_EXIT"]) == str(review_exit)
    verdict = github.run(step(REVIEW, "Verdict"))
    assert (verdict.returncode == 0) is passes, verdict.stdout + verdict.stderr
    assert f"validate exited {validate_exit}, review exited {review_exit}" in verdict.stdout


def test_review_workflow_is_scoped_and_allowed_to_comment() -> None:
    workflow = load(REVIEW)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["pull_request"]["paths"] == ["campaigns/**", "rules/**", "schemas/**"]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = workflow_steps(REVIEW)[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    setup = workflow_steps(REVIEW)[1]
    assert setup["uses"].startswith("actions/setup-python@") and setup["with"]["python-version"] == "3.11"
    comment = step(REVIEW, "Post or update the review comment")
    assert comment["uses"].startswith("actions/github-script@")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]


def test_review_workflow_uploads_the_sarif_to_code_scanning_unless_turned_off() -> None:
    workflow = load(REVIEW)
    triggers = workflow[True]
    assert triggers["push"] == {"branches": ["main"], "paths": ["campaigns/**", "rules/**", "schemas/**"]}
    assert workflow["jobs"]["review"]["if"] == "${{ github.event_name == 'pull_request' }}"
    job = workflow["jobs"]["code-scanning"]
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    # on by default: only the repository variable set to false turns it off; forks cannot upload
    assert job["if"] == (
        "${{ vars.CAMPAIGN_GUARD_CODE_SCANNING != 'false' && (github.event_name == 'push' || "
        "github.event.pull_request.head.repo.full_name == github.repository) }}"
    )
    upload = step(REVIEW, "Upload the SARIF to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"] == {"sarif_file": "campaign-guard.sarif", "category": "campaign-guard"}
    assert "> campaign-guard.sarif" in step(REVIEW, "campaign-guard validate (SARIF)")["run"]
    assert "CAMPAIGN_GUARD_CODE_SCANNING" in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("code", "silent", "succeeds"), [(0, False, True), (1, False, True), (3, True, False)])
def test_review_workflow_sarif_step_fails_only_without_a_report(
    fake: Fake, tmp_path: Path, code: int, silent: bool, succeeds: bool
) -> None:
    github = GitHubRun(fake, tmp_path, {})
    extra = {"FAKE_EXIT": str(code), **({"FAKE_SILENT": "1"} if silent else {})}
    result = github.run(step(REVIEW, "campaign-guard validate (SARIF)"), **extra)
    assert (result.returncode == 0) is succeeds, result.stdout + result.stderr
    assert f"campaign-guard validate exited {code}" in result.stdout
    assert fake.calls() == ["validate --format sarif"]
    report = (github.workdir / "campaign-guard.sarif").read_text(encoding="utf-8")
    assert report == ("" if silent else "## fake campaign-guard validate report\n")


NODE_HARNESS = r"""
const fs = require('fs');
const [script, statePath] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const calls = [];
let next = 1000;
const github = {
  paginate: async (method, params) => { calls.push(['list', method, params]); return state.comments; },
  rest: { issues: {
    listComments: 'issues.listComments',
    updateComment: async (p) => {
      calls.push(['update', p.comment_id]);
      const c = state.comments.find((c) => c.id === p.comment_id); c.body = p.body; return { data: c };
    },
    createComment: async (p) => {
      calls.push(['create', p.issue_number]);
      const c = { id: next++, user: { login: 'github-actions[bot]', type: 'Bot' }, body: p.body };
      state.comments.push(c); return { data: c };
    },
  } },
};
const context = { repo: { owner: 'crm', repo: 'rules' }, payload: { pull_request: { number: 7 } } };
const core = { info: (m) => calls.push(['info', m]) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const run = new AsyncFunction('require', 'github', 'context', 'core', fs.readFileSync(script, 'utf8'));
run(require, github, context, core)
  .then(() => console.log(JSON.stringify({ calls, comments: state.comments })))
  .catch((e) => { console.error(e); process.exit(1); });
"""


class GitHubScript:
    """The comment step's github-script code run by Node with a stand-in GitHub API."""

    def __init__(self, tmp_path: Path) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed: the github-script code of the review workflow needs it")
        self.node, self.tmp = node, tmp_path
        (tmp_path / "harness.js").write_text(NODE_HARNESS, encoding="utf-8")
        (tmp_path / "script.js").write_text(step(REVIEW, "Post or update the review comment")["with"]["script"])

    def run(self, review: str | None, comments: list[dict[str, Any]], exit_code: int = 1) -> dict[str, Any]:
        review_file = self.tmp / "review.md"
        review_file.unlink(missing_ok=True)
        if review is not None:
            review_file.write_text(review, encoding="utf-8")
        state = self.tmp / "state.json"
        state.write_text(json.dumps({"comments": comments}), encoding="utf-8")
        env = {
            **os.environ,
            "REVIEW_FILE": str(review_file),
            "REVIEW_EXIT": str(exit_code),
            "RUN_URL": "https://github.example/crm/rules/actions/runs/1",
        }
        result = subprocess.run(
            [self.node, "harness.js", "script.js", str(state)],
            cwd=self.tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))


def bot(comment_id: int, body: str) -> dict[str, Any]:
    return {"id": comment_id, "user": {"login": "github-actions[bot]", "type": "Bot"}, "body": body}


def test_review_comment_is_created_once_then_updated(tmp_path: Path) -> None:
    script = GitHubScript(tmp_path)
    first = script.run("## Review\n1 problem\n", [bot(1, "a comment of another workflow")])
    assert [c[0] for c in first["calls"] if c[0] != "info"] == ["list", "create"]
    assert first["calls"][0][1:] == [
        "issues.listComments",
        {"owner": "crm", "repo": "rules", "issue_number": 7, "per_page": 100},
    ]
    created = first["comments"][-1]
    assert created["body"] == f"{MARKER}\n## Review\n1 problem\n"

    second = script.run("## Review\nclean\n", first["comments"], exit_code=0)
    assert [c[:2] for c in second["calls"] if c[0] != "info"] == [
        ["list", "issues.listComments"],
        ["update", created["id"]],
    ]
    assert len(second["comments"]) == 2
    assert second["comments"][-1]["body"] == f"{MARKER}\n## Review\nclean\n"
    assert second["comments"][0]["body"] == "a comment of another workflow"


def test_review_comment_of_a_person_quoting_the_marker_is_left_alone(tmp_path: Path) -> None:
    script = GitHubScript(tmp_path)
    person = {"id": 5, "user": {"login": "marketer", "type": "User"}, "body": f"quoting {MARKER}"}
    result = script.run("## Review\n", [person])
    assert [c[0] for c in result["calls"] if c[0] != "info"] == ["list", "create"]
    assert result["comments"][0] == person


def test_review_comment_without_a_report_names_the_exit_code_and_a_long_one_is_cut(tmp_path: Path) -> None:
    script = GitHubScript(tmp_path)
    empty = script.run(None, [], exit_code=3)["comments"][0]["body"]
    assert empty.startswith(MARKER)
    assert "produced no report (exit 3)" in empty and "actions/runs/1" in empty
    long = script.run("x" * 100_000, [])["comments"][0]["body"]
    assert long.startswith(MARKER) and len(long) <= 65_536 and "cut at 65000 characters" in long


@pytest.mark.parametrize(
    ("state_url", "accepted"),
    [
        ("postgresql+psycopg://campaign_guard:pw@db/campaign_guard", True),
        ("", False),
        ("sqlite:///.campaign-guard/state.db", False),
    ],
)
def test_scheduled_workflow_requires_a_persistent_postgresql_state_store(
    fake: Fake, tmp_path: Path, state_url: str, accepted: bool
) -> None:
    github = GitHubRun(fake, tmp_path, {"secrets.CAMPAIGN_GUARD_STATE_URL": state_url})
    job_env = {name: github.expand(value) for name, value in load(SCHEDULED)["jobs"]["run"]["env"].items()}
    result = github.run(step(SCHEDULED, "Require a persistent state store"), **job_env)
    assert (result.returncode == 0) is accepted, result.stdout
    if not accepted:
        assert result.returncode == 3 and "PostgreSQL" in result.stdout


@pytest.mark.parametrize("pem", ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", ""])
def test_scheduled_workflow_writes_the_smtp_ca_to_a_file(fake: Fake, tmp_path: Path, pem: str) -> None:
    github = GitHubRun(fake, tmp_path, {"secrets.CAMPAIGN_GUARD_SMTP_CA_PEM": pem})
    result = github.run(step(SCHEDULED, "SMTP CA certificate"))
    assert result.returncode == 0, result.stderr
    exported = github.files["env"].read_text(encoding="utf-8")
    if pem:
        cafile = github.temp / "smtp-ca.pem"
        assert exported == f"CAMPAIGN_GUARD_SMTP_CAFILE={cafile}\n"
        assert cafile.read_text(encoding="utf-8") == pem + "\n"
    else:
        assert exported == ""


@pytest.mark.parametrize(("code", "succeeds"), [(0, True), (1, True), (2, False), (3, False), (4, False)])
def test_scheduled_workflow_accepts_exit_1(fake: Fake, tmp_path: Path, code: int, succeeds: bool) -> None:
    github = GitHubRun(fake, tmp_path, {})
    result = github.run(step(SCHEDULED, "campaign-guard run --due --notify"), FAKE_EXIT=str(code))
    assert fake.calls() == ["run --due --notify"]
    assert (result.returncode == 0) is succeeds
    if not succeeds:
        assert result.returncode == code and f"exited {code}" in result.stdout


def test_scheduled_workflow_runs_one_at_a_time_every_five_minutes() -> None:
    workflow = load(SCHEDULED)
    assert workflow[True]["schedule"] == [{"cron": "*/5 * * * *"}]
    assert "workflow_dispatch" in workflow[True]
    assert workflow["concurrency"] == {"group": "campaign-guard-scheduled", "cancel-in-progress": False}
    assert workflow["permissions"] == {"contents": "read"}


# --- GitLab: the jobs' scripts and the merge request note ------------------------------------------


class FakeGitLab:
    """The notes API of one merge request, as GitLab answers it (paginated with X-Next-Page)."""

    def __init__(self, token: str = "glpat-test", user_id: int = 99) -> None:
        self.token, self.user_id = token, user_id
        self.notes: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self, method: str) -> None:
                url = urllib.parse.urlsplit(self.path)
                fake.requests.append((method, url.path))
                if self.headers.get("PRIVATE-TOKEN") != fake.token:
                    return self.reply(401, {"message": "401 Unauthorized"})
                if url.path == "/api/v4/user":
                    return self.reply(200, {"id": fake.user_id, "username": "project_42_bot"})
                base = "/api/v4/projects/42/merge_requests/7/notes"
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode()) if length else {}
                if method == "GET" and url.path == base:
                    query = urllib.parse.parse_qs(url.query)
                    page, per_page = int(query["page"][0]), int(query["per_page"][0])
                    chunk = fake.notes[(page - 1) * per_page : page * per_page]
                    more = page * per_page < len(fake.notes)
                    return self.reply(200, chunk, {"X-Next-Page": str(page + 1) if more else ""})
                if method == "POST" and url.path == base:
                    note = {"id": 5000 + len(fake.notes), "body": form["body"][0], "system": False}
                    note["author"] = {"id": fake.user_id}
                    fake.notes.append(note)
                    return self.reply(201, note)
                if method == "PUT" and url.path.startswith(base + "/"):
                    note_id = int(url.path.rsplit("/", 1)[1])
                    note = next(n for n in fake.notes if n["id"] == note_id)
                    note["body"] = form["body"][0]
                    return self.reply(200, note)
                return self.reply(404, {"message": "404 Not Found"})

            def do_GET(self) -> None:
                self.handle_one("GET")

            def do_POST(self) -> None:
                self.handle_one("POST")

            def do_PUT(self) -> None:
                self.handle_one("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"

    def env(self) -> dict[str, str]:
        return {
            "CAMPAIGN_GUARD_GITLAB_TOKEN": self.token,
            "CI_API_V4_URL": self.url,
            "CI_PROJECT_ID": "41",  # the fork's project: the note goes to the merge request's
            "CI_MERGE_REQUEST_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": "0123abcd",
            "CI_JOB_URL": "https://gitlab.example/crm/rules/-/jobs/1",
        }

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    api = FakeGitLab()
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


def gitlab_job_script(name: str) -> str:
    return "\n".join(load(GITLAB)[name]["script"])


def run_gitlab_job(name: str, fake: Fake, workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The job's script as the runner executes it (bash, errexit and pipefail); deploy/ beside it."""
    (workdir / "deploy").mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTE_SCRIPT, workdir / "deploy" / NOTE_SCRIPT.name)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", gitlab_job_script(name)],
        cwd=workdir,
        env=fake.env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gitlab_review_job_posts_one_note_and_updates_it(fake: Fake, tmp_path: Path, gitlab: FakeGitLab) -> None:
    first = run_gitlab_job("campaign-guard-review", fake, tmp_path, FAKE_EXIT_review="1", **gitlab.env())
    assert first.returncode == 1, first.stdout + first.stderr
    assert "validate exited 0, review exited 1" in first.stdout
    assert fake.calls() == ["validate", "review --base 0123abcd --format markdown"]
    assert gitlab.writes() == [("POST", "/api/v4/projects/42/merge_requests/7/notes")]
    assert gitlab.notes[0]["body"] == f"{MARKER}\n## fake campaign-guard review report\n"

    second = run_gitlab_job(
        "campaign-guard-review", fake, tmp_path, FAKE_SILENT="1", FAKE_EXIT_review="3", **gitlab.env()
    )
    assert second.returncode == 1
    assert len(gitlab.notes) == 1
    assert gitlab.writes()[-1] == ("PUT", f"/api/v4/projects/42/merge_requests/7/notes/{gitlab.notes[0]['id']}")
    assert "produced no report (exit 3)" in gitlab.notes[0]["body"] and "/-/jobs/1" in gitlab.notes[0]["body"]

    # a merged results pipeline: the base is the target branch's commit the changes were merged onto
    merged = {**gitlab.env(), "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "4567cdef"}
    third = run_gitlab_job("campaign-guard-review", fake, tmp_path, **merged)
    assert third.returncode == 0, third.stdout + third.stderr
    assert fake.calls()[-1] == "review --base 4567cdef --format markdown"
    assert len(gitlab.notes) == 1 and "fake campaign-guard review report" in gitlab.notes[0]["body"]


def test_gitlab_review_job_without_a_token_still_reviews(fake: Fake, tmp_path: Path, gitlab: FakeGitLab) -> None:
    env = {**gitlab.env(), "CAMPAIGN_GUARD_GITLAB_TOKEN": ""}
    result = run_gitlab_job("campaign-guard-review", fake, tmp_path, FAKE_EXIT_validate="1", **env)
    assert result.returncode == 1
    assert "CAMPAIGN_GUARD_GITLAB_TOKEN is not set" in result.stderr
    assert gitlab.requests == []
    assert (tmp_path / "review.md").exists()


def note_main(review: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gitlab_mr_note", NOTE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = module.main([str(review), *args], env)
    return code, out.getvalue(), err.getvalue()


def test_gitlab_note_is_found_on_a_later_page_and_only_among_the_tokens_own(tmp_path: Path, gitlab: FakeGitLab) -> None:
    gitlab.notes = [{"id": i, "body": f"note {i}", "system": False, "author": {"id": 1}} for i in range(1, 151)]
    gitlab.notes.insert(40, {"id": 900, "body": f"{MARKER}\nquoted by a person", "system": False, "author": {"id": 2}})
    gitlab.notes.insert(120, {"id": 901, "body": f"{MARKER}\nold review", "system": False, "author": {"id": 99}})
    gitlab.notes.append({"id": 902, "body": f"changed {MARKER}", "system": True, "author": {"id": 99}})
    review = tmp_path / "review.md"
    review.write_text("## new review\n", encoding="utf-8")
    code, out, err = note_main(review, gitlab.env(), "--exit-code", "0")
    assert code == 0, err
    assert "updated note 901 of merge request !7" in out
    assert gitlab.writes() == [("PUT", "/api/v4/projects/42/merge_requests/7/notes/901")]
    assert next(n for n in gitlab.notes if n["id"] == 901)["body"] == f"{MARKER}\n## new review\n"
    assert next(n for n in gitlab.notes if n["id"] == 900)["body"] == f"{MARKER}\nquoted by a person"
    assert sum(1 for r in gitlab.requests if r[1].endswith("/notes")) == 2  # two pages of 100


def test_gitlab_note_errors_are_reported(tmp_path: Path, gitlab: FakeGitLab) -> None:
    review = tmp_path / "review.md"
    review.write_text("## review\n", encoding="utf-8")
    code, _out, err = note_main(review, {**gitlab.env(), "CAMPAIGN_GUARD_GITLAB_TOKEN": "wrong"})
    assert code == 1 and "GitLab answered 401" in err
    code, _out, err = note_main(review, {**gitlab.env(), "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"})
    assert code == 1 and "could not be reached" in err
    code, _out, err = note_main(review, {"CAMPAIGN_GUARD_GITLAB_TOKEN": "t"})
    assert code == 1 and "CI_API_V4_URL" in err and "merge request pipeline" in err


@pytest.mark.parametrize(
    ("state_url", "code", "succeeds"),
    [
        ("postgresql+psycopg://cg@db/cg", 0, True),
        ("postgresql+psycopg://cg@db/cg", 1, True),
        ("postgresql+psycopg://cg@db/cg", 3, False),
        ("postgresql+psycopg://cg@db/cg", 4, False),
        ("", 0, False),
        ("sqlite:///state.db", 0, False),
    ],
)
def test_gitlab_scheduled_job(fake: Fake, tmp_path: Path, state_url: str, code: int, succeeds: bool) -> None:
    result = run_gitlab_job(
        "campaign-guard-run", fake, tmp_path, CAMPAIGN_GUARD_STATE_URL=state_url, FAKE_EXIT=str(code)
    )
    assert (result.returncode == 0) is succeeds, result.stdout + result.stderr
    if state_url.startswith("postgresql"):
        assert fake.calls() == ["run --due --notify"]
        assert f"exited {code}" in result.stdout
    else:
        assert fake.calls() == [] and result.returncode == 3 and "PostgreSQL" in result.stdout


@pytest.mark.parametrize(("code", "silent", "succeeds"), [(0, False, True), (1, False, True), (3, True, False)])
def test_gitlab_code_quality_job_writes_the_report(
    fake: Fake, tmp_path: Path, code: int, silent: bool, succeeds: bool
) -> None:
    extra = {"FAKE_EXIT": str(code), **({"FAKE_SILENT": "1"} if silent else {})}
    result = run_gitlab_job("campaign-guard-code-quality", fake, tmp_path, **extra)
    assert (result.returncode == 0) is succeeds, result.stdout + result.stderr
    assert f"campaign-guard validate exited {code}" in result.stdout
    assert fake.calls() == ["validate --format gitlab"]
    assert (tmp_path / "gl-code-quality-report.json").exists()


def test_gitlab_code_quality_runs_on_merge_requests_and_the_default_branch_unless_turned_off() -> None:
    pipeline = load(GITLAB)
    default_branch = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
    assert {"if": default_branch} in pipeline["workflow"]["rules"]
    job = pipeline["campaign-guard-code-quality"]
    assert job["rules"][0] == {"if": '$CAMPAIGN_GUARD_CODE_QUALITY == "false"', "when": "never"}
    assert job["rules"][1]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert job["rules"][2] == {"if": default_branch}
    assert job["artifacts"] == {"when": "always", "reports": {"codequality": "gl-code-quality-report.json"}}
    # the other jobs do not run on a push to the default branch
    for name in ("campaign-guard-review", "campaign-guard-run"):
        assert all("push" not in rule.get("if", "") for rule in pipeline[name]["rules"]), name


def test_gitlab_jobs_use_the_slim_image_and_do_not_overlap() -> None:
    pipeline = load(GITLAB)
    assert pipeline["default"]["image"] == "python:3.11-slim"
    run = pipeline["campaign-guard-run"]
    assert run["resource_group"] and run["interruptible"] is False
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in run["rules"]
    review = pipeline["campaign-guard-review"]
    assert review["variables"]["GIT_DEPTH"] == "0"
    assert review["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert review["rules"][0]["changes"] == ["campaigns/**/*", "rules/**/*", "schemas/**/*"]


# --- Kubernetes and cron: the exit-code wrappers ------------------------------------------------------


@pytest.mark.parametrize(("code", "succeeds"), [(0, True), (1, True), (2, False), (3, False), (4, False)])
def test_cronjob_container_succeeds_while_problems_are_open(fake: Fake, code: int, succeeds: bool) -> None:
    container = cronjob_container()
    assert container["command"] == ["/bin/sh", "-c"]
    result = subprocess.run(
        ["/bin/sh", "-c", container["args"][0]], env=fake.env(FAKE_EXIT=str(code)), capture_output=True, text=True
    )
    assert (result.returncode == 0) is succeeds
    assert f"exited {code}" in result.stdout
    assert fake.calls() == ["run --due --notify"]


def test_crontab_lines_are_five_valid_fields_and_a_command() -> None:
    text = CRONTAB.read_text(encoding="utf-8")
    assert re.search(r"^SHELL=/bin/sh$", text, re.MULTILINE)
    jobs = crontab_jobs()
    assert [fields for fields, _command in jobs] == [["*/5", "*", "*", "*", "*"], ["5", "*", "*", "*", "*"]]
    for fields, command in jobs:
        assert croniter.is_valid(" ".join(fields))
        assert "%" not in command, "cron turns % into a newline"
        shlex.split(command)  # balanced quotes
    assert "flock -n" in jobs[0][1] and ">> /var/log/campaign-guard/run.log 2>&1" in jobs[0][1]
    assert "campaign-guard report" in jobs[1][1] and "| mail -s" in jobs[1][1]


class Cron:
    """deploy/crontab's commands with its paths moved into a temporary directory."""

    def __init__(self, fake: Fake, tmp_path: Path) -> None:
        self.fake, self.tmp = fake, tmp_path
        self.repo, self.logs, self.lock = tmp_path / "srv", tmp_path / "log", tmp_path / "campaign-guard.lock"
        self.repo.mkdir()
        self.logs.mkdir()
        self.envfile = tmp_path / "env"
        self.envfile.write_text("export CAMPAIGN_GUARD_STATE_URL='postgresql+psycopg://cg@db/cg'\n", encoding="utf-8")
        mail = fake.bin / "mail"
        mail.write_text(f'#!/bin/sh\n{{ printf "%s\\n" "$*"; cat; }} > {tmp_path / "mail.out"}\n', encoding="utf-8")
        mail.chmod(0o755)

    def command(self, index: int) -> str:
        command = crontab_jobs()[index][1]
        for old, new in (
            ("/srv/crm-rules", self.repo),
            ("/etc/campaign-guard/env", self.envfile),
            ("/var/log/campaign-guard", self.logs),
            ("/tmp/campaign-guard.lock", self.lock),
        ):
            assert old in command or index == 1
            command = command.replace(old, str(new))
        return command

    def run(self, index: int, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", "-c", self.command(index)], env=self.fake.env(**env), capture_output=True, text=True, timeout=60
        )


@pytest.mark.parametrize(("code", "mailed"), [(0, False), (1, False), (3, True), (4, True)])
def test_crontab_run_logs_everything_and_prints_only_failures(
    fake: Fake, tmp_path: Path, code: int, mailed: bool
) -> None:
    if shutil.which("flock") is None:
        pytest.skip("flock (util-linux) is not installed")
    cron = Cron(fake, tmp_path)
    result = cron.run(0, FAKE_EXIT=str(code))
    assert (result.stdout != "") is mailed, "cron mails what a job prints: only failures"
    if mailed:
        assert "failed: see" in result.stdout
    assert fake.log.read_text(encoding="utf-8") == "run --due --notify|postgresql+psycopg://cg@db/cg\n"
    log = (cron.logs / "run.log").read_text(encoding="utf-8")
    assert "fake campaign-guard run report" in log and f"exit {code}" in log


def test_crontab_run_is_skipped_quietly_while_the_previous_one_holds_the_lock(fake: Fake, tmp_path: Path) -> None:
    if shutil.which("flock") is None:
        pytest.skip("flock (util-linux) is not installed")
    cron = Cron(fake, tmp_path)
    with cron.lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = cron.run(0, FAKE_EXIT="4")
    assert (result.returncode, result.stdout) == (0, "")
    assert fake.calls() == []


def test_crontab_mails_the_hourly_report(fake: Fake, tmp_path: Path) -> None:
    cron = Cron(fake, tmp_path)
    result = cron.run(1)
    assert result.returncode == 0, result.stderr
    mail = (tmp_path / "mail.out").read_text(encoding="utf-8").splitlines()
    assert mail[0] == "-s campaign-guard: the last hour crm-marketing@example.com"
    assert mail[1:] == ["## fake campaign-guard report report"]
    assert fake.calls() == ["report"]


def test_readme_points_to_the_deploy_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme.index("## Deploy")
    assert deploy < readme.index("## Development")
    assert "docs/ci.md" in readme[deploy : readme.index("## Development")]
