"""Helpers the return tests share: the return documents and a delivered order."""

from __future__ import annotations

import json
from typing import Any

from tests.api.lifecycle import clock_at, fulfillment_ids, place, step
from tests.conftest import ROOT, seed_contract_network
from tests.invariants import violations  # noqa: F401 - re-exported for the return tests

DOCUMENT = (ROOT / "tests" / "contract_returns" / "returns.graphql").read_text()
EXAMPLES = json.loads((ROOT / "tests" / "contract_returns" / "examples.json").read_text())
OPERATIONS = ("ReturnEligibility", "RequestReturn", "ApproveReturn", "CloseReturn",
              "RejectReturn",
              "MarkReturnInTransit", "ReceiveReturn", "RefundReturn", "OrderReturns",
              "TrackOrderReturns")
DELIVERED_AT = "2030-01-03T11:20:00+01:00"
EXTRA_SKUS = """mutation { upsertSkus(input: {skus: [
  {sku: "MUG-NAME", name: "Mug with your name", productGroup: "personalised",
   weightGrams: 300, prices: [{amount: "12.00", currency: "EUR"}]},
  {sku: "TSHIRT-BLU-L", name: "T-shirt blue L", productGroup: "apparel",
   weightGrams: 200, prices: [{amount: "19.90", currency: "EUR"}]},
  {sku: "TSHIRT-RED-M", name: "T-shirt red M", productGroup: "apparel",
   weightGrams: 200, prices: [{amount: "24.90", currency: "EUR"}]}]})
  { userErrors { code message } } }"""
EXTRA_STOCK = """mutation { setInventory(input: {reason: "COUNT", levels: [
  {sku: "MUG-NAME", location: "ST-ROMA", onHand: 5},
  {sku: "TSHIRT-BLU-L", location: "WH-MIL", onHand: 4},
  {sku: "TSHIRT-RED-M", location: "WH-MIL", onHand: 4}]}) { userErrors { code } } }"""


async def op(api, name: str, variables: dict | None = None, *, token: str | None = None
             ) -> dict:
    """Run one operation of the return documents; its payload (the first root field)."""
    assert name in OPERATIONS
    data = await api.data(DOCUMENT, variables or {}, token=token, operation=name)
    return next(iter(data.values()))


async def seed(api, tokens) -> None:
    await seed_contract_network(api, tokens)
    for mutation in (EXTRA_SKUS, EXTRA_STOCK):
        payload = next(iter((await api.data(mutation, token=tokens["admin"])).values()))
        assert payload["userErrors"] == [], payload


async def delivered_order(api, tokens, key: str, lines: list[dict[str, Any]],
                          token: str | None = None) -> str:
    """An order of `lines`, shipped from one location and delivered on 3 January 2030."""
    number = (await place(api, key, token=token, lines=lines))["number"]
    [(code, fid)] = (await fulfillment_ids(api, number, tokens["agent"])).items()
    store = tokens[{"ST-ROMA": "store_roma", "WH-MIL": "store_mil"}[code]]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, store))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fid, store, carrier="BRT",
                         trackingNumber=f"BRT-{key}")
    assert shipped["userErrors"] == []
    clock_at(api, DELIVERED_AT)
    done = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                      status="DELIVERED", at=DELIVERED_AT)
    assert done["order"]["status"] == "DELIVERED", done
    return number


def request(number: str, lines: list[dict[str, Any]], *, resolution: str = "REFUND",
            method: str = "SHIP_BACK", email: str | None = None) -> dict:
    return {"input": {"orderNumber": number, "email": email, "lines": lines,
                      "resolution": resolution, "method": method}}
