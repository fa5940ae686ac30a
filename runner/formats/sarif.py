"""SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, editors' SARIF viewers)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner import __version__
from runner.catalogue import catalogue
from runner.findings import ANNOTATION_LEVEL, Finding
from runner.formats.fingerprints import fingerprints
from runner.formats.links import check_anchor, quote_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "campaignGuard/v1"  # the partialFingerprints key: rule, file and message, no line


def render(findings: Sequence[Finding], *, checks_page: str | None = None) -> str:
    """checks_page: the absolute URL of docs/checks.md (runner.formats.links), the rules' helpUri."""
    infos = catalogue()
    index = {info.id: position for position, info in enumerate(infos)}
    rules = []
    for info in infos:
        rule: dict[str, object] = {
            "id": info.id,
            "shortDescription": {"text": info.summary},
            "fullDescription": {"text": f"{info.summary} How to fix: {info.fix}"},
            "help": {"text": info.fix},
            "defaultConfiguration": {"level": ANNOTATION_LEVEL[info.severity]},
            "properties": {"localization": info.localization, "severity": info.severity.value},
        }
        if checks_page is not None:
            rule["helpUri"] = check_anchor(checks_page, info.id)
        rules.append(rule)
    results = []
    for finding, fingerprint in zip(findings, fingerprints(findings), strict=True):
        result: dict[str, object] = {"ruleId": finding.check_id}
        if finding.check_id in index:  # a finding of a check outside the catalogue still has a rule id
            result["ruleIndex"] = index[finding.check_id]
        result |= {
            "level": ANNOTATION_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": quote_path(finding.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": finding.line, "startColumn": finding.column},
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT: fingerprint},
        }
        results.append(result)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "campaign-guard", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"
