"""The circuit breaker of one delivery pass: an endpoint that failed 3 times in a row gets no more tries.

An endpoint is a server as DeliveryError.endpoint names it (smtp://host:port, https://host:port).
Its further messages are deferred: they stay pending with no attempt counted, for the next run,
instead of each waiting out its own timeout against a server that is down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

THRESHOLD = 3  # consecutive failures to reach one endpoint


@dataclass
class Breaker:
    threshold: int = THRESHOLD
    failures: Counter[str] = field(default_factory=Counter)  # consecutive, per endpoint
    deferred: Counter[str] = field(default_factory=Counter)  # messages left for the next run, per endpoint

    def tripped(self, endpoints: Iterable[str]) -> str | None:
        """The first of the endpoints that failed `threshold` times in a row, if any."""
        return next((name for name in endpoints if self.failures[name] >= self.threshold), None)

    def defer(self, endpoint: str) -> None:
        self.deferred[endpoint] += 1

    def failed(self, endpoint: str) -> None:
        self.failures[endpoint] += 1

    def reached(self, endpoints: Iterable[str]) -> None:
        for name in endpoints:
            self.failures[name] = 0

    def lines(self) -> list[str]:
        """One line per endpoint whose messages were deferred."""
        return [
            f"{name} failed {self.failures[name]} times in a row: {deferred} more message(s) for it "
            "left for the next run"
            for name, deferred in sorted(self.deferred.items())
        ]
