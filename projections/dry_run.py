"""A dry run's answer, read by the enrollments read model's own code: the simulated
enrollments' events (never saved) folded into rows in memory, so a dry run's path, messages
and per-step counts read exactly as a live enrollment's would."""

from __future__ import annotations

from typing import Any

from domain.journey import Journey
from domain.simulation import Simulated
from projections.enrollment_batch import STAT_COLUMNS, Batch
from projections.enrollments import EnrollmentsProjection
from projections.projection import expand
from storage.database import Row


def fold(journey: Journey, runs: list[Simulated]) -> tuple[list[Row], list[Row]]:
    """(per customer: its enrollment's row with `steps` and `messages`; per step of the
    journey: its counts, as `enrollment_queries.step_stats` gives them)."""
    batch = Batch()
    projection = EnrollmentsProjection()
    for run in runs:
        events: list[Any] = list(run.enrollment.collect_events())
        projection.fold(batch, expand((event, 0) for event in events))
    rows = batch.as_read(journey.steps)
    messages_of: dict[str, list[Row]] = {}
    for message in batch.messages.values():
        messages_of.setdefault(message["enrollment_id"], []).append(message)
    customers = [{**rows[run.enrollment.id], "stopped": run.stopped,
                  "messages": messages_of.get(run.enrollment.id, [])} for run in runs]
    variants: dict[str, dict[int, int]] = {}
    for (_, step_id, variant), entered in batch.variants.items():
        variants.setdefault(step_id, {})[variant] = entered
    steps = [{"id": step.id, "step_number": number, "name": step.name, "type": step.type,
              "config": step.config, "variants": variants.get(step.id, {}),
              **{column: batch.stats[(journey.id, step.id)][column] for column in STAT_COLUMNS}}
             for number, step in enumerate(journey.steps, start=1)]
    return customers, steps
