"""SPEC §3 invariants, checked straight against the database after a test has run."""

from __future__ import annotations

import sqlalchemy as sa

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
            unkeyed = (await conn.execute(sa.text(
                "SELECT o.number FROM orders o LEFT JOIN idempotency_keys k ON k.order_id = o.id "
                "WHERE k.key IS NULL"))).all()
            problems += [f"order without its idempotency record: {r[0]}" for r in unkeyed]
    finally:
        await db.dispose()
    return problems


async def count_rows(db_url: str, *tables: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        async with db.reader.connect() as conn:
            return {t: (await conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}"))).scalar_one()
                    for t in tables}
    finally:
        await db.dispose()
