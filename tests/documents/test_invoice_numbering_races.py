"""Invoice numbers stay gap-free when captures race, on both engines: 50 orders' captures
recorded at once (on PostgreSQL, 50 transactions contending for the series' counter row),
some of them rolled back after their number was taken — every number 1…50 used exactly
once, each invoice the amount its capture took."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from domain.documents.issuing import Draft, Issued
from persistence.documents import SqlDocumentStore
from tests.conftest import Api
from tests.payments.support import hand_over, paid_order, seed

pytestmark = pytest.mark.anyio
ORDERS = 50
STOCK = """mutation { setInventory(input: {reason: "COUNT", levels: [
  {sku: "TSHIRT-RED-M", location: "WH-MIL", onHand: 60}]}) { userErrors { code } } }"""


class Interrupted(Exception):
    """A capture's record transaction failing after its invoice was numbered."""


async def test_fifty_concurrent_captures_number_their_invoices_without_gaps(
        api: Api, tokens: dict[str, str], db_url: str, monkeypatch: Any) -> None:
    await seed(api, tokens)
    assert (await api.data(STOCK, token=tokens["admin"]))["setInventory"]["userErrors"] == []
    numbers = []
    for i in range(ORDERS):
        number = await paid_order(api, f"race-inv-{i:04d}", reference=f"pi_race_{i}",
                                  lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}])
        await hand_over(api, tokens, number, "WH-MIL")
        numbers.append(number)

    # every seventh invoice fails once after taking its number: its transaction rolls back
    # (the number with it) and the capture is recorded again, as the consumer would retry it
    issue = SqlDocumentStore.issue
    failed: set[str] = set()

    async def flaky(self: SqlDocumentStore, draft: Draft) -> Issued:
        issued = await issue(self, draft)
        if numbers.index(draft.order_number) % 7 == 3 and draft.order_number not in failed:
            failed.add(draft.order_number)
            raise Interrupted(issued.number)
        return issued

    monkeypatch.setattr(SqlDocumentStore, "issue", flaky)
    app = api.app.state.deps.app
    settled = await asyncio.gather(*(app.payments.settle(n) for n in numbers),
                                   return_exceptions=True)
    again = [n for n, outcome in zip(numbers, settled, strict=True)
             if isinstance(outcome, BaseException)]
    assert all(isinstance(outcome, Interrupted) for outcome in settled
               if isinstance(outcome, BaseException)), settled
    assert sorted(again) == sorted(failed) and len(failed) == 7
    await asyncio.gather(*(app.payments.settle(n) for n in again))

    engine = api.app.state.db.writer
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT d.number, d.sequence, d.total_minor, t.amount_minor "
            "FROM documents d JOIN orders o ON o.id = d.order_id "
            "JOIN payment_transactions t ON t.order_id = d.order_id AND t.kind = 'CAPTURE' "
            "ORDER BY d.sequence"))).all()
        counter = (await conn.execute(sa.text(
            "SELECT series, last FROM document_counters"))).all()
    assert [r.sequence for r in rows] == list(range(1, ORDERS + 1))  # no gap, none twice
    assert len({r.number for r in rows}) == ORDERS
    assert all(r.total_minor == r.amount_minor for r in rows)  # each its capture's amount
    # a T-shirt (24.90) and the shipping (4.90) each
    assert sum(Decimal(r.total_minor) for r in rows) == Decimal(ORDERS * 2980)
    assert [last for _, last in counter] == [ORDERS]
