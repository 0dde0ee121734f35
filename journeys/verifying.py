"""`journeys projections verify [NAME]`: rebuild read models into scratch tables beside the
live ones and compare them row by row; exit 1 if they differ (`docs/audit.md`)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from journeys.wiring import System, sqlite_path
from projections.verify import ResetMeanwhile, verify
from storage.sqlite import scratch_database


def add_command(projections: argparse._SubParsersAction,  # type: ignore[type-arg]
                add_database: Callable[[argparse.ArgumentParser], None]) -> None:
    command = projections.add_parser(
        "verify", help="rebuild read models into scratch tables and compare them with the "
        "live ones, row by row (exit 1 if they differ); safe while the service runs")
    command.add_argument("name", nargs="?", help="one projection (default: all)")
    add_database(command)


@contextmanager
def _bars() -> Iterator[Callable[[str, int, int], Callable[[int], object]]]:
    """Progress bars on a terminal (none otherwise), one at a time."""
    shown: list[tqdm] = []  # type: ignore[type-arg]

    def bar(what: str, total: int, done: int) -> Callable[[int], object]:
        for old in shown:
            old.close()
        shown[:] = [tqdm(total=total, initial=done, desc=what, unit="row", disable=None,
                         leave=False, file=sys.stderr)]
        return shown[0].update

    try:
        yield bar
    finally:
        for old in shown:
            old.close()


def run(system: System, name: str | None, url: str) -> int:
    runner = system.runner
    names = [name] if name else list(runner.projections)
    if name and name not in runner.projections:
        print(f"journeys: unknown projection {name!r}; known: "
              f"{', '.join(runner.projections)}", file=sys.stderr)
        return 2
    beside = sqlite_path(url)
    folder = tempfile.mkdtemp(prefix="journeys-verify-",
                              dir=os.path.dirname(os.path.abspath(beside)) if beside else None)
    differ = 0
    try:
        with _bars() as bars:
            for projection in names:
                scratch = scratch_database(os.path.join(folder, f"{projection}.db"))
                try:
                    found = verify(runner.log, runner.database, scratch,
                                   runner.projections[projection], bars)
                except ResetMeanwhile as reset:
                    print(f"journeys: {reset}; verify again", file=sys.stderr)
                    return 2
                for difference in found:
                    print(difference)
                differ += len(found)
                print(f"read model {projection}: {len(found) or 'no'} difference"
                      f"{'' if len(found) == 1 else 's'}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if differ else 0
