"""When a WAIT ends: elapsed time for minutes and hours, wall-clock time for days and weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.durations import Duration

_ELAPSED = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1)}
_CALENDAR = {"days": 1, "weeks": 7}


def wait_ends(start: datetime, duration: Duration, timezone: str) -> datetime:
    """The UTC instant a WAIT begun at `start` ends, in the journey's time zone.

    Days and weeks keep the local wall-clock time across DST changes (09:00 stays 09:00).
    A local time that does not exist (the spring-forward gap) moves forward by the gap;
    one that occurs twice (fall-back) resolves to its first occurrence.
    """
    if duration.unit in _ELAPSED:
        return (start + duration.amount * _ELAPSED[duration.unit]).astimezone(UTC)
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone).replace(tzinfo=None)
    target = local + timedelta(days=duration.amount * _CALENDAR[duration.unit])
    # fold=0: a gap time is read with the offset before the change, i.e. moved forward.
    return target.replace(tzinfo=zone, fold=0).astimezone(UTC)


@lru_cache(maxsize=1024)
def api_instant(instant: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a Z, as every instant the API shows: fixed width
    (a four-digit year), so such strings sort as the instants do.

    Cached: the instants of a batch repeat (every enrollment a round advances shares its
    `now`; `decisions/0031`). Equal instants in other zones hash alike and give the same
    UTC text."""
    if instant.utcoffset():
        instant = instant.astimezone(UTC)
    return instant.isoformat(timespec="milliseconds")[:23] + "Z"
