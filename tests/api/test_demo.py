"""The demo network seeds through the use cases, once, and is good enough to shop in."""

from __future__ import annotations

import httpx
import pytest

from api import demo_data
from api.app import create_app
from tests.api.test_place_order import PLACE, order_input
from tests.conftest import make_settings
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio


async def test_demo_network_is_seeded_once_and_takes_orders(db_url, clock):
    app = create_app(make_settings(db_url, demo=True), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            locations = (await client.post("/graphql", json={
                "query": "{ locations { code type } }"})).json()["data"]["locations"]
            kinds = [x["type"] for x in locations]
            assert (kinds.count("WAREHOUSE"), kinds.count("STORE"), kinds.count("SUPPLIER")) == (
                3, 10, 1)
            kit = (await client.post("/graphql", json={"query": """{ availability(
                skus: ["KIT-HOME-OFFICE", "BATTERY-LI-PACK"], channel: "web") {
                sku available locations { location { type } } } }"""})).json()["data"]
            office, battery = kit["availability"]
            assert office["available"] > 0
            assert {x["location"]["type"] for x in battery["locations"]} <= {"WAREHOUSE",
                                                                            "SUPPLIER"}
            placed = (await client.post("/graphql", json={"query": PLACE, "variables": {
                "input": order_input(lines=[{"sku": "KIT-HOME-OFFICE", "quantity": 1},
                                            {"sku": "TSHIRT-BLU-M", "quantity": 1}])}})
                      ).json()["data"]["placeOrder"]
            assert placed["userErrors"] == []
    counts = await count_rows(db_url, "skus", "inventory_levels", "incoming")
    assert counts == {"skus": len(demo_data.skus()), "inventory_levels":
                      len(demo_data.inventory()), "incoming": len(demo_data.incoming(
                          clock.now().date()))}
    again = create_app(make_settings(db_url, demo=True), clock=clock)
    async with again.router.lifespan_context(again):
        pass
    assert await count_rows(db_url, "skus", "inventory_levels", "incoming") == counts
    assert await violations(db_url) == []
