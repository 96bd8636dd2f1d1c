"""Every text a caller sends is bounded, NFC-normalised and free of characters that hide what
it says (api/text.py), whatever the field: refused with INVALID_INPUT at the path inside the
input, nothing written (issue 17, item 3)."""

from __future__ import annotations

import pytest

from tests.api.lifecycle import desk
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import Api, seed_contract_network

pytestmark = pytest.mark.anyio
ORDERS = """{ orders(first: 50) { edges { node { number customer { name email } } } } }"""


async def refused(api: Api, key: str, **changes: object) -> list[tuple[list[str], str]]:
    result = (await api.data(PLACE, {"input": order_input(key, **changes)}))["placeOrder"]
    assert result["order"] is None, result
    return [(e["field"], e["code"]) for e in result["userErrors"]]


async def test_huge_names_and_phones_are_refused_before_anything_is_stored(
        api: Api, tokens: dict[str, str]) -> None:
    await seed_contract_network(api, tokens)
    assert await refused(api, "text-0000001", customer={
        "email": "ada@example.com", "name": "A" * 990_000}) == [
        (["customer", "name"], "INVALID_INPUT")]
    assert await refused(api, "text-0000002", customer={
        "email": "ada@example.com", "phone": "3" * 900_000}) == [
        (["customer", "phone"], "INVALID_INPUT")]
    assert await refused(api, "text-0000003", customer={
        "email": "ada@example.com", "name": "A" * 201}) == [
        (["customer", "name"], "INVALID_INPUT")]
    listed = await api.data(ORDERS, token=tokens["agent"])
    assert listed["orders"]["edges"] == []


async def test_invisible_characters_cannot_make_a_second_customer(
        api: Api, tokens: dict[str, str]) -> None:
    await seed_contract_network(api, tokens)
    for i, email in enumerate(("ada@example.com\u200b", "\ufeffada@example.com",
                               "ada\u00ad@example.com", "ada@exam\u202eple.com")):
        assert await refused(api, f"text-inv-{i:04d}", customer={"email": email}) == [
            (["customer", "email"], "INVALID_INPUT")]
    assert await refused(api, "text-ctl-0001", customer={
        "email": "ada@example.com", "name": "Ada\x07Lovelace"}) == [
        (["customer", "name"], "INVALID_INPUT")]
    assert await refused(api, "text-sku-0001", lines=[
        {"sku": "TSHIRT-BLU-M\u200d", "quantity": 1}]) == [(["lines", "0", "sku"],
                                                          "INVALID_INPUT")]
    answer = await api.post("""query { trackOrder(number: "PR-000001\\u200b",
        email: "ada@example.com") { status } }""")
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["INVALID_INPUT"]


async def test_an_argument_is_checked_and_named_by_its_graphql_name(
        api: Api, tokens: dict[str, str]) -> None:
    """`orderNumber` is an identifier wherever it is sent: also as a root argument, which
    resolvers receive as `order_number` (it was looked up, and named, by that)."""
    eligible = await api.post("""query { returnEligibility(orderNumber: "PR-000001\\u200b",
        email: "ada@example.com") { orderNumber } }""")
    assert [e["extensions"]["code"] for e in eligible["errors"]] == ["INVALID_INPUT"]
    assert eligible["errors"][0]["message"] == \
        "orderNumber must not contain invisible characters"
    pickup = await api.data("""mutation($code: String!) { confirmPickup(
        input: {fulfillmentId: "x"}, pickupCode: $code) { userErrors { field code } } }""",
                            {"code": "1" * 1001}, token=tokens["admin"])
    assert pickup["confirmPickup"]["userErrors"] == [
        {"field": ["pickupCode"], "code": "INVALID_INPUT"}]


async def test_text_is_stored_in_one_unicode_form(api: Api, tokens: dict[str, str]) -> None:
    await seed_contract_network(api, tokens)
    decomposed = "Jose\u0301 Nun\u0303ez"
    placed = (await api.data(PLACE, {"input": order_input("text-nfc-0001", customer={
        "email": "jose@example.com", "name": decomposed})}))["placeOrder"]
    assert placed["userErrors"] == []
    listed = await api.data(ORDERS, token=tokens["agent"])
    [node] = [e["node"] for e in listed["orders"]["edges"]]
    assert node["customer"]["name"] == "Jos\u00e9 Nu\u00f1ez"  # composed: one form
    number = placed["order"]["number"]
    # free text keeps its line breaks, and refuses what would read differently
    noted = await desk(api, "addOrderNote", tokens["agent"], number=number,
                       text="Called the customer.\nThey will pick it up.")
    assert noted["userErrors"] == []
    flipped = await desk(api, "addOrderNote", tokens["agent"], number=number,
                         text="refund \u202e00.001 EUR")
    assert [(e["field"], e["code"]) for e in flipped["userErrors"]] == [
        (["text"], "INVALID_INPUT")]



async def test_a_lone_surrogate_is_invalid_input_not_an_internal_error(
        api: Api, tokens: dict[str, str]) -> None:
    """JSON may carry half of a UTF-16 pair ("\\ud800"); it is no text (issue 17, item 9)."""
    await seed_contract_network(api, tokens)
    body = ('{"query": "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { number }'
            ' userErrors { field code } } }", "variables": {"i": {"idempotencyKey": '
            '"text-sur-0001", "channel": "web", "customer": {"email": "ada@example.com", '
            '"name": "Ada \\ud800"}, "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1}], '
            '"delivery": {"method": "PICKUP", "pickupLocation": "ST-ROMA"}}}}')
    answer = await api.client.post("/graphql", content=body,
                                   headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["placeOrder"] == {"order": None, "userErrors": [
        {"field": ["customer", "name"], "code": "INVALID_INPUT"}]}
    track = await api.client.post("/graphql", content=(
        '{"query": "{ trackOrder(number: \\"PR-\\ud800\\", email: \\"a@b.co\\") { number } }"}'),
        headers={"content-type": "application/json"})
    # in the document itself it is not even a string literal: refused before it runs
    assert [e["extensions"]["code"] for e in track.json()["errors"]] == ["BAD_REQUEST"]


async def test_a_time_beyond_utc_is_invalid_input_in_any_argument(
        api: Api, tokens: dict[str, str]) -> None:
    """`9999-12-31T23:59:59-14:00` parses, and is no UTC time (issue 17, item 9, dates)."""
    answer = await api.post("""query { operationsMetrics(from: "2030-01-01T00:00:00Z",
        to: "9999-12-31T23:59:59-14:00") { ordersPlaced } }""", token=tokens["admin"])
    assert [(e["extensions"]["code"], e.get("path")) for e in answer["errors"]] == [
        ("INVALID_INPUT", ["operationsMetrics"])]
    scan = await api.post("""mutation { recordTrackingEvent(input: {fulfillmentId: "x",
        status: DELIVERED, at: "9999-12-31T23:59:59-14:00"}) { userErrors { field code } } }""",
        token=tokens["integration"])
    assert scan["data"]["recordTrackingEvent"]["userErrors"] == [
        {"field": ["at"], "code": "INVALID_INPUT"}]
