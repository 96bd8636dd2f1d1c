"""Operations KPIs: the ratios over the counts persistence aggregates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricCounts:
    """Counts over the orders placed in a window (and channel), as aggregated in SQL."""

    orders: int
    cancelled: int
    units_ordered: int
    units_allocated: int  # units of those orders not backordered at placement
    split_orders: int  # orders with more than one fulfillment (rejected work left out)
    shipped: int  # fulfillments shipped
    shipped_from_store: int
    ship_hours_total: float  # sum over shipped fulfillments of placed_at -> shipped_at
    delivered_with_promise: int
    delivered_on_time: int
    backorders_open: int  # order lines with backordered units, not cancelled


@dataclass(frozen=True, slots=True)
class OperationsMetrics:
    orders_placed: int
    fill_rate: float | None
    split_rate: float | None
    ship_from_store_share: float | None
    on_time_delivery: float | None
    average_hours_to_ship: float | None
    cancellation_rate: float | None
    backorders_open: int


def _ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def operations_metrics(c: MetricCounts) -> OperationsMetrics:
    """The KPIs; a rate is None when nothing was there to measure."""
    return OperationsMetrics(
        orders_placed=c.orders,
        fill_rate=_ratio(c.units_allocated, c.units_ordered),
        split_rate=_ratio(c.split_orders, c.orders),
        ship_from_store_share=_ratio(c.shipped_from_store, c.shipped),
        on_time_delivery=_ratio(c.delivered_on_time, c.delivered_with_promise),
        average_hours_to_ship=_ratio(c.ship_hours_total, c.shipped),
        cancellation_rate=_ratio(c.cancelled, c.orders),
        backorders_open=c.backorders_open)
