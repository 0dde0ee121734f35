"""Step-graph validation, on plain steps with no storage."""

from __future__ import annotations

from domain.graph import graph_problems
from domain.steps import Step


def send(id_: str, **kw: object) -> Step:
    return Step(id=id_, type="SEND", name=id_,
                config={"channel": "EMAIL", "templateId": "t"}, **kw)  # type: ignore[arg-type]


def test_a_straight_line_is_valid() -> None:
    steps = [send("a"), Step("b", "WAIT", "w", {"duration": "1 day"}), Step("c", "END", "e")]

    assert graph_problems(steps, "x") == []


def test_no_steps_is_a_problem() -> None:
    assert [p.message for p in graph_problems([], "x")] == ["a journey needs at least one step"]


def test_a_dangling_target_is_reported() -> None:
    problems = graph_problems([send("a", next_step_id="zzz")], "x")

    assert [(p.field, p.message) for p in problems] == [
        ("steps[1]", "successor zzz is not a step of this journey")
    ]


def test_a_self_loop_is_a_cycle() -> None:
    problems = graph_problems([send("a", next_step_id="a")], "x")

    assert [p.field for p in problems] == ["steps[1]"]
    assert "cycle" in problems[0].message


def test_a_condition_may_loop_back_only_if_that_branch_can_end() -> None:
    condition = Step("c", "CONDITION", "c", {"rules": [{"field": "x", "operator": "isNull"}]},
                     next_step_yes_id="a")
    steps = [send("a"), condition, Step("e", "END", "e")]

    problems = graph_problems(steps, "x")

    assert {p.field for p in problems} == {"steps[1]", "steps[2]"}


def test_split_percentages_must_be_positive_integers_summing_to_100() -> None:
    def split(*percentages: object) -> list[str]:
        step = Step("s", "SPLIT", "s", {"splits": [{"percentage": p} for p in percentages]})
        return [p.message for p in graph_problems([step], "x")]

    assert split(50, 50) == []
    assert split(34, 33, 33) == []
    assert split(60, 30) == ["percentages must sum to 100, not 90"]
    assert split(100) == ["SPLIT needs at least two variants"]
    assert split(50.0, 50) == ["must be a positive integer"]
    assert split(0, 100) == ["must be a positive integer"]
    assert split(True, 99) == ["must be a positive integer"]


def test_split_targets_must_exist() -> None:
    step = Step("s", "SPLIT", "s", {"splits": [{"percentage": 50, "nextStepId": "a"},
                                               {"percentage": 50, "nextStepId": "nope"}]})

    problems = graph_problems([step, send("a")], "x")

    assert [p.message for p in problems] == ["successor nope is not a step of this journey"]


def test_update_actions_are_checked() -> None:
    step = Step("u", "UPDATE", "u", {"updates": [
        {"field": "tags", "action": "add", "value": "vip"},
        {"field": "score", "action": "increment", "value": "ten"},
        {"field": "x", "action": "explode"},
        {"field": "", "action": "unset"},
    ]})

    fields = [p.field for p in graph_problems([step], "x")]

    assert fields == [
        "steps[1].config.updates[1].value",
        "steps[1].config.updates[2].action",
        "steps[1].config.updates[3].field",
    ]


def test_a_trigger_step_mirrors_the_journey_trigger_and_comes_first() -> None:
    trigger = Step("t", "TRIGGER", "t", {"eventType": "member.created"})

    assert graph_problems([trigger, send("a")], "member.created") == []
    mismatch = graph_problems([trigger, send("a")], "order.placed")
    late = graph_problems([send("a"), trigger], "member.created")
    assert [p.field for p in mismatch] == ["steps[1].config.eventType"]
    assert [p.message for p in late] == ["a TRIGGER step may only be step 1"]


def test_every_problem_is_listed_not_just_the_first() -> None:
    steps = [
        Step("a", "SEND", "a", {}),
        Step("b", "WAIT", "b", {"duration": "later"}),
        Step("c", "CONDITION", "c", {"combinator": "XOR", "rules": []}),
    ]

    fields = [p.field for p in graph_problems(steps, "x")]

    assert fields == [
        "steps[1].config.channel",
        "steps[1].config.templateId",
        "steps[2].config.duration",
        "steps[3].config.combinator",
        "steps[3].config.rules",
    ]


def condition(id_: str, **kw: object) -> Step:
    return Step(id=id_, type="CONDITION", name=id_,  # type: ignore[arg-type]
                config={"rules": [{"field": "x", "operator": "eq", "value": 1}]}, **kw)


def test_a_branch_without_a_target_and_a_fall_through_into_another_branch_warn() -> None:
    from domain.graph import graph_warnings

    steps = [condition("c", next_step_no_id="b"), send("a"), send("b"), Step("e", "END", "e")]

    assert graph_problems(steps, "x") == []
    assert [(w.field, w.message) for w in graph_warnings(steps)] == [
        ("steps[1].nextStepYesId",
         "the yes branch has no explicit target: it falls through to steps[2]"),
        ("steps[2].nextStepId", "falls through by number to steps[3], where the no branch "
                                "of steps[1] goes: set nextStepId if that is meant"),
    ]


def test_explicit_targets_and_falling_into_an_end_do_not_warn() -> None:
    from domain.graph import graph_warnings

    steps = [condition("c", next_step_yes_id="a", next_step_no_id="b"),
             send("a", next_step_id="e"), send("b"), Step("e", "END", "e")]
    assert graph_warnings(steps) == []
    split = Step("s", "SPLIT", "s", {"splits": [{"percentage": 50, "nextStepId": "a"},
                                                {"percentage": 50}]})
    warned = graph_warnings([split, send("a"), Step("e", "END", "e")])
    assert [w.field for w in warned] == ["steps[1].config.splits[1].nextStepId"]
    assert graph_warnings([send("a"), send("b"), Step("e", "END", "e")]) == []
