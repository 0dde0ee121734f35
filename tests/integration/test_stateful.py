"""Any sequence of commands leaves the read models equal to a rebuild from the log, and
nothing happens to an enrollment after it has ended: hypothesis drives the Journey and
Enrollment aggregates through random sequences of commands, refusals included."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from domain.enrollment import ENDINGS
from domain.errors import JourneysError
from domain.triggers import IncomingEvent
from journeys.wiring import System, build_system
from projections.rebuild import rebuild
from scheduler.channels import LogChannel
from tests.conftest import Clock, reset_postgres
from tests.integration.history import dump

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)
JOURNEY_TABLES = {"journeys": "id", "journey_steps": "id"}
ENROLLMENT_TABLES = {"enrollments": "id", "enrollment_steps": "enrollment_id, seq",
                     "step_stats": "journey_id, step_id",
                     "step_variant_stats": "journey_id, step_id, variant",
                     "journey_stats": "journey_id", "due_work": "enrollment_id",
                     "journey_series": "journey_id, bucket", "messages": "id",
                     "customers": "id"}
CONFIGS = {
    "SEND": [{"channel": "EMAIL", "templateId": "t"}, {"channel": "SMS"}],
    "WAIT": [{"duration": "30 minutes"}, {"duration": "1 day"}, {"duration": "999999 weeks"}],
    "CONDITION": [{"rules": [{"field": "score", "operator": "gte", "value": 50}]},
                  {"rules": []}],
    "SPLIT": [{"splits": [{"percentage": 50}, {"percentage": 50}]},
              {"splits": [{"percentage": 70}]}],
    "UPDATE": [{"updates": [{"field": "n", "action": "increment", "value": 1}]}],
    "END": [{}],
    "TRIGGER": [{"eventType": "go"}],
}


class _OnADatabase(RuleBasedStateMachine):
    """A system of its own for each example: a new SQLite file, or PostgreSQL emptied."""

    url = ""  # set by the test: "sqlite" or a PostgreSQL URL

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(T0)
        if self.url == "sqlite":
            self.folder = tempfile.TemporaryDirectory()
            url = f"sqlite:///{Path(self.folder.name) / 'j.db'}"
        else:
            reset_postgres(self.url)
            url = self.url
        self.system: System = build_system(url, clock=self.clock, channel=LogChannel(),
                                           consistency_timeout=0.1)
        self.app = self.system.services.app

    def refused(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a command; a refusal (the domain's, on purpose) is an answer too."""
        try:
            return command(*args, **kwargs)
        except JourneysError:
            return None

    def read_models_equal_a_rebuild(self, tables: dict[str, str]) -> None:
        runner = self.system.runner
        runner.catch_up()
        live = dump(runner.database, tables)
        rebuild(runner, list(runner.projections))
        assert dump(runner.database, tables) == live

    def teardown(self) -> None:
        self.app.close()
        if self.url == "sqlite":
            self.folder.cleanup()


class JourneyMachine(_OnADatabase):
    journeys = Bundle("journeys")

    @rule(target=journeys, tenant=st.sampled_from(["t1", "t2"]))
    def create(self, tenant: str) -> str:
        return str(self.app.create_journey(tenant, "j", "go").journey.id)

    @rule(journey=journeys, kind=st.sampled_from(sorted(CONFIGS)), data=st.data())
    def add_step(self, journey: str, kind: str, data: st.DataObject) -> None:
        config = data.draw(st.sampled_from(CONFIGS[kind]))
        after = data.draw(st.none() | st.sampled_from(self._steps(journey) or [None]))
        self.refused(self.app.add_step, journey, kind, f"{kind.lower()}", config,
                     after_step_id=after)

    @rule(journey=journeys, data=st.data())
    def edit_step(self, journey: str, data: st.DataObject) -> None:
        steps = self._steps(journey)
        if steps:
            step = data.draw(st.sampled_from(steps))
            changes = data.draw(st.sampled_from([{"name": "renamed"},
                                                 {"next_step_id": data.draw(st.sampled_from(steps))},
                                                 {"config": {"channel": "EMAIL", "templateId": "u"}}]))
            self.refused(self.app.update_step, journey, step, changes)

    @rule(journey=journeys, data=st.data())
    def remove_or_reorder(self, journey: str, data: st.DataObject) -> None:
        steps = self._steps(journey)
        if steps and data.draw(st.booleans()):
            self.refused(self.app.remove_step, journey, data.draw(st.sampled_from(steps)))
        elif steps:
            self.refused(self.app.reorder_steps, journey, data.draw(st.permutations(steps)))

    @rule(journey=journeys, changes=st.sampled_from([
        {"name": "n2"}, {"description": None}, {"timezone": "Europe/London"},
        {"trigger_type": "other"}, {"allow_reentry": True}, {"timezone": "Mars/Olympus"}]))
    def edit_details(self, journey: str, changes: dict[str, Any]) -> None:
        self.refused(self.app.update_journey, journey, changes)

    @rule(journey=journeys, action=st.sampled_from(
        ["activate", "pause", "resume", "archive", "delete_journey"]))
    def lifecycle(self, journey: str, action: str) -> None:
        self.refused(getattr(self.app, action), journey)

    def _steps(self, journey: str) -> list[str]:
        try:
            return [step.id for step in self.app.journey(journey).steps]
        except JourneysError:
            return []

    def teardown(self) -> None:
        try:
            self.read_models_equal_a_rebuild(JOURNEY_TABLES)
        finally:
            super().teardown()


class EnrollmentMachine(_OnADatabase):
    @initialize(reentry=st.booleans(), wait=st.sampled_from(["30 minutes", "1 day"]))
    def journey(self, reentry: bool, wait: str) -> None:
        app = self.app
        self.jid = app.create_journey("t", "j", "go", allow_reentry=reentry).journey.id
        app.add_step(self.jid, "SEND", "hi", {"channel": "EMAIL", "templateId": "hi"})
        app.add_step(self.jid, "WAIT", "wait", {"duration": wait})
        app.add_step(self.jid, "CONDITION", "keen?",
                     {"rules": [{"field": "score", "operator": "gte", "value": 50}]})
        app.add_step(self.jid, "UPDATE", "tag", {"updates": [{"field": "n", "action": "increment"}]})
        app.add_step(self.jid, "END", "done")
        app.activate(self.jid)

    @rule(customer=st.sampled_from(["ada", "bob", "cy"]), score=st.integers(0, 100),
          event=st.none() | st.sampled_from(["e1", "e2"]))
    def trigger(self, customer: str, score: int, event: str | None) -> None:
        self.system.services.triggers.ingest([IncomingEvent(
            "t", "go", customer, event, None, {"score": score}, None)])

    @rule(customer=st.sampled_from(["ada", "bob", "dee"]))
    def enroll(self, customer: str) -> None:
        self.refused(self.system.services.enrolling.enroll, self.jid, customer)

    @rule(customer=st.sampled_from(["ada", "bob", "cy"]))
    def exit(self, customer: str) -> None:
        self.refused(self.system.services.exits.exit_customer, self.jid, customer)

    @rule(minutes=st.sampled_from([0, 20, 45, 60 * 25]))
    def tick(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.system.scheduler.tick(self.clock.now)

    @rule(action=st.sampled_from(["pause", "resume", "archive"]))
    def lifecycle(self, action: str) -> None:
        self.refused(getattr(self.app, action), self.jid)

    def nothing_happened_after_an_ending(self) -> None:
        rows = self.system.services.database.query(
            "SELECT id FROM enrollments WHERE journey_id = ?", (self.jid,))
        for row in rows:
            ended = False
            for event in self.app.events.get(row["id"]):
                for fact in getattr(event, "facts", []):
                    assert not ended, f"{row['id']} changed after it ended: {fact}"
                    ended = fact["kind"] in ENDINGS

    def teardown(self) -> None:
        try:
            self.system.scheduler.tick(self.clock.now + timedelta(days=3))
            self.nothing_happened_after_an_ending()
            self.read_models_equal_a_rebuild(ENROLLMENT_TABLES)
        finally:
            super().teardown()


@pytest.mark.parametrize("machine", [JourneyMachine, EnrollmentMachine],
                         ids=["journeys", "enrollments"])
def test_any_sequence_of_commands(machine: type[_OnADatabase], database_url: str) -> None:
    postgres = database_url.startswith("postgres")
    machine.url = database_url if postgres else "sqlite"
    run_state_machine_as_test(machine, settings=settings(
        max_examples=15 if postgres else 60, stateful_step_count=30, deadline=None,
        derandomize=True, database=None, suppress_health_check=list(HealthCheck)))
