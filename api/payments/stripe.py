"""Stripe as a payment provider: PaymentIntents confirmed with `capture_method=manual`, held
until fulfillments ship, captured in parts, released or refunded — through the official SDK.

The PaymentIntent id (`pi_…`) is the reference the order carries. Every call that moves money
sends our idempotency key as Stripe's `Idempotency-Key`, so a retry after a lost answer is
answered from Stripe's record instead of moving money twice (Stripe keeps keys for 24 hours).
The SDK does not retry by default here: the durable consumer that calls us does, with the same
key, after a backoff that survives a restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
import stripe

from domain.kernel import errors
from domain.kernel.money import CENT, Money
from domain.payments.ports import Authorization

# https://docs.stripe.com/currencies#zero-decimal: amounts are whole units.
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "VND", "VUV", "XAF", "XOF", "XPF"})
# Stripe's "special cases": no minor unit any more, but sent with two decimals that must be 00.
WHOLE_UNITS_IN_CENTS = frozenset({"ISK", "UGX"})
# Three decimals; Stripe wants the last digit 0, which cents always give.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Stripe cancels an uncaptured card PaymentIntent 7 days after its creation unless the charge
# says otherwise (`capture_before`, e.g. with an extended authorisation).
AUTHORIZATION_WINDOW = timedelta(days=7)


def exponent(currency: str) -> int:
    """Decimal places of Stripe's integer `amount` for `currency` (ISO 4217, any case)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_minor(money: Money) -> int:
    """`money` as Stripe's integer amount; refuses amounts Stripe cannot take rather than
    rounding money away."""
    code = money.currency.upper()
    whole = code in ZERO_DECIMAL or code in WHOLE_UNITS_IN_CENTS
    if whole and money.amount != money.amount.to_integral_value():
        raise errors.PaymentDeclined(
            f"{money.amount} {code}: Stripe takes only whole units of {code}")
    scaled = money.amount.scaleb(exponent(code))
    if scaled != scaled.to_integral_value():
        raise errors.PaymentDeclined(f"{money.amount} {code} has more decimals than {code} has")
    return int(scaled)


def from_minor(amount: int, currency: str) -> Money:
    """Stripe's integer `amount` as Money, rounded down to cents (three-decimal currencies): an
    authorisation is never read as holding more than it does."""
    code = currency.upper()
    value = Decimal(amount).scaleb(-exponent(code)).quantize(CENT, rounding=ROUND_DOWN)
    return Money(value, code)


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending the encoded form as `content`: the SDK passes it as
    `data=str`, which httpx deprecates (a DeprecationWarning per request; an error where
    warnings are errors, as in our tests) and will drop. Should the SDK rename this private
    method, the warning comes back and the tests fail, rather than anything silently changing."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Mapping[str, str],
                                 post_data: Any) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        if isinstance(kwargs.get("data"), str | bytes):
            kwargs["content"] = kwargs.pop("data")
        return [args, kwargs]


class StripeProvider:
    """`PaymentProvider` over Stripe's PaymentIntents API (manual capture).

    `base_url` points the SDK elsewhere than api.stripe.com (the emulator in tests); `timeout`
    bounds each HTTP request; `max_network_retries` is the SDK's own retries (0: our durable
    consumer retries). Close with `aclose()`.
    """

    name = "stripe"

    def __init__(self, api_key: str, *, base_url: str | None = None, timeout: float = 10.0,
                 max_network_retries: int = 0) -> None:
        self._api_key = api_key
        self._http = _HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key, http_client=self._http, max_network_retries=max_network_retries,
            base_addresses={"api": base_url} if base_url else None)

    async def aclose(self) -> None:
        await self._http.close_async()

    async def authorization(self, reference: str, *, expected: Money) -> Authorization:
        """What the PaymentIntent still holds (`amount_capturable`), if it is in
        `requires_capture`; `expected` is not needed, Stripe knows the amount."""
        _check_reference(reference)
        with self._translated("read PaymentIntent", reference):
            intent = await self._client.v1.payment_intents.retrieve_async(
                reference, {"expand": ["latest_charge"]})
        if intent.status != "requires_capture":
            raise errors.PaymentDeclined(
                f"Stripe PaymentIntent {reference} is {intent.status}, not requires_capture: "
                "there is no authorisation to capture")
        return Authorization(amount=from_minor(intent.amount_capturable, intent.currency),
                             expires_at=_expiry(intent), partial=_multicapture(intent))

    async def capture(self, reference: str, amount: Money, *, final: bool,
                      idempotency_key: str) -> str:
        """Capture `amount`; `final` releases the rest of the authorisation.

        `final=False` needs multicapture on the PaymentIntent (created with
        `payment_method_options[card][request_multicapture]=if_available`, and the card's
        `multicapture.status` "available"); without it Stripe refuses (PaymentDeclined) and the
        first capture must be the final one. Answers the PaymentIntent's latest charge id (all
        captures of one multicapture PaymentIntent share it), or the PaymentIntent id when
        Stripe names no charge.
        """
        _check_reference(reference)
        with self._translated("capture", reference):
            intent = await self._client.v1.payment_intents.capture_async(
                reference, {"amount_to_capture": to_minor(amount), "final_capture": final},
                {"idempotency_key": idempotency_key})
        charge = intent.latest_charge
        if isinstance(charge, str):
            return charge
        return charge.id if charge is not None else intent.id

    async def void(self, reference: str, *, idempotency_key: str) -> str:
        """Cancel the PaymentIntent, releasing what is still held (also after partial
        multicaptures). Refused (PaymentDeclined) once it succeeded or was canceled, except as a
        replay of the same key. Answers the PaymentIntent id."""
        _check_reference(reference)
        try:
            with self._translated("cancel", reference):
                intent = await self._client.v1.payment_intents.cancel_async(
                    reference, {"cancellation_reason": "abandoned"},
                    {"idempotency_key": idempotency_key})
        except errors.PaymentDeclined:
            # nothing left to release is what a void wants: Stripe canceled the intent
            # itself (its authorisation lapsed after seven days) or it was canceled before
            with self._translated("read PaymentIntent", reference):
                found = await self._client.v1.payment_intents.retrieve_async(reference)
            if found.status != "canceled":
                raise
            return found.id
        return intent.id

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> str:
        """Refund `amount` of what the PaymentIntent captured; answers the refund id (`re_…`)."""
        _check_reference(reference)
        with self._translated("refund", reference):
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": to_minor(amount)},
                {"idempotency_key": idempotency_key})
        return refund.id

    @contextmanager
    def _translated(self, action: str, reference: str) -> Iterator[None]:
        """Stripe's exceptions as the port's two errors, with the API key scrubbed out."""
        try:
            yield
        except stripe.StripeError as exc:
            raise _translate(exc, f"{action} {reference}", self._api_key) from exc


def _check_reference(reference: str) -> None:
    # an empty or odd id would reach another endpoint (GET /v1/payment_intents/ lists them all)
    if not reference.startswith("pi_") or not reference[3:].isalnum():
        raise errors.PaymentDeclined(f"{reference!r} is not a Stripe PaymentIntent id")


def _multicapture(intent: stripe.PaymentIntent) -> bool:
    """Whether the card lets the intent be captured parcel by parcel (`final_capture=false`)."""
    details = getattr(intent.latest_charge, "payment_method_details", None)
    multi = getattr(getattr(details, "card", None), "multicapture", None)
    return getattr(multi, "status", None) == "available"


def _expiry(intent: stripe.PaymentIntent) -> datetime:
    # fields Stripe left out are missing attributes, not None: walk with getattr
    charge = intent.latest_charge
    details = getattr(charge, "payment_method_details", None)
    capture_before = getattr(getattr(details, "card", None), "capture_before", None)
    if isinstance(capture_before, int):
        return datetime.fromtimestamp(capture_before, UTC)
    return datetime.fromtimestamp(intent.created, UTC) + AUTHORIZATION_WINDOW


def _translate(exc: stripe.StripeError, doing: str, api_key: str) -> errors.DomainError:
    """A refusal that asking again cannot change is PaymentDeclined; an outage, a timeout or a
    rate limit (the request may not have been processed) PaymentProviderUnavailable."""
    said = _scrub(exc.user_message or type(exc).__name__, api_key)
    code = f" ({exc.code})" if exc.code else ""
    if isinstance(exc, stripe.AuthenticationError):
        return errors.PaymentDeclined(
            f"Stripe refused the API key ({doing}): the configured secret key is wrong or revoked")
    if isinstance(exc, stripe.PermissionError):
        return errors.PaymentDeclined(f"the Stripe API key may not {doing}: {said}")
    if isinstance(exc, stripe.APIConnectionError):
        cause = exc.__cause__  # the httpx error; the outcome of a POST is unknown
        what = ("timed out" if isinstance(cause, httpx.TimeoutException)
                else f"could not be reached ({type(cause).__name__})")
        return errors.PaymentProviderUnavailable(f"Stripe {what} ({doing})")
    if isinstance(exc, stripe.RateLimitError | stripe.APIError):
        return errors.PaymentProviderUnavailable(
            f"Stripe is unavailable ({doing}): HTTP {exc.http_status}{code}: {said}")
    if isinstance(exc, stripe.CardError | stripe.InvalidRequestError | stripe.IdempotencyError):
        return errors.PaymentDeclined(f"Stripe refused to {doing}{code}: {said}")
    # anything else the SDK may add: a 4xx is an answer, the rest may pass
    if exc.http_status is not None and 400 <= exc.http_status < 500 and exc.http_status != 409:
        return errors.PaymentDeclined(f"Stripe refused to {doing}{code}: {said}")
    return errors.PaymentProviderUnavailable(f"Stripe failed to {doing}{code}: {said}")


def _scrub(text: str, api_key: str) -> str:
    return text.replace(api_key, "[api key]") if api_key else text
