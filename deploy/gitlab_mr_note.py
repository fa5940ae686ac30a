#!/usr/bin/env python3
"""Post the campaign-guard review as ONE note of a GitLab merge request, updated on every push.

    python3 deploy/gitlab_mr_note.py review.md --exit-code "$review"

Run by the campaign-guard-review job of .gitlab-ci.yml in a merge request pipeline. The note is
found by its hidden marker (<!-- campaign-guard-review -->) among the notes written by the token's
own user and updated; when there is none, it is created. Environment:

  CAMPAIGN_GUARD_GITLAB_TOKEN  a project access token (role Reporter, scope api); unset: the note is
                               skipped with a warning (exit 0), the review stays in the job log
  CI_API_V4_URL, CI_MERGE_REQUEST_PROJECT_ID (or CI_PROJECT_ID), CI_MERGE_REQUEST_IID, CI_JOB_URL
                               set by GitLab in merge request pipelines

Exit 0 when the note was posted or skipped, 1 when GitLab refused or could not be reached.
Standard library only, so it runs in python:3.11-slim as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MARKER = "<!-- campaign-guard-review -->"
TOKEN_VARIABLE = "CAMPAIGN_GUARD_GITLAB_TOKEN"
LIMIT = 1_000_000  # GitLab refuses notes longer than 1,000,000 characters
TIMEOUT = 30


def compose(review: str, exit_code: int | None, job_url: str | None) -> str:
    """The note's body: the marker, then the review (or why there is none), cut to GitLab's limit."""
    where = f"see the job log: {job_url}" if job_url else "see the job log"
    if not review.strip():
        review = f"campaign-guard review produced no report (exit {exit_code}); {where}"
    body = f"{MARKER}\n{review}"
    if len(body) > LIMIT:
        tail = f"\n\n... cut at {LIMIT} characters; the whole review is in the job's artifacts, {where}"
        body = body[: LIMIT - len(tail)] + tail
    return body


class GitLab:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> tuple[Any, Mapping[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(f"{self.api_url}{path}", data=body, method=method)
        request.add_header("PRIVATE-TOKEN", self.token)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"null"), response.headers

    def notes(self, project: str, iid: str) -> list[dict[str, Any]]:
        """Every note of the merge request, following GitLab's pagination."""
        found: list[dict[str, Any]] = []
        page = "1"
        while page:
            query = urllib.parse.urlencode({"per_page": 100, "page": page, "sort": "asc", "order_by": "created_at"})
            batch, headers = self.request("GET", f"{_mr_path(project, iid)}/notes?{query}")
            found.extend(batch)
            page = headers.get("X-Next-Page", "")
        return found


def _mr_path(project: str, iid: str) -> str:
    return f"/projects/{urllib.parse.quote(project, safe='')}/merge_requests/{iid}"


def upsert(gitlab: GitLab, project: str, iid: str, body: str) -> tuple[str, int]:
    """Update the note with the marker written by the token's user, or create one: (action, note id)."""
    try:
        me, _ = gitlab.request("GET", "/user")
        author_id = me.get("id")
    except urllib.error.HTTPError:
        author_id = None  # a token that may not read its user: match the marker alone
    for note in gitlab.notes(project, iid):
        if note.get("system") or MARKER not in (note.get("body") or ""):
            continue
        if author_id is not None and (note.get("author") or {}).get("id") != author_id:
            continue
        gitlab.request("PUT", f"{_mr_path(project, iid)}/notes/{note['id']}", {"body": body})
        return "updated", int(note["id"])
    created, _ = gitlab.request("POST", f"{_mr_path(project, iid)}/notes", {"body": body})
    return "created", int(created["id"])


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("review", type=Path, help="the review in Markdown (campaign-guard review --format markdown)")
    parser.add_argument("--exit-code", type=int, default=None, help="review's exit code, named when it wrote nothing")
    args = parser.parse_args(argv)

    token = env.get(TOKEN_VARIABLE)
    if not token:
        print(
            f"warning: {TOKEN_VARIABLE} is not set (or not available to this pipeline): the review is not posted "
            "to the merge request; it is in the job log and artifacts",
            file=sys.stderr,
        )
        return 0
    missing = [name for name in ("CI_API_V4_URL", "CI_MERGE_REQUEST_IID") if not env.get(name)]
    project = env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID")
    if not project:
        missing.append("CI_MERGE_REQUEST_PROJECT_ID")
    if missing:
        print(f"error: {', '.join(missing)} not set: run this in a GitLab merge request pipeline", file=sys.stderr)
        return 1

    review = args.review.read_text(encoding="utf-8") if args.review.exists() else ""
    body = compose(review, args.exit_code, env.get("CI_JOB_URL"))
    gitlab = GitLab(env["CI_API_V4_URL"], token)
    try:
        action, note_id = upsert(gitlab, project, env["CI_MERGE_REQUEST_IID"], body)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        print(f"error: GitLab answered {error.code} {error.reason} to {error.url}: {detail}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"error: GitLab at {env['CI_API_V4_URL']} could not be reached: {error}", file=sys.stderr)
        return 1
    print(f"campaign-guard review: {action} note {note_id} of merge request !{env['CI_MERGE_REQUEST_IID']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
