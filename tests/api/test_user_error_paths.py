"""Every userErrors.field is the path inside the mutation's `input`, as the contract's
examples show — whichever layer refused (issue 16 #6): the NUL check at the API's gate and the
use case's own checks agree."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("customer", "field"), [
    ({"name": "ada\x00", "email": "ada@example.com"}, ["customer", "name"]),  # the API's gate
    ({"name": "Ada", "email": "not-an-email"}, ["customer", "email"]),  # the use case
])
async def test_user_error_fields_are_paths_inside_input(api, tokens, customer, field):
    await seed_contract_network(api, tokens)

    placed = await api.data(PLACE, {"input": order_input("path-key-0001", customer=customer)},
                            token=tokens["agent"])

    assert [e["field"] for e in placed["placeOrder"]["userErrors"]] == [field]
