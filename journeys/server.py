"""Serving the API with waitress, stopping cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from waitress.server import create_server

from api.app import MAX_BODY_BYTES, create_app
from journeys.wiring import System

log = logging.getLogger("journeys")


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(
    system: System,
    host: str,
    port: int,
    threads: int = 8,
    background: list[Callable[[threading.Event], None]] | None = None,
) -> None:
    """Run the API (and any background loops) until a signal arrives, then stop them all."""
    stop = threading.Event()
    workers = [
        threading.Thread(target=loop, args=(stop,), name=loop.__name__, daemon=True)
        for loop in background or []
    ]
    services = system.services
    server = create_server(
        create_app(services),
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_BODY_BYTES * 2,
        clear_untrusted_proxy_headers=True,
        ident="journeys",
    )
    signal.signal(signal.SIGTERM, _raise_system_exit)
    for worker in workers:
        worker.start()
    log.info("listening on http://%s:%s", host, server.effective_port)  # type: ignore[union-attr]
    try:
        server.run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        log.info("stopping")
        stop.set()
        system.follower.nudge()
        server.close()
        for worker in workers:
            worker.join(timeout=10)
        services.app.close()
        log.info("stopped")


def wait_for_signal(system: System, loops: list[Callable[[threading.Event], None]]) -> None:
    """Run background loops alone (no HTTP) until SIGTERM or SIGINT."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        system.follower.nudge()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    workers = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for worker in workers:
        worker.start()
    log.info("running %s", ", ".join(loop.__name__ for loop in loops))
    while not stop.wait(0.5):
        pass
    for worker in workers:
        worker.join(timeout=10)
    system.services.app.close()
    log.info("stopped")
