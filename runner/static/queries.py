"""The SQL of a check reads: one SELECT (or WITH ... SELECT), nothing that writes.

The sources refuse writes anyway (every check runs in a read-only transaction); this finds the
statement that would fail there at its line, before anything runs. A tokenizer is enough: it skips
comments, string literals and quoted names, and looks at the words outside parentheses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from runner.document import Document
from runner.findings import Severity
from runner.static.check import Check, Context, Hit

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<quoted>'(?:[^']|'')*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z))
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$.*?(?:\$(?P=tag)?\$|\Z))
    | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_READS = {"SELECT", "WITH"}


@dataclass(frozen=True)
class Token:
    text: str  # a word upper-cased, or the character
    line: int  # 1-based, in the SQL text
    depth: int  # parentheses around it


def tokens(sql: str) -> list[Token]:
    """The words and punctuation of SQL, without comments, literals and quoted names."""
    found: list[Token] = []
    line, depth = 1, 0
    for match in _TOKEN.finditer(sql):
        kind, text = match.lastgroup, match.group()
        if kind == "tag":  # the named group inside a dollar quote
            kind = "dollar"
        if kind == "word":
            found.append(Token(text.upper(), line, depth))
        elif kind == "other":
            if text == ")":
                depth = max(depth - 1, 0)
            found.append(Token(text, line, depth))
            if text == "(":
                depth += 1
        line += text.count("\n")
    return found


def not_select(sql: str) -> tuple[str, int] | None:
    """Why SQL is not one SELECT (or WITH ... SELECT), and the line (1-based) of the culprit; None if it is."""
    statements: list[list[Token]] = [[]]
    for token in tokens(sql):
        if token.text == ";" and token.depth == 0:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [statement for statement in statements if statement]
    if not statements:
        return "found no statement", 1
    if len(statements) > 1:
        second = statements[1][0]
        return f"found two statements separated by ; (the second begins with {second.text})", second.line
    return _first_reads(statements[0])


def _first_reads(statement: list[Token]) -> tuple[str, int] | None:
    words = [token for token in statement if token.text != "("]
    first = words[0] if words else statement[0]
    if first.text not in _READS:
        return f"found {first.text}", first.line
    depth = statement[0].depth if statement[0].text != "(" else statement[0].depth + 1
    main = _after_with(statement, depth) if first.text == "WITH" else None
    if main is not None and main.text not in _READS:
        return f"found {main.text}", main.line
    for index, token in enumerate(statement):
        if token.text == "INTO" and token.depth == depth:
            return "found SELECT ... INTO, which writes", token.line
        if first.text == "WITH" and token.text == "AS" and token.depth == depth:
            # a WITH's body: the first word inside its parentheses (after NOT MATERIALIZED)
            rest = [t for t in statement[index + 1 :] if t.text not in ("NOT", "MATERIALIZED")]
            if rest and rest[0].text == "(":
                inner = next((t for t in rest[1:] if t.text != "("), None)
                if inner is not None and inner.text not in _READS:
                    return f"found {inner.text} in a WITH", inner.line
    return None


def _after_with(statement: list[Token], depth: int) -> Token | None:
    """The first word of the statement a WITH list leads to: the word after a WITH body's ")" at the top."""
    for previous, token in itertools.pairwise(statement):
        if previous.text == ")" and previous.depth == depth and token.text.isidentifier() and token.text != "AS":
            return token
    return None


def select_only(document: Document, ctx: Context) -> Iterator[Hit]:
    """A check's SQL is not one SELECT (or WITH ... SELECT): an UPDATE, two statements, SELECT ... INTO.

    A check only reads; the sources run checks in read-only transactions and refuse anything else."""
    for index, check in enumerate(document.data["checks"]):
        sql = check.get("sql")
        if not isinstance(sql, str):
            continue
        refused = not_select(sql)
        if refused is not None:
            reason, line = refused
            message = f"check {check['id']}: the check's SQL must be one SELECT (or WITH ... SELECT); {reason}"
            yield Hit(("checks", index, "sql"), message, text_line=line)


CHECKS = (
    Check(
        "sql.not_select",
        Severity.PROBLEM,
        "integration",
        ("functional_checks", "data_checks"),
        "Write the check as one query that returns the violating rows (SELECT or WITH ... SELECT); a check never "
        "writes: a change to the source belongs in stop_actions/start_actions of rules/sources.yaml.",
        select_only,
    ),
)
