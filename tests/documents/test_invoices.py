"""Invoices and credit notes through the API, on both engines: one invoice per capture (per
parcel for an order without a payment), numbered gap-free in the capture's transaction, one
credit note per refund referring to the invoice; their totals are the money moved to the
cent, their PDFs say so, and only the order's customer and staff can open them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.lifecycle import place
from tests.api.returns import op, request
from tests.conftest import Api
from tests.documents.reading import text
from tests.payments.support import (
    TWO_PARCELS,
    consumer,
    drain,
    hand_over,
    paid_order,
    payment_of,
    seed,
)

pytestmark = pytest.mark.anyio
DOCUMENTS = """
query OrderDocuments($number: String!) {
  order(number: $number) {
    documents { kind number issuedAt total { amount currency } url expiresAt }
  }
}"""
NUMBER = re.compile(r"^IT-\d{4}-\d{6}$")


async def all_documents(api: Api, number: str, token: str) -> list[dict[str, Any]]:
    data = await api.data(DOCUMENTS, {"number": number}, token=token)
    return list(data["order"]["documents"]) if data["order"] else []


async def documents(api: Api, number: str, token: str) -> list[dict[str, Any]]:
    """The order's invoices and credit notes (its parcels' papers: test_parcel_papers.py)."""
    return [d for d in await all_documents(api, number, token)
            if d["kind"] in ("INVOICE", "CREDIT_NOTE")]


async def fetch(api: Api, url: str, token: str | None = None) -> Any:
    parts = urlsplit(url)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(f"{parts.path}?{parts.query}", headers=headers)


def sequence(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def test_each_capture_gets_an_invoice_and_a_refund_a_credit_note_to_the_cent(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "doc-two-00001", reference="pi_docs", lines=TWO_PARCELS,
                              token=tokens["ada"])
    assert await documents(api, number, tokens["agent"]) == []  # nothing taken yet

    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    await hand_over(api, tokens, number, "WH-MIL", deliver=True)
    await drain(payments)
    assert await drain(payments) == 0

    docs = await documents(api, number, tokens["agent"])
    assert [d["kind"] for d in docs] == ["INVOICE", "INVOICE"]
    assert all(NUMBER.match(d["number"]) for d in docs)
    assert [sequence(d["number"]) for d in docs] == [1, 2]  # gap-free from the first
    paid = await payment_of(api, number, tokens["agent"])
    captures = [Decimal(t["amount"]["amount"]) for t in paid["transactions"]
                if t["kind"] == "CAPTURE"]
    # the mug with the shipping (12.00 + 4.90), then the T-shirt (24.90): what was captured
    assert [Decimal(d["total"]["amount"]) for d in docs] == captures == [
        Decimal("16.90"), Decimal("24.90")]

    first = await fetch(api, docs[0]["url"])
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    page = text(first.content)
    assert docs[0]["number"] in page and number in page
    assert "IT12345678903" in page  # the seller's VAT number
    # 16.90 at 22 %: 13.85 net + 3.05 VAT; in Italian, as the order's mails are (no customer
    # locale given, shipped to Italy)
    for figure in ("Fattura", "22%", "13,85", "3,05", "16,90"):
        assert figure in page, (figure, page)

    # the customer returns the T-shirt: a credit note for what was refunded
    asked = await op(api, "RequestReturn", request(number, [
        {"sku": "TSHIRT-RED-M", "quantity": 1, "reason": "TOO_SMALL"}],
        method="DROP_AT_STORE"), token=tokens["ada"])
    assert asked["userErrors"] == [], asked
    ret = asked["return"]["number"]
    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret, "lines": [
        {"sku": "TSHIRT-RED-M", "condition": "RESTOCK"}]}}, token=tokens["store_roma"])
    assert received["userErrors"] == [], received
    refunded = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                        token=tokens["agent"])
    assert refunded["userErrors"] == [], refunded
    paid = await payment_of(api, number, tokens["agent"])

    docs = await documents(api, number, tokens["ada"])  # the customer sees her own
    assert [d["kind"] for d in docs] == ["INVOICE", "INVOICE", "CREDIT_NOTE"]
    assert [sequence(d["number"]) for d in docs] == [1, 2, 3]
    note = docs[2]
    assert Decimal(note["total"]["amount"]) == Decimal(paid["refunded"]["amount"]) > 0
    pdf = await fetch(api, note["url"], tokens["ada"])
    assert pdf.status_code == 200
    page = text(pdf.content)
    # it corrects the invoice that billed the T-shirt
    assert note["number"] in page and docs[1]["number"] in page
    assert "TSHIRT-RED-M" in page


async def test_document_links_open_for_the_customer_and_staff_only(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    number = await paid_order(api, "doc-link-0001", reference="pi_link",
                              lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                              token=tokens["ada"])
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)
    [doc] = await documents(api, number, tokens["agent"])
    url = doc["url"]

    assert (await fetch(api, url)).status_code == 200  # the link alone (a guest's mail)
    assert (await fetch(api, url, tokens["ada"])).status_code == 200
    assert (await fetch(api, url, tokens["agent"])).status_code == 200
    assert (await fetch(api, url, tokens["bob"])).status_code == 403  # another customer
    assert (await fetch(api, url, tokens["store_mil"])).status_code == 403  # stores: no
    tampered = re.sub(r"signature=[^&]+", "signature=AAAA", url)
    assert (await fetch(api, tampered)).status_code == 403
    later = re.sub(r"expires=\d+", "expires=9999999999", url)
    assert (await fetch(api, later)).status_code == 403  # the expiry is signed
    other = url.replace(doc["number"], doc["number"][:-1] + "9")
    assert (await fetch(api, other)).status_code == 404
    for junk in ("/documents/%C2%B2.pdf?expires=1&signature=x",
                 "/documents/IT-2026-000001.pdf?expires=%C2%B2&signature=x",
                 "/documents/IT-2026-000001.pdf"):
        assert (await api.client.get(junk)).status_code in (403, 404)
    # a store working on the order sees no invoices in the API either
    assert await documents(api, number, tokens["store_mil"]) == []


async def test_an_order_without_a_payment_is_invoiced_parcel_by_parcel(
        api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    payments = consumer(api)
    await payments.take_in()
    placed = await place(api, "doc-free-0001", lines=TWO_PARCELS)
    number = placed["number"]
    await hand_over(api, tokens, number, "WH-MIL")
    await drain(payments)
    docs = await documents(api, number, tokens["agent"])
    # the T-shirt went first: its invoice carries the shipping charge
    assert [(d["kind"], Decimal(d["total"]["amount"])) for d in docs] == [
        ("INVOICE", Decimal("29.80"))]
    await hand_over(api, tokens, number, "ST-ROMA")
    await drain(payments)
    await drain(payments)
    docs = await documents(api, number, tokens["agent"])
    assert [Decimal(d["total"]["amount"]) for d in docs] == [Decimal("29.80"),
                                                            Decimal("12.00")]
    assert sum(Decimal(d["total"]["amount"]) for d in docs) == Decimal(
        placed["total"]["amount"])
