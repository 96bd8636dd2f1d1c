"""What the payment tests share: the contract's payment documents, an order of two parcels,
and the `payments` consumer driven round by round (as `serve` or `worker` would run it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse, print_ast

from api.app import create_app
from api.integration.runner import Runner
from api.payments.consumer import PaymentHandler
from api.payments.providers import TestProvider
from domain.integration import Backoff
from persistence.consumers import SqlConsumers
from tests.api.lifecycle import fulfillment_ids, place, step
from tests.api.returns import seed
from tests.conftest import ROOT, Api, make_settings

HERE = ROOT / "tests" / "contract_payments"
DOCUMENTS = {d.name.value: print_ast(d) for d in parse((HERE / "payments.graphql").read_text())
             .definitions if isinstance(d, OperationDefinitionNode) and d.name}
EXAMPLES = json.loads((HERE / "examples.json").read_text())
# a mug from the Roma store and a red T-shirt from the Milano warehouse: two parcels
TWO_PARCELS = [{"sku": "MUG-NAME", "quantity": 1}, {"sku": "TSHIRT-RED-M", "quantity": 1}]
STORE_OF = {"ST-ROMA": "store_roma", "WH-MIL": "store_mil"}


async def run(api: Api, name: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """One payment document of the contract, unchanged; its first root field."""
    data = await api.data(DOCUMENTS[name], variables, token=token, operation=name)
    return dict(next(iter(data.values())))


async def payment_of(api: Api, number: str, token: str) -> dict[str, Any]:
    return (await run(api, "OrderPayment", {"number": number}, token))["payment"]


@asynccontextmanager
async def stripe_app(db_url: str, clock: Any, emulator_url: str) -> AsyncIterator[Api]:
    """The app with the `stripe` provider pointed at the emulator."""
    from tests.payments.stripe_harness import API_KEY

    app = create_app(make_settings(db_url, stripe_api_key=API_KEY,
                                   stripe_api_base=emulator_url), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test") as client:
            yield Api(client, app)


def provider(api: Api) -> TestProvider:
    found = api.app.state.deps.providers.get("test")
    assert isinstance(found, TestProvider)
    found.slow_seconds = 0.3
    return found


def consumer(api: Api, *, retries: int = 3) -> Runner:
    """The payments consumer of this app, with waits of 0 s between attempts."""
    handler = PaymentHandler(api.app.state.deps.app, backoff=Backoff((0.0,) * retries, 0))
    return Runner(SqlConsumers(api.app.state.db), handler, clock=api.app.state.deps.clock,
                  owner="test")


async def drain(runner: Runner) -> int:
    """Rounds until nothing is left to do now; how many jobs were handled."""
    handled = 0
    for _ in range(50):
        n = await runner.round()
        if n == 0:
            return handled
        handled += n
    raise AssertionError(f"the {runner.name} consumer never ran dry")


async def paid_order(api: Api, key: str, *, reference: str, lines: list[dict[str, Any]],
                     provider_name: str = "test", token: str | None = None) -> str:
    return str((await place(api, key, token=token, lines=lines, payment={
        "provider": provider_name, "reference": reference}))["number"])


async def hand_over(api: Api, tokens: dict[str, str], number: str, location: str, *,
                    deliver: bool = False) -> str:
    """Accept, pick, pack and ship the order's work at `location` (and deliver it)."""
    fid = (await fulfillment_ids(api, number, tokens["agent"]))[location]
    store = tokens[STORE_OF[location]]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(api, name, fid, store))["userErrors"] == []
    shipped = await step(api, "shipFulfillment", fid, store, carrier="BRT",
                         trackingNumber=f"BRT-{fid[-6:]}")
    assert shipped["userErrors"] == [], shipped
    if deliver:
        at = api.app.state.deps.clock.now().isoformat()
        done = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                          status="DELIVERED", at=at)
        assert done["userErrors"] == [], done
    return fid


__all__ = ["seed"]
