"""The integration documents of ../shared/contract-next/integration.graphql (snapshot in
tests/contract_integration/) run unchanged, with their example variables (ids filled in from
the answers before them, as the examples say)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, print_ast

from tests.api.returns import seed
from tests.conftest import ROOT, Api

pytestmark = pytest.mark.anyio
HERE = ROOT / "tests" / "contract_integration"
SHARED = ROOT.parent / "shared" / "contract-next"


def documents() -> dict[str, str]:
    return {d.name.value: print_ast(d) for d in parse((HERE / "integration.graphql").read_text())
            .definitions if isinstance(d, OperationDefinitionNode) and d.name}


def test_the_snapshot_equals_the_shared_document() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/contract-next is not beside this checkout")
    assert (HERE / "integration.graphql").read_text() == (
        SHARED / "integration.graphql").read_text()
    shared = json.loads((SHARED / "examples.json").read_text())
    mine = json.loads((HERE / "examples.json").read_text())
    assert mine == {k: shared[k] for k in mine} and set(mine) == set(documents())


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("<id from "):
        return ids[value.removeprefix("<id from ").removesuffix(">")]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


async def test_the_integration_documents_run_unchanged(api: Api, tokens: dict[str, str]) -> None:
    await seed(api, tokens)
    docs = documents()
    examples = json.loads((HERE / "examples.json").read_text())
    ids: dict[str, str] = {}

    async def run(name: str, token: str = "admin", **changes: Any) -> dict[str, Any]:
        variables = _fill(copy.deepcopy(examples[name]), ids)
        variables.update(changes)
        return await api.data(docs[name], variables, token=tokens[token], operation=name)

    made = (await run("CreateWebhookEndpoint", "integration"))["createWebhookEndpoint"]
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_")
    assert made["endpoint"]["eventTypes"] == ["ORDER_PLACED", "FULFILLMENT_SHIPPED",
                                              "PAYMENT_CAPTURED"]
    ids["CreateWebhookEndpoint"] = made["endpoint"]["id"]
    updated = (await run("UpdateWebhookEndpoint", "integration"))["updateWebhookEndpoint"]
    assert updated == {"endpoint": {"id": ids["CreateWebhookEndpoint"],
                                    "url": "https://erp.example.com/hooks/promessa",
                                    "eventTypes": [], "active": True}, "userErrors": []}
    rotated = (await run("RotateWebhookSecret", "integration"))["rotateWebhookSecret"]
    assert rotated["secret"] != made["secret"] and rotated["userErrors"] == []
    listed = (await run("WebhookEndpoints", "integration"))["webhookEndpoints"]
    assert [e["id"] for e in listed] == [ids["CreateWebhookEndpoint"]]
    assert (await run("WebhookEndpoints", "admin"))["webhookEndpoints"] == listed
    log = (await run("WebhookDeliveries", "integration"))["webhookDeliveries"]
    assert log["totalCount"] == 0 and log["edges"] == []
    again = (await run("RedeliverWebhooks", "integration"))["redeliverWebhooks"]
    assert again["userErrors"] == []
    parked = (await run("ParkedEvents"))["parkedEvents"]
    assert parked == {"totalCount": 0, "edges": []}
    ids["ParkedEvents"] = "0"  # nothing is parked here (tests/integration/test_webhooks.py
    retried = (await run("RetryParkedEvents"))["retryParkedEvents"]  # parks and retries)
    assert retried == {"retried": 0, "userErrors": []}
    # (placed on a network serving the marketplace: tests/api/test_place_orders_bulk.py)
    placed = (await run("PlaceOrders", "integration"))["placeOrders"]["results"]
    assert [r["idempotencyKey"] for r in placed] == ["mkt-amazon-402-1111111-0000001",
                                                     "mkt-amazon-402-1111111-0000002"]
    assert placed[1]["userErrors"][0]["code"] == "UNKNOWN_SKU"
    deleted = (await run("DeleteWebhookEndpoint", "integration"))["deleteWebhookEndpoint"]
    assert deleted == {"deletedId": ids["CreateWebhookEndpoint"], "userErrors": []}
