"""One network exchange under a deadline: a server that never answers, or drips, cannot hold a message.

A socket timeout bounds each read, not the exchange: a banner sent one byte every 2 s never times
out. So every exchange (connect, SMTP banner, EHLO, TLS handshake, each command, an HTTP answer and
its body) runs under a watchdog that shuts the connection down when the message's deadline passes;
the blocked read then returns and the exchange fails with "did not answer within N s", retryable.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from runner.deadlines import seconds_text
from runner.errors import UsageError
from runner.notify.message import DeliveryError

CONNECT_VARIABLE = "CAMPAIGN_GUARD_CONNECT_TIMEOUT"
MESSAGE_VARIABLE = "CAMPAIGN_GUARD_MESSAGE_TIMEOUT"
CONNECT_TIMEOUT = 10.0
MESSAGE_TIMEOUT = 30.0


def connect_timeout(environ: Mapping[str, str]) -> float:
    return _seconds(environ, CONNECT_VARIABLE, CONNECT_TIMEOUT)


def message_timeout(environ: Mapping[str, str]) -> float:
    return _seconds(environ, MESSAGE_VARIABLE, MESSAGE_TIMEOUT)


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise UsageError(f"{name}={text!r}: give a number of seconds above 0")
    return value


class Exchange:
    """`with Exchange(deadline, connect):` around everything one message does on the network.

    Connections are made by open() (or handed to watch()); when the deadline passes, the watchdog
    shuts them down: the OS socket, so a TLS wrapper made of it is shut down too.
    """

    def __init__(self, deadline: float, connect: float = CONNECT_TIMEOUT) -> None:
        self.deadline = deadline
        self.connect = min(connect, deadline)
        self.expired = False
        self.connecting = False
        self._lock = threading.Lock()
        self._sockets: list[tuple[int, int]] = []  # (descriptor, inode): the inode tells a reused descriptor
        self._timer = threading.Timer(deadline, self._expire)
        self._timer.daemon = True
        self._ends = 0.0

    def __enter__(self) -> Exchange:
        self._ends = time.monotonic() + self.deadline
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()

    def remaining(self) -> float:
        return max(0.001, self._ends - time.monotonic())

    def open(self, address: tuple[str, int], source: Any = None) -> socket.socket:
        """A connection within the connect timeout, watched, with reads bounded by what is left."""
        self.connecting = True
        sock = socket.create_connection(address, min(self.connect, self.remaining()), source)
        self.connecting = False
        self.watch(sock)
        sock.settimeout(self.remaining())
        return sock

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock.fileno())
            else:
                self._sockets.append((sock.fileno(), os.fstat(sock.fileno()).st_ino))

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for descriptor, inode in self._sockets:
                try:
                    if os.fstat(descriptor).st_ino == inode:
                        _shut(descriptor)
                except OSError:
                    pass  # closed meanwhile

    def failure(self, error: BaseException, where: str) -> DeliveryError | None:
        """The deadline's error when it (or a socket timeout) ended the exchange; None for other failures."""
        timed_out = _timed_out(error)
        if timed_out and self.connecting and not self.expired:
            return DeliveryError(f"{where} did not accept a connection within {seconds_text(self.connect)} s")
        if self.expired or timed_out:
            return DeliveryError(f"{where} did not answer within {seconds_text(self.deadline)} s")
        return None


def _timed_out(error: BaseException | None) -> bool:
    """A socket timeout, or an error raised while handling one (smtplib's SMTPServerDisconnected)."""
    while error is not None:
        if isinstance(error, TimeoutError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _shut(descriptor: int) -> None:
    """Shut the connection down through a duplicate descriptor: the owner's blocked read returns at once."""
    try:
        duplicate = socket.socket(fileno=os.dup(descriptor))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()
