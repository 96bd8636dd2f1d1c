"""A location's work queue: oldest first, filtered by status, paged with cursors."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import fulfillment_ids, place, step
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
QUEUE = """query($s: [FulfillmentStatus!], $first: Int, $after: String) {
  fulfillments(location: "ST-ROMA", status: $s, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id status nextStatuses order { number } } } } }"""


async def test_the_queue_pages_oldest_first_and_filters_by_status(api, tokens, clock):
    await seed_contract_network(api, tokens)
    store = tokens["store_roma"]
    numbers = []
    for i in range(3):
        numbers.append((await place(api, f"queue-page-{i:03d}", lines=[
            {"sku": "TSHIRT-BLU-M", "quantity": 1}]))["number"])
        clock.current = clock.current.replace(minute=clock.current.minute + 1)
    first_id = (await fulfillment_ids(api, numbers[0], store))["ST-ROMA"]
    await step(api, "acceptFulfillment", first_id, store)

    page = (await api.data(QUEUE, {"first": 2}, token=store))["fulfillments"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["order"]["number"] for e in page["edges"]] == numbers[:2]
    assert page["edges"][0]["node"]["nextStatuses"] == ["PICKED", "REJECTED", "CANCELLED"]
    rest = (await api.data(QUEUE, {"first": 2, "after": page["pageInfo"]["endCursor"]},
                           token=store))["fulfillments"]
    assert [e["node"]["order"]["number"] for e in rest["edges"]] == numbers[2:]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["edges"][0]["cursor"]}

    assigned = (await api.data(QUEUE, {"s": ["ASSIGNED"]}, token=store))["fulfillments"]
    assert [e["node"]["order"]["number"] for e in assigned["edges"]] == numbers[1:]
    assert assigned["totalCount"] == 2

    bad = await api.post(QUEUE, {"after": "bm9wZQ=="}, token=store)
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["INVALID_INPUT"]
