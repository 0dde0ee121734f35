"""A journey's stats over time: the `journey_series` read model counts per quarter hour
(UTC), summed into buckets of an hour, a day or a week in the journey's time zone.

Every time zone in use today is a whole number of quarter hours from UTC, so each quarter
falls inside one local hour, day and week, whatever its offset or DST rule: a day of a
spring-forward change sums 92 quarters, one of a fall-back 100, and an hour that occurs
twice (fall-back) is two buckets, told apart by their offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from projections.enrollment_batch import SERIES_COLUMNS
from storage.database import Database, Row
from storage.values import iso

QUARTER = timedelta(minutes=15)
INTERVALS = ("hour", "day", "week")
MAX_BUCKETS = 1000
MAX_SPAN = timedelta(days=400)
DEFAULT_SPAN = {"hour": timedelta(days=2), "day": timedelta(days=30), "week": timedelta(weeks=12)}


class SeriesTooLong(ValueError):
    """A span too long for one answer."""


@dataclass(frozen=True)
class Bucket:
    start: datetime  # aware, in the journey's zone
    end: datetime  # the next bucket's start
    quarters: tuple[str, ...]  # the quarters it sums, as `journey_series.bucket` has them


def _floor(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    return instant.replace(minute=instant.minute // 15 * 15, second=0, microsecond=0)


def bucket_start(quarter: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start (UTC) of the local hour, day or week (from Monday) that `quarter` is in."""
    local = quarter.astimezone(zone)
    if interval == "hour":  # keeps `fold`: the two 01:00 of a fall-back night differ
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        day = local.date() - timedelta(days=local.weekday() if interval == "week" else 0)
        # fold=0: a midnight that does not exist (DST begins at 00:00) is read with the
        # offset before the change, which is the first instant of that day.
        start = datetime(day.year, day.month, day.day, tzinfo=zone, fold=0)
    return start.astimezone(UTC)


def buckets(start: datetime, end: datetime, interval: str, timezone: str) -> list[Bucket]:
    """The buckets from the one holding `start` to the one holding the instant before
    `end`, with the quarters each sums; SeriesTooLong past MAX_SPAN or MAX_BUCKETS."""
    if end - start > MAX_SPAN:
        raise SeriesTooLong(f"from and to at most {MAX_SPAN.days} days apart")
    zone = ZoneInfo(timezone)
    found: list[Bucket] = []
    for first, after, quarters in _grouped(_floor(start), end, interval, zone):
        if len(found) == MAX_BUCKETS:
            raise SeriesTooLong(f"at most {MAX_BUCKETS} buckets: narrow from and to, or "
                                "take a longer interval")
        found.append(Bucket(first.astimezone(zone), after.astimezone(zone), tuple(quarters)))
    return found


def _grouped(quarter: datetime, end: datetime, interval: str,
             zone: ZoneInfo) -> Iterator[tuple[datetime, datetime, list[str]]]:
    current = bucket_start(quarter, interval, zone)
    quarter = current  # the whole first bucket
    quarters: list[str] = []
    while True:
        start = bucket_start(quarter, interval, zone)
        if start != current:
            yield current, start, quarters
            if quarter >= end:
                return
            current, quarters = start, []
        quarters.append(iso(quarter))
        quarter += QUARTER


def series(database: Database, journey_id: str, found: list[Bucket]) -> list[Row]:
    """Per bucket, its start (ISO-8601 in the journey's zone) and its counts."""
    if not found:
        return []
    rows = database.query(
        f"SELECT bucket, {', '.join(SERIES_COLUMNS)} FROM journey_series "
        "WHERE journey_id = ? AND bucket >= ? AND bucket <= ?",
        (journey_id, found[0].quarters[0], found[-1].quarters[-1]))
    by_quarter = {row["bucket"]: row for row in rows}
    result = []
    for bucket in found:
        counts = dict.fromkeys(SERIES_COLUMNS, 0)
        for quarter in bucket.quarters:
            row = by_quarter.get(quarter)
            if row:
                for column in SERIES_COLUMNS:
                    counts[column] += int(row[column])
        result.append({"start": bucket.start.isoformat(), **counts})
    return result
