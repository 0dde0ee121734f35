"""WAIT arithmetic across DST changes: calendar days keep the local time of day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import api_instant, wait_ends
from domain.durations import Duration, parse_duration


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone", "start", "days"),
    [
        ("Europe/London", (2025, 3, 28, 9, 0), 3),  # spring forward on 30 March
        ("Europe/London", (2025, 10, 24, 9, 0), 3),  # fall back on 26 October
        ("America/New_York", (2025, 3, 7, 9, 0), 3),  # spring forward on 9 March
        ("America/New_York", (2025, 10, 31, 9, 0), 3),  # fall back on 2 November
        ("Australia/Adelaide", (2025, 4, 4, 9, 0), 3),  # +10:30 to +9:30 on 6 April
        ("Asia/Kolkata", (2025, 3, 28, 9, 0), 3),  # +05:30, no DST at all
        ("Australia/Lord_Howe", (2025, 4, 5, 9, 0), 1),  # a half-hour DST change
    ],
)
def test_three_days_from_nine_local_ends_at_nine_local(
    zone: str, start: tuple[int, ...], days: int
) -> None:
    begun = local(zone, *start).astimezone(UTC)

    ends = wait_ends(begun, Duration(days, "days"), zone)

    assert ends.tzinfo is not None
    ends_local = ends.astimezone(ZoneInfo(zone))
    assert (ends_local.hour, ends_local.minute) == (9, 0)
    assert ends_local.date() == local(zone, *start).date().fromordinal(
        local(zone, *start).date().toordinal() + days)


def test_elapsed_hours_ignore_the_wall_clock() -> None:
    begun = local("Europe/London", 2025, 3, 30, 0, 30).astimezone(UTC)

    ends = wait_ends(begun, Duration(2, "hours"), "Europe/London")

    assert ends - begun == timedelta(hours=2)
    assert ends.astimezone(ZoneInfo("Europe/London")).hour == 3  # 01:00-02:00 does not exist


def test_a_local_time_that_does_not_exist_moves_forward() -> None:
    # 02:30 on 9 March 2025 does not exist in New York (clocks jump 02:00 -> 03:00).
    begun = local("America/New_York", 2025, 3, 8, 2, 30).astimezone(UTC)

    ends = wait_ends(begun, Duration(1, "days"), "America/New_York")

    assert ends.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None) == datetime(
        2025, 3, 9, 3, 30)


def test_an_ambiguous_local_time_takes_its_first_occurrence() -> None:
    # 01:30 on 2 November 2025 happens twice in New York; the first is EDT (-04:00).
    begun = local("America/New_York", 2025, 11, 1, 1, 30).astimezone(UTC)

    ends = wait_ends(begun, Duration(1, "days"), "America/New_York")

    assert ends == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_weeks_are_seven_calendar_days() -> None:
    begun = local("Europe/London", 2025, 3, 27, 9, 0).astimezone(UTC)

    ends = wait_ends(begun, parse_duration("1 week"), "Europe/London")

    assert ends.astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None) == datetime(
        2025, 4, 3, 9, 0)


def test_an_instant_is_shown_in_utc_whichever_zone_it_came_in_first() -> None:
    """api_instant caches by instant: an equal instant in another zone (equal, same hash)
    must still give the UTC text, whichever of the two was formatted first."""
    london = ZoneInfo("Europe/London")
    local = datetime(2030, 7, 1, 10, 0, 0, 123456, tzinfo=london)  # BST, UTC+1
    utc = datetime(2030, 7, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert local == utc and hash(local) == hash(utc)
    assert api_instant(local) == "2030-07-01T09:00:00.123Z"
    assert api_instant(utc) == "2030-07-01T09:00:00.123Z"
    assert api_instant(datetime(2030, 1, 1, tzinfo=london)) == "2030-01-01T00:00:00.000Z"
