"""Buckets of the stats series in a journey's time zone, across DST changes and offsets
that are not whole hours."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from projections.series import MAX_BUCKETS, SeriesTooLong, buckets


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def starts(start: str, end: str, interval: str, zone: str) -> list[str]:
    return [b.start.isoformat() for b in buckets(at(start), at(end), interval, zone)]


def test_a_spring_forward_night_has_no_two_oclock_and_its_day_23_hours() -> None:
    assert starts("2026-03-29T00:00+01:00", "2026-03-29T04:00+02:00", "hour",
                  "Europe/Berlin") == ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00",
                                       "2026-03-29T03:00:00+02:00"]
    [day] = buckets(at("2026-03-29T12:00+02:00"), at("2026-03-29T13:00+02:00"), "day",
                    "Europe/Berlin")
    assert (day.start.isoformat(), len(day.quarters)) == ("2026-03-29T00:00:00+01:00", 92)
    assert day.end.isoformat() == "2026-03-30T00:00:00+02:00"


def test_a_fall_back_night_has_two_hours_at_two_oclock() -> None:
    assert starts("2026-10-25T01:00+02:00", "2026-10-25T04:00+01:00", "hour",
                  "Europe/Berlin") == ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
                                       "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]
    [day] = buckets(at("2026-10-25T12:00+01:00"), at("2026-10-25T13:00+01:00"), "day",
                    "Europe/Berlin")
    assert len(day.quarters) == 100


def test_a_midnight_that_does_not_exist_starts_its_day_at_one() -> None:
    # Santiago moves from -04:00 to -03:00 at local midnight, 6 September 2026.
    days = starts("2026-09-05T12:00-04:00", "2026-09-06T12:00-03:00", "day", "America/Santiago")
    assert days == ["2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00"]


def test_hours_of_a_quarter_hour_offset_start_on_its_hour() -> None:
    hours = buckets(at("2026-03-10T06:20+00:00"), at("2026-03-10T07:00+00:00"), "hour",
                    "Asia/Kathmandu")
    assert [b.start.isoformat() for b in hours] == ["2026-03-10T12:00:00+05:45"]
    assert len(hours[0].quarters) == 4
    assert hours[0].quarters[0] == "2026-03-10T06:15:00.000Z"


def test_weeks_start_on_monday_and_the_whole_first_bucket_is_counted() -> None:
    weeks = buckets(at("2026-12-03T10:00+00:00"), at("2026-12-10T00:00+00:00"), "week", "UTC")
    assert [b.start.isoformat() for b in weeks] == ["2026-11-30T00:00:00+00:00",
                                                    "2026-12-07T00:00:00+00:00"]
    assert weeks[0].quarters[0] == "2026-11-30T00:00:00.000Z"
    assert len(weeks[0].quarters) == 7 * 96


def test_a_series_too_long_is_refused() -> None:
    start = at("2026-01-01T00:00+00:00")
    with pytest.raises(SeriesTooLong):
        buckets(start, start + timedelta(hours=MAX_BUCKETS + 1), "hour", "UTC")
    with pytest.raises(SeriesTooLong):
        buckets(start, start + timedelta(days=500), "week", "UTC")
    assert len(buckets(start, start + timedelta(hours=MAX_BUCKETS), "hour", "UTC")) == \
        MAX_BUCKETS
