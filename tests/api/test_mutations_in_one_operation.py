"""Several root mutations in one operation run one after the other (GraphQL's serial
execution), and each answers with what is true after its own change: nothing a mutation
before it read through the request's DataLoaders is shown again as if it were still so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.returns import delivered_order, op, request, seed

pytestmark = pytest.mark.anyio

SHIRT = "TSHIRT-BLU-M"
TWO_STEPS = """mutation($sent: ReturnActionInput!, $received: ReceiveReturnInput!) {
  sent: markReturnInTransit(input: $sent) {
    return { status } order { returns { status } } userErrors { code } }
  received: receiveReturn(input: $received) {
    return { status } order { returns { status } } userErrors { code } }
}"""


async def test_the_second_mutation_answers_with_the_state_after_it_not_the_first_s_reads(
        api, tokens, clock):
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "one-op-0001", [{"sku": SHIRT, "quantity": 2}],
                                   token=tokens["ada"])
    clock.current = datetime(2030, 1, 5, 10, 0, tzinfo=UTC)
    asked = await op(api, "RequestReturn",
                     request(number, [{"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL"}]),
                     token=tokens["ada"])
    assert asked["userErrors"] == [], asked

    assert asked["return"]["status"] == "APPROVED"  # automatically, under the policy's limit
    returned = asked["return"]["number"]

    both = await api.data(TWO_STEPS, {
        "sent": {"returnNumber": returned},
        "received": {"returnNumber": returned, "lines": [{"sku": SHIRT, "condition": "RESTOCK"}]},
    }, token=tokens["agent"])

    assert both["sent"] == {"return": {"status": "IN_TRANSIT"},
                            "order": {"returns": [{"status": "IN_TRANSIT"}]},
                            "userErrors": []}
    assert both["received"] == {"return": {"status": "RECEIVED"},
                                "order": {"returns": [{"status": "RECEIVED"}]},
                                "userErrors": []}
