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
