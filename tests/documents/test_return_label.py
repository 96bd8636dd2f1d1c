"""The return label the /returns/<number>/label.pdf route serves is the documents' label: the
customer to the receiving location, the carrier's tracking number as Code 128."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from api import labels
from domain.kernel.money import Money
from domain.orders import Customer, DeliveryMethod
from domain.returns import Return, ReturnLine
from domain.returns.policy import Resolution, ReturnMethod
from domain.returns.status import ReturnStatus
from tests.documents import reading
from tests.domain.builders import location
from tests.domain.order_builders import AT, order

ZERO = Money(Decimal("0.00"), "EUR")
TRACKING = "RT545420341IT"


def ret(**changes: object) -> Return:
    base = Return(
        id="r-1", number="PR-000001-R1", order_id="order-1", order_number="PR-000001",
        customer_email="ada@example.com", status=ReturnStatus.APPROVED,
        resolution=Resolution.REFUND, method=ReturnMethod.SHIP_BACK,
        lines=[ReturnLine("rl-1", "line-TSHIRT", "TSHIRT", 2, "TOO_SMALL", ZERO)],
        receiving_location="WH-MIL", fee=ZERO, shipping_refund=ZERO, refund_total=ZERO,
        requested_at=AT, requested_by="customer:ada@example.com", carrier="BRT",
        tracking_number=TRACKING)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_return_label_goes_from_the_customer_to_the_receiving_location() -> None:
    shipped = order(lines={"TSHIRT": 2}, fulfillments=[("WH-MIL", {"TSHIRT": 2})])
    pdf = labels.render_pdf(ret(), shipped, location("WH-MIL", country="IT"))

    text = " ".join(reading.text(pdf).split())
    assert "BRT Return RETURN FROM Ada Via Nazionale 10 00184 Roma IT" in text
    assert "TO WH-MIL (WH-MIL) Via Roma 1 00100 Città IT" in text
    assert "Ref. PR-000001-R1" in text and "Contents: 2 × TSHIRT" in text
    assert reading.decode_barcode(pdf) == TRACKING


def test_an_italian_customer_gets_an_italian_label() -> None:
    shipped = order(lines={"TSHIRT": 2}, fulfillments=[("WH-MIL", {"TSHIRT": 2})])
    italian = dataclasses.replace(shipped, customer=Customer("ada@example.com", "Ada",
                                                             locale="it-IT"))

    text = reading.text(labels.render_pdf(ret(), italian, location("WH-MIL")))

    assert "RESO" in text and "MITTENTE" in text and "DESTINATARIO" in text


def test_a_pickup_order_without_an_address_still_gets_a_label() -> None:
    picked = order(lines={"TSHIRT": 2}, fulfillments=[("ST-ROMA", {"TSHIRT": 2})],
                   method=DeliveryMethod.PICKUP)
    pdf = labels.render_pdf(ret(), picked, location("WH-MIL", country="IT"))

    assert reading.decode_barcode(pdf) == TRACKING
    assert "FROM Ada IT" in " ".join(reading.text(pdf).split())
