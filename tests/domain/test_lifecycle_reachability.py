"""Every status change any operation can cause is an edge of the machines' tables.

Starting from orders as placement leaves them (split, backordered, pickup), every operation
is applied in every reachable state; a refusal must come from the operation's own checks
(before it changed anything), never from a derived status missing from a table.
"""

from __future__ import annotations

import copy
import functools
from collections import deque

import pytest

from domain import service_desk
from domain.fulfillment import fulfilling, scans
from domain.kernel import errors
from domain.orders import DeliveryMethod, Order, TrackingScan, TrackingStatus, lifecycle
from domain.orders import OrderStatus as O
from tests.domain.order_builders import later, order

# the scans that can move a status (the others are stored only)
SCANS = [TrackingStatus.PICKED_UP, TrackingStatus.OUT_FOR_DELIVERY,
         TrackingStatus.DELIVERY_FAILED, TrackingStatus.DELIVERED]
COMMANDS = [fulfilling.Accept(), fulfilling.Reject("NO"), fulfilling.Pick(), fulfilling.Pack(),
            fulfilling.Ship("BRT", "1"), fulfilling.MarkReadyForPickup(),
            fulfilling.ConfirmPickup()]


def _operations(o: Order) -> list:
    ops: list = []
    for f in o.fulfillments:
        ops += [lambda x, f=f, c=c: fulfilling.work(x, f.id, c, actor="s", at=later(1))
                for c in COMMANDS]
        ops += [lambda x, f=f, st=st: scans.record_scan(
            x, f.id, TrackingScan(st, later(len(x.timeline)), later(1)), actor="c")
            for st in SCANS]
    ops.append(lambda x: service_desk.cancel(x, skus=None, reason="R", actor="a", at=later(1)))
    for line in o.lines:
        ops.append(lambda x, s=line.sku: service_desk.cancel(x, skus=[s], reason="R",
                                                               actor="a", at=later(1)))
        if line.backordered:
            ops.append(lambda x, i=line.id: fulfilling.allocate_backorder(
                x, i, units=1, location="W", fulfillment_id=f"n{len(x.fulfillments)}",
                actor="s", at=later(1)))
    ops.append(lambda x: service_desk.hold(x, reason="R", actor="a", at=later(1)))
    ops.append(lambda x: service_desk.release_hold(x, reason=None, actor="a", at=later(1)))
    ops.append(lambda x: lifecycle.complete(x, "window closed", actor="system", at=later(1)))
    return ops


def _key(o: Order) -> tuple:
    return (o.status, o.hold_reason is not None,
            tuple((f.status, tuple(sorted((fl.sku, fl.units) for fl in f.lines)))
                  for f in o.fulfillments),
            tuple((ln.status, ln.cancelled, ln.backordered) for ln in o.lines))


@functools.cache
def _explored(name: str) -> tuple[int, set, list]:
    return _explore(STARTS[name][0]())


def _explore(start: Order) -> tuple[int, set, list]:
    seen, queue, edges, holes = {_key(start)}, deque([start]), set(), []
    while queue:
        current = queue.popleft()
        for operation in _operations(current):
            o = copy.deepcopy(current)
            o.timeline.clear()
            o.events.clear()
            before = _key(o)
            try:
                operation(o)
            except errors.DomainError as refused:
                if _key(o) != before:
                    holes.append(refused.message)
                continue
            edges.add((current.status, o.status))
            if _key(o) not in seen and len(o.fulfillments) < 4:
                seen.add(_key(o))
                queue.append(o)
    return len(seen), edges, holes


STARTS = {
    "split": (lambda: order(lines={"A": 2, "B": 1},
                            fulfillments=[("X", {"A": 1, "B": 1}), ("Y", {"A": 1})]), 400),
    "partly backordered": (lambda: order(
        lines={"A": 2, "B": 1}, fulfillments=[("X", {"A": 1, "B": 1})], backordered={"A": 1},
        status=O.PARTIALLY_ALLOCATED), 300),
    "backordered": (lambda: order(lines={"A": 2}, fulfillments=[], backordered={"A": 2},
                                  status=O.BACKORDERED), 150),
    "pickup": (lambda: order(lines={"A": 2, "B": 1},
                             fulfillments=[("ST", {"A": 1, "B": 1}), ("ST", {"A": 1})],
                             method=DeliveryMethod.PICKUP), 200),
}


@pytest.mark.parametrize("name", list(STARTS))
def test_every_reachable_status_change_is_in_the_tables(name):
    states, edges, holes = _explored(name)
    at_least = STARTS[name][1]

    assert holes == []
    assert states >= at_least  # the walk really went places
    for before, after in edges:
        assert before == after or after in lifecycle.ORDER_TRANSITIONS[before], (before, after)


def test_the_walks_reach_every_order_status_of_this_issue():
    reached = set()
    for name in STARTS:
        reached |= {after for _, after in _explored(name)[1]}
    assert reached == set(O) - {O.PARTIALLY_RETURNED, O.RETURNED}
