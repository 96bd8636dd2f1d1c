"""A Stripe API emulator for tests: PaymentIntents with manual capture and multicapture,
cancels and refunds, in Stripe's wire format, with faults on demand. (localstripe has no
idempotency keys, and refuses `final_capture` and `cancellation_reason`.)

Speaks form bodies with Stripe's nesting (`a[b]=c`, `a[0]=x`), Bearer auth, errors as
`{"error": {"type", "code", "message"}}`, and Stripe's idempotency: the same `Idempotency-Key`
and parameters replay the stored answer (`Idempotent-Replayed: true`), other parameters are a
400 `idempotency_error`. Money rules as Stripe's: capture only in `requires_capture`, at most
`amount_capturable`; a final capture (or any without multicapture) releases the rest; refunds
at most what was captured less what was refunded.

`/_emulator/` (no auth, not recorded): `calls`; `faults` (the next N requests to a path pattern
answer an error, or hang; never stored for replay); `hold_after_capture` (a capture is done and
stored but never answered, as if the answer was lost); `reset`; `payment_intents/{id}` (state,
charge, refunds; POST patches `created` or `capture_before`).

Run: `python -m tests.payments.stripe_emulator --port N [--api-key K]`; prints "ready URL".
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "sk_test_emulator_0123456789abcdef"
DAY = 86_400
APPROVED = {"pm_card_visa": "visa", "pm_card_mastercard": "mastercard", "pm_card_amex": "amex"}
DECLINED = {"pm_card_chargeDeclined": "generic_decline",
            "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds"}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action")
REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


class Failure(Exception):
    """A Stripe error answer. `stored`: kept for idempotent replay (Stripe keeps the answer of
    any request that began executing, not those refused before, e.g. on parameters)."""

    def __init__(self, status: int, type_: str, code: str | None, message: str, *,
                 param: str | None = None, stored: bool = True, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.stored = status, stored
        self.body = {"error": {"type": type_, "code": code, "message": message,
                               **({"param": param} if param else {}), **extra}}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form nesting as JSON: `a[b]=1&c[0]=x&c[]=y` → {"a": {"b": "1"}, "c": ["x", "y"]}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        names = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for name in names[:-1]:
            name = name or str(len(node))
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        node[names[-1] or str(len(node))] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def encode_form(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The reverse, as the SDK sends it (booleans as true/false, lists indexed)."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict | list):
            items = dict(enumerate(value)) if isinstance(value, list) else value
            out += encode_form(items, name)
        elif value is not None:
            out.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    return out


def _int(params: dict[str, Any], name: str, *, default: int | None = None) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid("parameter_missing" if value is None else "parameter_invalid_integer",
                       f"Invalid integer: {value}", param=name, stored=False) from None
    if number < 1:
        raise _invalid("parameter_invalid_integer", "This value must be greater than or equal "
                       "to 1.", param=name, stored=False)
    return number


def _invalid(code: str, message: str, **details: Any) -> Failure:
    return Failure(400, "invalid_request_error", code, message, **details)


def _unexpected(intent: dict[str, Any], doing: str, allowed: tuple[str, ...]) -> Failure:
    return _invalid("payment_intent_unexpected_state", f"You cannot {doing} this PaymentIntent "
                    f"because it has a status of {intent['status']}. Only a PaymentIntent with "
                    f"one of the following statuses may be {doing}d: {', '.join(allowed)}.",
                    payment_intent=copy.deepcopy(intent))


def _bool(params: dict[str, Any], name: str, default: bool) -> bool:
    return str(params.get(name, default)).lower() == "true"


@dataclass
class Call:
    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, Any]
    replayed: bool = False
    status: int | None = None  # None: not answered (hanging)


@dataclass
class Fault:
    path: str  # a regular expression searched in the path
    count: int
    status: int = 500
    hang: bool = False
    type: str = "api_error"
    code: str | None = None


@dataclass
class Emulator:
    """The account's objects and the test controls; every method runs without awaiting, so
    one request's change is never interleaved with another's."""

    api_key: str = API_KEY
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, tuple[Any, int, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hold_after_capture: bool = False
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_emu{next(self.ids):016d}"

    def intent(self, id_: str) -> dict[str, Any]:
        if id_ not in self.intents:
            raise Failure(404, "invalid_request_error", "resource_missing",
                          f"No such payment_intent: '{id_}'", param="intent")
        return self.intents[id_]

    def render(self, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(intent)
        if "latest_charge" in params.get("expand", []) and intent["latest_charge"]:
            shown["latest_charge"] = copy.deepcopy(self.charges[intent["latest_charge"]])
        return shown

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount, currency = _int(params, "amount"), str(params.get("currency", "")).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise _invalid("parameter_missing", "Missing required param: currency.",
                           param="currency", stored=False)
        card_options = params.get("payment_method_options", {}).get("card", {})
        intent = {"id": self.new_id("pi"), "object": "payment_intent", "amount": amount,
                  "amount_capturable": 0, "amount_received": 0, "currency": currency,
                  "capture_method": params.get("capture_method", "automatic_async"),
                  "created": int(time.time()), "status": "requires_payment_method",
                  "latest_charge": None, "payment_method": params.get("payment_method"),
                  "payment_method_options": {"card": dict(card_options)},
                  "canceled_at": None, "cancellation_reason": None,
                  "last_payment_error": None, "livemode": False, "metadata": {}}
        self.intents[intent["id"]] = intent
        if intent["payment_method"] and not _bool(params, "confirm", False):
            intent["status"] = "requires_confirmation"
        elif intent["payment_method"]:
            self._confirm(intent, card_options)
        return self.render(intent, params)

    def _confirm(self, intent: dict[str, Any], card_options: dict[str, Any]) -> None:
        method, manual = intent["payment_method"], intent["capture_method"] == "manual"
        if method not in APPROVED and method not in DECLINED:
            raise _invalid("resource_missing", f"No such PaymentMethod: '{method}'",
                           param="payment_method")
        multicapture = (card_options.get("request_multicapture") == "if_available"
                        and manual and method in APPROVED)
        extended = card_options.get("request_extended_authorization") == "if_available"
        charge = {"id": self.new_id("ch"), "object": "charge", "amount": intent["amount"],
                  "amount_captured": 0, "amount_refunded": 0, "captured": False,
                  "refunded": False, "currency": intent["currency"],
                  "payment_intent": intent["id"], "created": intent["created"],
                  "status": "succeeded" if method in APPROVED else "failed",
                  "payment_method_details": {"type": "card", "card": {
                      "brand": APPROVED.get(method, "visa"), "last4": "4242",
                      "capture_before": intent["created"] + (30 if extended else 7) * DAY
                      if manual else None,
                      "multicapture": {"status": "available" if multicapture
                                       else "unavailable"}}}}
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        if method in DECLINED:
            error = {"type": "card_error", "code": "card_declined",
                     "decline_code": DECLINED[method], "message": "Your card was declined."}
            intent["last_payment_error"] = error
            raise Failure(402, "card_error", "card_declined", error["message"],
                          decline_code=DECLINED[method], payment_intent=copy.deepcopy(intent))
        if manual:
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(captured=True, amount_captured=intent["amount"])

    def capture(self, id_: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intent(id_)
        if intent["status"] != "requires_capture":
            raise _unexpected(intent, "capture", ("requires_capture",))
        amount = _int(params, "amount_to_capture", default=intent["amount_capturable"])
        final = _bool(params, "final_capture", True)
        charge = self.charges[intent["latest_charge"]]
        card = charge["payment_method_details"]["card"]
        if not final and card["multicapture"]["status"] != "available":
            raise _invalid("payment_intent_invalid_parameter", "final_capture=false needs "
                           "multicapture, not available on this PaymentIntent.",
                           param="final_capture")
        if amount > intent["amount_capturable"]:
            raise _invalid("amount_too_large", f"The amount to capture ({amount}) is greater "
                           f"than amount_capturable ({intent['amount_capturable']}).",
                           param="amount_to_capture")
        intent["amount_received"] += amount
        intent["amount_capturable"] = 0 if final else intent["amount_capturable"] - amount
        if intent["amount_capturable"] == 0:
            intent["status"] = "succeeded"
        charge.update(captured=True, amount_captured=charge["amount_captured"] + amount)
        return self.render(intent, params)

    def cancel(self, id_: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intent(id_)
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in REASONS:
            raise _invalid("parameter_invalid_string", f"Invalid cancellation_reason: "
                           f"{reason}", param="cancellation_reason", stored=False)
        if intent["status"] not in CANCELABLE:
            raise _unexpected(intent, "cancel", CANCELABLE)
        # the rest of the hold is released; after partial multicaptures what was taken stays
        # taken, so the PaymentIntent has succeeded rather than been canceled
        intent.update(amount_capturable=0, canceled_at=int(time.time()),
                      cancellation_reason=reason,
                      status="succeeded" if intent["amount_received"] else "canceled")
        return self.render(intent, params)

    def refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intent(str(params.get("payment_intent", "")))
        charge = self.charges.get(intent["latest_charge"] or "")
        if charge is None or not charge["amount_captured"]:
            raise _invalid("payment_intent_unexpected_state",
                           f"PaymentIntent {intent['id']} has no captured charge to refund.")
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left == 0:
            raise _invalid("charge_already_refunded",
                           f"Charge {charge['id']} has already been refunded.")
        amount = _int(params, "amount", default=left)
        if amount > left:
            raise _invalid("amount_too_large", f"Refund amount ({amount}) is greater than "
                           f"unrefunded amount on charge ({left})", param="amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        refund = {"id": self.new_id("re"), "object": "refund", "amount": amount,
                  "currency": intent["currency"], "charge": charge["id"],
                  "payment_intent": intent["id"], "status": "succeeded",
                  "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        return copy.deepcopy(refund)


def _v1_routes(emu: Emulator) -> dict[tuple[str, str], Any]:
    return {("POST", r"/v1/payment_intents"): lambda _id, p: emu.create_intent(p),
            ("GET", r"/v1/payment_intents/(\w+)"): lambda id_, p: emu.render(emu.intent(id_), p),
            ("POST", r"/v1/payment_intents/(\w+)/capture"): emu.capture,
            ("POST", r"/v1/payment_intents/(\w+)/cancel"): emu.cancel,
            ("POST", r"/v1/refunds"): lambda _id, p: emu.refund(p)}


async def _hang() -> None:
    await asyncio.Event().wait()  # until the server shuts down


def _answer(body: Any, status: int, *, replayed: bool = False) -> Response:
    headers = {"Request-Id": f"req_{time.monotonic_ns()}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status, headers=headers)


def _auth_failure(emu: Emulator, header: str) -> Failure | None:
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if given == emu.api_key:
        return None
    message = (f"Invalid API Key provided: {given[:8]}{'*' * 4}{given[-4:]}" if given else
               "You did not provide an API key.")
    return Failure(401, "invalid_request_error", None, message, stored=False)


def _replay(answer: tuple[Any, int, Any], fingerprint: Any, key: str, call: Call) -> Response:
    """The stored answer of `key`, if asked alike; Stripe's idempotency_error otherwise."""
    first, status, body = answer
    if first != fingerprint:
        status, body = 400, Failure(400, "idempotency_error", None, (
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.")).body
    call.status, call.replayed = status, first == fingerprint
    return _answer(body, status, replayed=call.replayed)


async def _v1(emu: Emulator, request: Request) -> Response:
    """Faults, auth, idempotency, then the endpoint; every request recorded in `calls`."""
    query = (await request.body()).decode() if request.method == "POST" else request.url.query
    params = decode_form(parse_qsl(query, keep_blank_values=True))
    path = request.url.path
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    call = Call(request.method, path, key, params)
    emu.calls.append(call)
    fault = next((f for f in emu.faults if f.count > 0 and re.search(f.path, path)), None)
    if fault is not None:
        fault.count -= 1
        if fault.hang:
            await _hang()
        call.status = fault.status
        return _answer(Failure(fault.status, fault.type, fault.code, "Injected fault.").body,
                       fault.status)
    if (failure := _auth_failure(emu, request.headers.get("authorization", ""))) is not None:
        call.status = failure.status
        return _answer(failure.body, failure.status)
    fingerprint = [request.method, path, params]
    if key is not None and key in emu.answers:
        return _replay(emu.answers[key], fingerprint, key, call)
    status, body, stored = 200, None, True
    for (method, pattern), endpoint in _v1_routes(emu).items():
        if method == request.method and (match := re.fullmatch(pattern, path)):
            try:
                body = endpoint(match.group(1) if match.groups() else None, params)
            except Failure as exc:
                status, body, stored = exc.status, exc.body, exc.stored
            break
    else:
        status, stored = 404, False
        body = Failure(404, "invalid_request_error", None, f"Unrecognized request URL "
                       f"({request.method}: {path}).").body
    if key is not None and stored:
        emu.answers[key] = (fingerprint, status, body)
    if emu.hold_after_capture and status == 200 and path.endswith("/capture"):
        await _hang()  # performed and recorded, never answered
    call.status = status
    return _answer(body, status)


def create_app(api_key: str = API_KEY) -> Starlette:
    emu = Emulator(api_key)

    async def v1(request: Request) -> Response:
        return await _v1(emu, request)

    async def control(request: Request) -> Response:
        nonlocal emu
        what, args = request.path_params["what"], await request.json() if (
            request.method == "POST") else {}
        if what == "calls":
            return JSONResponse([asdict(c) for c in emu.calls])
        if what == "faults":
            emu.faults.append(Fault(**args))
        elif what == "hold_after_capture":
            emu.hold_after_capture = bool(args["enabled"])
        elif what == "reset":
            emu = Emulator(api_key)
        elif what.startswith("payment_intents/"):
            return JSONResponse(_inspect(emu, what.removeprefix("payment_intents/"), args))
        else:
            return JSONResponse({"error": f"unknown control {what}"}, 404)
        return JSONResponse({})

    return Starlette(routes=[Route("/_emulator/{what:path}", control, methods=["GET", "POST"]),
                             Route("/v1/{rest:path}", v1, methods=["GET", "POST"])])


def _inspect(emu: Emulator, id_: str, patch: dict[str, Any]) -> dict[str, Any]:
    intent = emu.intents[id_]
    charge = emu.charges.get(intent["latest_charge"] or "")
    if "created" in patch:
        intent["created"] = patch["created"]
    if "capture_before" in patch and charge is not None:
        charge["payment_method_details"]["card"]["capture_before"] = patch["capture_before"]
    return {**copy.deepcopy(intent), "latest_charge": copy.deepcopy(charge),
            "refunds": [r for r in emu.refunds.values() if r["payment_intent"] == id_]}


async def _serve(host: str, port: int, api_key: str) -> None:
    config = uvicorn.Config(create_app(api_key), host=host, port=port, lifespan="off",
                            log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(3000):  # polled as tests.conftest.serve does: uvicorn has no started event
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if server.started:
        bound = server.servers[0].sockets[0].getsockname()[1]
        print(f"ready http://{host}:{bound}", flush=True)
    await task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=API_KEY)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.api_key))


if __name__ == "__main__":
    main()
