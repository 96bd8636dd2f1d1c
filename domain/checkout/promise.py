"""Delivery promise: the options a cart can choose, and option ids checkout can trust.

Each option is the engine's decision for one way of delivering (a ship service level, or a
pickup at one nearby store). Its id is the plan itself, sealed: compact JSON, compressed,
base64url, with an HMAC-SHA256 tag under a server key. Checkout (`placeOrder` with
`promiseOptionId`) opens it, checks it is unexpired, unforged and for the same cart, channel,
delivery and destination, and sources with exactly that plan — or refuses. Nothing is stored
when a promise is made, so storefronts may ask as often as they like.

An option expires after `PROMISE_TTL`, or earlier at the next cut-off of a location it ships
from: after that its dates would no longer be true.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.catalog import Address
from domain.kernel import errors
from domain.orders import DeliveryMethod, LineRequest, ServiceLevel
from domain.sourcing import Allocation, Backorder, Decision, Plan

PROMISE_TTL = timedelta(minutes=30)
PREFIX = "p1"
MAX_TOKEN = 16_000
MAX_PAYLOAD = 64_000
TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class OptionLine:
    sku: str
    quantity: int
    available_on: datetime


@dataclass(frozen=True, slots=True)
class PromiseOption:
    id: str
    method: DeliveryMethod
    service_level: ServiceLevel | None
    pickup_location: str | None
    shipments: int
    earliest: datetime
    latest: datetime
    co2_grams: int
    lines: tuple[OptionLine, ...]
    expires_at: datetime
    decision: Decision


@dataclass(frozen=True, slots=True)
class Promised:
    """An opened option: the plan to source with, and the window promised."""

    plan: Plan
    earliest: datetime
    latest: datetime
    service_level: ServiceLevel | None


def destination_digest(address: Address | None) -> str | None:
    """What identifies a delivery address for a promise (normalised by `validated`)."""
    if address is None:
        return None
    point = address.point
    parts = [address.line1.lower(), address.city.lower(), address.postal_code, address.country,
             f"{point.latitude:.4f},{point.longitude:.4f}" if point else ""]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def option(decision: Decision, *, channel: str, lines: list[LineRequest],
           address: Address | None, expires_at: datetime, key: bytes) -> PromiseOption:
    """A promise option for one decision, with its sealed id."""
    assert decision.earliest is not None and decision.latest is not None
    skus = {i: line.sku for i, line in enumerate(lines)}
    payload = {
        "ch": channel, "m": decision.method.value,
        "sl": decision.service_level.value if decision.service_level else None,
        "pu": decision.pickup, "to": destination_digest(address),
        "ln": sorted([line.sku, line.quantity] for line in lines),
        "a": [[a.location, skus[a.line], a.units, a.component]
              for a in decision.plan.allocations],
        "b": [[skus[b.line], b.incoming_id, b.location, b.units, _epoch(b.expected_at)]
              for b in decision.plan.backorders],
        "w": [_epoch(decision.earliest), _epoch(decision.latest)],
        "x": _epoch(expires_at), "pv": [decision.policy_channel, decision.policy_version],
    }
    waiting = {(b.incoming_id, b.location) for b in decision.plan.backorders}
    return PromiseOption(
        seal(payload, key), decision.method, decision.service_level, decision.pickup,
        len(decision.shipments) + len(waiting), decision.earliest, decision.latest,
        decision.co2_grams, _lines(decision, lines), expires_at, decision)


def _lines(decision: Decision, lines: list[LineRequest]) -> tuple[OptionLine, ...]:
    """Per line, the units in stock (available now) and those waiting for a receipt."""
    out = []
    for i, line in enumerate(lines):
        waiting = [b for b in decision.plan.backorders if b.line == i]
        now_units = line.quantity - sum(b.units for b in waiting)
        if now_units:
            out.append(OptionLine(line.sku, now_units, decision.decided_at))
        out.extend(OptionLine(line.sku, b.units, b.expected_at or decision.decided_at)
                   for b in waiting)
    return tuple(out)


def redeem(token: str, key: bytes, *, now: datetime, channel: str, lines: list[LineRequest],
           method: DeliveryMethod, service_level: ServiceLevel | None, pickup: str | None,
           address: Address | None) -> Promised:
    """Open an option chosen at checkout, or say why it cannot be honoured as it is."""
    payload = unseal(token, key)
    if now >= _time(payload["x"]):
        raise errors.PromiseExpired("this delivery promise has expired: ask for a new one",
                                    field=["delivery", "promiseOptionId"])
    mismatch = _mismatch(payload, channel=channel, lines=lines, method=method,
                         service_level=service_level, pickup=pickup, address=address)
    if mismatch:
        raise errors.PromiseMismatch(f"the promise was made for a different {mismatch}",
                                     field=["delivery", "promiseOptionId"])
    line_of = {line.sku: i for i, line in enumerate(lines)}
    try:
        plan = Plan([Allocation(loc, line_of[sku], units, comp)
                     for loc, sku, units, comp in payload["a"]],
                    [Backorder(line_of[sku], rid, loc, units, _time(at) if at else None, sku)
                     for sku, rid, loc, units, at in payload["b"]])
        earliest, latest = (_time(t) for t in payload["w"])
    except (KeyError, TypeError, ValueError):
        raise errors.PromiseInvalid("malformed promise option id",
                                    field=["delivery", "promiseOptionId"]) from None
    return Promised(plan, earliest, latest,
                    ServiceLevel(payload["sl"]) if payload["sl"] else None)


def service_level_of(token: str, key: bytes) -> ServiceLevel | None:
    """The service level an option was made for (so checkout need not repeat it)."""
    level: str | None = unseal(token, key).get("sl")
    return (ServiceLevel(level) if level is not None and level in ServiceLevel.__members__
            else None)


def _mismatch(payload: dict[str, Any], *, channel: str, lines: list[LineRequest],
              method: DeliveryMethod, service_level: ServiceLevel | None, pickup: str | None,
              address: Address | None) -> str | None:
    checks = (
        ("channel", payload.get("ch") == channel),
        ("cart", payload.get("ln") == sorted([x.sku, x.quantity] for x in lines)),
        ("delivery method", payload.get("m") == method.value),
        ("service level", method is DeliveryMethod.PICKUP
         or payload.get("sl") == (service_level.value if service_level else None)),
        ("pickup location", payload.get("pu") == pickup),
        ("destination", method is DeliveryMethod.PICKUP
         or payload.get("to") == destination_digest(address)),
    )
    return next((what for what, ok in checks if not ok), None)


def seal(payload: dict[str, Any], key: bytes) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    body = _b64(zlib.compress(raw, 9))
    return f"{PREFIX}.{body}.{_b64(_tag(key, body))}"


def unseal(token: str, key: bytes) -> dict[str, Any]:
    """The payload of an untampered token made with `key`; PromiseInvalid otherwise."""
    invalid = errors.PromiseInvalid("unknown or altered promise option id",
                                    field=["delivery", "promiseOptionId"])
    parts = (token or "").split(".")
    if len(token or "") > MAX_TOKEN or len(parts) != 3 or parts[0] != PREFIX:
        raise invalid
    try:
        tag = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (ValueError, binascii.Error):
        raise invalid from None
    if not hmac.compare_digest(tag, _tag(key, parts[1])):
        raise invalid
    try:
        inflate = zlib.decompressobj()
        raw = inflate.decompress(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)),
                                 MAX_PAYLOAD)
        payload = json.loads(raw)
    except (ValueError, zlib.error, binascii.Error):
        raise invalid from None
    if not isinstance(payload, dict):
        raise invalid
    return payload


def _tag(key: bytes, body: str) -> bytes:
    return hmac.new(key, f"{PREFIX}.{body}".encode(), hashlib.sha256).digest()[:TAG_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)
