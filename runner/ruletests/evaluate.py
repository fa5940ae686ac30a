"""Run one rule test: build its fixture database, evaluate its checks there, compare."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from runner.engine.evaluation import Evaluation
from runner.engine.execute import execute
from runner.errors import UsageError
from runner.repository import Repository
from runner.ruletests.compare import Failure, Outcome, compare
from runner.ruletests.database import create_database, fixture_sources
from runner.ruletests.model import RuleTest


def evaluate(repo: Repository, test: RuleTest, directory: Path) -> Outcome:
    """The database lives in directory only while the test runs."""
    path = directory / "fixtures.db"
    path.unlink(missing_ok=True)
    try:
        url = create_database(path, test.tables)
    except sa.exc.SQLAlchemyError as error:  # e.g. two columns whose names differ only in case
        cause = str(getattr(error, "orig", None) or error).splitlines()[0]
        return Outcome(test, failures=(Failure(None, None, f"the fixture database cannot hold the rows: {cause}"),))
    ev = Evaluation(repo, test.now, fixture_sources(repo, url))
    try:
        results = execute(test.tasks, ev)
    except UsageError as error:  # a rule that cannot be evaluated at all, e.g. percent levels without `of`
        return Outcome(test, failures=(Failure(None, None, str(error)),))
    finally:
        ev.close()
        path.unlink(missing_ok=True)
    return compare(test, results)
