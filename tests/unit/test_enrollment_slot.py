"""The slot names the latest enrollment; whether it may be claimed again depends on that
enrollment's status, which the claimer passes in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.enrollment_slot import EnrollmentSlot
from domain.errors import Conflict

T0 = datetime(2025, 3, 28, 9, 0, tzinfo=UTC)


def slot() -> EnrollmentSlot:
    return EnrollmentSlot(journey_id="journey_1", customer_id="ada", enrollment_id="enrollment_1",
                          at=T0, id="slot_1")  # type: ignore[call-arg]


def test_an_active_latest_enrollment_refuses_a_second() -> None:
    s = slot()
    with pytest.raises(Conflict) as refused:
        s.claim("enrollment_2", latest_is_active=True, allow_reentry=True, at=T0)
    assert refused.value.code == "ALREADY_ENROLLED"
    assert s.enrollment_id == "enrollment_1"
    assert [type(e).__name__ for e in s.collect_events()] == ["FirstClaimed"]


def test_an_ended_latest_enrollment_frees_the_slot_only_with_reentry() -> None:
    closed, open_ = slot(), slot()
    with pytest.raises(Conflict) as refused:
        closed.claim("enrollment_2", latest_is_active=False, allow_reentry=False, at=T0)
    assert refused.value.code == "REENTRY_NOT_ALLOWED"

    open_.claim("enrollment_2", latest_is_active=False, allow_reentry=True, at=T0)
    assert (open_.enrollment_id, open_.enrollments) == ("enrollment_2", 2)
    assert [type(e).__name__ for e in open_.collect_events()] == ["FirstClaimed", "Claimed"]
