"""The one retry layer: a lost race or a transient failure runs the whole use case again, at
most `attempts` runs in all; anything else goes straight to the caller."""

from __future__ import annotations

import pytest

from domain.kernel import errors
from domain.kernel.retry import Retry, Stale

pytestmark = pytest.mark.anyio


class Transient(Exception):
    pass


def runs(outcomes: list[object]):
    """A use case that raises or returns the next outcome on each run, counting runs."""
    seen: list[int] = []

    async def work() -> object:
        seen.append(len(seen) + 1)
        outcome = outcomes[len(seen) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return work, seen


async def test_a_lost_race_is_planned_again_until_it_wins():
    work, seen = runs([Stale("moved"), Stale("moved"), "placed"])

    assert await Retry()(work) == "placed"
    assert seen == [1, 2, 3]


async def test_a_race_lost_on_every_run_ends_in_a_conflict_after_the_bound():
    work, seen = runs([Stale("stock kept changing; try again")] * 3)

    with pytest.raises(errors.Conflict, match="stock kept changing; try again"):
        await Retry(attempts=3)(work)
    assert seen == [1, 2, 3]


async def test_transient_failures_are_retried_counted_and_share_the_one_bound():
    counted: list[str] = []
    work, seen = runs([Transient(), Stale("moved"), Transient(), "done"])
    retry = Retry(attempts=4, transient=lambda e: isinstance(e, Transient),
                  on_retry=lambda: counted.append("retry"), backoff_seconds=0)

    assert await retry(work) == "done"
    assert seen == [1, 2, 3, 4]
    assert counted == ["retry", "retry"]  # only the transient ones are told


async def test_a_transient_failure_on_the_last_run_reaches_the_caller():
    work, seen = runs([Transient(), Transient()])

    with pytest.raises(Transient):
        await Retry(attempts=2, transient=lambda e: isinstance(e, Transient),
                    backoff_seconds=0)(work)
    assert seen == [1, 2]


async def test_any_other_error_is_not_retried():
    work, seen = runs([errors.InvalidInput("no"), "never"])

    with pytest.raises(errors.InvalidInput):
        await Retry()(work)
    assert seen == [1]
