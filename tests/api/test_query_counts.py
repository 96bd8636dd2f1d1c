"""No N+1: list reads issue the same number of SQL statements however much they return."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio

ORDERS = """query { orders(first: 50) { totalCount edges { node { number status
  customer { email } lines { sku quantity unitPrice { amount } }
  fulfillments { id status location { code name type } lines { sku quantity } }
  delivery { pickupLocation { code } address { city } } timeline { type message } } } } }"""
AVAILABILITY = """query($skus: [String!]!) { availability(skus: $skus, channel: "web",
  near: {latitude: 41.9, longitude: 12.5}) { sku available
  locations { location { code name } onHand distanceKm } incoming { location { code } } } }"""


async def _place(api, n: int, start: int) -> None:
    for i in range(start, start + n):
        result = await api.data(PLACE, {"input": order_input(
            f"count-key-{i:04d}", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 1 + i % 3},
                                         {"sku": "LAMP-ARCO", "quantity": 1}] if i == 0 else
            [{"sku": "TSHIRT-BLU-M", "quantity": 1 + i % 3}])})
        assert result["placeOrder"]["userErrors"] == []


async def _count(api, query: str, variables=None, token=None) -> int:
    seen = statement_counter(api.app.state.db)
    seen.clear()
    await api.data(query, variables, token=token)
    return len([s for s in seen if s.strip().upper() != "BEGIN"])  # SQLite's explicit BEGINs


async def test_orders_page_costs_the_same_for_two_and_for_twelve_orders(api, tokens):
    await seed_contract_network(api, tokens)
    await _place(api, 2, 0)
    few = await _count(api, ORDERS, token=tokens["agent"])
    await _place(api, 10, 2)
    many = await _count(api, ORDERS, token=tokens["agent"])
    assert few == many
    assert many == 8  # count, page ids, 5 aggregate reads, one batched location read


async def test_availability_costs_the_same_for_one_and_for_many_skus(api, tokens):
    await seed_contract_network(api, tokens)
    one = await _count(api, AVAILABILITY, {"skus": ["TSHIRT-BLU-M"]})
    two = await _count(api, AVAILABILITY, {"skus": ["TSHIRT-BLU-M", "LAMP-ARCO", "NOPE"]})
    assert one == two


async def test_place_order_uses_a_handful_of_statements(api, tokens):
    await seed_contract_network(api, tokens)
    seen = statement_counter(api.app.state.db)
    seen.clear()
    await _place(api, 1, 1)
    writes = [s for s in seen if not s.lstrip().upper().startswith(("SELECT", "BEGIN"))]
    # claim key, one reservation, the location's daily capacity, order number (SQLite:
    # counter row; PostgreSQL: a SELECT of nextval), 5 inserts, ledger, sourcing decision,
    # stream counters, outbox
    assert len(writes) <= 13, writes
    statements = [s for s in seen if s.strip().upper() != "BEGIN"]
    # reads: idempotency key, then the snapshot (channel, kit parts, SKUs ×2, locations,
    # levels, receipts, policy, downtime, today's load); SQLite's BEGIN IMMEDIATE; the
    # writes; the response's batched location read
    assert len(statements) <= 26, statements
