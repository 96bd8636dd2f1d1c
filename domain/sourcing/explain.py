"""A plan, costed and dated per shipment, with a verdict on every location considered."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.orders import ServiceLevel
from domain.sourcing import (
    Allocation,
    Backorder,
    Decision,
    LineNote,
    Plan,
    Reason,
    Shipment,
    Verdict,
    emissions,
)
from domain.sourcing.network import Prepared, Site
from domain.sourcing.shipping import (
    RATES,
    arrival,
    band,
    dispatch_at,
    ready_after_transfer,
    ready_for_pickup,
)

MC_PER_EUR = Decimal(100_000)
CENT = Decimal("0.01")


def decision(prepared: Prepared, plan: Plan, *, promised: bool, explained: bool = True,
             proven: bool = True) -> Decision:
    """The plan costed and dated; with `explained`, a verdict on every location too."""
    request = prepared.request
    policy = request.policy
    by_code = {site.code: site for site in prepared.sites}
    shipments = tuple(_shipment(by_code[code], [a for a in plan.allocations
                                                if a.location == code], prepared)
                      for code in plan.locations())
    windows: list[tuple[datetime, datetime] | None] = [(s.earliest, s.latest)
                                                       for s in shipments]
    windows += [_utc(_backorder_window(b, prepared, by_code)) for b in plan.backorders]
    dated = [w for w in windows if w is not None]
    complete = len(dated) == len(windows) and dated
    return Decision(
        policy_channel=policy.channel, policy_version=policy.version, strategy=policy.strategy,
        method=request.method, service_level=request.service_level, pickup=request.pickup,
        plan=plan, shipments=shipments,
        candidates=verdicts(prepared, plan.locations(), promised=promised) if explained else (),
        cost=sum((s.cost for s in shipments), Decimal("0.00")),
        co2_grams=sum(s.co2_grams for s in shipments),
        earliest=max(w[0] for w in dated) if complete else None,
        latest=max(w[1] for w in dated) if complete else None, decided_at=request.now,
        proven_optimal=proven)


def _weight(a: Allocation, prepared: Prepared) -> int:
    demand = next(d for d in prepared.request.demands if d.line == a.line)
    if a.component is None:
        return demand.weight_grams * a.units
    index = [sku for sku, _ in demand.parts].index(a.component)
    return demand.part_weights[index] * a.units


def _shipment(site: Site, allocations: list[Allocation], prepared: Prepared) -> Shipment:
    request = prepared.request
    grams = sum(_weight(a, prepared) for a in allocations)
    cost = Decimal(site.fixed_mc + site.per_kg_cents * grams) / MC_PER_EUR
    co2 = emissions.grams(emissions.line_haul_mg(grams, site.km, site.location.carbon_factor)
                          + site.fixed_co2_mg)
    skus = {d.line: d.sku.sku for d in request.demands}
    lines: dict[tuple[int, str], int] = {}
    for a in allocations:
        key = (a.line, a.component or skus[a.line])
        lines[key] = lines.get(key, 0) + a.units
    window = _utc(site.window)
    assert window is not None
    return Shipment(site.code, tuple((line, sku, n) for (line, sku), n in lines.items()),
                    cost.quantize(CENT, rounding=ROUND_HALF_UP), co2, window[0], window[1],
                    None if site.distance is None else round(site.distance, 1),
                    request.pickup if site.transfer else None)


def _utc(window: tuple[datetime, datetime] | None) -> tuple[datetime, datetime] | None:
    """Dates are worked out in each location's zone and handed on in UTC."""
    return None if window is None else (window[0].astimezone(UTC), window[1].astimezone(UTC))


def _backorder_window(b: Backorder, prepared: Prepared,
                      by_code: dict[str, Site]) -> tuple[datetime, datetime] | None:
    """When backordered units arrive: after their receipt, like any order placed then."""
    request = prepared.request
    site = by_code.get(b.location or "")
    if site is None or b.expected_at is None:
        return None
    loc, windows = site.location, request.downtime.get(site.code, ())
    if request.pickup == site.code:
        ready = ready_for_pickup(loc, b.expected_at, windows)
        return None if ready is None else (ready, ready)
    dispatched = dispatch_at(loc, b.expected_at, windows)
    if dispatched is None:
        return None
    level = request.service_level or ServiceLevel.STANDARD
    bnd = band(site.distance, same_country=loc.address.country == request.destination.country)
    rate = RATES[level].get(bnd) or RATES[ServiceLevel.STANDARD][bnd]
    window = arrival(dispatched, rate)
    if request.pickup is None:
        return window
    return ready_after_transfer(by_code[request.pickup].location, window)


def verdicts(prepared: Prepared, chosen: list[str], *, promised: bool) -> tuple[Verdict, ...]:
    """Every location of the channel: chosen, or the reasons it was not."""
    picked = set(chosen)
    demands = prepared.request.demands
    lines = [[(demands[k].line, demands[k].sku.sku) for k in item.demand_indices]
             for item in prepared.items]
    per = [sum(p for _, _, p in item.members) for item in prepared.items]
    out = [_verdict(s, prepared, picked, lines, per, promised=promised)
           for s in range(len(prepared.sites))]
    order = {code: i for i, code in enumerate(chosen)}
    out.sort(key=lambda v: (not v.chosen, order.get(v.location, 0), bool(v.reasons) and (
        v.reasons[0] is not Reason.HIGHER_SCORE), v.score is None, v.score or 0.0, v.location))
    return tuple(out)


def _verdict(s: int, prepared: Prepared, chosen: set[str], lines: list[list[tuple[int, str]]],
             per: list[int], *, promised: bool) -> Verdict:
    site = prepared.sites[s]
    notes: list[LineNote] = []
    available = 0
    for i, item in enumerate(prepared.items):
        units, why = prepared.covers[i][s]
        if why is None:
            available += min(units, item.units) * per[i]
        else:
            notes.extend(LineNote(line, sku, why) for line, sku in lines[i])
    cost, days, co2, score = _solo(s, site, prepared)
    reasons = _reasons(s, site, prepared, chosen, notes, available, promised=promised)
    if available == 0 and all(n.reason is Reason.NO_STOCK for n in notes):
        notes = []  # "NO_STOCK" for the location says it; decisions are kept per order
    return Verdict(site.code, site.code in chosen, score, reasons, tuple(notes), available,
                   cost, days, co2,
                   None if site.distance is None else round(site.distance, 1))


def _reasons(s: int, site: Site, prepared: Prepared, chosen: set[str], notes: list[LineNote],
             available: int, *, promised: bool) -> tuple[Reason, ...]:
    if site.code in chosen:
        return ()
    if site.reasons:
        return tuple(site.reasons) + ((Reason.NO_STOCK,) if available == 0 and all(
            n.reason is Reason.NO_STOCK for n in notes) else ())
    if available == 0:
        return tuple(dict.fromkeys(n.reason for n in notes))
    if promised:
        return (Reason.PROMISED_ELSEWHERE,)
    problem = prepared.problem
    if problem.max_locations is not None and not problem.feasible_with(prepared.live.index(s)):
        return (Reason.SPLIT_LIMIT,)
    return (Reason.HIGHER_SCORE,)


def _solo(s: int, site: Site, prepared: Prepared
          ) -> tuple[Decimal | None, float | None, int | None, float | None]:
    """(cost, days, CO2 g, score) of this location shipping the whole order alone."""
    if site.window is None:
        return None, None, None, None
    cost_mc, co2_mg = site.fixed_mc, site.fixed_co2_mg
    for item, row in zip(prepared.items, prepared.metrics, strict=True):
        _, unit_cost, unit_co2 = row[s]
        cost_mc += unit_cost * item.units
        co2_mg += unit_co2 * item.units
    measure = prepared.problem.scoring.measure(cost_mc, site.speed, co2_mg)
    cost = (Decimal(cost_mc) / MC_PER_EUR).quantize(CENT, rounding=ROUND_HALF_UP)
    return cost, round(site.speed / 1440, 2), emissions.grams(co2_mg), round(measure, 4)
