"""The `journeys` command: serve, api, scheduler, tick, projections
status|rebuild|verify|run, keys."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial

from eventsourcing.persistence import PersistenceError
from tqdm import tqdm

from journeys import keys, verifying
from journeys.clock import system_clock
from journeys.logs import configure_logging
from journeys.settings import SettingsError, batch_size, database_url, store_for, tune_collector
from journeys.wiring import System, build_system, replay_worker, sqlite_path
from projections.rebuild import rebuild, rebuild_in_workers, share, units
from projections.tracking import failures

log = logging.getLogger("journeys")
Loop = Callable[[threading.Event], None]


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
        "(default: $JOURNEYS_DATABASE_URL or sqlite:///./journeys.db)",
    )


def _instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (Z or +hh:mm): {text!r}")
    return parsed.astimezone(UTC)


def _batch_size(text: str) -> int:
    try:
        return batch_size(text)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_batch_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size", type=_batch_size, metavar="N",
        help="enrollments the scheduler matches or advances per save: a crash hands at most "
        "one batch's messages over again (default: $JOURNEYS_BATCH_SIZE or 200)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeys", description=__doc__)
    parser.add_argument(
        "--log-format", choices=("text", "json"),
        default=os.environ.get("JOURNEYS_LOG_FORMAT", "text"),
        help="text (default, or $JOURNEYS_LOG_FORMAT) or json: one object a line")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "the whole service in one process: API, projections and scheduler"),
        ("api", "the HTTP API alone (run `journeys scheduler` beside it)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8080)
        command.add_argument("--threads", type=int, default=8)
        command.add_argument(
            "--allow-anonymous", action="store_true",
            help="while no API key exists (open mode), listen on a host other than loopback")
        command.add_argument("--interval", type=float, default=1.0,
                             help="scheduler poll interval in seconds (serve)")
        _add_batch_size(command)
        _add_database(command)
    scheduler = commands.add_parser(
        "scheduler", help="the long-running loop: due waits, sends, trigger matching, projections"
    )
    scheduler.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    scheduler.add_argument(
        "--projections", choices=("inline", "external"), default="inline",
        help="inline: a thread of this process keeps the read models (default); external: "
        "`journeys projections run` does, and this process only schedules",
    )
    _add_batch_size(scheduler)
    _add_database(scheduler)
    tick = commands.add_parser("tick", help="do every piece of work due at an instant, then exit")
    tick.add_argument("--now", type=_instant, required=True, metavar="ISO-8601")
    tick.add_argument(
        "--projections", choices=("inline", "external"), default="inline",
        help="inline: bring the read models up between rounds (default); external: another "
        "process keeps them (journeys projections run, scheduler, serve), tick waits for it "
        "only when it runs out of work",
    )
    _add_batch_size(tick)
    _add_database(tick)
    projections = commands.add_parser("projections", help="read models").add_subparsers(
        dest="action", required=True
    )
    status = projections.add_parser("status", help="each projection's position and lag")
    _add_database(status)
    rebuild = projections.add_parser("rebuild", help="drop and rebuild read models from the log")
    rebuild.add_argument("name", nargs="?", help="one projection (default: all)")
    rebuild.add_argument(
        "--workers", type=int, choices=range(1, 9), default=1, metavar="N",
        help="processes replaying the log, each for a share of the projections (default 1; "
        "more use more cores; on SQLite, one writer, each worker but the first writes into a "
        "file of its own beside the database, copied in at the end)",
    )
    _add_database(rebuild)
    verifying.add_command(projections, _add_database)
    run = projections.add_parser("run", help="follow the log and keep read models current")
    run.add_argument("--interval", type=float, default=0.1, help="poll interval in seconds")
    _add_database(run)
    for looping in (scheduler, run):
        looping.add_argument(
            "--metrics-port", type=int, metavar="PORT",
            help="serve this process's own metrics (Prometheus text) on 127.0.0.1:PORT")
    keys.add_commands(commands, _add_database)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_format)
    # Each connection says which command it serves, in pg_stat_activity (libpq reads it).
    os.environ.setdefault("PGAPPNAME", " ".join(
        ["journeys", args.command, *([args.action] if args.command == "projections" else [])]))
    url = database_url(args.database)
    sock = None
    try:
        if args.command in ("serve", "api"):
            from journeys.server import bind

            sock = bind(args.host, args.port)  # before anything is made in the database
        if getattr(args, "metrics_port", None):
            _serve_metrics(args.metrics_port)
        system = build_system(url, batch_size=getattr(args, "batch_size", None),
                              create_tables=getattr(args, "action", None) not in ("status",
                                                                                  "verify"))
    except (SettingsError, PersistenceError) as error:
        if sock:
            sock.close()
        print(f"journeys: {_one_line(error, url)}", file=sys.stderr)
        return 2
    tune_collector()

    def projections_loop(stop: threading.Event) -> None:
        system.follower.run_forever(stop, interval=getattr(args, "interval", 0.2)
                                    if args.command == "projections" else 0.2)

    def scheduler_loop(stop: threading.Event) -> None:
        system.scheduler.run_forever(stop, clock=system_clock, interval=args.interval)

    if args.command == "keys":
        code = keys.run(system.services.keys, args)
        system.services.app.close()
        return code
    if args.command in ("serve", "api"):
        from journeys.server import serve

        if not _guard_open_mode(system, args):
            assert sock is not None
            sock.close()
            return 2

        loops: list[Loop] = [projections_loop, scheduler_loop] if args.command == "serve" else []
        assert sock is not None
        serve(system, sock, threads=args.threads, background=loops)
        return 0
    if args.command == "scheduler":
        from journeys.server import wait_for_signal

        inline = args.projections == "inline"
        wait_for_signal(system, [projections_loop, scheduler_loop] if inline else [scheduler_loop])
        return 0
    if args.command == "tick":
        return _tick(system, args.now, args.projections == "external")
    if args.action == "status":
        return _status(system, url)
    if args.action == "rebuild":
        return _rebuild(system, args.name, args.workers, url)
    if args.action == "verify":
        try:
            return verifying.run(system, args.name, url)
        finally:
            system.services.app.close()
    from journeys.server import wait_for_signal

    wait_for_signal(system, [projections_loop])
    return 0


def _serve_metrics(port: int) -> None:
    """The counters of a process without the API (the scheduler's messages and items set
    aside), for Prometheus to scrape; the API's /metrics has the rest."""
    from prometheus_client import start_http_server

    from journeys.server import bind

    bind("127.0.0.1", port).close()  # a port that cannot be had: one line, before anything
    start_http_server(port, addr="127.0.0.1")


def _guard_open_mode(system: System, args: argparse.Namespace) -> bool:
    """While no key exists the API asks for no credentials: say so, and listen only on
    loopback unless told otherwise. `api` also says whether anything keeps the read
    models its commands wait for."""
    if args.command == "api":
        log.info("%s", system.services.keepers.describe())
    if not system.services.key_cache.open_mode():
        return True
    if not _loopback(args.host) and not args.allow_anonymous:
        print(f"journeys: no API key exists yet, so anyone reaching {args.host}:{args.port} "
              "could act for every tenant; create one with `journeys keys create`, listen on "
              "127.0.0.1, or pass --allow-anonymous", file=sys.stderr)
        return False
    log.warning("open mode: no API key exists, so the API asks for no credentials; "
                "create one with `journeys keys create`")
    return True


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one_line(error: Exception, url: str) -> str:
    """What an operator reads when the command cannot start: the cause, and the database
    without its password."""
    if isinstance(error, SettingsError):
        return str(error)
    cause = next((line.strip() for line in str(error).splitlines() if line.strip()),
                 type(error).__name__)
    return f"cannot use {store_for(url).display}: {cause}"


def _tick(system: System, now: datetime, external_projections: bool) -> int:
    totals = system.scheduler.tick(now, external_projections=external_projections)
    print(f"tick {now.isoformat().replace('+00:00', 'Z')}: matched {totals.matched} events, "
          f"enrolled {totals.enrolled}, "
          f"advanced {totals.processed} enrollments, ended {totals.ended}, "
          f"handed {totals.messages} messages to the channel")
    system.services.app.close()
    return 0


def _status(system: System, url: str) -> int:
    runner = system.runner
    try:
        head = runner.head()
        positions = runner.positions()
        set_aside = failures(runner.database)
    except PersistenceError:
        print(f"journeys: {store_for(url).display} holds no Journeys tables", file=sys.stderr)
        return 2
    finally:
        system.services.app.close()
    print(f"{'projection':<20} {'position':>12} {'head':>12} {'lag':>12} {'set aside':>10}")
    for name, position in positions.items():
        print(f"{name:<20} {position:>12} {head:>12} {head - position:>12} "
              f"{set_aside.get(name, 0):>10}")
    return 0


def _rebuild(system: System, name: str | None, workers: int, url: str) -> int:
    runner = system.runner
    names = [name] if name else list(runner.projections)
    unknown = [n for n in names if n not in runner.projections]
    if unknown:
        print(f"journeys: unknown projection {unknown[0]!r}; known: "
              f"{', '.join(runner.projections)}", file=sys.stderr)
        return 2
    groups = share(units(runner, names), workers)
    if len(groups) == 1:
        with tqdm(total=runner.head(), unit="event", desc="rebuild " + ", ".join(names)) as bar:
            applied = rebuild(runner, names, progress=bar.update)
    else:
        applied = rebuild_in_workers(runner, groups, partial(replay_worker, url), sqlite_path(url))
    print(f"rebuilt {', '.join(names)} from {applied} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
