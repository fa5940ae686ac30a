"""Where a check's documentation is, for reports read outside the terminal (SARIF helpUri).

A check id is an anchor of docs/checks.md (`docs/checks.md#template.missing`). The page is found in
this order (docs/ci.md, "SARIF"):

1. CAMPAIGN_GUARD_DOCS_URL: the URL of a docs/ folder, for example a tag of the repository on its
   forge (`https://github.com/acme/crm-rules/blob/v1.4/docs`);
2. the repository's own docs/checks.md at the commit being analysed, when a CI job names the
   repository: GitHub Actions (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_SHA) or GitLab CI
   (CI_PROJECT_URL, CI_COMMIT_SHA);
3. the repository's docs/checks.md on this machine, as a file: URI;
4. none: a repository without docs/checks.md (`campaign-guard docs` writes it) gets no link.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

DOCS_URL_VARIABLE = "CAMPAIGN_GUARD_DOCS_URL"
CHECKS_PAGE = "docs/checks.md"


def quote_path(rel: str) -> str:
    """A repository-relative POSIX path as a URI reference: spaces, Cyrillic, % and # percent-encoded."""
    return urllib.parse.quote(rel, safe="/")


def checks_page(root: Path, environ: Mapping[str, str]) -> str | None:
    """The absolute URL of docs/checks.md, or None when no copy of it is known."""
    explicit = environ.get(DOCS_URL_VARIABLE, "").strip()
    if explicit:
        return explicit.rstrip("/") + "/checks.md"
    local = root / CHECKS_PAGE
    if not local.is_file():
        return None
    github = [environ.get(name, "") for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")]
    inside = _inside(root, environ.get("GITHUB_WORKSPACE", ""))
    if all(github) and inside is not None:
        server, repository, sha = github
        return f"{server.rstrip('/')}/{repository}/blob/{sha}/{quote_path(inside + CHECKS_PAGE)}"
    gitlab = [environ.get(name, "") for name in ("CI_PROJECT_URL", "CI_COMMIT_SHA")]
    inside = _inside(root, environ.get("CI_PROJECT_DIR", ""))
    if all(gitlab) and inside is not None:
        project, sha = gitlab
        return f"{project.rstrip('/')}/-/blob/{sha}/{quote_path(inside + CHECKS_PAGE)}"
    return local.resolve().as_uri()


def check_anchor(page: str, check_id: str) -> str:
    return f"{page}#{urllib.parse.quote(check_id, safe='')}"


def _inside(root: Path, checkout: str) -> str | None:
    """root relative to a CI checkout, as a path prefix ("" or "crm/"); None when it is not inside."""
    if not checkout:
        return None
    try:
        rel = root.resolve().relative_to(Path(checkout).resolve())
    except ValueError:
        return None
    prefix = PurePosixPath(rel.as_posix()).as_posix()
    return "" if prefix == "." else prefix + "/"
