"""The payment providers of a deployment, by name, and the built-in `test` provider.

`offline` (cash on delivery, pay at the counter) needs no adapter: no provider is asked, the
capture is recorded when the goods are handed over (domain/payments). `stripe` is
api/payments/stripe.py, present when PROMESSA_STRIPE_API_KEY is set.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from domain.kernel import errors
from domain.kernel.money import Money
from domain.kernel.ports import Clock
from domain.payments.ports import Authorization, PaymentProvider

CARD_AUTHORIZATION_DAYS = 7  # how long card networks typically keep an authorisation


@dataclass(frozen=True, slots=True)
class Call:
    kind: str  # authorization, capture, void, refund
    reference: str
    amount: Money | None
    key: str | None
    final: bool = False


@dataclass
class TestProvider:
    """Deterministic, for the demo and for tests of every path, by what the reference holds:
    `decline` is declined at checkout, `capturefail` fails every capture (until `heal`),
    `slow` answers after `slow_seconds` (or, while `gate` is set, when the gate opens); any
    other reference authorises the amount sent, or the order's total, for
    CARD_AUTHORIZATION_DAYS. The same idempotency key answers with the same reference and is
    counted once in `moved`; every call is kept in `calls`."""

    clock: Clock
    name: str = "test"
    slow_seconds: float = 2.0
    gate: asyncio.Event | None = None  # a test holds `slow` references until it opens
    calls: list[Call] = field(default_factory=list)
    moved: dict[str, Call] = field(default_factory=dict)  # by idempotency key
    healed: set[str] = field(default_factory=set)
    down: bool = False  # answers PAYMENT_PROVIDER_UNAVAILABLE to everything while set

    def heal(self, reference: str) -> None:
        """The provider recovered for `reference`: its captures go through from now on."""
        self.healed.add(reference)

    async def _answer(self, reference: str) -> None:
        if "slow" in reference:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(self.slow_seconds)
        if self.down:
            raise errors.PaymentProviderUnavailable("the test provider is down")

    async def authorization(self, reference: str, *, expected: Money) -> Authorization:
        self.calls.append(Call("authorization", reference, expected, None))
        await self._answer(reference)
        if "decline" in reference:
            raise errors.PaymentDeclined(f"payment {reference} was declined by the card issuer",
                                         field=["payment", "reference"])
        return Authorization(expected, self.clock.now() + timedelta(days=CARD_AUTHORIZATION_DAYS))

    async def capture(self, reference: str, amount: Money, *, final: bool,
                      idempotency_key: str) -> str:
        return await self._move(Call("capture", reference, amount, idempotency_key, final),
                                fails="capturefail" in reference
                                and reference not in self.healed)

    async def void(self, reference: str, *, idempotency_key: str) -> str:
        return await self._move(Call("void", reference, None, idempotency_key))

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> str:
        return await self._move(Call("refund", reference, amount, idempotency_key))

    async def _move(self, call: Call, *, fails: bool = False) -> str:
        self.calls.append(call)
        await self._answer(call.reference)
        assert call.key is not None
        done = self.moved.get(call.key)
        if done is not None:
            if (done.kind, done.reference, done.amount) != (call.kind, call.reference,
                                                             call.amount):
                raise errors.PaymentDeclined(f"idempotency key {call.key} was used for "
                                             "another request")
            return _reference(call)
        if fails:
            raise errors.PaymentDeclined(f"the test provider fails every capture of "
                                         f"{call.reference}")
        self.moved[call.key] = call
        return _reference(call)


def _reference(call: Call) -> str:
    assert call.key is not None
    return f"test_{call.kind}_{hashlib.sha256(call.key.encode()).hexdigest()[:16]}"


@dataclass
class Registry:
    """The providers this deployment has, by name."""

    providers: dict[str, PaymentProvider] = field(default_factory=dict)

    def get(self, name: str) -> PaymentProvider | None:
        return self.providers.get(name)

    def add(self, provider: PaymentProvider) -> None:
        self.providers[provider.name] = provider

    async def aclose(self) -> None:
        """Close the providers' connections (those that keep any)."""
        for provider in self.providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()
