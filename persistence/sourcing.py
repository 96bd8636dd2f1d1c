"""Sourcing storage: policies (versioned), decisions (as JSON), downtime, daily load."""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from domain.catalog import Location
from domain.kernel.retry import Stale
from domain.orders import FulfillmentStatus, Order
from domain.sourcing import Decision
from domain.sourcing import policy as policies
from domain.sourcing.policy import ANY_CHANNEL, BUILT_IN, SourcingPolicy
from domain.sourcing.ports import RecordedDecision
from domain.sourcing.shipping import Downtime, zone
from persistence import codec
from persistence.db import insert_for
from persistence.tables import (
    FulfillmentRow,
    LocationDowntimeRow,
    LocationLoadRow,
    OrderRow,
    SourcingDecisionRow,
    SourcingPolicyRow,
    UtcDateTime,
    table,
)

P = table(SourcingPolicyRow).c
D = table(SourcingDecisionRow).c
W = table(LocationDowntimeRow).c
LOAD = table(LocationLoadRow).c


def _policy(row: Any) -> SourcingPolicy:
    return policies.from_dict(json.loads(row.body), channel=row.channel, version=row.version,
                              created_at=row.created_at, created_by=row.created_by)


def _current(channels: list[str] | sa.BindParameter[Any] | sa.Select[Any]
             ) -> sa.Select[SourcingPolicyRow]:
    latest = sa.select(P.channel, sa.func.max(P.version).label("version")).where(
        P.channel.in_(channels)).group_by(P.channel).subquery()
    return sa.select(SourcingPolicyRow).join(
        latest, sa.and_(P.channel == latest.c.channel, P.version == latest.c.version))


CURRENT_POLICIES = _current(sa.bindparam("channels", expanding=True))
_DOWNTIME = sa.select(table(LocationDowntimeRow)).where(
    W.location.in_(sa.bindparam("codes", expanding=True)))
DOWNTIME = _DOWNTIME.order_by(W.starts_at)
DOWNTIME_NOT_OVER = _DOWNTIME.where(W.ends_at > sa.bindparam("now", type_=UtcDateTime())
                                    ).order_by(W.starts_at)


SAVE_DECISION = sa.insert(table(SourcingDecisionRow)).from_select(
    ["id", "order_id", "sequence", "kind", "policy_channel", "policy_version", "strategy", "body",
     "decided_at"],
    sa.select(sa.bindparam("d_id", type_=sa.String()),
              sa.bindparam("d_order_id", type_=sa.String()),
              sa.func.coalesce(sa.func.max(D.sequence), 0) + 1,
              sa.bindparam("d_kind", type_=sa.String()),
              sa.bindparam("d_policy_channel", type_=sa.String()),
              sa.bindparam("d_policy_version", type_=sa.Integer()),
              sa.bindparam("d_strategy", type_=sa.String()),
              sa.bindparam("d_body", type_=sa.String()),
              sa.bindparam("d_decided_at", type_=UtcDateTime()),
              ).where(D.order_id == sa.bindparam("d_of_order")))


async def sourcing_state(conn: AsyncConnection, channel: str, locations: dict[str, Location],
                         now: datetime | None
                         ) -> tuple[SourcingPolicy, dict[str, list[Downtime]], dict[str, int]]:
    """The channel's policy, downtime not over at `now`, and today's load per location."""
    rows = {r.channel: r for r in (await conn.execute(
        CURRENT_POLICIES, {"channels": [channel, ANY_CHANNEL]})).all()}
    found = rows.get(channel) or rows.get(ANY_CHANNEL)
    codes = sorted(locations)
    stmt, params = (DOWNTIME, {"codes": codes}) if now is None else (
        DOWNTIME_NOT_OVER, {"codes": codes, "now": now})
    downtime: dict[str, list[Downtime]] = {}
    for r in (await conn.execute(stmt, params)).all():
        downtime.setdefault(r.location, []).append(
            Downtime(r.id, r.location, r.starts_at, r.ends_at, r.reason))
    load: dict[str, int] = {}
    keys = [(code, now.astimezone(zone(loc.time_zone)).date().isoformat())
            for code, loc in locations.items()
            if loc.daily_capacity is not None] if now is not None else []
    if keys:
        load = {r.location: r.assigned for r in (await conn.execute(
            sa.select(LOAD.location, LOAD.assigned).where(
                sa.tuple_(LOAD.location, LOAD.day).in_(keys)))).all()}
    return (_policy(found) if found else BUILT_IN), downtime, load


class SourcingReads:
    """Read queries of the sourcing area, mixed into `persistence.reads.SqlReader`."""

    def _connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # provided by SqlReader

    async def order_by_id(self, order_id: str) -> Order | None: ...  # provided by SqlReader

    async def sourcing_policies(self, *, channel: str | None,
                                history: bool) -> list[SourcingPolicy]:
        async with self._connect() as conn:
            if history:
                where = [P.channel == channel] if channel else []
                stmt = sa.select(SourcingPolicyRow).where(*where)
            else:
                names = [channel] if channel else sa.select(P.channel).distinct()
                stmt = _current(names)
            rows = (await conn.execute(stmt.order_by(P.channel, P.version.desc()))).all()
        return [_policy(r) for r in rows]

    async def sourcing_decisions(self, number: str) -> list[RecordedDecision]:
        async with self._connect() as conn:
            rows = (await conn.execute(
                sa.select(col(SourcingDecisionRow.id), col(SourcingDecisionRow.kind),
                          col(SourcingDecisionRow.body))
                .join(OrderRow, col(OrderRow.id) == col(SourcingDecisionRow.order_id))
                .where(col(OrderRow.number) == number)
                .order_by(D.sequence.desc()))).all()
        return [RecordedDecision(r.id, number, r.kind, codec.decision_from_json(r.body))
                for r in rows]

    async def order_by_fulfillment(self, fulfillment_id: str) -> Order | None:
        async with self._connect() as conn:
            order_id = (await conn.execute(sa.select(col(FulfillmentRow.order_id)).where(
                col(FulfillmentRow.id) == fulfillment_id))).scalar_one_or_none()
        return None if order_id is None else await self.order_by_id(order_id)

    async def fulfillments_at(self, location: str,
                              statuses: tuple[FulfillmentStatus, ...]) -> list[str]:
        """Ids of a location's fulfillments in these statuses, oldest first."""
        async with self._connect() as conn:
            return list((await conn.execute(sa.select(col(FulfillmentRow.id)).where(
                col(FulfillmentRow.location) == location,
                col(FulfillmentRow.status).in_([s.value for s in statuses])).order_by(
                col(FulfillmentRow.created_at), col(FulfillmentRow.id)))).scalars().all())

    async def downtime(self, location: str, *, now: datetime) -> list[Downtime]:
        async with self._connect() as conn:
            rows = (await conn.execute(sa.select(LocationDowntimeRow).where(
                W.location == location, W.ends_at > now).order_by(W.starts_at))).all()
        return [Downtime(r.id, r.location, r.starts_at, r.ends_at, r.reason) for r in rows]


class SqlSourcingRepository:
    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.conn, self.now = conn, now

    async def save_policy(self, policy: SourcingPolicy) -> SourcingPolicy:
        body = json.dumps(policies.to_dict(policy), sort_keys=True)
        latest = (await self.conn.execute(sa.select(sa.func.max(P.version)).where(
            P.channel == policy.channel))).scalar_one_or_none() or 0
        stmt = insert_for(self.conn, table(SourcingPolicyRow)).values(
            channel=policy.channel, version=latest + 1, strategy=policy.strategy.value,
            body=body, created_at=policy.created_at or self.now,
            created_by=policy.created_by or "system").on_conflict_do_nothing()
        if (await self.conn.execute(stmt.returning(P.version))).first() is None:
            # another version of this channel's policy took the number first: the one retry
            # layer runs the use case again, which numbers it after that one
            raise Stale("another version of this channel's policy was saved at the same "
                        "moment; try again")
        return policies.from_dict(json.loads(body), channel=policy.channel,
                                  version=latest + 1, created_at=policy.created_at,
                                  created_by=policy.created_by)

    async def save_decision(self, *, order_id: str, kind: str, decision: Decision) -> str:
        # numbered per order in the same statement: 1 for the placement, then one more each time
        decision_id = str(uuid.uuid4())
        await self.conn.execute(SAVE_DECISION, {
            "d_id": decision_id, "d_order_id": order_id, "d_of_order": order_id, "d_kind": kind,
            "d_policy_channel": decision.policy_channel,
            "d_policy_version": decision.policy_version, "d_strategy": decision.strategy.value,
            "d_body": codec.decision_to_json(decision), "d_decided_at": decision.decided_at})
        return decision_id

    async def claim_capacity(self, location: str, day: str, capacity: int) -> bool:
        if capacity < 1:
            return False
        stmt = insert_for(self.conn, table(LocationLoadRow)).values(
            location=location, day=day, assigned=1)
        upsert = stmt.on_conflict_do_update(
            index_elements=["location", "day"], set_={"assigned": LOAD.assigned + 1},
            where=LOAD.assigned < capacity).returning(LOAD.assigned)
        return (await self.conn.execute(upsert)).first() is not None

    async def add_downtime(self, window: Downtime, *, actor: str) -> None:
        await self.conn.execute(sa.insert(table(LocationDowntimeRow)).values(
            id=window.id, location=window.location, starts_at=window.starts_at,
            ends_at=window.ends_at, reason=window.reason, created_by=actor,
            created_at=self.now))
