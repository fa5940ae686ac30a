"""`python tests/crashing_check.py CHECK-ID CAMPAIGN-GUARD-ARGS...`: the real command with one static check
that raises, as a bug in it would; golden cases use it for internal.check_failed (see tests/golden/README.md)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import runner.static
from runner.document import Document
from runner.main import main
from runner.static.check import Context, Hit


def with_broken_check(check_id: str, error: Exception | None = None) -> tuple[runner.static.Check, ...]:
    """The static checks with check_id's function replaced by one that raises error (a KeyError by default)."""
    assert check_id in {check.id for check in runner.static.CHECKS}, check_id

    def broken(document: Document, ctx: Context) -> Iterator[Hit]:
        """A check with a bug."""
        raise error or KeyError("attributes")
        yield  # a generator, like the real checks

    return tuple(
        dataclasses.replace(check, run=broken) if check.id == check_id else check for check in runner.static.CHECKS
    )


if __name__ == "__main__":
    runner.static.CHECKS = with_broken_check(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
