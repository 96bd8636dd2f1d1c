"""Concurrent return requests for one line, on both engines: never more than was delivered."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.returns import delivered_order, op, request, seed
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio


async def test_six_simultaneous_requests_for_three_delivered_units_let_exactly_three_through(
        api, tokens, db_url):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-race-0001",
                                   [{"sku": "TSHIRT-BLU-M", "quantity": 3}])
    answers = await asyncio.gather(*(
        op(api, "RequestReturn", request(number, [
            {"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": f"RACE-{i}"}]),
           token=tokens["ada"]) for i in range(6)))
    codes = sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers)
    assert codes == [(), (), (), ("QUANTITY_EXCEEDS_RETURNABLE",),
                     ("QUANTITY_EXCEEDS_RETURNABLE",), ("QUANTITY_EXCEEDS_RETURNABLE",)]
    numbers = sorted(a["return"]["number"] for a in answers if a["return"])
    assert numbers == [f"{number}-R1", f"{number}-R2", f"{number}-R3"]
    assert (await count_rows(db_url, "returns", "return_lines")) == {"returns": 3,
                                                                    "return_lines": 3}
    assert await violations(db_url) == []


async def test_two_simultaneous_requests_for_the_whole_line_let_one_through(
        api, tokens, db_url):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ret-race-0002",
                                   [{"sku": "TSHIRT-BLU-M", "quantity": 2}])
    answers = await asyncio.gather(*(
        op(api, "RequestReturn", request(number, [
            {"sku": "TSHIRT-BLU-M", "quantity": 2, "reason": "TOO_SMALL"}],
            resolution=resolution), token=tokens["ada"])
        for resolution in ("REFUND", "EXCHANGE")))
    codes = sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers)
    assert codes == [(), ("QUANTITY_EXCEEDS_RETURNABLE",)]
    assert (await count_rows(db_url, "returns"))["returns"] == 1
    assert await violations(db_url) == []
