"""SPLIT assignment: close to its percentages over many enrollments, and identical on replay."""

from __future__ import annotations

from collections import Counter

from domain.ids import random_id
from domain.splits import choose_variant


def test_ten_thousand_enrollments_land_close_to_the_percentages() -> None:
    ids = [random_id("enrollment") for _ in range(10_000)]

    counts = Counter(choose_variant(i, "step_split", [50, 30, 20]) for i in ids)

    assert abs(counts[0] - 5000) < 300
    assert abs(counts[1] - 3000) < 300
    assert abs(counts[2] - 2000) < 300
    assert [choose_variant(i, "step_split", [50, 30, 20]) for i in ids] == [
        choose_variant(i, "step_split", [50, 30, 20]) for i in ids
    ]


def test_the_choice_is_a_pure_function_of_both_ids() -> None:
    assert choose_variant("enrollment_a", "step_1", [50, 50]) == choose_variant(
        "enrollment_a", "step_1", [50, 50])
    different_steps = {choose_variant("enrollment_a", f"step_{n}", [50, 50]) for n in range(50)}
    assert different_steps == {0, 1}


def test_a_hundred_percent_variant_always_wins() -> None:
    assert {choose_variant(random_id("enrollment"), "s", [100]) for _ in range(100)} == {0}
    assert {choose_variant(random_id("enrollment"), "s", [1, 99]) for _ in range(50)} <= {0, 1}
