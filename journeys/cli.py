"""The `journeys` command: serve, api, projections status|rebuild|run."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence

from tqdm import tqdm

from api.context import Services
from journeys.settings import SettingsError, database_url
from journeys.wiring import build

log = logging.getLogger("journeys")


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
        "(default: $JOURNEYS_DATABASE_URL or sqlite:///./journeys.db)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "the whole service in one process: API and projections"),
        ("api", "the HTTP API alone (run projections in another process)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8080)
        command.add_argument("--threads", type=int, default=8)
        _add_database(command)
    projections = commands.add_parser("projections", help="read models").add_subparsers(
        dest="action", required=True
    )
    status = projections.add_parser("status", help="each projection's position and lag")
    _add_database(status)
    rebuild = projections.add_parser("rebuild", help="drop and rebuild read models from the log")
    rebuild.add_argument("name", nargs="?", help="one projection (default: all)")
    _add_database(rebuild)
    run = projections.add_parser("run", help="follow the log and keep read models current")
    run.add_argument("--interval", type=float, default=0.1, help="poll interval in seconds")
    _add_database(run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = _parser().parse_args(argv)
    try:
        services = build(database_url(args.database))
    except SettingsError as error:
        print(f"journeys: {error}", file=sys.stderr)
        return 2
    if args.command in ("serve", "api"):
        from journeys.server import serve

        loops = []
        if args.command == "serve":
            loops.append(lambda stop: services.runner.run_forever(stop, interval=0.2))
        serve(services, args.host, args.port, threads=args.threads, background=loops)
        return 0
    if args.action == "status":
        return _status(services)
    if args.action == "rebuild":
        return _rebuild(services, args.name)
    from journeys.server import wait_for_signal

    def projections_loop(stop: threading.Event) -> None:
        services.runner.run_forever(stop, interval=args.interval)

    wait_for_signal(services, [projections_loop])
    return 0


def _status(services: Services) -> int:
    runner = services.runner
    head = runner.head()
    print(f"{'projection':<20} {'position':>12} {'head':>12} {'lag':>12}")
    for name, position in runner.positions().items():
        print(f"{name:<20} {position:>12} {head:>12} {head - position:>12}")
    return 0


def _rebuild(services: Services, name: str | None) -> int:
    runner = services.runner
    names = [name] if name else list(runner.projections)
    unknown = [n for n in names if n not in runner.projections]
    if unknown:
        print(f"journeys: unknown projection {unknown[0]!r}; known: "
              f"{', '.join(runner.projections)}", file=sys.stderr)
        return 2
    with tqdm(total=runner.head(), unit="event", desc="rebuild " + ", ".join(names)) as bar:
        applied = runner.rebuild(names, progress=bar.update)
    print(f"rebuilt {', '.join(names)} from {applied} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
