"""Sourcing decisions to JSON and back (how they are kept; the API shapes them again)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.orders import DeliveryMethod, ServiceLevel
from domain.sourcing import (
    Allocation,
    Backorder,
    Decision,
    LineNote,
    Plan,
    Reason,
    Shipment,
    Verdict,
)
from domain.sourcing.policy import Strategy


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _d(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def decision_to_json(d: Decision) -> str:
    body: dict[str, Any] = {
        "policy": [d.policy_channel, d.policy_version], "strategy": d.strategy.value,
        "method": d.method.value,
        "serviceLevel": d.service_level.value if d.service_level else None, "pickup": d.pickup,
        "allocations": [[a.location, a.line, a.units, a.component] for a in d.plan.allocations],
        "backorders": [[b.line, b.incoming_id, b.location, b.units, _t(b.expected_at), b.sku]
                       for b in d.plan.backorders],
        "shipments": [{
            "location": s.location, "lines": [list(x) for x in s.lines], "cost": _d(s.cost),
            "co2": s.co2_grams, "earliest": _t(s.earliest), "latest": _t(s.latest),
            "distanceKm": s.distance_km, "transferTo": s.transfer_to} for s in d.shipments],
        "candidates": [{
            "location": v.location, "chosen": v.chosen, "score": v.score,
            "reasons": [r.value for r in v.reasons],
            "notes": [[n.line, n.sku, n.reason.value] for n in v.notes],
            "units": v.units_available, "cost": _d(v.cost), "days": v.days, "co2": v.co2_grams,
            "distanceKm": v.distance_km} for v in d.candidates],
        "cost": _d(d.cost), "co2": d.co2_grams, "earliest": _t(d.earliest),
        "latest": _t(d.latest), "decidedAt": _t(d.decided_at), "proven": d.proven_optimal,
    }
    return json.dumps(body, separators=(",", ":"))


def decision_from_json(text: str) -> Decision:
    b = json.loads(text)
    plan = Plan([Allocation(*a) for a in b["allocations"]],
                [Backorder(line, rid, loc, units, _dt(at), sku)
                 for line, rid, loc, units, at, sku in b["backorders"]])
    shipments = tuple(Shipment(
        s["location"], tuple(tuple(x) for x in s["lines"]), Decimal(s["cost"]), s["co2"],
        datetime.fromisoformat(s["earliest"]), datetime.fromisoformat(s["latest"]),
        s["distanceKm"], s["transferTo"])
        for s in b["shipments"])
    candidates = tuple(Verdict(
        v["location"], v["chosen"], v["score"], tuple(Reason(r) for r in v["reasons"]),
        tuple(LineNote(line, sku, Reason(r)) for line, sku, r in v["notes"]), v["units"],
        None if v["cost"] is None else Decimal(v["cost"]), v["days"], v["co2"],
        v["distanceKm"]) for v in b["candidates"])
    channel, version = b["policy"]
    return Decision(
        channel, version, Strategy(b["strategy"]), DeliveryMethod(b["method"]),
        ServiceLevel(b["serviceLevel"]) if b["serviceLevel"] else None, b["pickup"], plan,
        shipments, candidates, Decimal(b["cost"]), b["co2"], _dt(b["earliest"]),
        _dt(b["latest"]), _dt(b["decidedAt"]), b.get("proven", True))  # type: ignore[arg-type]
