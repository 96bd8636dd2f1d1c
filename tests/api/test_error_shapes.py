"""Top-level errors carry a code over HTTP and over WebSocket; the unexpected is masked."""

from __future__ import annotations

import logging

import pytest

from tests.api.realtime import refusal
from tests.conftest import seed_contract_network

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("query", "says", "locations"), [
    ("{ channels { code }", "Syntax Error: Expected Name, found <EOF>.",
     [{"line": 1, "column": 20}]),
    ("{ channels { nope } }",
     "Cannot query field 'nope' on type 'Channel'. Did you mean 'code' or 'name'?",
     [{"line": 1, "column": 14}]),
])
async def test_a_malformed_document_is_a_bad_request_with_its_location(api, query, says,
                                                                     locations):
    result = await api.post(query)
    [error] = result["errors"]
    assert error["message"] == says
    assert error["locations"] == locations
    assert error["extensions"] == {"code": "BAD_REQUEST"}


async def test_an_unexpected_failure_in_a_subscription_is_masked_and_logged(
        live, tokens, caplog):
    await seed_contract_network(live.api, tokens)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("password=hunter2 in a driver message")

    live.app.state.realtime.outbox.read = broken  # replay reads the outbox: it fails
    with caplog.at_level(logging.ERROR, logger="promessa.errors"):
        error = await refusal(live.ws_url, tokens["integration"],
                              "subscription { inventoryEvents(after: \"0\") { sequence } }", {})
    assert error["message"] == "Unexpected error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert len(error["extensions"]["requestId"]) == 16
    assert "hunter2" not in str(error)
    assert "hunter2" in caplog.text and error["extensions"]["requestId"] in caplog.text
