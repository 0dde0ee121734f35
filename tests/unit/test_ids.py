"""Stable ids: the same natural key gives the same id as it always has (ids are in the log)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import pytest

from domain.ids import customer_id_for, stable_id


def test_a_known_customer_keeps_its_id() -> None:
    assert customer_id_for("acme", "ann@example.com") == \
        "customer_4df654f5906a5578b97f3eb2c79d79d1"


@pytest.mark.parametrize("parts", [("t", "c1"), ("", ""), ("tenant", "é€😀\u0000"),
                                   ("a" * 500, "b"), ("one",), ("x", "y", "z")])
def test_a_stable_id_is_the_hex_of_uuid5_of_its_key(parts: tuple[str, ...]) -> None:
    namespace = uuid5(NAMESPACE_URL, "journeys")
    assert stable_id("p", *parts) == f"p_{uuid5(namespace, chr(31).join(parts)).hex}"
