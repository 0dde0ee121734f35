"""Starting `journeys` commands as real processes and talking to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

JOURNEYS = str(Path(sys.executable).with_name("journeys"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def journeys(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a short `journeys` command to completion (`env` added to this environment)."""
    return subprocess.run(
        [JOURNEYS, *args], capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, **(env or {})},
    )


class Process:
    """A long-running `journeys` command, stopped with SIGTERM."""

    def __init__(self, *args: str, log: Path) -> None:
        self.log_path = log
        self._log = log.open("w")
        self.popen = subprocess.Popen(
            [JOURNEYS, *args], stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never logged:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 15) -> int:
        self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=timeout)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
            self._log.close()
        return code


def wait_healthy(base_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base_url} never became healthy")
        time.sleep(0.1)
