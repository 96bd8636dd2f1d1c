"""The sourcing engine: a request in, the best plan and its explanation out (pure, no I/O).

    decide(request)       the optimal plan under the request's policy, explained
    honour(request, plan) a plan fixed in advance (a delivery promise), re-checked and explained
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypedDict

from domain.inventory import Incoming
from domain.kernel import dates, errors
from domain.sourcing import (
    Allocation,
    Backorder,
    Candidate,
    Decision,
    Demand,
    Plan,
    Reason,
    SourcingRequest,
    explain,
)
from domain.sourcing.network import (
    Item,
    Prepared,
    Site,
    backorder_site,
    items_for,
    site_cover,
    sites_for,
)
from domain.sourcing.policy import SourcingPolicy
from domain.sourcing.scoring import scoring
from domain.sourcing.search import Problem, Result, solve

Covers = list[list[tuple[int, Reason | None]]]  # [item][site]
Stocked = tuple[list[Item], Covers]


class SourcingEngine:
    """Implements `domain.sourcing.Sourcer`.

    A delivery promise asks once per way of delivering with the same demand and stock; what
    does not depend on the way (items and what each location holds of them) is kept for the
    few most recent (candidates, demands, policy) — the same objects, held, so never stale.
    """

    KEPT = 8

    def __init__(self) -> None:
        self._recent: OrderedDict[tuple[int, int, SourcingPolicy],
                                  tuple[list[Candidate], list[Demand], list[Item], Covers]
                                  ] = OrderedDict()

    def _stocked(self, request: SourcingRequest) -> Stocked:
        key = (id(request.candidates), id(request.demands), request.policy)
        hit = self._recent.get(key)
        if hit is not None and hit[0] is request.candidates and hit[1] is request.demands:
            self._recent.move_to_end(key)
            return hit[2], hit[3]
        items = items_for(request.demands, request.policy)
        holds = [[site_cover(item, c) for c in request.candidates] for item in items]
        self._recent[key] = (request.candidates, request.demands, items, holds)
        while len(self._recent) > self.KEPT:
            self._recent.popitem(last=False)
        return items, holds

    def decide(self, request: SourcingRequest, *, explained: bool = True) -> Decision:
        prepared = prepare(request, stocked=self._stocked(request))
        result = solve(prepared.problem)
        if result is None:
            raise failure(prepared)
        return explain.decision(prepared, plan_from(prepared, result), promised=False,
                                explained=explained, proven=result.complete)

    def honour(self, request: SourcingRequest, plan: Plan) -> Decision:
        prepared = prepare(request, stocked=self._stocked(request))
        check(prepared, plan)
        return explain.decision(prepared, plan, promised=True)


def prepare(request: SourcingRequest, *, stocked: Stocked | None = None) -> Prepared:
    policy = request.policy
    items, covers = stocked or (items_for(request.demands, policy), None)
    sites = sites_for(request)
    if covers is None:
        covers = [[site_cover(item, site.candidate) for site in sites] for item in items]
    metrics = [[site.unit_metrics(item.weight) for site in sites] for item in items]
    live = [s for s, site in enumerate(sites)
            if not site.reasons and any(row[s][0] > 0 for row in covers)]
    receipts = [_receipts(item, covers[i], sites, request) for i, item in enumerate(items)]
    bo_cap = [item.units if request.unsourced_backorders
              else max((r.unallocated for r in receipts[i]), default=0)
              for i, item in enumerate(items)]
    problem = Problem(
        units=[item.units for item in items], splittable=[item.splittable for item in items],
        bo_cap=bo_cap, cover=[[row[s][0] for s in live] for row in covers],
        per_unit=[[row[s] for s in live] for row in metrics],
        fixed=[sites[s].fixed_mc for s in live], speed=[sites[s].speed for s in live],
        scoring=scoring(policy), max_locations=policy.max_shipments,
        fixed_co2=[sites[s].fixed_co2_mg for s in live],
        **_shared_stock(items, [sites[s] for s in live]))
    return Prepared(request, items, sites, covers, metrics, live, receipts, problem)


def _receipts(item: Item, covers: list[tuple[int, Reason | None]], sites: list[Site],
              request: SourcingRequest) -> list[Incoming]:
    """Open receipts this item may wait for: at locations that could ship it later."""
    if item.backorder_sku is None:
        return []
    allowed = {site.code for site, (_, why) in zip(sites, covers, strict=True)
               if backorder_site(site) and why in (None, Reason.NO_STOCK)}
    # a receipt further ahead than any caller may announce one (a row from before the bound,
    # `9999-12-31`) is nothing to promise against: it would only push the calendar off its end
    horizon = request.now + dates.MAX_AHEAD
    found = [r for r in request.incoming.get(item.backorder_sku.sku, ())
             if r.location in allowed and r.unallocated > 0 and r.expected_at <= horizon]
    return sorted(found, key=lambda r: (r.expected_at, r.id))


class _SharedStock(TypedDict, total=False):
    parts: list[tuple[tuple[str, int], ...]]
    stock: list[dict[str, int]]


def _shared_stock(items: list[Item], sites: list[Site]) -> _SharedStock:
    """Per-location stock for the search, only when two items draw on one SKU."""
    seen: set[str] = set()
    shared = False
    for item in items:
        skus = {sku for sku, _ in item.parts}
        shared = shared or bool(seen & skus)
        seen |= skus
    if not shared:
        return {}
    return {"parts": [item.parts for item in items],
            "stock": [dict(site.candidate.available) for site in sites]}


def plan_from(prepared: Prepared, result: Result) -> Plan:
    """The search's fills as allocations per (location, line) and backorders per line."""
    demands = prepared.request.demands
    units: dict[tuple[str, int, str | None], int] = {}
    for item, fill in zip(prepared.items, result.fills, strict=True):
        for loc, taken in fill:
            for k, component, per in item.members:
                key = (prepared.code(loc), demands[k].line, component)
                units[key] = units.get(key, 0) + taken * per
    plan = Plan([Allocation(loc, line, n, comp) for (loc, line, comp), n in units.items()])
    for i, item in enumerate(prepared.items):
        waiting = result.backordered[i]
        if not waiting:
            continue
        receipt = next((r for r in prepared.receipts[i] if r.unallocated >= waiting), None)
        for k, component, per in item.members:
            sku = component or demands[k].sku.sku
            if receipt is None:
                plan.backorders.append(Backorder(demands[k].line, None, None, waiting * per,
                                                 None, sku))
            else:
                plan.backorders.append(Backorder(demands[k].line, receipt.id, receipt.location,
                                                 waiting * per, receipt.expected_at, sku))
    return plan


def failure(prepared: Prepared) -> errors.DomainError:
    """Why no plan exists: not enough stock anywhere, or not within the policy."""
    p, demands = prepared.problem, prepared.request.demands
    short: list[int] = []
    for i, item in enumerate(prepared.items):
        if sum(p.cover[i]) + p.bo_cap[i] < item.units:
            short.extend(item.demand_indices)
    if short:
        lines = sorted(dict.fromkeys(short), key=lambda k: demands[k].line)
        names = tuple(dict.fromkeys(demands[k].sku.sku for k in lines))
        return errors.InsufficientStock(f"not enough stock for {', '.join(names)}",
                                        field=["lines", str(demands[lines[0]].line)], skus=names)
    policy = prepared.request.policy
    limits = []
    if policy.max_shipments is not None:
        limits.append(f"at most {policy.max_shipments} shipment(s)")
    if policy.ship_together:
        limits.append("ship-together groups")
    if not policy.split_lines:
        limits.append("no line split across locations")
    if not policy.split_kits:
        limits.append("kits ship whole")
    return errors.SourcingConstraints(
        "the stock exists but no plan respects the sourcing policy of channel "
        f"{policy.channel} v{policy.version} ({', '.join(limits)})", field=["lines"])


def check(prepared: Prepared, plan: Plan) -> None:
    """Refuse a fixed plan that no longer holds: a location that cannot ship any more, a line
    it may no longer send, stock that moved, or a receipt already promised to others."""
    gone = errors.PromiseNoLongerAvailable
    by_code = {site.code: s for s, site in enumerate(prepared.sites)}
    demands = {d.line: k for k, d in enumerate(prepared.request.demands)}
    for a in plan.allocations:
        s = by_code.get(a.location)
        if s is None or prepared.sites[s].reasons:
            why = ", ".join(prepared.sites[s].reasons) if s is not None else "not in channel"
            raise gone(f"{a.location} can no longer fulfil this order ({why})",
                       field=["delivery", "promiseOptionId"])
        for i, item in enumerate(prepared.items):
            if demands[a.line] in item.demand_indices and prepared.covers[i][s][1] not in (
                    None, Reason.NO_STOCK, Reason.SHIP_TOGETHER):
                raise gone(f"{a.location} may no longer send line {a.line}",
                           field=["delivery", "promiseOptionId"])
    for (sku, code), wanted in plan.reservations(prepared.request.demands).items():
        have = prepared.sites[by_code[code]].candidate.available.get(sku, 0)
        if have < wanted:
            raise gone(f"only {have} of {wanted} × {sku} left at {code}",
                       field=["delivery", "promiseOptionId"])
    open_receipts = {r.id: r for rs in prepared.request.incoming.values() for r in rs}
    for b in plan.backorders:
        receipt = open_receipts.get(b.incoming_id or "")
        if receipt is None or receipt.unallocated < b.units:
            raise gone("the incoming stock this promise counted on is taken",
                       field=["delivery", "promiseOptionId"])
