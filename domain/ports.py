"""Every context's ports in one place: what an adapter must implement to serve them all.

Each context declares, in its own `ports` module, the narrow unit of work and reader its use
cases need (structural protocols: an adapter satisfies them by having the methods). The ones
here are their union — what persistence implements once and the composition root hands out —
so a type checker proves that the SQL and in-memory stores serve every use case. No context
imports this module (only domain/application.py, above them all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.catalog import ports as catalog
from domain.checkout import ports as checkout
from domain.fulfillment import ports as fulfillment
from domain.inventory import ports as inventory
from domain.kernel.ports import Clock, IdempotencyRecord, Page, Transaction
from domain.payments import ports as payments
from domain.returns import ports as returns
from domain.service_desk import ports as service_desk
from domain.sourcing import ports as sourcing

__all__ = ["Clock", "IdempotencyRecord", "Page", "Reader", "Transaction", "UnitOfWork",
           "UnitOfWorkFactory"]


class UnitOfWork(returns.UnitOfWork, fulfillment.UnitOfWork, service_desk.UnitOfWork,
                 checkout.UnitOfWork, sourcing.UnitOfWork, inventory.UnitOfWork,
                 catalog.UnitOfWork, Protocol):
    """One write transaction with every repository."""


class Reader(returns.Reader, fulfillment.Reader, sourcing.Reader, checkout.Reader,
             payments.Reader, Protocol):
    """Every read a use case makes outside a write transaction."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
