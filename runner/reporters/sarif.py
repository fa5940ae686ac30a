"""SARIF 2.1.0, for code-scanning dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner import __version__
from runner.catalogue import catalogue
from runner.findings import ANNOTATION_LEVEL, Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def render(findings: Sequence[Finding]) -> str:
    infos = catalogue()
    index = {info.id: position for position, info in enumerate(infos)}
    rules = [
        {
            "id": info.id,
            "shortDescription": {"text": info.summary},
            "help": {"text": info.fix},
            "defaultConfiguration": {"level": ANNOTATION_LEVEL[info.severity]},
            "properties": {"localization": info.localization, "severity": info.severity.value},
        }
        for info in infos
    ]
    results = [
        {
            "ruleId": f.check_id,
            "ruleIndex": index[f.check_id],
            "level": ANNOTATION_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
        }
        for f in findings
    ]
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
