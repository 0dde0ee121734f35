"""JourneysApplication.save: several aggregates in one save, as the library would store them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import IntegrityError

from domain.application import JourneysApplication
from domain.customer import Customer

T0 = datetime(2025, 3, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def app() -> JourneysApplication:
    return JourneysApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)


def test_several_aggregates_are_stored_in_order_as_the_library_would_store_them(
    app: JourneysApplication
) -> None:
    customers = [Customer.register("t", f"c{n}", T0) for n in range(3)]
    customers[1].replace_profile("Ann", None, {"n": 1}, T0)

    recordings = app.save(*customers)

    assert [(r.domain_event.originator_id, r.domain_event.originator_version)
            for r in recordings] == [(customers[0].id, 1), (customers[1].id, 1),
                                     (customers[1].id, 2), (customers[2].id, 1)]
    positions = [r.notification.id for r in recordings]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert app.repository.get(customers[1].id).name == "Ann"
    assert all(not customer.collect_events() for customer in customers)


def test_a_save_with_one_stale_aggregate_stores_none_of_them(app: JourneysApplication) -> None:
    first = Customer.register("t", "c1", T0)
    app.save(first)
    stale = app.repository.get(first.id)
    fresh = app.repository.get(first.id)
    fresh.replace_profile("Bob", None, {}, T0)
    app.save(fresh)
    stale.replace_profile("Eve", None, {}, T0)
    other = Customer.register("t", "c2", T0)

    with pytest.raises(IntegrityError):
        app.save(other, stale)

    assert app.repository.get(first.id).name == "Bob"
    assert other.id not in app.repository
