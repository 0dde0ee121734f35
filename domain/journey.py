"""The Journey aggregate: its lifecycle, its editable details and its steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.caller import SYSTEM
from domain.conditions import rule_problems
from domain.errors import Conflict, Invalid, NotFound, Problem
from domain.graph import graph_problems
from domain.steps import (
    STEP_TYPES,
    SUCCESSOR_FIELDS,
    Step,
    allowed_successor_fields,
    content_problems,
)

DRAFT, ACTIVE, PAUSED, ARCHIVED = "DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"
LIVE_EDITABLE = frozenset({"name", "description"})
MAX_STEPS = 100


def check_details(details: dict[str, Any]) -> None:
    """Refuse detail values no journey may hold (unknown time zone, malformed conditions)."""
    problems: list[Problem] = []
    if "timezone" in details:
        try:
            ZoneInfo(details["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem("timezone", f"unknown IANA time zone {details['timezone']!r}"))
    if "trigger_config" in details:
        config = details["trigger_config"]
        if not isinstance(config, dict):
            problems.append(Problem("trigger_config", "must be an object"))
        else:
            unknown = set(config) - {"conditions"}
            if unknown:
                problems.append(
                    Problem("trigger_config", f"unknown keys: {', '.join(sorted(unknown))}")
                )
            problems.extend(
                rule_problems(config.get("conditions", []), "trigger_config.conditions")
            )
    if problems:
        raise Invalid("invalid journey details", problems)


class Journey(StrAggregate):
    """A tenant's journey definition. Steps live inside it, so the graph changes atomically."""

    id: str

    @event("Created")
    def __init__(
        self,
        tenant_id: str,
        name: str,
        description: str | None,
        trigger_type: str,
        trigger_config: dict[str, Any],
        allow_reentry: bool,
        timezone: str,
        created_by: str | None,
        at: datetime,
        actor: str = SYSTEM,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.description = description
        self.trigger_type = trigger_type
        self.trigger_config = trigger_config
        self.allow_reentry = allow_reentry
        self.timezone = timezone
        self.created_by = created_by
        self.status = DRAFT
        self.steps: list[Step] = []
        self.deleted = False
        self.created_at = self.updated_at = at
        self.activated_at: datetime | None = None
        self.paused_at: datetime | None = None
        self.resumed_at: datetime | None = None
        self.archived_at: datetime | None = None

    @property
    def steps_count(self) -> int:
        return len(self.steps)

    # Details -----------------------------------------------------------------

    def update_details(self, changes: dict[str, Any], at: datetime, actor: str = SYSTEM) -> None:
        self._check_not_archived()
        if self.status != DRAFT:
            locked = [f for f in changes if f not in LIVE_EDITABLE]
            if locked:
                raise Conflict(
                    f"a journey in {self.status} can only change name and description",
                    [Problem(f, f"not editable while {self.status}") for f in locked],
                    code="FIELD_NOT_EDITABLE",
                )
        check_details(changes)
        self._details_updated(changes, at, actor)

    @event("DetailsUpdated")
    def _details_updated(self, changes: dict[str, Any], at: datetime, actor: str = SYSTEM) -> None:
        for key, value in changes.items():
            setattr(self, key, value)
        self.updated_at = at

    # Lifecycle ---------------------------------------------------------------

    def activate(self, at: datetime, actor: str = SYSTEM) -> None:
        self._require_status(DRAFT, "activate")
        problems = graph_problems(self.steps, self.trigger_type)
        if problems:
            raise Conflict(
                f"the journey cannot be activated: {len(problems)} problem(s)",
                problems,
                code="JOURNEY_INVALID",
            )
        self._activated(at, actor)

    @event("Activated")
    def _activated(self, at: datetime, actor: str = SYSTEM) -> None:
        self.status = ACTIVE
        self.activated_at = self.updated_at = at

    def pause(self, at: datetime, actor: str = SYSTEM) -> None:
        self._require_status(ACTIVE, "pause")
        self._paused(at, actor)

    @event("Paused")
    def _paused(self, at: datetime, actor: str = SYSTEM) -> None:
        self.status = PAUSED
        self.paused_at = self.updated_at = at

    def resume(self, at: datetime, actor: str = SYSTEM) -> None:
        self._require_status(PAUSED, "resume")
        self._resumed(at, actor)

    @event("Resumed")
    def _resumed(self, at: datetime, actor: str = SYSTEM) -> None:
        self.status = ACTIVE
        self.resumed_at = self.updated_at = at

    def archive(self, at: datetime, actor: str = SYSTEM) -> None:
        self._check_not_archived()
        self._archived(at, actor)

    @event("Archived")
    def _archived(self, at: datetime, actor: str = SYSTEM) -> None:
        self.status = ARCHIVED
        self.archived_at = self.updated_at = at

    def delete(self, at: datetime, actor: str = SYSTEM) -> None:
        if self.status != DRAFT:
            raise Conflict(
                f"only DRAFT journeys can be deleted; this one is {self.status} (archive it)",
                code="INVALID_STATE",
            )
        self._deleted(at, actor)

    @event("Deleted")
    def _deleted(self, at: datetime, actor: str = SYSTEM) -> None:
        self.deleted = True
        self.updated_at = at

    # Steps -------------------------------------------------------------------

    def name_of(self, step_id: str | None) -> str | None:
        """The name step `step_id` has now (None for no step): recorded with what an
        enrollment does there, so its history keeps the name the step had then."""
        for step in self.steps:
            if step.id == step_id:
                return step.name
        return None

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise NotFound(f"step {step_id} not found in journey {self.id}")

    def add_step(self, step: Step, after_step_id: str | None, at: datetime,
                 actor: str = SYSTEM) -> None:
        self._check_structure_editable("add steps")
        if step.type not in STEP_TYPES:
            raise Invalid("unknown step type", [Problem("type", f"must be one of {STEP_TYPES}")])
        if len(self.steps) >= MAX_STEPS:
            raise Invalid(f"a journey has at most {MAX_STEPS} steps",
                          [Problem("steps", f"this one has {len(self.steps)} already")])
        position = len(self.steps)
        if after_step_id is not None:
            position = self._index_of(after_step_id, "after_step_id") + 1
        self._check_successors(step, own_id=None)
        self._step_added(step.as_dict(), position, at, actor)

    @event("StepAdded")
    def _step_added(self, step: dict[str, Any], position: int, at: datetime, actor: str = SYSTEM) -> None:
        self.steps.insert(position, Step.from_dict(step))
        self.updated_at = at

    def update_step(self, step_id: str, changes: dict[str, Any], at: datetime,
                    actor: str = SYSTEM) -> Step:
        self._check_not_archived()
        current = self.step(step_id)
        if self.status != DRAFT:
            structural = [f for f in changes if not self._is_content_edit(current, f, changes[f])]
            if structural:
                raise Conflict(
                    f"a journey in {self.status} allows only content edits "
                    "(a step's name, a SEND's templateId)",
                    [Problem(f, "changes the journey's shape") for f in structural],
                    code="STRUCTURE_LOCKED",
                )
        updated = current.with_changes(changes)
        if self.status != DRAFT:
            # A live journey stays runnable: a content edit must itself be valid.
            problems = content_problems(updated, f"steps[{self.steps.index(current) + 1}]")
            if problems:
                raise Invalid("the edit would leave the step unrunnable", problems)
        self._check_successors(updated, own_id=step_id)
        self._step_updated(step_id, changes, at, actor)
        return updated

    @staticmethod
    def _is_content_edit(step: Step, field: str, value: Any) -> bool:
        if field == "name":
            return True
        if field == "config" and step.type == "SEND" and isinstance(value, dict):
            before = {k: v for k, v in step.config.items() if k != "templateId"}
            after = {k: v for k, v in value.items() if k != "templateId"}
            return before == after
        return False

    @event("StepUpdated")
    def _step_updated(self, step_id: str, changes: dict[str, Any], at: datetime, actor: str = SYSTEM) -> None:
        index = self._index_of(step_id, "step_id")
        self.steps[index] = self.steps[index].with_changes(changes)
        self.updated_at = at

    def remove_step(self, step_id: str, at: datetime, actor: str = SYSTEM) -> None:
        self._check_structure_editable("delete steps")
        self.step(step_id)
        pointing = [s for s in self.steps if s.id != step_id and step_id in s.explicit_targets()]
        if pointing:
            raise Conflict(
                "other steps lead to this step; change them first",
                [Problem(f"steps[{self.steps.index(s) + 1}]", f"leads to {step_id}") for s in pointing],
                code="STEP_IN_USE",
            )
        self._step_removed(step_id, at, actor)

    @event("StepRemoved")
    def _step_removed(self, step_id: str, at: datetime, actor: str = SYSTEM) -> None:
        del self.steps[self._index_of(step_id, "step_id")]
        self.updated_at = at

    def reorder_steps(self, step_ids: list[str], at: datetime, actor: str = SYSTEM) -> None:
        self._check_structure_editable("reorder steps")
        current = [s.id for s in self.steps]
        if len(step_ids) != len(set(step_ids)) or sorted(step_ids) != sorted(current):
            raise Invalid(
                "stepIds must list each of the journey's steps exactly once",
                [Problem("step_ids", f"expected a permutation of {current}")],
            )
        self._steps_reordered(step_ids, at, actor)

    @event("StepsReordered")
    def _steps_reordered(self, step_ids: list[str], at: datetime, actor: str = SYSTEM) -> None:
        by_id = {s.id: s for s in self.steps}
        self.steps = [by_id[i] for i in step_ids]
        self.updated_at = at

    # Guards ------------------------------------------------------------------

    def _index_of(self, step_id: str, field: str) -> int:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        raise Invalid("no such step", [Problem(field, f"{step_id} is not a step of this journey")])

    def _check_successors(self, step: Step, own_id: str | None) -> None:
        problems: list[Problem] = []
        allowed = allowed_successor_fields(step.type)
        ids = {s.id for s in self.steps} | ({own_id} if own_id else set())
        for field in SUCCESSOR_FIELDS:
            target = getattr(step, field)
            if target is None:
                continue
            if field not in allowed:
                problems.append(Problem(field, f"a {step.type} step has no such successor"))
            elif target not in ids:
                problems.append(Problem(field, f"{target} is not a step of this journey"))
        if step.type == "SPLIT":
            for index, split in enumerate(step.config.get("splits") or []):
                target = split.get("nextStepId") if isinstance(split, dict) else None
                if target is not None and target not in ids:
                    problems.append(
                        Problem(
                            f"config.splits[{index}].nextStepId",
                            f"{target} is not a step of this journey",
                        )
                    )
        if problems:
            raise Invalid("invalid successor", problems)

    def _require_status(self, expected: str, action: str) -> None:
        if self.status != expected:
            raise Conflict(
                f"cannot {action} a journey that is {self.status} (needs {expected})",
                code="INVALID_STATE",
            )

    def _check_not_archived(self) -> None:
        if self.status == ARCHIVED:
            raise Conflict("the journey is ARCHIVED; nothing can change", code="INVALID_STATE")

    def _check_structure_editable(self, action: str) -> None:
        self._check_not_archived()
        if self.status != DRAFT:
            raise Conflict(
                f"cannot {action} while the journey is {self.status}; only DRAFT journeys "
                "change shape",
                code="STRUCTURE_LOCKED",
            )
