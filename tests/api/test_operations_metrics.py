"""operationsMetrics: exact KPIs over a small day of orders driven through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.lifecycle import EXPECT, clock_at, desk, fulfillment_ids, place, step
from tests.api.test_query_counts import _count
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio
METRICS = """query($f: DateTime!, $t: DateTime!, $c: String) {
  operationsMetrics(from: $f, to: $t, channel: $c) { ordersPlaced fillRate splitRate
    shipFromStoreShare onTimeDelivery averageHoursToShip cancellationRate backordersOpen } }"""
DAY = {"f": "2030-01-02T00:00:00+00:00", "t": "2030-01-03T00:00:00+00:00"}
PROMISE = """query($n: String!) { order(number: $n) { promisedDelivery { latest } } }"""
T0 = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)


async def _ship(api, fulfillment: str, token: str, tracking: str) -> None:
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fulfillment, token))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fulfillment, token, carrier="BRT",
                         trackingNumber=tracking)
    assert shipped["userErrors"] == []


async def _deliver(api, tokens, number: str, fulfillment: str, *, late_by: timedelta) -> None:
    latest = (await api.data(PROMISE, {"n": number}, token=tokens["agent"]))["order"][
        "promisedDelivery"]["latest"]
    at = datetime.fromisoformat(latest) + late_by
    clock_at(api, at.isoformat())  # the carrier reports the delivery once it has happened
    done = await step(api, "recordTrackingEvent", fulfillment, tokens["integration"],
                      status="DELIVERED", at=at.isoformat())
    assert done["fulfillment"]["status"] == "DELIVERED", done


async def _a_day_of_orders(api, tokens, clock) -> None:
    """Out of the window: one order the day before. In it: (1) 2 shirts from the Rome store,
    shipped after 2 h, delivered on the promised latest minute; (2) 2 shirts from Rome and a
    lamp from Milan, the lamp shipped after 4 h and delivered an hour late; (3) cancelled;
    (4) a lamp backordered."""
    await seed_contract_network(api, tokens)
    await api.data("""mutation { setInventory(input: {reason: "COUNT", levels: [
        {sku: "TSHIRT-BLU-M", location: "ST-ROMA", onHand: 50},
        {sku: "TSHIRT-BLU-M", location: "WH-MIL", onHand: 0, safetyStock: 0}]})
        { userErrors { code } } }""", token=tokens["integration"])
    clock.current = T0 - timedelta(days=1)
    await place(api, "metrics-yesterday")
    clock.current = T0
    one = (await place(api, "metrics-1"))["number"]
    two = (await place(api, "metrics-2", lines=[{"sku": "TSHIRT-BLU-M", "quantity": 2},
                                                {"sku": "LAMP-ARCO", "quantity": 1}]))["number"]
    three = (await place(api, "metrics-3"))["number"]
    await api.data(EXPECT, {"input": {"sku": "LAMP-ARCO", "location": "WH-MIL", "quantity": 5,
                                      "expectedAt": "2030-01-15T09:00:00+01:00"}},
                   token=tokens["integration"])
    four = await place(api, "metrics-4", lines=[{"sku": "LAMP-ARCO", "quantity": 1}])
    assert four["status"] == "BACKORDERED"
    assert (await desk(api, "cancelOrder", tokens["agent"], number=three,
                       reason="DUPLICATE"))["userErrors"] == []
    rome = (await fulfillment_ids(api, one, tokens["agent"]))["ST-ROMA"]
    milan = (await fulfillment_ids(api, two, tokens["agent"]))["WH-MIL"]
    clock.current = T0 + timedelta(hours=2)
    await _ship(api, rome, tokens["store_roma"], "BRT1")
    clock.current = T0 + timedelta(hours=4)
    await _ship(api, milan, tokens["store_mil"], "BRT2")
    await _deliver(api, tokens, one, rome, late_by=timedelta())
    await _deliver(api, tokens, two, milan, late_by=timedelta(hours=1))


async def test_operations_metrics_over_a_known_day(api, tokens, clock):
    await _a_day_of_orders(api, tokens, clock)

    found = (await api.data(METRICS, DAY, token=tokens["agent"]))["operationsMetrics"]

    assert found == {
        "ordersPlaced": 4,
        "fillRate": 0.875,  # 7 of 8 units: the backordered lamp is the one missing
        "splitRate": 0.25,  # order 2 only
        "shipFromStoreShare": 0.5,  # Rome's parcel of two shipped
        "onTimeDelivery": 0.5,  # Rome on the last promised minute; Milan an hour late
        "averageHoursToShip": 3.0,  # (2 h + 4 h) / 2
        "cancellationRate": 0.25,
        "backordersOpen": 1}


async def test_operations_metrics_with_nothing_to_measure_are_null(api, tokens, clock):
    await _a_day_of_orders(api, tokens, clock)

    found = (await api.data(METRICS, {**DAY, "c": "no-such-channel"}, token=tokens["admin"]))[
        "operationsMetrics"]
    web = (await api.data(METRICS, {**DAY, "c": "web"}, token=tokens["admin"]))[
        "operationsMetrics"]

    assert found == {"ordersPlaced": 0, "fillRate": None, "splitRate": None,
                     "shipFromStoreShare": None, "onTimeDelivery": None,
                     "averageHoursToShip": None, "cancellationRate": None,
                     "backordersOpen": 0}
    assert web["ordersPlaced"] == 4


async def test_operations_metrics_cost_four_statements_whatever_the_data(api, tokens, clock):
    await seed_contract_network(api, tokens)
    empty = await _count(api, METRICS, DAY, token=tokens["agent"])
    for i in range(3):
        await place(api, f"metrics-count-{i}")

    assert empty == await _count(api, METRICS, DAY, token=tokens["agent"]) == 4


async def test_a_window_that_ends_before_it_starts_is_refused(api, tokens):
    result = await api.post(METRICS, {"f": DAY["t"], "t": DAY["f"]}, token=tokens["agent"])

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize(("role", "code"), [
    ("anonymous", "UNAUTHENTICATED"), ("ada", "FORBIDDEN"), ("store_roma", "FORBIDDEN"),
    ("integration", "FORBIDDEN"), ("agent", None), ("admin", None)])
async def test_only_agents_and_admins_read_operations_metrics(api, tokens, role, code):
    result = await api.post(METRICS, DAY, token=tokens.get(role))
    if code is None:
        assert result["data"]["operationsMetrics"]["ordersPlaced"] == 0
    else:
        assert result["data"] is None
        assert [e["extensions"]["code"] for e in result["errors"]] == [code]
