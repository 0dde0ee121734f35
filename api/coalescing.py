"""Group commit: calls that arrive while one group is being carried out form the next."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class _Call(Generic[Request, Result]):
    __slots__ = ("done", "error", "request", "result")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class Coalescer(Generic[Request, Result]):
    """Carries out calls in groups: `run_many` takes the requests of a group and returns,
    in their order, each one's result or the exception that refuses it. One thread of the
    process carries out one group at a time; whatever arrives meanwhile waits and forms
    the next group (at most `limit`), so under load N calls cost one transaction instead
    of N, and alone a call costs what it did (`decisions/0020`).

    A call returns its own result or raises its own refusal; an error of the whole group
    (the database is down) is raised in every call of that group."""

    def __init__(
        self,
        run_many: Callable[[Sequence[Request]], Sequence[Result | BaseException]],
        name: str,
        limit: int = 100,
    ) -> None:
        self._run_many = run_many
        self._name = name
        self._limit = limit
        self._waiting: deque[_Call[Request, Result]] = deque()
        self._arrived = threading.Condition()
        self._worker: threading.Thread | None = None

    def __call__(self, request: Request) -> Result:
        call: _Call[Request, Result] = _Call(request)
        with self._arrived:
            self._waiting.append(call)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name=self._name,
                                                daemon=True)
                self._worker.start()
            self._arrived.notify()
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[return-value]

    def _serve(self) -> None:
        while True:
            with self._arrived:
                while not self._waiting:
                    self._arrived.wait()
                group = [self._waiting.popleft()
                         for _ in range(min(self._limit, len(self._waiting)))]
            try:
                outcomes = self._run_many([call.request for call in group])
            except BaseException as error:  # noqa: BLE001 - raised in every caller of the group
                # (whatever it is: were this thread to end, every later call would wait forever)
                outcomes = [error] * len(group)
            for call, outcome in zip(group, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    call.error = outcome
                else:
                    call.result = outcome
                call.done.set()
