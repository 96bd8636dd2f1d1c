"""The optimiser: the best set of locations and the units each ships, by branch and bound.

An *item* is what must leave one location as a whole per unit: a line's unit, a kit's unit
(all its components), a split kit's component, or a ship-together bundle (units = 1). Given
the set S of locations allowed to ship, the best fill is greedy: each item takes its units from
the location of S with the best per-unit key first (a one-demand transportation problem with
a linear, lexicographic objective), then from a backorder if it may. Whatever S the optimum
uses, that greedy fill over it is at least as good — fixed costs, the slowest arrival and the
shipment count only grow with the set — so the best plan is the best greedy fill over all
sets. Sets are enumerated depth first, most promising locations first, and a subtree is cut
when a lower bound reaches the best plan found: the fixed costs and slowest arrival of the
locations chosen so far, plus the greedy fill over them and every location still to come
(relaxed: no split limit, no shared stock).

Exact whenever items do not compete for the same SKU at a location. When they do (a kit and a
line of one of its components in one cart) the fill takes stock item by item, kits first: it
is still a valid plan, no longer guaranteed the cheapest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.scoring import Scoring

Fill = list[tuple[int, int]]  # (location index, units)


@dataclass(slots=True)
class Result:
    key: tuple
    used: int  # bit set of location indices
    fills: list[Fill]  # per item
    backordered: list[int]  # per item


@dataclass(slots=True)
class Problem:
    units: list[int]
    splittable: list[bool]
    bo_cap: list[int]
    cover: list[list[int]]  # [item][location]: units it could supply (ignoring other items)
    per_unit: list[list[tuple[int, int, int]]]  # [item][location]: (transfer, cost, co2)
    fixed: list[int]  # per location: cost of a shipment
    speed: list[int]  # per location: minutes until its parcel arrives
    scoring: Scoring
    max_locations: int | None = None
    parts: list[tuple[tuple[str, int], ...]] | None = None  # set when items share SKUs
    stock: list[dict[str, int]] | None = None  # per location, when items share SKUs
    order: list[list[int]] = field(default_factory=list)
    rank: list[list[int]] = field(default_factory=list)
    sequence: list[int] = field(default_factory=list)  # items in fill order (kits first)

    def __post_init__(self) -> None:
        m = len(self.fixed)
        self.sequence = sorted(range(len(self.units)), key=lambda i: (
            -len(self.parts[i]) if self.parts is not None else 0, i))
        key = self.scoring.unit_key
        for i, cover in enumerate(self.cover):
            units = self.per_unit[i]
            order = sorted((loc for loc in range(m) if cover[loc] > 0),
                           key=lambda loc, units=units: (key(*units[loc]), loc))
            rank = [m] * m
            for r, loc in enumerate(order):
                rank[loc] = r
            self.order.append(order)
            self.rank.append(rank)

    @property
    def size(self) -> int:
        return len(self.fixed)

    def key_of(self, b: int, t: int, c: int, s: int, e: int, n: int) -> tuple:
        return self.scoring.plan_key(b, t, c, s, e, n)

    # --- one set of locations ------------------------------------------------------------------
    def evaluate(self, members: list[int]) -> Result | None:
        """The greedy fill over `members`; None when it cannot cover the order."""
        left = [dict(s) for s in self.stock] if self.stock is not None else None
        fills: list[Fill] = [[] for _ in self.units]
        backordered = [0] * len(self.units)
        used = b = t = c = e = 0
        for i in self.sequence:
            fill, need = self._fill_item(i, members, left)
            if need > self.bo_cap[i]:
                return None
            b += need
            for loc, k in fill:
                ut, uc, ue = self.per_unit[i][loc]
                t, c, e = t + ut * k, c + uc * k, e + ue * k
                used |= 1 << loc
            fills[i] = fill
            backordered[i] = need
        locs = [loc for loc in members if used >> loc & 1]
        c += sum(self.fixed[loc] for loc in locs)
        s = max((self.speed[loc] for loc in locs), default=0)
        return Result(self.key_of(b, t, c, s, e, len(locs)), used, fills, backordered)

    def _fill_item(self, i: int, members: list[int], left) -> tuple[Fill, int]:
        rank, cover = self.rank[i], self.cover[i]
        need = self.units[i]
        fill: Fill = []
        for loc in sorted((x for x in members if cover[x] > 0), key=rank.__getitem__):
            have = cover[loc] if left is None else self._left(i, loc, left)
            take = min(need, have) if self.splittable[i] else (need if have >= need else 0)
            if take:
                fill.append((loc, take))
                need -= take
                if left is not None:
                    for sku, per in self.parts[i]:  # type: ignore[index]
                        left[loc][sku] -= per * take
                if need == 0:
                    break
        return fill, need

    def _left(self, i: int, loc: int, left: list[dict[str, int]]) -> int:
        stock = left[loc]
        return min(stock.get(sku, 0) // per for sku, per in self.parts[i])  # type: ignore[index]

    # --- bounds --------------------------------------------------------------------------------
    def relaxed(self, allowed) -> tuple[int, int, int, int] | None:
        """(backordered, transferred, cost, co2) of the greedy fill over every location for
        which `allowed(loc)` holds, items not competing: a lower bound for any of its subsets."""
        b = t = c = e = 0
        for i, order in enumerate(self.order):
            need, cover, units, split = self.units[i], self.cover[i], self.per_unit[i], \
                self.splittable[i]
            for loc in order:
                if not allowed(loc):
                    continue
                have = cover[loc]
                take = min(need, have) if split else (need if have >= need else 0)
                if take:
                    ut, uc, ue = units[loc]
                    t, c, e = t + ut * take, c + uc * take, e + ue * take
                    need -= take
                    if need == 0:
                        break
            if need > self.bo_cap[i]:
                return None
            b += need
        return b, t, c, e

    def feasible_with(self, loc: int) -> bool:
        """Is there any plan within the split limit that ships from `loc`?"""
        others = [x for x in range(self.size) if x != loc]

        def grow(members: list[int], start: int) -> bool:
            if self.evaluate(members) is not None:
                return True
            if self.max_locations is not None and len(members) >= self.max_locations:
                return False
            mask = sum(1 << x for x in members)
            for j in range(start, len(others)):
                rest = {x for x in others[j:]}
                if self.relaxed(lambda x, r=rest: mask >> x & 1 or x in r) is None:
                    return False
                if grow([*members, others[j]], j + 1):
                    return True
            return False

        return grow([loc], 0)


def solve(problem: Problem) -> Result | None:
    """The best plan (None when no set of locations within the split limit covers the order)."""
    return _Search(problem).run()


class _Search:
    def __init__(self, problem: Problem) -> None:
        self.p = problem
        m = problem.size
        solo = [(-sum(min(cv[loc], u) for cv, u in zip(problem.cover, problem.units,
                                                         strict=True)), problem.fixed[loc],
                 problem.speed[loc], loc) for loc in range(m)]
        self.seq = [loc for *_, loc in sorted(solo)]
        self.pos = [0] * m
        for j, loc in enumerate(self.seq):
            self.pos[loc] = j
        inf = float("inf")
        self.min_fixed = [inf] * (m + 1)
        self.min_speed = [inf] * (m + 1)
        for j in range(m - 1, -1, -1):
            loc = self.seq[j]
            self.min_fixed[j] = min(self.min_fixed[j + 1], problem.fixed[loc])
            self.min_speed[j] = min(self.min_speed[j + 1], problem.speed[loc])
        self.best: Result | None = None
        self.everywhere = problem.relaxed(lambda loc: True)

    def run(self) -> Result | None:
        if self.everywhere is None:
            return None
        p = self.p
        start = p.evaluate(list(range(p.size)))
        if start is not None and (p.max_locations is None
                                  or start.used.bit_count() <= p.max_locations):
            self.best = start
        self._dfs(0, [], 0, 0, 0)
        return self.best

    def _bound(self, mask: int, start: int, fixed: int, speed: int, count: int) -> tuple | None:
        """Lower bound of any plan using the locations in `mask` and perhaps more from
        seq[start:]; None when none of them can cover the order."""
        b, t, c, e = self.everywhere  # type: ignore[misc]
        cheap = self.p.key_of(b, t, fixed + c, speed, e, count)
        if self.best is not None and cheap >= self.best.key:
            return cheap
        pos = self.pos
        relaxed = self.p.relaxed(lambda loc: mask >> loc & 1 or pos[loc] >= start)
        if relaxed is None:
            return None
        b, t, c, e = relaxed
        return self.p.key_of(b, t, fixed + c, speed, e, count)

    def _cut(self, bound: tuple | None) -> bool:
        return bound is None or (self.best is not None and bound >= self.best.key)

    def _dfs(self, start: int, members: list[int], mask: int, fixed: int, speed: int) -> None:
        p, seq = self.p, self.seq
        if start >= p.size or (p.max_locations is not None
                               and len(members) >= p.max_locations):
            return
        # every child adds at least one location from seq[start:]
        if self._cut(self._bound(mask, start, fixed + int(self.min_fixed[start]),
                                 max(speed, int(self.min_speed[start])), len(members) + 1)):
            return
        for j in range(start, p.size):
            loc = seq[j]
            grown, bits = [*members, loc], mask | 1 << loc
            f, s = fixed + p.fixed[loc], max(speed, p.speed[loc])
            if self._cut(self._bound(bits, j + 1, f, s, len(grown))):
                continue
            result = p.evaluate(grown)
            if result is not None and (self.best is None or result.key < self.best.key):
                self.best = result
            self._dfs(j + 1, grown, bits, f, s)
