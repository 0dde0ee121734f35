"""Whether a journey's steps form a graph an enrollment can walk from start to end."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import Problem
from domain.steps import Step, content_problems, successors


def graph_problems(steps: Sequence[Step], trigger_type: str) -> list[Problem]:
    """Every reason the journey cannot be activated, in step order; empty when valid."""
    if not steps:
        return [Problem("steps", "a journey needs at least one step")]
    problems: list[Problem] = []
    ids = {step.id for step in steps}
    for number, step in enumerate(steps, start=1):
        where = f"steps[{number}]"
        problems.extend(content_problems(step, where))
        for target in step.explicit_targets():
            if target not in ids:
                problems.append(Problem(where, f"successor {target} is not a step of this journey"))
        if step.type == "TRIGGER":
            if number != 1:
                problems.append(Problem(where, "a TRIGGER step may only be step 1"))
            event_type = step.config.get("eventType")
            if event_type not in (None, trigger_type):
                problems.append(
                    Problem(
                        f"{where}.config.eventType",
                        f"must mirror the journey's triggerType {trigger_type!r}",
                    )
                )
    problems.extend(_cycle_problems(steps, ids))
    return problems


def _cycle_problems(steps: Sequence[Step], ids: set[str]) -> list[Problem]:
    """Report each step that lies on a cycle, so every path is known to reach an end."""
    index_of = {step.id: index for index, step in enumerate(steps)}
    edges = {
        step.id: [t for t in successors(steps, i) if t is not None and t in ids]
        for i, step in enumerate(steps)
    }
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    on_cycle: set[str] = set()
    for root in edges:
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = grey
        while stack:
            node, position = stack[-1]
            if position < len(edges[node]):
                stack[-1] = (node, position + 1)
                nxt = edges[node][position]
                if colour[nxt] == grey:
                    on_cycle.update(path[path.index(nxt):])
                elif colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return [
        Problem(f"steps[{index_of[s] + 1}]", "is on a cycle: this path never reaches an end")
        for s in sorted(on_cycle, key=index_of.__getitem__)
    ]


def graph_warnings(steps: Sequence[Step]) -> list[Problem]:
    """What is allowed but likely not meant, in step order; they never block activation:
    a CONDITION branch or SPLIT variant without an explicit target (it falls through to
    the next step by number), and a step after a branch that falls through by number into
    the head of another branch."""
    warnings: list[Problem] = []
    number_of = {step.id: number for number, step in enumerate(steps, start=1)}
    heads: dict[str, str] = {}  # a branch's explicit target -> which branch it heads
    for number, step in enumerate(steps, start=1):
        where = f"steps[{number}]"
        following = f"steps[{number + 1}]" if number < len(steps) else "the end"
        if step.type == "CONDITION":
            for branch, target in (("Yes", step.next_step_yes_id), ("No", step.next_step_no_id)):
                if target is None:
                    warnings.append(Problem(f"{where}.nextStep{branch}Id", (
                        f"the {branch.lower()} branch has no explicit target: it falls through "
                        f"to {following}")))
                else:
                    heads.setdefault(target, f"the {branch.lower()} branch of {where}")
        elif step.type == "SPLIT":
            for index, split in enumerate(step.config.get("splits") or []):
                target = split.get("nextStepId") if isinstance(split, dict) else None
                if not isinstance(target, str):
                    warnings.append(Problem(f"{where}.config.splits[{index}].nextStepId", (
                        f"variant {index} has no explicit target: it falls through to "
                        f"{following}")))
                else:
                    heads.setdefault(target, f"variant {index} of {where}")
    after_branch = _after_branches(steps)
    for index, step in enumerate(steps[:-1]):
        following_step = steps[index + 1]
        head = heads.get(following_step.id)
        if (step.id in after_branch and step.type in FALLS_THROUGH and not step.next_step_id
                and head and following_step.type != "END"):
            warnings.append(Problem(f"steps[{index + 1}].nextStepId", (
                f"falls through by number to steps[{number_of[following_step.id]}], where "
                f"{head} goes: set nextStepId if that is meant")))
    return warnings


FALLS_THROUGH = frozenset({"TRIGGER", "SEND", "WAIT", "UPDATE"})


def _after_branches(steps: Sequence[Step]) -> set[str]:
    """The steps on some path from a CONDITION's or a SPLIT's successors."""
    index_of = {step.id: index for index, step in enumerate(steps)}
    seen: set[str] = set()
    todo = [target for index, step in enumerate(steps) if step.type in ("CONDITION", "SPLIT")
            for target in successors(steps, index) if target in index_of]
    while todo:
        step_id = todo.pop()
        if step_id in seen:
            continue
        seen.add(step_id)
        todo.extend(t for t in successors(steps, index_of[step_id]) if t in index_of)
    return seen
