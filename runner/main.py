"""Command line: parse arguments, dispatch, map the one user-facing error to its exit code."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from runner import __version__, masking
from runner.deadlines import NOTIFY_DEADLINE, RUN_DEADLINE
from runner.durations import parse_duration
from runner.errors import ExitCode, UsageError
from runner.root import NotARepository, find_root

CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program whose reader went away (`| head`)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time such as 2026-11-22T10:00+03:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


class _Parser(argparse.ArgumentParser):
    """Every command's parser: --root before or after the command, and a usage error exits 3 as documented."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--root",
            type=Path,
            default=argparse.SUPPRESS,  # given after the command, it is not overwritten by a default before it
            help="the configuration repository (default: found upwards from the current directory, like git)",
        )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.CONFIG_ERROR, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="campaign-guard",
        description="Keep CRM marketing campaigns safe: validate, check and monitor them as code.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 warnings only (--strict), "
        "3 configuration or usage error, 4 a data source or the state store could not be reached.",
    )
    parser.add_argument("--version", action="version", version=f"campaign-guard {__version__}")
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
        choices=("text", "json", "github", "sarif", "gitlab"),
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

    dry_run = commands.add_parser(
        "dry-run",
        help="today's launch figures of one campaign and its launch gate, launching nothing (the SAP test contour)",
        description="Evaluate CAMPAIGN against its source for its current day: audience per element, messages per "
        "channel, bonus total and per client, customers the launch would exclude and why; then run the launch "
        "gate. Writes nothing unless --record. Exit codes as `check`.",
    )
    dry_run.add_argument("campaign", help="campaign id")
    dry_run.add_argument(
        "--record", action="store_true", help="keep the figures as a test launch (mode test) in the state store"
    )
    _result_options(dry_run)

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
    selection = run.add_mutually_exclusive_group()
    selection.add_argument(
        "--due",
        action="store_true",
        help="evaluate only the schedules of rules/schedules.yaml that fired since their last evaluation "
        "(run it from cron every 5 minutes)",
    )
    selection.add_argument("--schedule", metavar="NAME", help="evaluate the checks of one schedule now")
    run.add_argument(
        "--notify", action="store_true", help="then send what subscriptions are due, as `campaign-guard notify` does"
    )
    run.add_argument(
        "--deadline",
        type=_seconds,
        default=RUN_DEADLINE,
        metavar="SECONDS",
        help=f"checks not evaluated after this long (default {RUN_DEADLINE:g}) are error results; "
        "with --due their schedules stay due",
    )
    _result_options(run)

    _problems_parser(commands)
    _outbound_parser(commands)
    _report_parser(commands)
    _notify_parsers(commands)
    _review_parser(commands)
    _sources_parser(commands)

    test = commands.add_parser(
        "test",
        help="run the rule unit tests of rules/tests/*.yaml (like promtool test rules)",
        description="Evaluate each rule test against a fresh SQLite database holding only its fixture rows "
        "and compare the problems found with those it expects. Exit 1 when a test fails or errors.",
    )
    test.add_argument("names", nargs="*", metavar="NAME", help="run only the tests whose name matches (a glob)")
    test.add_argument(
        "--format", dest="output_format", choices=("text", "json"), default="text", help="output format (default: text)"
    )

    demo = commands.add_parser(
        "demo",
        help="create the demo CRM database with realistic data and injected faults",
        description="Build a deterministic demo CRM following the data contract: customers, 60 days of "
        "launches, messages, bonuses, promo pools, jobs, errors, queues, transactions and webhooks, with the "
        "faults listed by `campaign-guard docs demo`. Replaces an earlier demo database; refuses any other database.",
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
        help="show the documentation of a check or a page; without TOPIC, generate the reference docs in docs/",
        description="With TOPIC: print the documentation of a check id (template.missing) or a page (checks, "
        "configuration, sources, ci, ...) of the installed version. Without TOPIC: write docs/checks.md, "
        "docs/configuration.md and docs/demo.md from the check catalogue and the schemas.",
    )
    docs.add_argument(
        "topic", nargs="?", metavar="TOPIC", help="a check id or a page name (an unknown one lists the pages)"
    )
    docs.add_argument(
        "--open", action="store_true", help="open the installed page in a browser (default TOPIC: checks)"
    )
    docs.add_argument("--check", action="store_true", help="do not write; exit 1 when the docs are stale")
    docs.add_argument("--output", type=Path, default=None, help="directory to write to (default: ROOT/docs)")

    init = commands.add_parser(
        "init",
        help="start a new rules repository: an example campaign and template, rules, pre-commit and CI",
        description="Write a new rules repository into DIR that validates clean: campaigns/ with an example "
        "campaign and template, rules/ on the embedded SQLite demo source, .pre-commit-config.yaml, the GitHub "
        "and GitLab CI pipelines, requirements.txt and .gitignore. Overwrites nothing without --force; an "
        "existing campaign-guard repository is refused.",
    )
    init.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR", help="default: .")
    init.add_argument("--force", action="store_true", help="replace files of the same names")
    return parser


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _problems_parser(commands: Any) -> None:
    problems = commands.add_parser(
        "problems",
        help="list, show, acknowledge, mute and resolve the problems in the state store",
        description="The Problems page on the command line. The store is CAMPAIGN_GUARD_STATE_URL or "
        ".campaign-guard/state.db of the repository.",
    )
    actions = problems.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="problems matching filters: problems first, newest first", description="Filters combine with AND."
    )
    listing.add_argument(
        "--status",
        action="append",
        default=[],
        choices=("open", "acknowledged", "muted", "resolved", "all"),
        help="repeatable (default: open, acknowledged and muted)",
    )
    listing.add_argument("--severity", action="append", default=[], choices=("problem", "warning"))
    listing.add_argument("--localization", action="append", default=[], metavar="L", help="repeatable")
    listing.add_argument("--campaign", action="append", default=[], metavar="GLOB", help="campaign id (glob)")
    listing.add_argument("--owner", action="append", default=[], metavar="TEAM")
    listing.add_argument("--check", action="append", default=[], metavar="GLOB", help="check id (glob)")
    listing.add_argument("--since", type=_duration, metavar="AGE", help="first seen within AGE (2h, 1d)")
    listing.add_argument("--older-than", type=_duration, metavar="AGE", help="first seen more than AGE ago (7d)")
    listing.add_argument("--min-occurrences", type=int, default=0, metavar="N", help="occurred at least N times")
    listing.add_argument("--min-regressions", type=int, default=0, metavar="N", help="reopened at least N times")
    listing.add_argument("--limit", type=int, default=200, metavar="N", help="at most N problems (0: all; default 200)")
    listing.add_argument("--format", dest="output_format", choices=("text", "json", "csv"), default="text")
    listing.add_argument("--now", type=_moment, default=None, metavar="ISO", help="ages as of this moment")
    _tz_option(listing)

    show = actions.add_parser("show", help="the whole card of one problem, with its events")
    show.add_argument("fingerprint", help="the fingerprint, or its first characters")
    show.add_argument("--format", dest="output_format", choices=("text", "json"), default="text")
    _tz_option(show)

    for name, help_text in (
        ("ack", "acknowledge: somebody is on it (still counted, no reminders)"),
        ("mute", "mute until a time: occurrences are still recorded"),
        ("resolve", "resolve by hand; a later failure reopens it as a regression"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("fingerprint", help="the fingerprint, or its first characters")
        action.add_argument("--by", metavar="NAME", help="who (default: CAMPAIGN_GUARD_USER or the login name)")
        action.add_argument("--note", metavar="TEXT", help="why")
        action.add_argument("--now", type=_moment, default=None, metavar="ISO", help="as of this moment")
        _tz_option(action)
        if name == "mute":
            until = action.add_mutually_exclusive_group()
            until.add_argument("--until", type=_moment, metavar="ISO", help="mute until this moment")
            until.add_argument("--for", dest="for_", type=_duration, metavar="DURATION", help="mute this long (2h)")


def _report_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="the hourly operational report, or a slice of opened problems per day or week",
        description="Without --by: the hourly report of the SAP article (new errors, functional checks, dumps, "
        "cancelled jobs, queues, integration freshness, duplicates, launches, non-released elements, open "
        "problems by localization) from the newest result of every check and subject evaluated within --since. "
        "With --by: one row per key, one column per day or ISO week, counting problems opened (and reopened).",
    )
    report.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "markdown", "html", "csv"),
        default="text",
        help="output format (default: text; csv only with --by)",
    )
    report.add_argument(
        "--since",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="the window: results evaluated within it (default 1h); with --by, the span of the periods (default 30d)",
    )
    report.add_argument(
        "--by", choices=("localization", "campaign", "owner", "check"), default=None, help="a slice by this key"
    )
    report.add_argument("--period", choices=("day", "week"), default=None, help="a slice's columns (default: day)")
    report.add_argument("--now", type=_moment, default=None, metavar="ISO", help="as of this moment (default: now)")
    report.add_argument("--output", type=Path, default=None, metavar="FILE", help="write to FILE (default: stdout)")


def _notify_parsers(commands: Any) -> None:
    notify = commands.add_parser(
        "notify",
        help="send what subscriptions are due: immediate messages, digests, reminders, escalations, retries",
        description="Match new problem events against rules/subscriptions.yaml, write the due messages to the "
        "outbox in the state store, then deliver it (failed deliveries are retried with backoff). Meant for the "
        "same cron as `run --due`. Exit 4 when a delivery failed or a message was left for the next run "
        "(--deadline, an endpoint that kept failing).",
    )
    notify.add_argument("--dry-run", action="store_true", help="show what would be sent; store and send nothing")
    notify.add_argument(
        "--retry-failed", action="store_true", help="queue again the messages that failed for good, once fixed"
    )
    notify.add_argument(
        "--deadline",
        type=_seconds,
        default=NOTIFY_DEADLINE,
        metavar="SECONDS",
        help=f"stop delivering after this long (default {NOTIFY_DEADLINE:g}); the rest waits for the next run",
    )
    notify.add_argument("--format", dest="output_format", choices=("text", "json"), default="text")
    notify.add_argument("--now", type=_moment, default=None, metavar="ISO", help="as of this moment")
    _tz_option(notify)

    route = commands.add_parser(
        "route",
        help="which subscriptions a problem reaches, when and why",
        description="For a stored problem (FINGERPRINT) or one described by --check, --severity and "
        "--localization (and optionally --campaign, --owner, --subject, --occurrences): every subscription, "
        "whether it reaches the problem, through which channel, when, and the filter that says no.",
    )
    route.add_argument("fingerprint", nargs="?", help="a stored problem's fingerprint (or its first characters)")
    route.add_argument("--check", metavar="ID")
    route.add_argument("--severity", choices=("problem", "warning"))
    route.add_argument("--localization", metavar="L")
    route.add_argument("--campaign", metavar="ID")
    route.add_argument("--owner", metavar="TEAM")
    route.add_argument("--subject", metavar="TEXT")
    route.add_argument("--occurrences", type=int, default=1, metavar="N")
    route.add_argument("--format", dest="output_format", choices=("text", "json"), default="text")
    route.add_argument("--now", type=_moment, default=None, metavar="ISO", help="as of this moment")


def _outbound_parser(commands: Any) -> None:
    outbound = commands.add_parser(
        "outbound",
        help="the big red button: stop, start and show all outbound sending",
        description="stop runs the stop actions of every source, fails every launch gate and opens a "
        "system problem; start is just as explicit; status exits 1 while outbound is stopped.",
    )
    actions = outbound.add_subparsers(dest="action", required=True, metavar="ACTION")
    stop = actions.add_parser("stop", help="stop all outbound now")
    stop.add_argument("--reason", required=True, metavar="TEXT", help="why (shown to everyone)")
    start = actions.add_parser("start", help="start outbound again")
    start.add_argument("--reason", default="", metavar="TEXT", help="why it is safe again")
    for action in (stop, start):
        action.add_argument("--by", metavar="NAME", help="who (default: CAMPAIGN_GUARD_USER or the login name)")
        action.add_argument("--now", type=_moment, default=None, metavar="ISO", help="as of this moment")
    status = actions.add_parser("status", help="running or stopped (exit 1 while stopped: a gate for a CRM's sender)")
    for action in (stop, start, status):
        _tz_option(action)


def _review_parser(commands: Any) -> None:
    review = commands.add_parser(
        "review",
        help="review a change: what it does and what became riskier, for a pull-request comment",
        description="Compare two git revisions of the repository (the base read from git objects, no checkout): "
        "campaigns, templates, rules and subscriptions added, removed and changed, field by field; risk flags "
        "with reasons; validate's findings on the changed files. Exit codes as validate; a risk of severity "
        "problem exits 1. Rules of every flag: `campaign-guard docs review`.",
    )
    review.add_argument("--base", required=True, metavar="REF", help="the revision the change starts from (main)")
    review.add_argument(
        "--head", default=None, metavar="REF", help="the changed revision (default: the working tree as it is)"
    )
    review.add_argument(
        "--format",
        dest="output_format",
        choices=("markdown", "json", "github", "gitlab"),
        default="markdown",
        help="markdown (a PR comment, default), json, github annotations, or a gitlab Code Quality report",
    )
    review.add_argument("--strict", action="store_true", help="exit 2 when there are warnings but no problems")
    review.add_argument(
        "--dry-run",
        action="store_true",
        help="add the dry-run figures of every added or changed campaign, when its source answers",
    )
    review.add_argument(
        "--now", type=_moment, default=None, metavar="ISO", help="judge start dates as of this moment (default: now)"
    )


def _sources_parser(commands: Any) -> None:
    sources = commands.add_parser(
        "sources",
        help="check the mapping of rules/sources.yaml against the live sources",
        description="The data sources of rules/sources.yaml.",
    )
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="does every mapped dataset and table fit its source? (tables, columns, types, NULLs, vocabularies, "
        "indexes)",
        description="Connect to every source (or SOURCE) and check each mapped dataset and table: the table or "
        "query and its columns exist and fit the contract's types, NULLs in the columns checks need, values "
        "outside the vocabularies, and on PostgreSQL and MariaDB the indexes the shipped checks need. Every "
        "finding names its rules/sources.yaml line. Exit 0 sound (advice alone is fine), 1 errors or warnings, "
        "3 configuration error, 4 a source could not be reached.",
    )
    check.add_argument("source", nargs="?", default=None, help="the source to check (default: every source)")
    check.add_argument(
        "--format", dest="output_format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    check.add_argument(
        "--now", type=_moment, default=None, metavar="ISO", help="evaluate the checks as of this moment (default: now)"
    )


def _tz_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        default=None,
        help="show times in this IANA zone (default: CAMPAIGN_GUARD_TZ, else the system zone)",
    )


def _result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", dest="output_format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const="verbose",
        default="normal",
        help="text: every result, passes too (default: the failures and a summary)",
    )
    verbosity.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const="quiet", help="text: only the summary"
    )
    _tz_option(parser)
    parser.add_argument("--strict", action="store_true", help="exit 2 when there are warnings but no problems")
    parser.add_argument(
        "--now", type=_moment, default=None, metavar="ISO", help="evaluate as of this moment (default: now)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a closed stdout (`campaign-guard run | head -1`) ends it quietly with exit 141.

    Nothing it prints shows a secret (runner.masking), not even a traceback.
    """
    sys.excepthook = masking.excepthook
    try:
        try:
            with masking.masked_output():
                return _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not as a traceback when Python exits
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # what is still buffered goes nowhere: exit cannot fail
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    searched = "root" not in vars(args)  # no --root: the repository is found upwards, like git
    args.root = (find_root(Path(".")) or Path(".")) if searched else args.root
    now = getattr(args, "now", None) or datetime.now(UTC)  # every command that reads the clock takes --now
    try:
        if args.command == "validate":
            from runner.commands import validate

            return validate.run(
                args.root, args.paths, output_format=args.output_format, strict=args.strict, now=now, jobs=args.jobs
            )
        if args.command == "check":
            from runner.commands import check

            return check.run(
                args.root,
                args.campaign,
                output_format=args.output_format,
                strict=args.strict,
                now=now,
                verbosity=args.verbosity,
                tz=args.tz,
            )
        if args.command == "dry-run":
            from runner.commands import dry_run

            return dry_run.run(
                args.root,
                args.campaign,
                output_format=args.output_format,
                strict=args.strict,
                record=args.record,
                now=now,
                verbosity=args.verbosity,
                tz=args.tz,
            )
        if args.command == "run":
            from runner.commands import run

            return run.run(
                args.root,
                args.checks,
                due=args.due,
                schedule=args.schedule,
                then_notify=args.notify,
                deadline=args.deadline,
                output_format=args.output_format,
                strict=args.strict,
                now=now,
                verbosity=args.verbosity,
                tz=args.tz,
            )
        if args.command == "problems":
            from runner.commands import problems

            if args.action == "list":
                return problems.list_(args.root, args, now)
            if args.action == "show":
                return problems.show(args.root, args)
            return problems.change(args.root, args, now)
        if args.command == "notify":
            from runner.commands import notify

            return notify.run(
                args.root,
                now=now,
                dry_run=args.dry_run,
                retry_failed=args.retry_failed,
                output_format=args.output_format,
                tz=args.tz,
                deadline=args.deadline,
            )
        if args.command == "route":
            from runner.commands import route

            if not args.fingerprint and not (args.check and args.severity and args.localization):
                parser.error("route: give a FINGERPRINT, or --check, --severity and --localization")
            return route.run(args.root, args, now)
        if args.command == "outbound":
            from runner.commands import outbound

            return outbound.run(args.root, args, now)
        if args.command == "report":
            from runner.commands import report

            return report.run(args.root, args, now)
        if args.command == "test":
            from runner.commands import test

            return test.run(args.root, args.names, output_format=args.output_format)
        if args.command == "demo":
            from runner.commands import demo

            return demo.run(args.root, url=args.url, scale=args.scale, seed=args.seed, now=now)
        if args.command == "review":
            from runner.commands import review

            return review.run(
                args.root,
                args.base,
                args.head,
                output_format=args.output_format,
                strict=args.strict,
                now=now,
                jobs=min(os.cpu_count() or 1, 8),
                dry_run=args.dry_run,
            )
        if args.command == "sources":
            from runner.commands import sources_check

            return sources_check.run(args.root, args.source, output_format=args.output_format, now=now)
        if args.command == "docs":
            from runner.commands import docs

            if args.topic is not None or args.open:
                if args.check or args.output is not None:
                    parser.error("docs: --check and --output generate the reference docs; give no TOPIC or --open")
                return docs.show(args.topic or "checks", open_browser=args.open)
            return docs.run(args.root, output=args.output, check=args.check)
        if args.command == "init":
            from runner.commands import init

            return init.run(args.directory, force=args.force)
        parser.error(f"unknown command {args.command!r}")
    except NotARepository as exc:
        print(f"campaign-guard: {exc.explain(searched=searched)}", file=sys.stderr)
        return exc.exit_code
    except UsageError as exc:
        print(f"campaign-guard: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("campaign-guard: interrupted", file=sys.stderr)
        return 130
    return ExitCode.OK
