from domain.service_desk import metrics


def _counts(**changes) -> metrics.MetricCounts:
    base = dict(orders=8, cancelled=2, units_ordered=20, units_allocated=15, split_orders=2,
                shipped=5, shipped_from_store=2, ship_hours_total=60.0,
                delivered_with_promise=4, delivered_on_time=3, backorders_open=1)
    base.update(changes)
    return metrics.MetricCounts(**base)


def test_operations_metrics_divide_each_count_by_its_own_denominator():
    m = metrics.operations_metrics(_counts())

    assert m == metrics.OperationsMetrics(
        orders_placed=8, fill_rate=0.75, split_rate=0.25, ship_from_store_share=0.4,
        on_time_delivery=0.75, average_hours_to_ship=12.0, cancellation_rate=0.25,
        backorders_open=1)


def test_a_rate_with_nothing_to_measure_is_none_not_zero():
    m = metrics.operations_metrics(metrics.MetricCounts(0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0))

    assert (m.orders_placed, m.fill_rate, m.split_rate, m.ship_from_store_share,
            m.on_time_delivery, m.average_hours_to_ship, m.cancellation_rate,
            m.backorders_open) == (0, None, None, None, None, None, None, 0)


def test_shipments_without_deliveries_leave_only_on_time_unknown():
    m = metrics.operations_metrics(_counts(delivered_with_promise=0, delivered_on_time=0))

    assert m.on_time_delivery is None
    assert m.ship_from_store_share == 0.4
