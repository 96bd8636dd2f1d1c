"""Guest lookups by order number and email give nothing away: a wrong email and an unknown
number are the same work (issue 17, item 4)."""

from __future__ import annotations

import pytest

from tests.api.test_place_order import PLACE, order_input
from tests.conftest import Api, seed_contract_network, statement_counter

pytestmark = pytest.mark.anyio


async def test_a_wrong_email_and_an_unknown_number_cost_trackorder_the_same_statements(
        api: Api, tokens: dict[str, str]) -> None:
    """Same work, so no timing tells a real order number from an unknown one (issue 17,
    item 4): one statement finding nothing, either way."""
    await seed_contract_network(api, tokens)
    number = (await api.data(PLACE, {"input": order_input("text-trk-0001")}))["placeOrder"][
        "order"]["number"]
    seen = statement_counter(api.app.state.db)
    track = """query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { number } }"""
    counts = []
    for n, e in ((number, "someone@example.com"), ("PR-999999", "someone@example.com")):
        seen.clear()
        answer = await api.data(track, {"n": n, "e": e})
        assert answer["trackOrder"] is None
        counts.append(len([s for s in seen if s.strip().upper() not in ("BEGIN", "COMMIT")]))
    assert counts[0] == counts[1] == 1
    seen.clear()
    assert (await api.data(track, {"n": number, "e": "ADA@example.com "}))["trackOrder"] == {
        "number": number}
