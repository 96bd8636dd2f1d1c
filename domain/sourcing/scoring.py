"""Strategies as a table of pure scoring functions over a plan's metrics (lower is better).

A plan is measured by six integers, all exact so plans compare without rounding noise:
  backordered units, transferred units (pickups: units not already at the pickup store),
  cost in milli-cents, speed (minutes until the last parcel arrives), CO2e in milligrams,
  shipments.
Backordered and transferred units come first for every strategy: stock on hand beats waiting
for a receipt, and a pickup store's own stock beats a transfer. Then the strategy's order.

BALANCED adds the three measures with the policy's weights, at par 1 EUR = 1 day = 1 kg CO2e
(all scaled to integers: 1 EUR = 100 000 m¢ × 720 = 1440 min × 50 000 = 10^6 mg × 72).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.sourcing.policy import SourcingPolicy, Strategy

MC_PER_EUR = 100_000
PAR = 72_000_000  # one EUR, one day or one kg CO2e in BALANCED points (before weights)
COST_PAR, SPEED_PAR, CO2_PAR = 720, 50_000, 72

UnitKey = Callable[[int, int, int], tuple[int, ...]]
PlanKey = Callable[[int, int, int, int, int, int], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Scoring:
    strategy: Strategy
    unit_key: UnitKey  # (transfer, cost, co2) of one unit from one location -> fill order
    plan_key: PlanKey  # (backordered, transferred, cost, speed, co2, shipments) -> rank
    measure: Callable[[int, int, int], float]  # (cost, speed, co2) -> score in natural units


def _cost_first(t: int, c: int, e: int) -> tuple[int, ...]:
    return (t, c, e)


def _co2_first(t: int, c: int, e: int) -> tuple[int, ...]:
    return (t, e, c)


Measure = Callable[[int, int, int], float]


def _balanced(wc: int, ws: int, we: int) -> tuple[UnitKey, PlanKey, Measure]:
    def unit(t: int, c: int, e: int) -> tuple[int, ...]:
        return (t, wc * COST_PAR * c + we * CO2_PAR * e, c, e)

    def plan(b: int, t: int, c: int, s: int, e: int, n: int) -> tuple[int, ...]:
        return (b, t, wc * COST_PAR * c + ws * SPEED_PAR * s + we * CO2_PAR * e, c, s, e, n)

    def measure(c: int, s: int, e: int) -> float:
        return (wc * COST_PAR * c + ws * SPEED_PAR * s + we * CO2_PAR * e) / PAR / 1000

    return unit, plan, measure


TABLE: dict[Strategy, tuple[UnitKey, PlanKey, Callable[[int, int, int], float]]] = {
    Strategy.LOWEST_COST: (
        _cost_first, lambda b, t, c, s, e, n: (b, t, c, s, e, n),
        lambda c, s, e: c / MC_PER_EUR),
    Strategy.FASTEST: (
        _cost_first, lambda b, t, c, s, e, n: (b, t, s, c, e, n),
        lambda c, s, e: s / 1440),
    Strategy.LOWEST_EMISSIONS: (
        _co2_first, lambda b, t, c, s, e, n: (b, t, e, c, s, n),
        lambda c, s, e: e / 1000),
}


def scoring(policy: SourcingPolicy) -> Scoring:
    """The policy's strategy as functions the search can call."""
    if policy.strategy is Strategy.BALANCED:
        unit, plan, measure = _balanced(*policy.weights.milli())
    else:
        unit, plan, measure = TABLE[policy.strategy]
    return Scoring(policy.strategy, unit, plan, measure)
