"""Idempotency keys: claimed once, in the transaction that uses them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.kernel.ports import IdempotencyRecord
from persistence.tables import IdempotencyRow, table

_KEYS = table(IdempotencyRow)
CLAIM_KEY = {  # by "is PostgreSQL"
    pg: dialect.insert(_KEYS).values(
        key=sa.bindparam("key"), fingerprint=sa.bindparam("fingerprint"),
        order_id=sa.bindparam("order_id"), created_at=sa.bindparam("created_at"),
    ).on_conflict_do_nothing().returning(_KEYS.c.key)
    for pg, dialect in ((True, postgresql), (False, sqlite))}


class SqlIdempotencyRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        # On PostgreSQL a concurrent insert of the same key waits here until the other
        # transaction ends; then either we own the key or we read the committed winner.
        stmt = CLAIM_KEY[self.conn.dialect.name == "postgresql"]
        if (await self.conn.execute(stmt, {
                "key": record.key, "fingerprint": record.fingerprint,
                "order_id": record.order_id, "created_at": self.now})).first() is not None:
            return None
        row = (await self.conn.execute(sa.select(IdempotencyRow).where(
            col(IdempotencyRow.key) == record.key))).one()
        return IdempotencyRecord(row.key, row.fingerprint, row.order_id)
