"""Command line: parse arguments, dispatch, map the one user-facing error to its exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from runner import __version__
from runner.errors import ExitCode, UsageError


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time such as 2026-11-22T10:00+03:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaign-guard",
        description="Keep CRM marketing campaigns safe: validate, check and monitor them as code.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 warnings only (--strict), "
        "3 configuration or usage error, 4 a data source or the state store could not be reached.",
    )
    parser.add_argument("--version", action="version", version=f"campaign-guard {__version__}")
    parser.add_argument(
        "--root", type=Path, default=Path("."), help="the configuration repository (default: the current directory)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="validate configuration files (pre-commit, CI)",
        description="Validate configuration files against their schemas and the "
        "static checks. Without paths, the whole repository.",
    )
    validate.add_argument("paths", nargs="*", help="files to validate, checked against the whole repository")
    validate.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="output format (default: text)",
    )
    validate.add_argument("--strict", action="store_true", help="exit 2 when there are warnings but no problems")
    validate.add_argument(
        "--jobs",
        type=int,
        default=min(os.cpu_count() or 1, 8),
        metavar="N",
        help="worker processes for large repositories (default: the number of CPUs, at most 8)",
    )
    validate.add_argument(
        "--now",
        type=_moment,
        default=None,
        metavar="ISO",
        help="evaluate time-dependent checks as of this moment (default: now)",
    )

    check = commands.add_parser(
        "check",
        help="run the launch gate of one campaign against its data (the SAP 'Check' button)",
        description="Evaluate every launch-gate check of CAMPAIGN against its source and print each "
        "with its observed value, expected bound and verdict. Exit 1 when a problem-level check fails.",
    )
    check.add_argument("campaign", help="campaign id")
    _result_options(check)

    run = commands.add_parser(
        "run",
        help="evaluate monitoring checks and the launch gates of campaigns due today",
        description="Evaluate the built-in monitoring checks, the repository's own checks "
        "(rules/functional_checks.yaml, rules/checks/*.yaml) and the launch gates of campaigns due today.",
    )
    run.add_argument(
        "--check",
        dest="checks",
        action="append",
        default=[],
        metavar="ID",
        help="evaluate only checks whose id matches (a glob; repeatable)",
    )
    _result_options(run)

    demo = commands.add_parser(
        "demo",
        help="create the demo CRM database with realistic data and injected faults",
        description="Build a deterministic demo CRM following the data contract: customers, 60 days of "
        "launches, messages, bonuses, promo pools, jobs, errors, queues, transactions and webhooks, with the "
        "faults listed in docs/demo.md. Replaces an earlier demo database; refuses any other database.",
    )
    demo.add_argument(
        "--url", default=None, help="SQLAlchemy URL to build in (default: the demo source of rules/sources.yaml)"
    )
    demo.add_argument(
        "--scale", type=float, default=1.0, metavar="N", help="size: 1 = about a million messages (default), 10 = ten"
    )
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    demo.add_argument(
        "--now", type=_moment, default=None, metavar="ISO", help="build the data as of this moment (default: now)"
    )

    docs = commands.add_parser(
        "docs",
        help="generate the reference documentation in docs/",
        description="Write docs/checks.md and docs/configuration.md from the check catalogue and the schemas.",
    )
    docs.add_argument("--check", action="store_true", help="do not write; exit 1 when the docs are stale")
    docs.add_argument("--output", type=Path, default=None, help="directory to write to (default: ROOT/docs)")
    return parser


def _result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", dest="output_format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when there are warnings but no problems")
    parser.add_argument(
        "--now", type=_moment, default=None, metavar="ISO", help="evaluate as of this moment (default: now)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    now = getattr(args, "now", None) or datetime.now(UTC)  # every command that reads the clock takes --now
    try:
        if args.command == "validate":
            from runner.commands import validate

            return validate.run(
                args.root, args.paths, output_format=args.output_format, strict=args.strict, now=now, jobs=args.jobs
            )
        if args.command == "check":
            from runner.commands import check

            return check.run(args.root, args.campaign, output_format=args.output_format, strict=args.strict, now=now)
        if args.command == "run":
            from runner.commands import run

            return run.run(args.root, args.checks, output_format=args.output_format, strict=args.strict, now=now)
        if args.command == "demo":
            from runner.commands import demo

            return demo.run(args.root, url=args.url, scale=args.scale, seed=args.seed, now=now)
        if args.command == "docs":
            from runner.commands import docs

            return docs.run(args.root, output=args.output, check=args.check)
        parser.error(f"unknown command {args.command!r}")
    except UsageError as exc:
        print(f"campaign-guard: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("campaign-guard: interrupted", file=sys.stderr)
        return 130
    return ExitCode.OK
