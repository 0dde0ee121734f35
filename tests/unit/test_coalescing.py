"""Group commit: calls arriving while a group runs form the next; each gets its own answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.coalescing import Coalescer


class Refused(Exception):
    pass


def wait_until_waiting(coalescer: Coalescer[int, int], count: int) -> None:
    deadline = time.monotonic() + 5
    while len(coalescer._waiting) < count:
        assert time.monotonic() < deadline, "the calls did not arrive"
        time.sleep(0.001)


def test_calls_arriving_while_a_group_runs_form_the_next_group() -> None:
    groups: list[list[int]] = []
    first_running, release = threading.Event(), threading.Event()

    def run_many(requests: Sequence[int]) -> list[int | BaseException]:
        groups.append(list(requests))
        if len(groups) == 1:
            first_running.set()
            assert release.wait(5)
        return [n * 10 if n % 3 else Refused(f"no {n}") for n in requests]

    coalescer: Coalescer[int, int] = Coalescer(run_many, name="test")
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(coalescer, 1)
        assert first_running.wait(5)
        rest = [pool.submit(coalescer, n) for n in range(2, 8)]
        wait_until_waiting(coalescer, 6)  # while the first group runs
        release.set()
        assert first.result(5) == 10
        answers = {}
        for n, future in zip(range(2, 8), rest, strict=True):
            try:
                answers[n] = future.result(5)
            except Refused as refused:
                answers[n] = str(refused)

    assert groups[0] == [1]
    assert sorted(groups[1]) == [2, 3, 4, 5, 6, 7], "the six waiting calls went as one group"
    assert answers == {2: 20, 3: "no 3", 4: 40, 5: 50, 6: "no 6", 7: 70}


def test_an_error_of_the_whole_group_is_raised_in_each_call_and_the_next_group_runs() -> None:
    calls = []

    def run_many(requests: Sequence[str]) -> list[str | BaseException]:
        calls.append(list(requests))
        if requests == ["down"]:
            raise ConnectionError("database unavailable")
        return [r.upper() for r in requests]

    coalescer: Coalescer[str, str] = Coalescer(run_many, name="test")

    with pytest.raises(ConnectionError, match="database unavailable"):
        coalescer("down")
    assert coalescer("up") == "UP"
    assert calls == [["down"], ["up"]]


def test_a_group_is_at_most_the_limit() -> None:
    sizes: list[int] = []
    first_running, release = threading.Event(), threading.Event()

    def run_many(requests: Sequence[int]) -> list[int | BaseException]:
        sizes.append(len(requests))
        if len(sizes) == 1:
            first_running.set()
            assert release.wait(5)
        return list(requests)

    coalescer: Coalescer[int, int] = Coalescer(run_many, name="test", limit=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(coalescer, 0)
        assert first_running.wait(5)
        rest = [pool.submit(coalescer, n) for n in range(1, 8)]
        wait_until_waiting(coalescer, 7)
        release.set()
        assert [f.result(5) for f in [first, *rest]] == list(range(8))

    assert sizes[0] == 1
    assert max(sizes) == 3
    assert sum(sizes) == 8


class Halt(BaseException):
    pass


def test_even_an_error_that_is_not_an_exception_leaves_the_thread_serving() -> None:
    def run_many(requests: Sequence[str]) -> list[str | BaseException]:
        if requests == ["halt"]:
            raise Halt
        return list(requests)

    coalescer: Coalescer[str, str] = Coalescer(run_many, name="test")

    pool = ThreadPoolExecutor(max_workers=2)  # not joined: a call left waiting must not hang
    with pytest.raises(Halt):
        pool.submit(coalescer, "halt").result(timeout=5)
    assert pool.submit(coalescer, "next").result(timeout=5) == "next"
    pool.shutdown(wait=False)
