"""SPEC §3 invariants, checked straight against the database after a test has run."""

from __future__ import annotations

import sqlalchemy as sa

from domain.integration import EVENT_TYPES
from persistence.db import Database


async def violations(db_url: str) -> list[str]:
    """Everything wrong with the stored state; empty when all invariants hold."""
    db = Database(db_url)
    problems: list[str] = []
    try:
        async with db.reader.connect() as conn:
            oversold = (await conn.execute(sa.text(
                "SELECT sku, location, on_hand, reserved, safety_stock FROM inventory_levels "
                "WHERE reserved < 0 OR on_hand < 0 OR reserved > on_hand - safety_stock"))).all()
            problems += [f"oversold or negative: {tuple(r)}" for r in oversold]
            drift = (await conn.execute(sa.text(
                "SELECT l.sku, l.location, l.on_hand, l.reserved, "
                "COALESCE(SUM(g.on_hand_delta), 0), COALESCE(SUM(g.reserved_delta), 0) "
                "FROM inventory_levels l LEFT JOIN inventory_ledger g "
                "ON g.sku = l.sku AND g.location = l.location "
                "GROUP BY l.sku, l.location, l.on_hand, l.reserved "
                "HAVING l.on_hand != COALESCE(SUM(g.on_hand_delta), 0) "
                "OR l.reserved != COALESCE(SUM(g.reserved_delta), 0)"))).all()
            problems += [f"ledger does not sum to level: {tuple(r)}" for r in drift]
            orphans = (await conn.execute(sa.text(
                "SELECT g.sku, g.location FROM inventory_ledger g LEFT JOIN inventory_levels l "
                "ON g.sku = l.sku AND g.location = l.location WHERE l.sku IS NULL"))).all()
            problems += [f"ledger rows without a level: {tuple(r)}" for r in orphans]
            gaps = (await conn.execute(sa.text(
                "SELECT stream, COUNT(*), MIN(sequence), MAX(sequence) FROM outbox "
                "GROUP BY stream HAVING MIN(sequence) != 1 OR MAX(sequence) != COUNT(*)"))).all()
            problems += [f"outbox stream not numbered 1..n: {tuple(r)}" for r in gaps]
            counters = (await conn.execute(sa.text(
                "SELECT s.stream, s.last_sequence, MAX(o.sequence) FROM outbox_streams s "
                "LEFT JOIN outbox o ON o.stream = s.stream GROUP BY s.stream, s.last_sequence "
                "HAVING s.last_sequence != COALESCE(MAX(o.sequence), 0)"))).all()
            problems += [f"stream counter out of step: {tuple(r)}" for r in counters]
            # every event is on $all once, and is of a type webhooks can subscribe to
            types = (await conn.execute(sa.text(
                "SELECT DISTINCT type FROM outbox WHERE stream = '$all'"))).scalars().all()
            problems += [f"event type unknown to webhooks (domain/integration EVENT_TYPES): "
                         f"{t}" for t in types if t not in EVENT_TYPES]
            missing = (await conn.execute(sa.text(
                "SELECT COUNT(DISTINCT event_id) FROM outbox WHERE event_id NOT IN "
                "(SELECT event_id FROM outbox WHERE stream = '$all')"))).scalar_one()
            if missing:
                problems.append(f"{missing} events are not on the $all stream")
            reserved = (await conn.execute(sa.text(
                "SELECT fl.sku, f.location, SUM(fl.quantity) FROM fulfillment_lines fl "
                "JOIN fulfillments f ON f.id = fl.fulfillment_id "
                "WHERE f.status IN ('ASSIGNED','ACCEPTED','PICKED','PACKED','READY_FOR_PICKUP') "
                "GROUP BY fl.sku, f.location"))).all()
            levels = {(r[0], r[1]): r[2] for r in (await conn.execute(sa.text(
                "SELECT sku, location, reserved FROM inventory_levels"))).all()}
            open_work = {(r[0], r[1]): r[2] for r in reserved}
            for key in set(levels) | set(open_work):
                if levels.get(key, 0) != open_work.get(key, 0):
                    problems.append(f"reserved {levels.get(key, 0)} at {key} but open "
                                    f"fulfillments hold {open_work.get(key, 0)}")
            problems += await _lifecycle_problems(conn)
            problems += await _return_problems(conn)
            problems += await _payment_problems(conn)
            unkeyed = (await conn.execute(sa.text(
                "SELECT o.number FROM orders o LEFT JOIN idempotency_keys k ON k.order_id = o.id "
                "WHERE k.key IS NULL"))).all()
            problems += [f"order without its idempotency record: {r[0]}" for r in unkeyed]
    finally:
        await db.dispose()
    return problems + await _derived_status_problems(db_url)


GONE = "('SHIPPED','IN_TRANSIT','OUT_FOR_DELIVERY','DELIVERY_FAILED','DELIVERED')"


async def _lifecycle_problems(conn) -> list[str]:
    """Units that left a location left the books exactly once; receipts hold their backorders."""
    problems = []
    sales = (await conn.execute(sa.text(
        "SELECT sku, location, reason FROM inventory_ledger "
        "WHERE reason IN ('SHIPPED','PICKED_UP') AND on_hand_delta != reserved_delta"))).all()
    problems += [f"a sale that did not take onHand and reserved down together: {tuple(r)}"
                 for r in sales]
    consumed = {(r[0], r[1]): -r[2] for r in (await conn.execute(sa.text(
        "SELECT sku, location, SUM(on_hand_delta) FROM inventory_ledger "
        "WHERE reason IN ('SHIPPED','PICKED_UP') GROUP BY sku, location"))).all()}
    gone = {(r[0], r[1]): r[2] for r in (await conn.execute(sa.text(
        "SELECT fl.sku, f.location, SUM(fl.quantity) FROM fulfillment_lines fl "
        f"JOIN fulfillments f ON f.id = fl.fulfillment_id WHERE f.status IN {GONE} "
        "GROUP BY fl.sku, f.location"))).all()}
    for key in set(consumed) | set(gone):
        if consumed.get(key, 0) != gone.get(key, 0):
            problems.append(f"{gone.get(key, 0)} units left {key} in parcels but the ledger "
                            f"took {consumed.get(key, 0)} off onHand")
    receipts = (await conn.execute(sa.text(
        "SELECT i.id, i.allocated, COALESCE(SUM(ol.backordered), 0) FROM incoming i "
        "LEFT JOIN order_lines ol ON ol.incoming_id = i.id WHERE i.received_at IS NULL "
        "GROUP BY i.id, i.allocated HAVING i.allocated != COALESCE(SUM(ol.backordered), 0)"
    ))).all()
    problems += [f"receipt promises {r[1]} units but lines wait for {r[2]}: {r[0]}"
                 for r in receipts]
    return problems


async def _payment_problems(conn) -> list[str]:
    """SPEC's Payment: captured <= authorized, refunded <= captured, and one capture per
    fulfillment however often it was asked for (a capture's claim counts while it is out)."""
    moved = (await conn.execute(sa.text(
        "SELECT o.number, p.authorized_minor, "
        "COALESCE(SUM(CASE WHEN t.kind = 'CAPTURE' THEN t.amount_minor END), 0), "
        "COALESCE(SUM(CASE WHEN t.kind = 'CAPTURE' AND t.status = 'SUCCEEDED' "
        "THEN t.amount_minor END), 0), "
        "COALESCE(SUM(CASE WHEN t.kind = 'REFUND' AND t.status = 'SUCCEEDED' "
        "THEN t.amount_minor END), 0) "
        "FROM payments p JOIN orders o ON o.id = p.order_id "
        "LEFT JOIN payment_transactions t ON t.order_id = p.order_id "
        "GROUP BY o.number, p.authorized_minor"))).all()
    moved = [(r[0], *map(int, r[1:])) for r in moved]  # PostgreSQL sums bigints as numeric
    problems = [f"{r[0]} claims captures of {r[2]} against {r[1]} authorized"
                for r in moved if r[2] > r[1]]
    problems += [f"{r[0]} refunded {r[4]} of {r[3]} captured" for r in moved if r[4] > r[3]]
    twice = (await conn.execute(sa.text(
        "SELECT fulfillment_id, COUNT(*) FROM payment_transactions "
        "WHERE kind = 'CAPTURE' AND fulfillment_id IS NOT NULL "
        "GROUP BY fulfillment_id HAVING COUNT(*) > 1"))).all()
    problems += [f"fulfillment {r[0]} has {r[1]} captures" for r in twice]
    return problems


async def _return_problems(conn) -> list[str]:
    """Returns take back no more than was delivered, refund no more than was paid, and the
    units counted returned on a line are the ones received in some condition."""
    problems = []
    overpaid = (await conn.execute(sa.text(
        "SELECT o.number, o.total_minor, SUM(r.amount_minor) FROM refunds r "
        "JOIN orders o ON o.id = r.order_id GROUP BY o.number, o.total_minor "
        "HAVING SUM(r.amount_minor) > o.total_minor"))).all()
    problems += [f"{r[0]} refunded {r[2]} of {r[1]} paid" for r in overpaid]
    unsettled = (await conn.execute(sa.text(
        "SELECT rt.number FROM refunds r JOIN returns rt ON rt.id = r.return_id "
        "WHERE r.reference IS NULL AND rt.status IN ('REFUNDED', 'CREDITED')"))).all()
    problems += [f"return {r[0]} is settled with a refund still pending" for r in unsettled]
    too_many = (await conn.execute(sa.text(
        "SELECT ol.id, ol.quantity - ol.cancelled, SUM(rl.quantity) FROM return_lines rl "
        "JOIN returns rt ON rt.id = rl.return_id JOIN order_lines ol ON ol.id = rl.order_line_id "
        "WHERE rt.status != 'REJECTED' GROUP BY ol.id, ol.quantity, ol.cancelled "
        "HAVING SUM(rl.quantity) > ol.quantity - ol.cancelled"))).all()
    problems += [f"line {r[0]}: {r[2]} units in returns of {r[1]}" for r in too_many]
    received = (await conn.execute(sa.text(
        "SELECT ol.id, ol.returned, COALESCE(SUM(rl.restocked + rl.written_off), 0) "
        "FROM order_lines ol LEFT JOIN return_lines rl ON rl.order_line_id = ol.id "
        "GROUP BY ol.id, ol.returned "
        "HAVING ol.returned != COALESCE(SUM(rl.restocked + rl.written_off), 0)"))).all()
    problems += [f"line {r[0]} counts {r[1]} returned but {r[2]} were received" for r in received]
    # (a kit comes back as its components: those are checked through conservation only)
    restocked = (await conn.execute(sa.text(
        "SELECT rt.number, rl.sku, SUM(rl.restocked), (SELECT COALESCE(SUM(g.on_hand_delta), 0) "
        "FROM inventory_ledger g WHERE g.reference = rt.number AND g.sku = rl.sku "
        "AND g.reason = 'RETURN_RESTOCK') FROM returns rt "
        "JOIN return_lines rl ON rl.return_id = rt.id "
        "WHERE rl.sku NOT IN (SELECT kit FROM kit_components) GROUP BY rt.number, rl.sku"))).all()
    problems += [f"return {r[0]} restocked {r[2]} × {r[1]} but the ledger took {r[3]}"
                 for r in restocked if r[2] != r[3]]
    return problems


async def _derived_status_problems(db_url: str) -> list[str]:
    """Stored line and order statuses are what the status machines derive from the units."""
    from domain.orders import lifecycle
    from persistence.reads import SqlReader

    db = Database(db_url)
    try:
        found = await SqlReader(db).orders_where(sa.true())
    finally:
        await db.dispose()
    problems = []
    for order in found:
        units = lifecycle.line_units(order)
        for line in order.lines:
            u = units[line.id]
            if u.unallocated < 0:
                problems.append(f"{order.number} {line.sku}: more units placed than ordered")
            if line.status != lifecycle.derive_line_status(u):
                problems.append(f"{order.number} {line.sku}: line {line.status} but its units "
                                f"say {lifecycle.derive_line_status(u)}")
        derived = lifecycle.derive_order_status(lifecycle.order_units(order),
                                                on_hold=order.hold_reason is not None)
        # COMPLETED is the one status not derived from units: the timer's, with its reason
        completed = (order.status is lifecycle.O.COMPLETED and derived is lifecycle.O.DELIVERED
                     and any(t.type == "ORDER_COMPLETED" for t in order.timeline))
        if order.status != derived and not completed:
            problems.append(f"{order.number} is {order.status} but its units say {derived}")
    return problems


async def count_rows(db_url: str, *tables: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        async with db.reader.connect() as conn:
            return {t: (await conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}"))).scalar_one()
                    for t in tables}
    finally:
        await db.dispose()
