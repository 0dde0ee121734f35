"""WAIT durations: "3 days", "2 hours", "30 minutes", "1 week", or ISO-8601 ("PT30M", "P3D")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["minutes", "hours", "days", "weeks"]

_WORDS = re.compile(r"^\s*(\d{1,6})\s*(minute|hour|day|week)s?\s*$", re.IGNORECASE)
_ISO = re.compile(
    r"^P(?:(?P<weeks>\d{1,6})W|(?:(?P<days>\d{1,6})D)?"
    r"(?:T(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,6})M)?)?)$"
)


# The longest WAIT: five years, in each unit. A longer one is refused where it is written,
# so an enrollment never reaches an instant the calendar cannot hold.
LONGEST = {"minutes": 5 * 365 * 24 * 60, "hours": 5 * 365 * 24, "days": 5 * 365 + 1, "weeks": 5 * 52}


@dataclass(frozen=True)
class Duration:
    """A parsed WAIT: minutes and hours are elapsed time, days and weeks are calendar time."""

    amount: int
    unit: Unit


def parse_duration(text: object) -> Duration:
    """Parse one WAIT duration, or raise ValueError saying what is accepted."""
    if not isinstance(text, str):
        raise ValueError("duration must be a string such as '3 days' or 'PT30M'")
    words = _WORDS.match(text)
    if words:
        amount = int(words.group(1))
        unit: Unit = f"{words.group(2).lower()}s"  # type: ignore[assignment]
        return _positive(Duration(amount, unit), text)
    iso = _ISO.match(text.strip().upper())
    if iso and any(iso.groupdict().values()):
        present = [(unit, int(v)) for unit, v in iso.groupdict().items() if v is not None]
        if len(present) == 1:
            unit_name, amount = present[0]
            return _positive(Duration(amount, unit_name), text)  # type: ignore[arg-type]
    raise ValueError(
        f"cannot parse duration {text!r}: use one unit, as '<n> minutes|hours|days|weeks'"
        " or ISO-8601 like 'PT30M' or 'P3D'"
    )


def _positive(duration: Duration, text: str) -> Duration:
    if duration.amount <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    if duration.amount > LONGEST[duration.unit]:
        raise ValueError(f"duration {text!r} is longer than five years "
                         f"(at most {LONGEST[duration.unit]} {duration.unit})")
    return duration
