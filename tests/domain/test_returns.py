"""Return policy, eligibility, refund shares and the return status machine — pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain import returns
from domain.catalog import Address, HandlingClass, LocationType
from domain.kernel import errors
from domain.kernel.geo import GeoPoint
from domain.kernel.money import Money
from domain.orders import (
    Customer,
    Delivery,
    DeliveryMethod,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    ServiceLevel,
    lifecycle,
)
from domain.returns import refunds, status
from domain.returns import requests as return_requests
from domain.returns.policy import (
    GroupRule,
    Payer,
    Resolution,
    ReturnMethod,
    ReturnPolicy,
    policy_for,
    window_end,
)
from domain.returns.status import ReturnStatus as S
from tests.domain.builders import MILAN, ROME, location, sku

Line = return_requests.ReturnLineRequest
check = return_requests.check_request
DELIVERED = datetime(2030, 1, 3, 22, 30, tzinfo=UTC)  # 23:30 in Rome, 3 January
POLICY = ReturnPolicy("web", window_days=30, shipping_paid_by=Payer.CUSTOMER,
                      return_shipping_fee=Decimal("4.90"),
                      groups={"personalised": GroupRule(returnable=False),
                              "lighting": GroupRule(window_days=14)})
SKUS = {"SHIRT": sku("SHIRT"), "MUG": sku("MUG", group="personalised"),
        "LAMP": sku("LAMP", group="lighting"),
        "GAS": sku("GAS", handling=HandlingClass.HAZMAT)}


def eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


def order(*lines: tuple[str, int, str], delivered: datetime | None = DELIVERED,
          total: str | None = None, shipping: str = "0.00", tax: str = "0.00",
          country: str = "IT", point: GeoPoint | None = ROME) -> Order:
    """An order of (sku, quantity, unit price) lines, all in one fulfillment."""
    order_lines = [OrderLine(f"l{i}", code, n, eur(price), LineStatus.DELIVERED)
                   for i, (code, n, price) in enumerate(lines)]
    subtotal = sum((Decimal(p) * n for _, n, p in lines), Decimal("0.00"))
    status = FulfillmentStatus.DELIVERED if delivered else FulfillmentStatus.SHIPPED
    f = Fulfillment("f1", "ST", status, [FulfillmentLine(ln.id, ln.sku, ln.quantity,
                                                         ln.quantity) for ln in order_lines],
                    delivered_at=delivered)
    o = Order(id="o1", number="PR-000001", channel="web", customer=Customer("ada@x.it"),
              currency="EUR", delivery=Delivery(DeliveryMethod.SHIP, ServiceLevel.STANDARD,
                                                Address("Via 1", "Roma", "00184", country,
                                                        point=point)),
              status=OrderStatus.DELIVERED if delivered else OrderStatus.SHIPPED,
              lines=order_lines, fulfillments=[f], subtotal=Money(subtotal, "EUR"),
              shipping=eur(shipping), tax=eur(tax),
              total=eur(total) if total else Money(subtotal + Decimal(shipping), "EUR"),
              placed_at=DELIVERED - timedelta(days=2), placed_by="guest")
    if not delivered:
        for ln in o.lines:
            ln.status = LineStatus.SHIPPED
    return o


def eligible(o: Order, now: datetime, existing: list[returns.Return] = (), *,
             zone: str = "Europe/Rome", policy: ReturnPolicy = POLICY):
    found = return_requests.eligibility(o, skus=SKUS, policy=policy, returns=list(existing),
                                        now=now, time_zone=zone)
    return {e.sku: e for e in found}


def a_return(o: Order, *parts: tuple[str, int], status: S = S.REQUESTED,
             resolution: Resolution = Resolution.REFUND) -> returns.Return:
    lines = {ln.sku: ln for ln in o.lines}
    return returns.Return(
        id="r1", number=f"{o.number}-R1", order_id=o.id, order_number=o.number,
        customer_email=o.customer.email, status=status, resolution=resolution,
        method=ReturnMethod.SHIP_BACK,
        lines=[returns.ReturnLine(f"rl{i}", lines[code].id, code, n, "TOO_SMALL", eur("0"))
               for i, (code, n) in enumerate(parts)],
        receiving_location="WH", fee=eur("0"), shipping_refund=eur("0"), refund_total=eur("0"),
        requested_at=DELIVERED, requested_by="guest", carrier="BRT", tracking_number="RT1")


def ask(*lines: return_requests.ReturnLineRequest, resolution: Resolution = Resolution.REFUND,
        method: ReturnMethod = ReturnMethod.SHIP_BACK) -> return_requests.RequestReturn:
    return return_requests.RequestReturn("PR-000001", tuple(lines), resolution, method)


# --- the window, in the customer's calendar --------------------------------------------------

def test_the_window_ends_at_midnight_after_its_last_day_in_the_customers_zone():
    # 23:30 in Rome on 3 January is still the 3rd there (already the 4th nowhere else)
    assert window_end(DELIVERED, 30, "Europe/Rome") == datetime(2030, 2, 2, 23, 0, tzinfo=UTC)
    # the same instant is the 3rd in New York, too, but midnight there is later
    assert window_end(DELIVERED, 30, "America/New_York") == datetime(2030, 2, 3, 5, 0,
                                                                     tzinfo=UTC)
    # and already the 4th in Tokyo
    assert window_end(DELIVERED, 30, "Asia/Tokyo") == datetime(2030, 2, 3, 15, 0, tzinfo=UTC)


def test_a_line_is_returnable_until_the_last_moment_of_its_window_and_not_after():
    o = order(("SHIRT", 2, "19.90"))
    last = datetime(2030, 2, 2, 22, 59, 59, tzinfo=UTC)
    assert (eligible(o, last)["SHIRT"].returnable, eligible(o, last)["SHIRT"].reason) == (2, None)
    closed = eligible(o, last + timedelta(seconds=1))["SHIRT"]
    assert (closed.returnable, closed.reason) == (0, "RETURN_WINDOW_CLOSED")
    assert closed.until == datetime(2030, 2, 2, 23, 0, tzinfo=UTC)


def test_the_customers_zone_comes_from_the_shipping_country_or_the_pickup_store():
    o = order(("SHIRT", 1, "19.90"), country="US")
    assert return_requests.customer_zone(o, {}) == "America/New_York"
    pickup = replace(o, delivery=Delivery(DeliveryMethod.PICKUP, pickup_location="ST-NYC"))
    store = location("ST-NYC", zone="America/Chicago", type=LocationType.STORE)
    assert return_requests.customer_zone(pickup, {"ST-NYC": store}) == "America/Chicago"
    assert return_requests.customer_zone(order(("SHIRT", 1, "1.00"), country="ZZ"), {}) == "UTC"


def test_a_product_group_can_have_a_shorter_window():
    o = order(("SHIRT", 1, "19.90"), ("LAMP", 1, "100.00"))
    day_20 = datetime(2030, 1, 23, 12, tzinfo=UTC)
    lines = eligible(o, day_20)
    assert lines["SHIRT"].reason is None
    assert lines["LAMP"].reason == "RETURN_WINDOW_CLOSED"
    assert lines["LAMP"].until == datetime(2030, 1, 17, 23, 0, tzinfo=UTC)


# --- what never comes back, and what has not arrived --------------------------------------

def test_personalised_groups_and_hazardous_goods_are_not_returnable():
    o = order(("MUG", 1, "12.00"), ("GAS", 1, "5.00"), ("SHIRT", 1, "19.90"))
    lines = eligible(o, DELIVERED + timedelta(days=1))
    assert (lines["MUG"].reason, lines["GAS"].reason, lines["SHIRT"].reason) == (
        "NOT_RETURNABLE", "NOT_RETURNABLE", None)
    with pytest.raises(errors.NotReturnable) as refused:
        check(o, ask(Line(1, "X", sku="MUG")), lines=list(lines.values()), policy=POLICY)
    assert refused.value.field == ["lines", "0"]


def test_units_not_delivered_yet_cannot_come_back():
    o = order(("SHIRT", 1, "19.90"), delivered=None)
    line = eligible(o, DELIVERED)["SHIRT"]
    assert (line.delivered, line.returnable, line.reason) == (0, 0, "ORDER_NOT_DELIVERED")


# --- quantities across returns ---------------------------------------------------------------

def test_partial_quantities_across_two_returns_never_exceed_what_was_delivered():
    o = order(("SHIRT", 3, "19.90"))
    now = DELIVERED + timedelta(days=2)
    first = a_return(o, ("SHIRT", 2))
    line = eligible(o, now, [first])["SHIRT"]
    assert (line.in_returns, line.returnable) == (2, 1)
    with pytest.raises(errors.QuantityExceedsReturnable) as refused:
        check(o, ask(Line(2, "X", sku="SHIRT")), lines=[line], policy=POLICY)
    assert refused.value.field == ["lines", "0", "quantity"]
    # the same line twice in one request counts twice
    with pytest.raises(errors.QuantityExceedsReturnable):
        check(o, ask(Line(1, "X", sku="SHIRT"), Line(1, "Y", line_id="l0")),
              lines=[line], policy=POLICY)
    [wanted] = check(o, ask(Line(1, "X", sku="SHIRT")), lines=[line], policy=POLICY)
    assert (wanted.quantity, wanted.before) == (1, 2)
    # a rejected return gives its units back
    first.status = S.REJECTED
    assert eligible(o, now, [first])["SHIRT"].returnable == 3


def test_resolution_and_method_must_be_allowed_by_the_policy():
    o = order(("SHIRT", 1, "19.90"))
    strict = replace(POLICY, resolutions=frozenset({Resolution.REFUND}),
                     methods=frozenset({ReturnMethod.DROP_AT_STORE}))
    lines = list(eligible(o, DELIVERED, policy=strict).values())
    with pytest.raises(errors.ReturnMethodNotAllowed):
        check(o, ask(Line(1, "X", sku="SHIRT")), lines=lines, policy=strict)
    with pytest.raises(errors.ResolutionNotAllowed):
        check(o, ask(Line(1, "X", sku="SHIRT"), resolution=Resolution.EXCHANGE,
                     method=ReturnMethod.DROP_AT_STORE), lines=lines, policy=strict)


def test_marketplace_channels_share_one_policy_and_unknown_channels_get_the_webs():
    assert policy_for("marketplace:amazon") is policy_for("marketplace:ebay")
    assert policy_for("marketplace:amazon").resolutions == {Resolution.REFUND}
    assert policy_for("somewhere").channel == "web"


# --- refunds ---------------------------------------------------------------------------------

def test_a_refund_is_the_lines_share_of_what_was_paid_less_a_customer_paid_label():
    o = order(("SHIRT", 3, "19.90"), total="59.70", tax="10.77")
    line = o.lines[0]
    q = refunds.quote(o, [refunds.Part(line, 1)], refund_shipping=False,
                      fee=Decimal("4.90"), already=Decimal("0"))
    assert (q.items, q.fee, q.total, q.tax) == (eur("19.90"), eur("4.90"), eur("15.00"),
                                                eur("3.59"))


def test_a_discount_and_added_tax_are_shared_in_proportion():
    # listed 100.00 + 50.00, shipping 10.00; paid 144.00 (a 10 % discount on everything)
    o = order(("SHIRT", 1, "100.00"), ("LAMP", 1, "50.00"), shipping="10.00", total="144.00")
    shirt, lamp = o.lines
    q = refunds.quote(o, [refunds.Part(shirt, 1), refunds.Part(lamp, 1)],
                      refund_shipping=True, fee=Decimal("0"), already=Decimal("0"))
    assert q.lines == (eur("90.00"), eur("45.00"))
    assert (q.shipping, q.total) == (eur("9.00"), eur("144.00"))
    # US sales tax added on top: the refund gives the tax back with the item
    taxed = order(("SHIRT", 2, "10.00"), total="21.50", tax="1.50", country="US")
    q = refunds.quote(taxed, [refunds.Part(taxed.lines[0], 1)], refund_shipping=False,
                      fee=Decimal("0"), already=Decimal("0"))
    assert (q.total, q.tax) == (eur("10.75"), eur("0.75"))


def test_partial_refunds_of_one_line_add_up_to_exactly_what_the_line_paid():
    o = order(("SHIRT", 3, "10.00"), total="29.99")  # 9.996… per unit
    line = o.lines[0]
    shares = [refunds.line_share(o, refunds.Part(line, 1, before)) for before in range(3)]
    assert sum(shares) == Decimal("29.99")
    assert shares == [Decimal("10.00"), Decimal("9.99"), Decimal("10.00")]


def test_refunds_are_capped_at_what_the_order_paid_across_returns():
    o = order(("SHIRT", 2, "50.00"))
    q = refunds.quote(o, [refunds.Part(o.lines[0], 1)], refund_shipping=False,
                      fee=Decimal("0"), already=Decimal("80.00"))
    assert q.total == eur("20.00")
    refunds.check_cap(o, Decimal("20.00"), refunded=Decimal("80.00"))
    with pytest.raises(errors.RefundExceedsPaid) as refused:
        refunds.check_cap(o, Decimal("20.01"), refunded=Decimal("80.00"))
    assert refused.value.code == "REFUND_EXCEEDS_PAID"
    with pytest.raises(errors.InvalidInput):
        refunds.check_cap(o, Decimal("-1"), refunded=Decimal("0"))


def test_the_label_fee_applies_only_when_the_customer_ships_back_for_money():
    assert POLICY.fee(ReturnMethod.SHIP_BACK, Resolution.REFUND) == Decimal("4.90")
    assert POLICY.fee(ReturnMethod.DROP_AT_STORE, Resolution.REFUND) == Decimal("0.00")
    assert POLICY.fee(ReturnMethod.SHIP_BACK, Resolution.EXCHANGE) == Decimal("0.00")
    free = replace(POLICY, shipping_paid_by=Payer.MERCHANT)
    assert free.fee(ReturnMethod.SHIP_BACK, Resolution.REFUND) == Decimal("0.00")


# --- where it goes back --------------------------------------------------------------------

def test_items_go_back_to_the_nearest_location_that_takes_them_that_way():
    o = order(("SHIRT", 1, "19.90"))
    network = {loc.code: loc for loc in (
        location("WH-MIL", MILAN), location("WH-FAR", MILAN, channels=("store",)),
        location("ST-ROMA", ROME, type=LocationType.STORE),
        location("WH-ROMA", ROME, handling=frozenset({HandlingClass.FRAGILE})))}
    assert return_requests.receiver(o, method=ReturnMethod.SHIP_BACK, policy=POLICY,
                            skus=[SKUS["SHIRT"]], locations=network).code == "WH-MIL"
    assert return_requests.receiver(o, method=ReturnMethod.DROP_AT_STORE, policy=POLICY,
                            skus=[SKUS["SHIRT"]], locations=network).code == "ST-ROMA"
    with pytest.raises(errors.NoReturnLocation):
        return_requests.receiver(o, method=ReturnMethod.DROP_AT_STORE, policy=POLICY,
                         skus=[SKUS["SHIRT"]], locations={"WH-MIL": network["WH-MIL"]})
    # a group can go back to warehouses only, whatever the method
    lamps = replace(POLICY, groups={"lighting": GroupRule(
        received_at=frozenset({LocationType.WAREHOUSE}))})
    with pytest.raises(errors.NoReturnLocation):
        return_requests.receiver(o, method=ReturnMethod.DROP_AT_STORE, policy=lamps,
                         skus=[SKUS["SHIRT"], SKUS["LAMP"]], locations=network)
    assert return_requests.receiver(o, method=ReturnMethod.SHIP_BACK, policy=lamps,
                            skus=[SKUS["LAMP"]], locations=network).code == "WH-MIL"


# --- the status machine --------------------------------------------------------------------

def test_every_return_status_is_reachable_and_settles_as_its_resolution_says():
    assert set(status.RETURN_TRANSITIONS) == set(S)
    assert status.return_next(S.RECEIVED, Resolution.REFUND) == (S.REFUNDED,)
    assert status.return_next(S.RECEIVED, Resolution.EXCHANGE) == (S.EXCHANGED,)
    assert status.return_next(S.RECEIVED, Resolution.STORE_CREDIT) == (S.CREDITED,)
    reached, todo = {S.REQUESTED}, [S.REQUESTED]
    while todo:
        for nxt in status.RETURN_TRANSITIONS[todo.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    assert reached == set(S)


def test_an_illegal_return_step_names_the_current_state_and_changes_nothing():
    o = order(("SHIRT", 1, "19.90"))
    ret = a_return(o, ("SHIRT", 1))
    with pytest.raises(errors.IllegalTransition) as refused:
        returns.receive(ret, o, {"rl0": (1, 0)}, actor="store:x", at=DELIVERED)
    assert str(refused.value) == ("return PR-000001-R1 is REQUESTED: cannot become RECEIVED; "
                                  "allowed next: APPROVED, REJECTED")
    assert (ret.status, o.lines[0].returned, o.timeline) == (S.REQUESTED, 0, [])


def test_receiving_restocks_some_units_writes_off_the_rest_and_marks_the_order_returned():
    o = order(("SHIRT", 3, "19.90"), ("MUG", 1, "12.00"))
    ret = a_return(o, ("SHIRT", 3), status=S.IN_TRANSIT)
    with pytest.raises(errors.InvalidQuantity):
        returns.receive(ret, o, {"rl0": (1, 1)}, actor="store:x", at=DELIVERED)
    moves = returns.receive(ret, o, {"rl0": (2, 1)}, actor="store:x", at=DELIVERED)
    assert [(m.sku, m.location, m.on_hand, m.reserved, m.reason) for m in moves] == [
        ("SHIRT", "WH", 2, 0, "RETURN_RESTOCK")]
    assert (ret.status, ret.lines[0].restocked, ret.lines[0].written_off) == (S.RECEIVED, 2, 1)
    assert o.status is OrderStatus.PARTIALLY_RETURNED
    assert [(t.type, t.public) for t in o.timeline] == [
        ("RETURN_RECEIVED", "We received your return PR-000001-R1")]
    assert o.events[-1].payload == {"order": "PR-000001", "status": "PARTIALLY_RETURNED",
                                    "return": "PR-000001-R1", "returnStatus": "RECEIVED"}
    mug = a_return(o, ("MUG", 1), status=S.APPROVED)
    mug.number = "PR-000001-R2"
    returns.receive(mug, o, {"rl0": (0, 1)}, actor="store:x", at=DELIVERED)
    assert o.status is OrderStatus.RETURNED


def test_a_kit_comes_back_as_its_components():
    o = order(("KIT", 2, "30.00"))
    o.fulfillments[0].lines[:] = [FulfillmentLine("l0", "A", 4, 2),
                                  FulfillmentLine("l0", "B", 2, 2)]
    ret = a_return(o, ("KIT", 1), status=S.APPROVED)
    moves = returns.receive(ret, o, {"rl0": (1, 0)}, actor="store:x", at=DELIVERED)
    assert sorted((m.sku, m.on_hand) for m in moves) == [("A", 2), ("B", 1)]


def test_a_refund_is_recorded_once_and_never_past_what_was_paid():
    o = order(("SHIRT", 1, "19.90"))
    ret = a_return(o, ("SHIRT", 1), status=S.RECEIVED)
    paid = returns.Refund("f1", eur("19.90"), "RF-1", "recording", DELIVERED, "agent:a")
    with pytest.raises(errors.RefundExceedsPaid):
        returns.refund(ret, o, paid, refunded_before=Decimal("0.01"))
    assert ret.refunds == [] and ret.status is S.RECEIVED
    returns.refund(ret, o, paid, refunded_before=Decimal("0"))
    assert (ret.status, ret.refunded) == (S.REFUNDED, Decimal("19.90"))
    with pytest.raises(errors.IllegalTransition):
        returns.refund(ret, o, paid, refunded_before=Decimal("19.90"))



def test_store_credit_settles_as_credited():
    o = order(("SHIRT", 1, "19.90"))
    ret = a_return(o, ("SHIRT", 1), status=S.RECEIVED, resolution=Resolution.STORE_CREDIT)
    returns.refund(ret, o, returns.Refund("f1", eur("19.90"), "SC-1", "store_credit",
                                          DELIVERED, "agent:a"), refunded_before=Decimal("0"))
    assert ret.status is S.CREDITED
    assert [t.type for t in o.timeline] == ["RETURN_CREDITED"]


def test_the_last_parcel_can_arrive_after_an_earlier_one_was_returned():
    """A line is returnable once its own parcel is delivered; when the order's last parcel
    arrives after that return was received, the order is delivered and partly returned."""
    o = order(("SHIRT", 1, "20.00"), ("LAMP", 1, "30.00"))
    first = o.fulfillments[0]
    second = Fulfillment("f2", "ST", FulfillmentStatus.SHIPPED, [first.lines[1]])
    first.lines = [first.lines[0]]
    o.fulfillments.append(second)
    o.lines[1].status = LineStatus.SHIPPED
    o.status = OrderStatus.SHIPPED
    ret = returns.Return("r1", "PR-000001-R1", o.id, o.number, "ada@x.it", S.APPROVED,
                         Resolution.REFUND, ReturnMethod.DROP_AT_STORE,
                         [returns.ReturnLine("rl1", "l0", "SHIRT", 1, "size", eur("20.00"))],
                         "ST", eur("0.00"), eur("0.00"), eur("20.00"), DELIVERED, "ada")
    returns.receive(ret, o, {"rl1": (1, 0)}, actor="st", at=DELIVERED + timedelta(days=1))
    assert o.status is OrderStatus.SHIPPED

    second.status = FulfillmentStatus.DELIVERED
    second.delivered_at = DELIVERED + timedelta(days=2)
    assert lifecycle.settle(o) == (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_RETURNED)
