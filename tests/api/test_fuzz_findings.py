"""What the fuzzer (test_fuzz.py) found, one regression test each."""

from __future__ import annotations

import pytest

from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("field", ["placedFrom", "placedTo"])
async def test_an_order_search_from_a_time_without_zone_is_invalid_input(api, tokens, field):
    await seed_contract_network(api, tokens)
    result = await api.post("""query($f: OrderFilter) { orders(filter: $f) { totalCount } }""",
                            {"f": {field: "2030-01-02T09:30:00"}}, token=tokens["agent"])
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["message"] == f"{field} needs a time zone"
