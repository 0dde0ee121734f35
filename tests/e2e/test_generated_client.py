"""The OpenAPI document makes a working client: openapi-python-client generates one from a
running `journeys serve`, as a new user would, and a whole flow runs through it with
every response parsed into its model."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Process, free_port, journeys, wait_healthy

pytestmark = pytest.mark.e2e
GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))


def generate(spec: dict[str, Any], into: Path) -> ModuleType:
    (into / "openapi.json").write_text(json.dumps(spec))
    done = subprocess.run(
        [GENERATOR, "generate", "--path", str(into / "openapi.json"), "--meta", "none",
         "--output-path", str(into / "journeys_client")],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(into)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module("journeys_client")
    finally:
        sys.path.remove(str(into))


def operation(client_package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"journeys_client.api.{name}")


def test_a_client_generated_from_the_document_runs_a_whole_flow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    secret = json.loads(journeys("keys", "create", "--tenant", "acme", "--json",
                                 "--database", url).stdout)["key"]
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database", url, log=tmp_path / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        package = generate(httpx.get(f"{base}/openapi.json").json(), tmp_path)
        models = importlib.import_module("journeys_client.models")
        client = importlib.import_module("journeys_client").AuthenticatedClient(
            base_url=base, token=secret)

        def op(name: str) -> Any:
            return operation(package, name)

        journey = op("journeys.post_journeys").sync(client=client, idempotency_key="flow-1",
                                                    body=models.CreateJourney(
            name="Welcome", trigger_type="member.created", timezone="Europe/London"))
        assert isinstance(journey, models.Journey), journey
        assert journey.tenant_id == "acme"
        send = op("steps.post_journeys_journey_id_steps").sync(journey.id, client=client,
                                                               body=models.AddStep(
            type_=models.AddStepType.SEND, name="Hello",
            config=models.AddStepConfig.from_dict({"channel": "EMAIL", "templateId": "hi"})))
        end = op("steps.post_journeys_journey_id_steps").sync(journey.id, client=client,
                                                              body=models.AddStep(
            type_=models.AddStepType.END, name="Done"))
        assert isinstance(send, models.Step) and isinstance(end, models.Step)
        renamed = op("journeys.patch_journeys_journey_id").sync(
            journey.id, client=client, body=models.UpdateJourney(name="Welcome aboard"))
        assert isinstance(renamed, models.Journey) and renamed.name == "Welcome aboard"
        activated = op("lifecycle.post_journeys_journey_id_activate").sync(journey.id,
                                                                           client=client)
        assert isinstance(activated, models.Activated), activated
        enrolled = op("enrollments.post_journeys_journey_id_enrollments").sync(
            journey.id, client=client, body=models.Enroll(customer_id="ada"))
        assert isinstance(enrolled, models.Enrolled), enrolled
        accepted = op("events.post_events_batch").sync(client=client, body=models.EventBatch(
            events=[models.TriggerEventIn(type_="member.created", customer_id="bob")]))
        assert isinstance(accepted, models.Accepted) and accepted.accepted == 1
        detail = op("journeys.get_journeys_journey_id").sync(journey.id, client=client,
                                                             include="steps")
        assert isinstance(detail, models.JourneyDetail), detail
        assert [step.name for step in detail.steps] == ["Hello", "Done"]
        enrollment = op("enrollments.get_journeys_journey_id_enrollments_key").sync(
            journey.id, enrolled.id, client=client)
        assert isinstance(enrollment, models.EnrollmentDetail), enrollment
        assert enrollment.customer_id == "ada"
        page = op("enrollments.get_journeys_journey_id_enrollments").sync(journey.id,
                                                                          client=client)
        assert isinstance(page, models.EnrollmentPage) and page.meta.total == 1
        refused = op("lifecycle.post_journeys_journey_id_activate").sync(journey.id,
                                                                         client=client)
        assert isinstance(refused, models.Error) and refused.code == "INVALID_STATE"
    finally:
        assert serve.stop() == 0
