from __future__ import annotations

import pytest

from domain.durations import Duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 minutes", Duration(30, "minutes")),
        ("1 minute", Duration(1, "minutes")),
        ("2 hours", Duration(2, "hours")),
        ("3 days", Duration(3, "days")),
        ("1 week", Duration(1, "weeks")),
        ("  2 Weeks ", Duration(2, "weeks")),
        ("PT30M", Duration(30, "minutes")),
        ("PT2H", Duration(2, "hours")),
        ("P3D", Duration(3, "days")),
        ("P1W", Duration(1, "weeks")),
    ],
)
def test_supported_formats_parse(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["soon", "", "3", "days", "0 days", "-1 day", "3 months", "P1DT2H", "P", "PT", 3, None,
             "999999 weeks", "261 weeks", "P1827D", "43801 hours", "PT1000000M"]
)
def test_anything_else_is_refused_with_a_reason(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["260 weeks", "1826 days", "P1826D", "43800 hours", "PT999999M"])
def test_five_years_is_the_longest_wait(text: str) -> None:
    assert parse_duration(text).amount > 0
