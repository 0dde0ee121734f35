"""Serving the API with waitress, and running background loops, until SIGTERM or SIGINT."""

from __future__ import annotations

import errno
import json
import logging
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from api.app import MAX_BODY_BYTES, create_app
from api.errors import CODES
from journeys.settings import SettingsError
from journeys.wiring import System

log = logging.getLogger("journeys")
Loop = Callable[[threading.Event], None]
CONNECTION_LIMIT = 1000  # open connections waitress keeps; idle ones cost no thread
IDLE_TIMEOUT = 60  # seconds an idle connection is kept open


class _JsonErrorTask(ErrorTask):
    """What waitress itself refuses (a body or headers too large, a malformed request)
    answered in the product's error shape rather than waitress's plain text."""

    def execute(self) -> None:
        error: Any = self.request.error  # type: ignore[attr-defined]
        body = json.dumps({"title": error.reason, "code": CODES.get(error.code, "HTTP_ERROR"),
                           "description": str(error.body)}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(  # type: ignore[attr-defined]
            ("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _JsonErrorTask


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything touches the database, so a port that
    cannot be had stops the command first; SettingsError names the port and the cause."""
    if not 0 < port < 65536:
        raise SettingsError(f"port {port} is out of range (1 to 65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise SettingsError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        cause = "in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise SettingsError(f"cannot listen on {host}:{port}: {cause}") from None
    return sock


def _stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT both stop, also where the process was started with SIGINT
    ignored (in the background of a shell without job control)."""
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on %s", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _exit() -> None:
    raise SystemExit(0)


def _start(loops: list[Loop], stop: threading.Event) -> list[threading.Thread]:
    workers = [threading.Thread(target=loop, args=(stop,), name=loop.__name__, daemon=True)
               for loop in loops]
    for worker in workers:
        worker.start()
    return workers


def _finish(system: System, stop: threading.Event, workers: list[threading.Thread]) -> None:
    stop.set()
    system.follower.nudge()
    for worker in workers:
        worker.join(timeout=8)
    system.services.app.close()
    log.info("stopped")


def serve(system: System, sock: socket.socket, threads: int = 8,
          background: list[Loop] | None = None) -> None:
    """Run the API on `sock` (and any background loops) until a signal arrives: the server
    stops taking requests, in-flight ones finish, the loops finish their round."""
    stop = threading.Event()
    server = create_server(
        create_app(system.services),
        sockets=[sock],
        threads=threads,
        max_request_body_size=MAX_BODY_BYTES * 2,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT,
        clear_untrusted_proxy_headers=True,
        ident="journeys",
    )
    server.channel_class = _Channel  # type: ignore[union-attr]
    _stop_on_signals(_exit)  # waitress's loop ends on SystemExit, finishing what is in flight
    workers = _start(background or [], stop)
    host, port = sock.getsockname()[:2]
    log.info("listening on http://%s:%s", host, port)
    try:
        server.run()
    finally:
        log.info("stopping")
        server.close()
        _finish(system, stop, workers)


def wait_for_signal(system: System, loops: list[Loop]) -> None:
    """Run background loops alone (no HTTP) until SIGTERM or SIGINT."""
    stop = threading.Event()

    def request_stop() -> None:
        stop.set()
        system.follower.nudge()

    _stop_on_signals(request_stop)
    workers = _start(loops, stop)
    log.info("running %s", ", ".join(loop.__name__ for loop in loops))
    while not stop.wait(0.5):
        pass
    _finish(system, stop, workers)
