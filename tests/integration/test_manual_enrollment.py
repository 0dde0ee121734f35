"""Manual enrollments saved together: each request its own answer, one transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from domain.enrollment import Enrollment
from domain.errors import Conflict, NotFound
from domain.manual_enrollment import ManualEnrollment
from journeys.wiring import System
from tests.conftest import Clock, Running
from tests.integration.test_engine_api import six_step_journey

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def test_enrollments_made_together_answer_each_request_as_one_after_the_other_would(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    app = system.services.app
    active = app.create_journey(tenant_id="t", name="a", trigger_type="go").journey.id
    app.add_step(active, "END", "done")
    app.activate(active)
    draft = app.create_journey(tenant_id="t", name="d", trigger_type="go").journey.id
    head = system.runner.head()

    outcomes = system.services.enrolling.enroll_many([
        ManualEnrollment(active, "ada"),
        ManualEnrollment(active, "bob", "t"),
        ManualEnrollment(active, "ada"),  # a second, while the first is ACTIVE
        ManualEnrollment("journey_missing", "cy"),
        ManualEnrollment(draft, "dee"),
        ManualEnrollment(active, "eve", "another-tenant"),
    ])

    made = [o for o in outcomes if not isinstance(o, Exception)]
    assert [type(o).__name__ for o in outcomes] == [
        "Enrolled", "Enrolled", "Conflict", "NotFound", "Conflict", "NotFound"]
    assert isinstance(outcomes[3], NotFound) and isinstance(outcomes[5], NotFound)
    assert isinstance(outcomes[4], Conflict) and outcomes[4].code == "JOURNEY_NOT_ACTIVE"
    assert [o.enrollment.customer_id for o in made] == ["ada", "bob"]
    assert all(isinstance(o.enrollment, Enrollment) and o.enrollment.journey_id == active
               and o.step_number == 1 for o in made)
    positions = {o.position for o in made}
    assert positions == {system.runner.head()} and head < positions.pop(), "one save"
    system.runner.catch_up()
    rows = system.services.database.query(
        "SELECT customer_id FROM enrollments WHERE journey_id = ? ORDER BY customer_id", (active,))
    assert rows == [{"customer_id": "ada"}, {"customer_id": "bob"}]
    customers = system.services.database.query(
        "SELECT customer_id FROM customers ORDER BY customer_id")
    assert customers == [{"customer_id": "ada"}, {"customer_id": "bob"}], "no one else made"


def test_concurrent_enrollments_of_different_customers_each_get_their_own_answer(
    running: Running, clock: Clock
) -> None:
    client = running.client
    clock.now = T0
    jid = six_step_journey(client)["id"]

    def enroll(n: int) -> tuple[int, dict[str, object]]:
        answer = client.simulate_post(f"/journeys/{jid}/enrollments",
                                      json={"customerId": f"c{n % 20}"})
        return answer.status_code, answer.json

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(enroll, range(40)))

    made = [body for code, body in answers if code == 201]
    assert sorted(body["customerId"] for body in made) == sorted(f"c{n}" for n in range(20))
    assert len({body["id"] for body in made}) == 20
    assert all(code == 409 for code, _ in answers if code != 201)
    for body in made:
        shown = client.simulate_get(f"/journeys/{jid}/enrollments/{body['id']}")
        assert shown.status_code == 200, "visible as soon as the POST answered"
        assert shown.json["customerId"] == body["customerId"]
