"""How every `journeys` process logs: text by default, or one JSON object a line."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def configure_logging(log_format: str) -> None:
    """`json`: each record one object with `time`, `level`, `logger`, `message`, and what
    the record carries besides (a request's id, method, route, status, duration, key id)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
