"""The one retry layer: a whole use case runs again, from its first read, when it lost a race.

Two kinds of lost race, one loop, one bound:
- `Stale`: a use case planned on a snapshot read without locks, and a guard refused when it
  wrote (the reservation guard found the units taken, a receipt or a day's capacity was
  claimed, the order moved on). Its transaction is rolled back by leaving it uncommitted;
  the next run reads again and plans on what is there now — at once, no wait.
- A transient database conflict (serialization failure, deadlock, a busy SQLite file): the
  store says which errors are transient (`transient`, injected by the composition root);
  the next run waits a little longer each time, with jitter so that racers part.

After `attempts` runs in all the caller is told to try again (`errors.Conflict`) or gets the
database's own error; no use case loops on its own.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from domain.kernel import errors

T = TypeVar("T")
ATTEMPTS = 8


class Stale(Exception):
    """What the transaction planned on changed before it could write: plan again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def never(_: BaseException) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Retry:
    """`await retry(work)` runs `work()` until it returns, at most `attempts` times."""

    attempts: int = ATTEMPTS
    transient: Callable[[BaseException], bool] = never
    on_retry: Callable[[], None] | None = None  # told of each transient failure repeated
    backoff_seconds: float = 0.005  # before the n-th repeat of a transient failure: × 2ⁿ

    async def __call__(self, work: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return await work()
            except Stale as exc:
                if attempt == self.attempts:
                    raise errors.Conflict(exc.message) from exc
            except Exception as exc:
                if attempt == self.attempts or not self.transient(exc):
                    raise
                if self.on_retry is not None:
                    self.on_retry()
                await asyncio.sleep(self.backoff_seconds * 2 ** attempt
                                    * (0.5 + random.random()))  # noqa: S311 - jitter only
        raise AssertionError("unreachable")
