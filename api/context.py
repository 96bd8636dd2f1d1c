"""Per-request context: the principal, the bound use cases' ports, and fresh DataLoaders."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from domain import access
from domain.access import Principal
from domain.application import Application, Ports
from domain.catalog import Location, Sku
from domain.documents.carriers import Carriers, DemoCarriers
from domain.documents.issuing import DEMO_SELLER, Issued, Seller
from domain.integration.ports import IntegrationStore
from domain.kernel.ports import Clock
from domain.kernel.retry import Retry
from domain.notifications import Notification
from domain.notifications.ports import NotificationStore
from domain.orders import Order
from domain.payments.ports import Providers
from domain.ports import UnitOfWorkFactory
from domain.returns import Return
from domain.returns.payments import RecordingPayments
from domain.returns.ports import PaymentGateway
from domain.service_desk import ServiceDeskPolicy
from domain.sourcing import Sourcer

if TYPE_CHECKING:  # the composition root builds these; the context only carries them
    from api.guard import Guards
    from api.realtime import Realtime
    from persistence.reads import SqlReader


@dataclass(frozen=True)
class Dependencies:
    """The adapters, built once by the composition root (api/bootstrap.py) and shared by
    requests, and the use cases bound to them (`app`, made from these fields: a copy with a
    port replaced — `dataclasses.replace(deps, payments=…)` — binds the use cases anew)."""

    reader: SqlReader  # the API's read side: the domain's reads and the API's own
    uow: UnitOfWorkFactory
    clock: Clock
    sourcer: Sourcer
    retrying: Retry  # the one retry layer
    promise_key: bytes  # seals delivery-promise option ids (see domain/checkout/promise.py)
    payments: PaymentGateway = field(default_factory=RecordingPayments)
    policy: ServiceDeskPolicy = field(default_factory=ServiceDeskPolicy)
    realtime: Realtime | None = None  # live subscriptions
    guards: Guards | None = None  # cost budgets and guest-lookup limits
    label_key: bytes = b""  # signs return-label URLs (see api/labels.py)
    label_ttl: timedelta = timedelta(hours=72)
    integration: IntegrationStore | None = None  # webhook endpoints, consumers' jobs
    providers: Providers | None = None  # payment providers by name
    carriers: Carriers = field(default_factory=DemoCarriers)  # tracking numbers by carrier
    notifications: NotificationStore | None = None  # customer mails written, opt-outs
    document_key: bytes = b""  # signs invoice and credit-note URLs (see api/invoices.py)
    paper_key: bytes = b""  # signs packing-slip and shipping-label URLs (see api/parcels.py)
    pickup_key: bytes = b""  # derives pickup codes (domain/fulfillment/pickup.py)
    seller: Seller = DEMO_SELLER  # named on invoices and credit notes
    app: Application = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "app", Application(Ports(
            reader=self.reader, uow=self.uow, clock=self.clock, sourcer=self.sourcer,
            retry=self.retrying, promise_key=self.promise_key, payments=self.payments,
            service_desk=self.policy, integration=self.integration,
            providers=self.providers, carriers=self.carriers,
            notifications=self.notifications, seller=self.seller)))


@dataclass
class Loaders:
    """One set per request, so batches never leak between principals."""

    location: DataLoader[str, Location | None]
    order: DataLoader[str, Order | None]  # by id
    order_by_number: DataLoader[str, Order | None]
    sku: DataLoader[str, Sku | None]
    fulfillment_order: DataLoader[str, Order | None]  # a fulfillment's order, by its id
    returns: DataLoader[str, list[Return]]  # by order id
    notifications: DataLoader[str, list[Notification]]  # by order number
    documents: DataLoader[str, list[Issued]]  # invoices and credit notes, by order id


def make_loaders(deps: Dependencies) -> Loaders:
    async def load_locations(codes: list[str]) -> list[Location | None]:
        found = await deps.reader.locations(codes)
        return [found.get(code) for code in codes]

    async def load_orders(ids: list[str]) -> list[Order | None]:
        found = await deps.reader.orders_by_ids(ids)
        return [found.get(i) for i in ids]

    async def load_orders_by_number(numbers: list[str]) -> list[Order | None]:
        found = await deps.reader.orders_by_number(numbers)
        return [found.get(n) for n in numbers]

    async def load_skus(codes: list[str]) -> list[Sku | None]:
        found = await deps.reader.skus(codes)
        return [found.get(code) for code in codes]

    async def load_fulfillment_orders(ids: list[str]) -> list[Order | None]:
        found = await deps.reader.orders_by_fulfillment(ids)
        return [found.get(i) for i in ids]

    async def load_returns(order_ids: list[str]) -> list[list[Return]]:
        found = await deps.reader.returns_by_order(order_ids)
        return [found.get(i, []) for i in order_ids]

    async def load_notifications(numbers: list[str]) -> list[list[Notification]]:
        if deps.notifications is None:
            return [[] for _ in numbers]
        found = await deps.notifications.for_orders(numbers)
        return [found.get(n, []) for n in numbers]

    async def load_documents(order_ids: list[str]) -> list[list[Issued]]:
        found = await deps.reader.documents_by_order(order_ids)
        return [found.get(i, []) for i in order_ids]

    return Loaders(location=DataLoader(load_fn=load_locations),
                   order=DataLoader(load_fn=load_orders),
                   order_by_number=DataLoader(load_fn=load_orders_by_number),
                   sku=DataLoader(load_fn=load_skus),
                   fulfillment_order=DataLoader(load_fn=load_fulfillment_orders),
                   returns=DataLoader(load_fn=load_returns),
                   notifications=DataLoader(load_fn=load_notifications),
                   documents=DataLoader(load_fn=load_documents))


# A WebSocket connection has one Context for all its operations, each run in a task of its own:
# each operation gets loaders of its own here (api/observability.py sets them as it starts), so
# an operation the client stops mid-load cannot leave another waiting on a batch that will never
# be sent (a cancelled load stays pending in its loader's cache).
_OPERATION_LOADERS: ContextVar[Loaders | None] = ContextVar("operation_loaders", default=None)


@dataclass
class Context:
    principal: Principal
    deps: Dependencies
    shared_loaders: Loaders  # an HTTP request's; a WebSocket operation has its own
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    # WebSocket only: the connection_init payload (strawberry sets it) and why the handshake's
    # own Authorization header, if any, was refused
    connection_params: dict[str, Any] | None = None
    header_error: str | None = None

    @property
    def loaders(self) -> Loaders:
        return _OPERATION_LOADERS.get() or self.shared_loaders

    def operation_loaders(self) -> None:
        """Loaders for the operation running in this task alone (a WebSocket operation)."""
        _OPERATION_LOADERS.set(make_loaders(self.deps))

    def fresh_loaders(self) -> None:
        """Empty loader caches: for each delivery of a long-lived WebSocket context, and for
        each root mutation (api/authorization.py)."""
        if _OPERATION_LOADERS.get() is not None:
            _OPERATION_LOADERS.set(make_loaders(self.deps))
        else:
            self.shared_loaders = make_loaders(self.deps)

    def require(self, capability: str) -> None:
        """Refuse early (before parsing input into domain objects) unless allowed."""
        access.require(self.principal, capability)

    @property
    def app(self) -> Application:
        return self.deps.app
