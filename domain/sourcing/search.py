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
(relaxed: no split limit, no shared stock). A shipment's fixed CO2e (its last mile) counts
like its fixed cost: per location used.

Exact whenever items do not compete for the same SKU at a location. When they do (a kit and a
line of one of its components in one cart) the fill takes stock item by item, kits first: it
is still a valid plan, no longer guaranteed the cheapest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from domain.sourcing.policy import Strategy
from domain.sourcing.scoring import Scoring

Fill = list[tuple[int, int]]  # (location index, units)


@dataclass(slots=True)
class Result:
    key: tuple[int, ...]
    used: int  # bit set of location indices
    fills: list[Fill]  # per item
    backordered: list[int]  # per item
    complete: bool = True  # False: the search budget ran out first (best found, not proven)


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
    fixed_co2: list[int] = field(default_factory=list)  # per location: CO2e of a shipment
    parts: list[tuple[tuple[str, int], ...]] | None = None  # set when items share SKUs
    stock: list[dict[str, int]] | None = None  # per location, when items share SKUs
    order: list[list[int]] = field(default_factory=list)
    rank: list[list[int]] = field(default_factory=list)
    rows: list[list[tuple[int, int, int, int, int]]] = field(default_factory=list)
    sequence: list[int] = field(default_factory=list)  # items in fill order (kits first)

    def __post_init__(self) -> None:
        m = len(self.fixed)
        self.fixed_co2 = self.fixed_co2 or [0] * m
        self.sequence = sorted(range(len(self.units)), key=lambda i: (
            -len(self.parts[i]) if self.parts is not None else 0, i))
        key = self.scoring.unit_key
        for i, cover in enumerate(self.cover):
            units = self.per_unit[i]
            order = sorted((loc for loc in range(m) if cover[loc] > 0),
                           key=lambda loc: (key(*units[loc]), loc))
            rank = [m] * m
            for r, loc in enumerate(order):
                rank[loc] = r
            self.order.append(order)
            self.rank.append(rank)
            self.rows.append([(loc, cover[loc], *units[loc]) for loc in order])

    @property
    def size(self) -> int:
        return len(self.fixed)

    def key_of(self, b: int, t: int, c: int, s: int, e: int, n: int) -> tuple[int, ...]:
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
        e += sum(self.fixed_co2[loc] for loc in locs)
        s = max((self.speed[loc] for loc in locs), default=0)
        return Result(self.key_of(b, t, c, s, e, len(locs)), used, fills, backordered)

    def _fill_item(self, i: int, members: list[int], left: list[dict[str, int]] | None
                   ) -> tuple[Fill, int]:
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
    def relaxed(self, mask: int, start: int, pos: list[int]) -> tuple[int, int, int, int] | None:
        """(backordered, transferred, cost, co2) of the greedy fill over the locations in `mask`
        and those with pos[loc] >= start, items not competing: a lower bound for any subset."""
        b = t = c = e = 0
        for i, rows in enumerate(self.rows):
            need, split = self.units[i], self.splittable[i]
            for loc, have, ut, uc, ue in rows:
                if not (mask >> loc & 1 or pos[loc] >= start):
                    continue
                take = (have if have < need else need) if split else (
                    need if have >= need else 0)
                if take:
                    t, c, e = t + ut * take, c + uc * take, e + ue * take
                    need -= take
                    if need == 0:
                        break
            if need > self.bo_cap[i]:
                return None
            b += need
        return b, t, c, e

    def greedy_units(self) -> list[int]:
        """Units per location in the relaxed greedy fill over every location."""
        taken = [0] * self.size
        for i, rows in enumerate(self.rows):
            need, split = self.units[i], self.splittable[i]
            for loc, have, *_ in rows:
                take = (have if have < need else need) if split else (
                    need if have >= need else 0)
                taken[loc] += take
                need -= take
                if need == 0:
                    break
        return taken

    def feasible_with(self, loc: int) -> bool:
        """Is there any plan within the split limit that ships from `loc`?"""
        others = [x for x in range(self.size) if x != loc]
        pos = [-1] * self.size
        for j, x in enumerate(others):
            pos[x] = j

        def grow(members: list[int], start: int) -> bool:
            if self.evaluate(members) is not None:
                return True
            if self.max_locations is not None and len(members) >= self.max_locations:
                return False
            mask = sum(1 << x for x in members)
            for j in range(start, len(others)):
                if self.relaxed(mask, j, pos) is None:
                    return False
                if grow([*members, others[j]], j + 1):
                    return True
            return False

        return grow([loc], 0)


def solve(problem: Problem) -> Result | None:
    """The best plan (None when no set of locations within the split limit covers the order)."""
    return _Search(reduced(problem)).run()


def reduced(problem: Problem) -> Problem:
    """The same problem without (item, location) pairs no optimal plan can use.

    Without a split limit or shared stock, two strategies pin their first measure before any
    search: FASTEST's slowest arrival is the smallest speed whose locations still cover as
    much as all of them do; LOWEST_EMISSIONS's CO2 is at most the greedy fill's, and a unit
    beyond an item's marginal (transfer, CO2) adds at least its excess over the marginal, plus
    its location's shipment CO2e: where that alone exceeds the shipment CO2e the greedy fill
    pays, the unit cannot be in a better plan. Everything slower, or dirtier, goes.
    """
    if problem.max_locations is not None or problem.stock is not None:
        return problem
    everywhere = [0] * problem.size
    best = problem.relaxed(0, 0, everywhere)
    if best is None:
        return problem
    if problem.scoring.strategy is Strategy.FASTEST:
        for limit in sorted(set(problem.speed)):
            fast = [1 if speed <= limit else 0 for speed in problem.speed]
            found = problem.relaxed(0, 1, fast)  # allowed: fast[loc] >= 1
            if found is not None and found[:2] == best[:2]:
                return _keep(problem, lambda i, loc: fast[loc] == 1)  # noqa: B023 (used at once)
        return problem
    if problem.scoring.strategy is Strategy.LOWEST_EMISSIONS:
        marginal = [_marginal(problem, i) for i in range(len(problem.units))]
        greedy = problem.greedy_units()
        slack = sum(e for e, taken in zip(problem.fixed_co2, greedy, strict=True) if taken)
        return _keep(problem, lambda i, loc: _may_pay(problem.per_unit[i][loc][0],
                                                      problem.per_unit[i][loc][2],
                                                      problem.fixed_co2[loc], marginal[i],
                                                      slack))
    return problem


def _may_pay(transfer: int, co2: int, fixed_co2: int, marginal: tuple[int, int] | None,
             slack: int) -> bool:
    """May a unit with this (transfer, CO2) be in a plan no dirtier than the greedy fill?"""
    if marginal is None or (transfer, co2) <= marginal:
        return True
    return transfer == marginal[0] and co2 - marginal[1] + fixed_co2 <= slack


def _marginal(p: Problem, i: int) -> tuple[int, int] | None:
    """(transfer, CO2) of the last location the greedy fill needs for item i (None: all)."""
    need = p.units[i]
    for _, have, ut, _, ue in p.rows[i]:
        take = (have if have < need else need) if p.splittable[i] else (
            need if have >= need else 0)
        need -= take
        if need == 0:
            return ut, ue
    return None


def _keep(problem: Problem, keep: Callable[[int, int], bool]) -> Problem:
    cover = [[cv if cv and keep(i, loc) else 0 for loc, cv in enumerate(row)]
             for i, row in enumerate(problem.cover)]
    return Problem(problem.units, problem.splittable, problem.bo_cap, cover, problem.per_unit,
                   problem.fixed, problem.speed, problem.scoring, problem.max_locations,
                   problem.fixed_co2)


class _Search:
    """Depth-first over location sets; stops after BUDGET bounds (then: best found).

    A node's bound also counts the locations it must still add: the units no backorder may
    absorb, over the most any single remaining location can supply (set-cover style).
    """

    BUDGET = 4000

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        m = problem.size
        taken = problem.greedy_units()
        self.supply = [sum(_usable(problem, i, loc) for i in range(len(problem.units)))
                       for loc in range(m)]
        useful = [loc for loc in range(m) if self.supply[loc] > 0]
        order = sorted((-taken[loc], -self.supply[loc], problem.fixed[loc], problem.speed[loc],
                        loc) for loc in useful)
        self.seq = [loc for *_, loc in order]
        self.size = len(self.seq)
        self.pos = [-1] * m  # locations nobody can use are never allowed
        for j, loc in enumerate(self.seq):
            self.pos[loc] = j
        inf = float("inf")
        self.min_fixed = [inf] * (self.size + 1)
        self.min_fixed_co2 = [inf] * (self.size + 1)
        self.min_speed = [inf] * (self.size + 1)
        self.max_supply = [0] * (self.size + 1)
        for j in range(self.size - 1, -1, -1):
            loc = self.seq[j]
            self.min_fixed[j] = min(self.min_fixed[j + 1], problem.fixed[loc])
            self.min_fixed_co2[j] = min(self.min_fixed_co2[j + 1], problem.fixed_co2[loc])
            self.min_speed[j] = min(self.min_speed[j + 1], problem.speed[loc])
            self.max_supply[j] = max(self.max_supply[j + 1], self.supply[loc])
        self.best: Result | None = None
        self.everywhere = problem.relaxed(0, 0, self.pos)
        self.left = self.BUDGET

    def run(self) -> Result | None:
        if self.everywhere is None:
            return None
        p = self.p
        start = p.evaluate(self.seq)
        if start is not None and (p.max_locations is None
                                  or start.used.bit_count() <= p.max_locations):
            self.best = start
        self._dfs(0, [], 0, (0, 0), 0, [0] * len(p.units))
        if self.best is not None:
            self.best.complete = self.left > 0
        return self.best

    def _more(self, covered: list[int], start: int) -> int | None:
        """How many more locations from seq[start:] any completion needs (None: impossible)."""
        p = self.p
        short = sum(max(0, u - b - c) for u, b, c in zip(p.units, p.bo_cap, covered,
                                                          strict=True))
        if short == 0:
            return 0
        most = self.max_supply[start]
        return None if most == 0 else -(-short // most)

    def _bound(self, mask: int, start: int, covered: list[int], fixed: tuple[int, int],
               speed: int, count: int, *, children: bool) -> tuple[int, ...] | None:
        """Lower bound of any plan using the locations in `mask` and perhaps more from
        seq[start:] (with `children`, at least one more); None when none covers the order.
        `fixed`: the (cost, CO2e) of the shipments from the locations in `mask`."""
        self.left -= 1
        more = self._more(covered, start)
        if more is None:
            return None
        more = max(more, 1) if children else more
        cost, co2 = fixed
        if more:
            cost += more * int(self.min_fixed[start])
            co2 += more * int(self.min_fixed_co2[start])
            speed = max(speed, int(self.min_speed[start]))
            count += more
        b, t, c, e = self.everywhere  # type: ignore[misc]
        cheap = self.p.key_of(b, t, cost + c, speed, co2 + e, count)
        if self.best is not None and cheap >= self.best.key:
            return cheap
        relaxed = self.p.relaxed(mask, start, self.pos)
        if relaxed is None:
            return None
        b, t, c, e = relaxed
        return self.p.key_of(b, t, cost + c, speed, co2 + e, count)

    def _cut(self, bound: tuple[int, ...] | None) -> bool:
        return bound is None or (self.best is not None and bound >= self.best.key)

    def _dfs(self, start: int, members: list[int], mask: int, fixed: tuple[int, int],
             speed: int, covered: list[int]) -> None:
        p, seq = self.p, self.seq
        if start >= self.size or self.left <= 0 or (p.max_locations is not None
                                                    and len(members) >= p.max_locations):
            return
        if self._cut(self._bound(mask, start, covered, fixed, speed, len(members),
                                 children=True)):
            return
        for j in range(start, self.size):
            loc = seq[j]
            grown, bits = [*members, loc], mask | 1 << loc
            more = [c + _usable(p, i, loc) for i, c in enumerate(covered)]
            f = (fixed[0] + p.fixed[loc], fixed[1] + p.fixed_co2[loc])
            s = max(speed, p.speed[loc])
            if self._cut(self._bound(bits, j + 1, more, f, s, len(grown), children=False)):
                continue
            result = p.evaluate(grown)
            if result is not None and (self.best is None or result.key < self.best.key):
                self.best = result
            self._dfs(j + 1, grown, bits, f, s, more)


def _usable(p: Problem, i: int, loc: int) -> int:
    """Units of item i one location can take (all or nothing when it may not split)."""
    have, need = p.cover[i][loc], p.units[i]
    if p.splittable[i]:
        return have if have < need else need
    return need if have >= need else 0
