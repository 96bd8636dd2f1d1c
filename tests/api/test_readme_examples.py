"""The README's GraphQL examples work on the demo network with the tokens `promessa serve
--demo` prints (issue 16: its work-queue example asked for WH-MIL, which the printed store
token, ST-ROMA's, may not see)."""

from __future__ import annotations

import re

import httpx
import pytest

from api.app import create_app
from api.auth import issue_token
from api.cli import DEMO_USERS
from tests.conftest import ROOT, SECRET, make_settings

pytestmark = pytest.mark.anyio
PLACEHOLDER = "…"  # an id or a time the reader fills in


def readme_operations() -> list[str]:
    """Each query and mutation of the README's graphql blocks, in reading order."""
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        text = "\n".join(line.split("#")[0] for line in block.splitlines())
        depth, start = 0, 0
        for i, ch in enumerate(text):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if ch == "}" and depth == 0:
                found.append(text[start:i + 1].strip())
                start = i + 1
    return [op for op in found if not op.startswith("subscription") and PLACEHOLDER not in op]


def demo_tokens() -> dict[str, str]:
    return {role: issue_token(role=role, email=email, locations=locations, secret=SECRET)
            for role, email, locations in DEMO_USERS}


def answered(result: dict) -> bool:
    payloads = [v for v in (result.get("data") or {}).values() if isinstance(v, dict)]
    return "errors" not in result and all(not p.get("userErrors") for p in payloads)


async def test_every_readme_example_is_answered_for_a_caller_the_demo_prints(db_url, clock):
    operations, tokens = readme_operations(), demo_tokens()
    assert len(operations) >= 10 and any("fulfillments(location:" in op for op in operations)
    app = create_app(make_settings(db_url, demo=True), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async def send(op: str, role: str | None) -> dict:
                headers = {"authorization": f"Bearer {tokens[role]}"} if role else {}
                return (await client.post("/graphql", json={"query": op},
                                          headers=headers)).json()

            refused = []
            for op in operations:
                for role in (None, "customer", "store", "agent", "integration", "admin"):
                    if answered(await send(op, role)):
                        break
                else:
                    refused.append(op[:80])
            queue = next(op for op in operations if "fulfillments(location:" in op)
            store = await send(queue, "store")

    assert refused == []
    assert answered(store), store  # the printed store token works its own queue
