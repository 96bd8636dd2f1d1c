"""The JavaScript clients front-ends use, run with the machine's Node.js against a real server:
the `graphql-ws` client following orderEvents with `after` resume, and @apollo/client's
default HttpLink running queries and mutations.

The npm packages are pinned in tests/js/package-lock.json; `npm ci` in tests/js installs them
(.ci/run does). Without node or node_modules these tests skip, unless PROMESSA_REQUIRE_NODE=1
(as in CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import anyio
import pytest

from tests.api.lifecycle import fulfillment_ids, place
from tests.conftest import seed_contract_network

pytestmark = [pytest.mark.anyio, pytest.mark.node]

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
REQUIRE_NODE = os.environ.get("PROMESSA_REQUIRE_NODE") == "1"


@pytest.fixture
def node() -> str:
    if NODE is None:
        reason = "node is not installed"
    elif not (HERE / "node_modules" / "graphql-ws").is_dir():
        reason = "tests/js/node_modules is absent: run `npm ci` in tests/js"
    else:
        return NODE
    if REQUIRE_NODE:
        pytest.fail(f"the Node.js client tests are required (PROMESSA_REQUIRE_NODE=1) but "
                    f"{reason}")
    pytest.skip(reason)


async def _run(node: str, script: str, *args: str) -> dict:
    done = await anyio.run_process([node, str(HERE / script), *args], cwd=HERE, check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, f"{script} exited {done.returncode}\n{out}\n{err}"
    return json.loads(out.strip().splitlines()[-1])


async def test_graphql_ws_client_resumes_order_events_after_a_disconnect(node, live, tokens):
    await seed_contract_network(live.api, tokens)
    number = (await place(live.api, "node-resume-0001", token=tokens["ada"]))["number"]
    fid = (await fulfillment_ids(live.api, number, tokens["agent"]))["ST-ROMA"]

    got = await _run(node, "subscribe.mjs", live.url, number, fid, tokens["ada"],
                     tokens["store_roma"])

    assert got["first"] == ["ORDER_PLACED", "FULFILLMENT_ACCEPTED"]
    assert got["lastSeen"] == "2"
    assert got["resumed"] == [["3", "FULFILLMENT_PICKED"], ["4", "FULFILLMENT_PACKED"],
                              ["5", "FULFILLMENT_SHIPPED"]]
    assert got["shippedStatus"] == "SHIPPED"
    assert got["replayed"] == 5
    # each follow was its own connection, the previous one closed before the next opened
    assert got["sockets"] == ["connected", "closed", "connected", "closed", "connected"]


async def test_apollo_client_runs_queries_and_mutations_over_its_default_link(
        node, live, tokens):
    await seed_contract_network(live.api, tokens)

    got = await _run(node, "apollo.mjs", live.url, tokens["ada"])

    number = got["placed"]["number"]
    assert got["placed"] == {"number": number, "status": "ALLOCATED",
                             "total": {"amount": "24.80", "currency": "EUR",
                                       "__typename": "Money"},
                             "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1,
                                        "status": "ALLOCATED"}]}
    assert got["order"] == {"number": number, "email": "ada@example.com",
                            "status": "ALLOCATED", "typename": "Order"}
    assert got["tracked"] == {"number": number, "status": "ALLOCATED",
                              "timeline": ["ORDER_PLACED", "ALLOCATED"]}
    assert got["refused"] == {"order": None, "codes": ["UNKNOWN_SKU"]}
    assert got["denied"] == ["UNAUTHENTICATED"]
