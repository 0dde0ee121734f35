"""Steps of a journey: their types, their content rules and where each one leads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from domain.conditions import COMBINATORS, rule_problems
from domain.durations import parse_duration
from domain.errors import Problem

STEP_TYPES = ("TRIGGER", "SEND", "WAIT", "CONDITION", "SPLIT", "UPDATE", "END")
UPDATE_ACTIONS = frozenset({"set", "unset", "add", "remove", "increment"})
SUCCESSOR_FIELDS = ("next_step_id", "next_step_yes_id", "next_step_no_id")


@dataclass(frozen=True)
class Step:
    """One step as the journey holds it; successors are the explicit ones only."""

    id: str
    type: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    next_step_id: str | None = None
    next_step_yes_id: str | None = None
    next_step_no_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(**data)

    def with_changes(self, changes: dict[str, Any]) -> Step:
        return replace(self, **changes)

    def explicit_targets(self) -> list[str]:
        """Every step id this step names as a successor."""
        targets = [t for t in (getattr(self, f) for f in SUCCESSOR_FIELDS) if t]
        if self.type == "SPLIT":
            for split in self.config.get("splits") or []:
                if isinstance(split, dict) and isinstance(split.get("nextStepId"), str):
                    targets.append(split["nextStepId"])
        return targets


def allowed_successor_fields(step_type: str) -> tuple[str, ...]:
    """Which explicit successor fields a step of this type may carry."""
    if step_type == "CONDITION":
        return ("next_step_yes_id", "next_step_no_id")
    if step_type in ("SPLIT", "END"):
        return ()
    return ("next_step_id",)


def successors(steps: Sequence[Step], index: int) -> list[str | None]:
    """Effective successors of steps[index]; None means the enrollment completes there."""
    step = steps[index]
    following = steps[index + 1].id if index + 1 < len(steps) else None
    if step.type == "END":
        return [None]
    if step.type == "CONDITION":
        return [step.next_step_yes_id or following, step.next_step_no_id or following]
    if step.type == "SPLIT":
        splits = [s for s in step.config.get("splits") or [] if isinstance(s, dict)]
        found = [s.get("nextStepId") if isinstance(s.get("nextStepId"), str) else following
                 for s in splits]
        return found or [following]
    return [step.next_step_id or following]


def effective_successors(steps: Sequence[Step], index: int) -> tuple[str | None, ...]:
    """(next, yes, no) as shown to clients: where an enrollment really goes next."""
    step = steps[index]
    if step.type == "CONDITION":
        yes, no = successors(steps, index)
        return None, yes, no
    if step.type in ("SPLIT", "END"):
        return None, None, None
    return successors(steps, index)[0], None, None


def content_problems(step: Step, where: str) -> list[Problem]:
    """What is wrong with one step's own configuration, ignoring the rest of the graph."""
    config = step.config
    at = f"{where}.config"
    if step.type == "SEND":
        return [
            Problem(f"{at}.{key}", f"SEND needs a non-empty {key}")
            for key in ("channel", "templateId")
            if not isinstance(config.get(key), str) or not config[key].strip()
        ]
    if step.type == "WAIT":
        try:
            parse_duration(config.get("duration"))
        except ValueError as error:
            return [Problem(f"{at}.duration", str(error))]
        return []
    if step.type == "CONDITION":
        problems = []
        if config.get("combinator", "AND") not in COMBINATORS:
            problems.append(Problem(f"{at}.combinator", "must be AND or OR"))
        rules = config.get("rules")
        if not rules:
            problems.append(Problem(f"{at}.rules", "CONDITION needs at least one rule"))
        else:
            problems.extend(rule_problems(rules, f"{at}.rules"))
        return problems
    if step.type == "SPLIT":
        return _split_problems(config.get("splits"), f"{at}.splits")
    if step.type == "UPDATE":
        return _update_problems(config.get("updates"), f"{at}.updates")
    if step.type == "TRIGGER":
        conditions = config.get("conditions", [])
        return rule_problems(conditions, f"{at}.conditions")
    return []


def _split_problems(splits: Any, at: str) -> list[Problem]:
    if not isinstance(splits, list) or len(splits) < 2:
        return [Problem(at, "SPLIT needs at least two variants")]
    problems: list[Problem] = []
    total = 0
    for index, split in enumerate(splits):
        percentage = split.get("percentage") if isinstance(split, dict) else None
        if isinstance(percentage, bool) or not isinstance(percentage, int) or percentage <= 0:
            problems.append(Problem(f"{at}[{index}].percentage", "must be a positive integer"))
        else:
            total += percentage
    if not problems and total != 100:
        problems.append(Problem(at, f"percentages must sum to 100, not {total}"))
    return problems


def _update_problems(updates: Any, at: str) -> list[Problem]:
    if not isinstance(updates, list) or not updates:
        return [Problem(at, "UPDATE needs at least one update")]
    problems: list[Problem] = []
    for index, update in enumerate(updates):
        where = f"{at}[{index}]"
        if not isinstance(update, dict):
            problems.append(Problem(where, "must be an object with field and action"))
            continue
        if not isinstance(update.get("field"), str) or not update["field"].strip():
            problems.append(Problem(f"{where}.field", "must be a non-empty dotted path"))
        action = update.get("action")
        if action not in UPDATE_ACTIONS:
            problems.append(
                Problem(f"{where}.action", f"must be one of {', '.join(sorted(UPDATE_ACTIONS))}")
            )
        elif action == "increment" and (
            isinstance(update.get("value", 1), bool)
            or not isinstance(update.get("value", 1), int | float)
        ):
            problems.append(Problem(f"{where}.value", "increment needs a number"))
        elif action not in ("unset", "increment") and "value" not in update:
            problems.append(Problem(f"{where}.value", f"{action} needs a value"))
    return problems
