"""refundReturn and the payment provider: the provider is asked with no lock held, a decline
frees the claimed money, a provider that fails without an answer leaves a pending claim that
the next attempt finishes with the same idempotency key (the customer is paid once), and two
refunds racing each other cannot both pass what the order paid. Both engines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import anyio
import pytest

from domain.kernel import errors
from domain.returns.payments import RecordingPayments
from tests.api.returns import delivered_order, op, request, seed
from tests.invariants import violations

pytestmark = pytest.mark.anyio
SHIRT = "TSHIRT-BLU-M"
NOTE = """mutation($input: AddOrderNoteInput!) { addOrderNote(input: $input) {
  userErrors { code } } }"""


async def _received(api, tokens, clock, key: str, quantity: int = 1) -> tuple[str, str]:
    """A delivered order of `quantity` T-shirts and a received return of all of them."""
    await seed(api, tokens)
    number = await delivered_order(api, tokens, key, [{"sku": SHIRT, "quantity": quantity}])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    lines = [{"sku": SHIRT, "quantity": quantity, "reason": "TOO_SMALL"}]
    ret = (await op(api, "RequestReturn", request(number, lines, method="DROP_AT_STORE"),
                    token=tokens["agent"]))["return"]["number"]
    received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret, "lines": [
        {"sku": SHIRT, "condition": "RESTOCK", "quantity": quantity}]}}, token=tokens["agent"])
    assert received["userErrors"] == [], received
    return number, ret


def _use(api, payments: RecordingPayments) -> None:
    api.app.state.deps = dataclasses.replace(api.app.state.deps, payments=payments)


class Declining(RecordingPayments):
    async def refund(self, **kwargs):
        raise errors.PaymentDeclined("the card issuer refused the refund")


class Flaky(RecordingPayments):
    """Pays, then loses the answer on the first call (a timeout after the money moved)."""

    calls: int = 0

    async def refund(self, **kwargs):
        receipt = await super().refund(**kwargs)
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("provider timed out")
        return receipt


async def test_a_declined_refund_changes_nothing_and_can_be_asked_again(api, tokens, clock,
                                                                        db_url):
    _, ret = await _received(api, tokens, clock, "ref-decline-01")
    _use(api, Declining())

    refused = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                       token=tokens["agent"])

    assert [e["code"] for e in refused["userErrors"]] == ["PAYMENT_DECLINED"]
    _use(api, RecordingPayments())
    paid = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                    token=tokens["agent"])
    assert paid["userErrors"] == []
    assert paid["return"]["status"] == "REFUNDED"
    assert paid["return"]["refundPending"] is None
    assert [r["amount"]["amount"] for r in paid["return"]["refunds"]] == ["19.90"]
    assert await violations(db_url) == []


async def test_a_lost_answer_leaves_a_pending_claim_and_the_retry_pays_once(api, tokens, clock,
                                                                            db_url):
    _, ret = await _received(api, tokens, clock, "ref-flaky-001")
    flaky = Flaky()
    _use(api, flaky)

    failed = await api.post("""mutation($r: String!) {
        refundReturn(input: {returnNumber: $r}) { userErrors { code } } }""", {"r": ret},
                            token=tokens["agent"])
    assert failed["errors"][0]["message"] == "Unexpected error"
    pending = await op(api, "OrderReturns", {"number": (await _order_of(api, tokens, ret))},
                       token=tokens["agent"])
    [mine] = pending["returns"]
    assert (mine["status"], mine["refunds"], mine["refundPending"]) == (
        "RECEIVED", [], {"amount": "19.90", "currency": "EUR"})
    assert await violations(db_url) == []

    again = await op(api, "RefundReturn", {"input": {"returnNumber": ret, "amount": "5.00"}},
                     token=tokens["agent"])
    assert [e["code"] for e in again["userErrors"]] == ["CONFLICT"]  # another amount: refused
    paid = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                    token=tokens["agent"])
    assert paid["userErrors"] == [] and paid["return"]["status"] == "REFUNDED"
    assert len(flaky.refunds) == 1  # one payment at the provider: the same idempotency key
    assert paid["return"]["refunds"][0]["reference"] == flaky.refunds[0].receipt.reference
    assert await violations(db_url) == []


async def _order_of(api, tokens, ret: str) -> str:
    return ret.rsplit("-R", 1)[0]


async def test_the_provider_is_asked_with_no_lock_held(api, tokens, clock, db_url):
    number, ret = await _received(api, tokens, clock, "ref-nolock-01")
    noted: list[dict] = []

    class Busy(RecordingPayments):
        async def refund(self, **kwargs):
            # while the provider works, the same order can still be written: with the order
            # row locked (or SQLite's writer taken) this would wait for ever
            with anyio.fail_after(20):
                noted.append(await api.data(NOTE, {"input": {
                    "number": number, "text": "customer called about the refund"}},
                    token=tokens["agent"]))
            return await super().refund(**kwargs)

    _use(api, Busy())
    paid = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                    token=tokens["agent"])

    assert paid["userErrors"] == [] and paid["return"]["status"] == "REFUNDED"
    assert noted == [{"addOrderNote": {"userErrors": []}}]
    assert await violations(db_url) == []


async def test_two_refunds_racing_cannot_both_pass_what_was_paid(api, tokens, clock, db_url):
    """Two returns of one order; while the provider works on the first (claimed 19.90), the
    second asks for more than is left: refused, though the first is not paid yet."""
    await seed(api, tokens)
    number = await delivered_order(api, tokens, "ref-race-0001", [{"sku": SHIRT, "quantity": 2}])
    clock.current = datetime(2030, 1, 5, tzinfo=UTC)
    rets = []
    for _ in range(2):
        lines = [{"sku": SHIRT, "quantity": 1, "reason": "TOO_SMALL"}]
        r = (await op(api, "RequestReturn", request(number, lines, method="DROP_AT_STORE"),
                      token=tokens["agent"]))["return"]["number"]
        await op(api, "ReceiveReturn", {"input": {"returnNumber": r, "lines": [
            {"sku": SHIRT, "condition": "RESTOCK"}]}}, token=tokens["agent"])
        rets.append(r)
    paid_total = (await api.data("query($n: String!) { order(number: $n) { total { amount } } }",
                                 {"n": number}, token=tokens["agent"]))["order"]["total"]["amount"]
    entered, go = anyio.Event(), anyio.Event()

    class Slow(RecordingPayments):
        async def refund(self, **kwargs):
            entered.set()
            await go.wait()
            return await super().refund(**kwargs)

    _use(api, Slow())
    answers: dict[str, dict] = {}

    async def refund(r: str, amount: str | None) -> None:
        variables = {"input": {"returnNumber": r, **({"amount": amount} if amount else {})}}
        answers[r] = await op(api, "RefundReturn", variables, token=tokens["agent"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(refund, rets[0], None)
        await entered.wait()  # the first is claimed and at the provider
        rest = f"{float(paid_total) - 19.90 + 0.01:.2f}"
        with anyio.fail_after(30):  # were it not refused, it would wait at the provider
            await refund(rets[1], rest)
        go.set()

    assert answers[rets[0]]["userErrors"] == []
    assert [e["code"] for e in answers[rets[1]]["userErrors"]] == ["REFUND_EXCEEDS_PAID"]
    assert await violations(db_url) == []
