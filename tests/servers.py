"""Real servers on loopback for the notification tests: SMTP (aiosmtpd) on a socket bound beforehand,
and raw TCP servers that hang or trickle (Drip)."""

from __future__ import annotations

import contextlib
import email
import socket
import threading
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def closed_port() -> socket.socket:
    """A bound socket that does not listen yet: connecting is refused until a server takes it over."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port that never completes a connection: it listens with a backlog of one, already taken."""
    with closed_port() as sock, socket.socket() as first:
        sock.listen(0)
        first.connect(sock.getsockname())  # never accepted: later connection attempts wait in vain
        yield port_of(sock)


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping what it accepted; scripted answers to RCPT and DATA come first."""

    def __init__(self) -> None:
        self.accepted: list[tuple[Any, Any, bool]] = []  # (envelope, session, over TLS)
        self.data_answers: list[str] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        self.accepted.append((envelope, session, server.transport.get_extra_info("ssl_object") is not None))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(envelope.content.replace(b"\r\n", b"\n"), policy=policy.default)
            for envelope, *_ in self.accepted
        ]


class LoopbackController(Controller):
    """Serves on a socket bound beforehand, so the port is known (and refuses) before the server starts."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        self.sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=port_of(sock), **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """Start an SMTP server for a Mailbox; returns its port."""
    running: list[Controller] = []

    def start(mailbox: Mailbox, sock: socket.socket | None = None, **kwargs: Any) -> int:
        controller = LoopbackController(mailbox, sock or closed_port(), **kwargs)
        controller.start()
        running.append(controller)
        return controller.port

    yield start
    for controller in running:
        controller.stop()


class Drip:
    """A TCP server on loopback that hangs or trickles: it accepts, sends `head` at once, then `drip` one
    byte every `interval` seconds, then reads until the client goes.

    Silent (nothing to send), a dripping SMTP banner, or an HTTP answer whose status line or body
    trickles. `sent` counts the bytes each connection got out before the client hung up.
    """

    def __init__(self, drip: bytes = b"", *, head: bytes = b"", interval: float = 2.0) -> None:
        self.head, self.drip, self.interval = head, drip, interval
        self.sock = closed_port()
        self.sock.listen()
        self.sock.settimeout(0.05)  # accept() wakes up to see stop(): closing the socket would not wake it
        self.port = port_of(self.sock)
        self.sent: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            thread = threading.Thread(target=self._answer, args=(client, len(self.sent)), daemon=True)
            self.sent.append(0)
            self._threads.append(thread)
            thread.start()

    def _answer(self, client: socket.socket, number: int) -> None:
        with client:
            try:
                client.sendall(self.head)
                self.sent[number] = len(self.head)
                for byte in self.drip:
                    if self._stop.wait(self.interval if self.sent[number] else 0):
                        return
                    client.sendall(bytes([byte]))
                    self.sent[number] += 1
                client.settimeout(0.1)
                while not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        if not client.recv(65536):
                            return
            except OSError:  # the client hung up
                return

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.sock.close()


@pytest.fixture
def drip() -> Iterator[Callable[..., Drip]]:
    """Start Drip servers; they are stopped at the end of the test."""
    running: list[Drip] = []

    def start(*args: Any, **kwargs: Any) -> Drip:
        server = Drip(*args, **kwargs)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()
