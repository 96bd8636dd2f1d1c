"""Packing slips and shipping labels through the API, on both engines: a slip per fulfillment
the location took on (what goes in the box, no prices), a 100 × 150 mm label per shipped
parcel whose Code 128 decodes to its tracking number; listed and opened by staff and the
location's associates, the label also by the customer and on /track, the slip never by them;
a link opens only its own paper of its own fulfillment, until it expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from strawberry import relay

from api import parcels
from tests.api.lifecycle import fulfillment_ids, step
from tests.conftest import Api
from tests.documents.reading import decode_barcode, reader, text
from tests.documents.test_invoices import all_documents as documents
from tests.documents.test_invoices import fetch
from tests.payments.support import STORE_OF, TWO_PARCELS, hand_over, paid_order, seed

pytestmark = pytest.mark.anyio
TRACK = """
query TrackOrderDocuments($number: String!, $email: String!) {
  trackOrder(number: $number, email: $email) { documents { kind number issuedAt url } }
}"""
MM = 72 / 25.4


def own(public_id: str) -> str:
    """The fulfillment's own id, which its papers' links carry, from its API id."""
    return relay.from_base64(public_id)[1]


def kinds(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((d["kind"], d["number"]) for d in docs)


def of(docs: list[dict[str, Any]], kind: str, number: str) -> str:
    return next(d["url"] for d in docs if d["kind"] == kind and d["number"] == number)


async def test_a_fulfillment_s_slip_and_label_reach_the_right_people_only(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    number = await paid_order(api, "papers-00001", reference="pi_papers", lines=TWO_PARCELS,
                              token=tokens["ada"])
    fids = await fulfillment_ids(api, number, tokens["agent"])
    rome, milan = fids["ST-ROMA"], fids["WH-MIL"]
    assert await documents(api, number, tokens["agent"]) == []  # nobody took the work on yet

    accepted = await step(api, "acceptFulfillment", rome, tokens[STORE_OF["ST-ROMA"]])
    assert accepted["userErrors"] == [], accepted
    assert kinds(await documents(api, number, tokens["agent"])) == [("PACKING_SLIP", rome)]
    await hand_over(api, tokens, number, "WH-MIL")
    tracking = f"BRT-{milan[-6:]}"

    staff = await documents(api, number, tokens["agent"])
    assert kinds(staff) == sorted([("PACKING_SLIP", rome), ("PACKING_SLIP", milan),
                                   ("SHIPPING_LABEL", tracking)])
    # a store sees the papers of its own work only; the customer and the guest the label only
    assert kinds(await documents(api, number, tokens["store_mil"])) == sorted([
        ("PACKING_SLIP", milan), ("SHIPPING_LABEL", tracking)])
    assert kinds(await documents(api, number, tokens["store_roma"])) == [("PACKING_SLIP", rome)]
    assert kinds(await documents(api, number, tokens["ada"])) == [("SHIPPING_LABEL", tracking)]
    guest = await api.data(TRACK, {"number": number, "email": "ada@example.com"})
    assert kinds(guest["trackOrder"]["documents"]) == [("SHIPPING_LABEL", tracking)]

    slip_url = of(staff, "PACKING_SLIP", milan)
    slip = await fetch(api, slip_url)
    assert slip.status_code == 200 and slip.headers["content-type"] == "application/pdf"
    page = " ".join(text(slip.content).split())
    assert number in page and milan in page and "TSHIRT-RED-M" in page
    assert "Via" in page or "Milano" in page  # the location's address, the customer's
    assert "€" not in page and "24,90" not in page and "24.90" not in page  # no prices

    label_url = of(staff, "SHIPPING_LABEL", tracking)
    label = await fetch(api, label_url, tokens["ada"])
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    assert decode_barcode(label.content) == tracking
    box = reader(label.content).pages[0].mediabox
    assert round(float(box.width) / MM) == 100 and round(float(box.height) / MM) == 150
    shown = " ".join(text(label.content).split())
    assert "BRT" in shown and number in shown and "1 × TSHIRT-RED-M" in shown

    # who may hold the link: staff and the location's associates; the customer the label only
    assert (await fetch(api, slip_url, tokens["store_mil"])).status_code == 200
    assert (await fetch(api, slip_url, tokens["agent"])).status_code == 200
    assert (await fetch(api, slip_url, tokens["store_roma"])).status_code == 403
    assert (await fetch(api, slip_url, tokens["ada"])).status_code == 403
    assert (await fetch(api, label_url, tokens["bob"])).status_code == 403
    assert (await fetch(api, label_url, tokens["store_roma"])).status_code == 403
    assert (await fetch(api, label_url, "not-a-token")).status_code == 403

    # a link opens its own paper of its own fulfillment only
    swapped = label_url.replace("/label.pdf", "/packing-slip.pdf")
    assert (await fetch(api, swapped)).status_code == 403
    moved = slip_url.replace(own(milan), own(rome))
    assert (await fetch(api, moved)).status_code == 403
    assert (await fetch(api, slip_url.replace("signature=", "signature=x"))).status_code == 403
    assert (await fetch(api, slip_url.split("?")[0])).status_code == 403
    other = slip_url.replace("/packing-slip.pdf", "/invoice.pdf")
    assert (await fetch(api, other)).status_code == 404

    # no label before the parcel has a carrier and a tracking number, no paper for a
    # fulfillment that does not exist — even behind a well-signed link
    deps = api.app.state.deps
    early, _ = parcels.paper_path(deps.paper_key, parcels.Paper.LABEL, own(rome),
                                  now=deps.clock.now(), ttl=timedelta(hours=1))
    assert (await api.client.get(early)).status_code == 404
    ghost, _ = parcels.paper_path(deps.paper_key, parcels.Paper.PACKING_SLIP,
                                  "00000000-0000-0000-0000-000000000000",
                                  now=deps.clock.now(), ttl=timedelta(hours=1))
    assert (await api.client.get(ghost)).status_code == 404

    # and none after it expired
    deps.clock.current = deps.clock.now() + deps.label_ttl + timedelta(seconds=1)
    assert (await fetch(api, slip_url)).status_code == 403
    assert (await fetch(api, label_url, tokens["ada"])).status_code == 403


async def test_a_rejected_fulfillment_has_no_packing_slip(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    number = await paid_order(api, "papers-00002", reference="pi_papers2", lines=TWO_PARCELS,
                              token=tokens["ada"])
    rome = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
    store = tokens[STORE_OF["ST-ROMA"]]
    assert (await step(api, "acceptFulfillment", rome, store))["userErrors"] == []
    deps = api.app.state.deps
    path, _ = parcels.paper_path(deps.paper_key, parcels.Paper.PACKING_SLIP, own(rome),
                                 now=deps.clock.now(), ttl=timedelta(hours=1))
    assert (await api.client.get(path)).status_code == 200
    rejected = await step(api, "rejectFulfillment", rome, store, reason="DAMAGED")
    assert rejected["userErrors"] == [], rejected
    assert ("PACKING_SLIP", rome) not in kinds(await documents(api, number, tokens["agent"]))
    assert (await api.client.get(path)).status_code == 404
