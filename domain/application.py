"""The use cases, bound once to their ports: what the API, the CLI and the demo call.

The composition root (api/bootstrap.py) builds the adapters once and hands them here as
`Ports`; `Application(ports)` gives one object per context whose methods take only what a
caller knows — the command and who asks. Every write runs under the one retry layer
(`domain.kernel.retry`): a run that lost a race is repeated from its first read, a bounded
number of times. The use-case functions themselves stay plain functions of their ports, so a
test can call them directly with the in-memory stores.

Nothing in the domain imports this module; it may use every context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.access import Principal
from domain.catalog import Address, Channel, ChannelMail, Location, Sku
from domain.catalog import services as catalog
from domain.checkout import delivery_promise, ordering
from domain.documents.carriers import Carriers, DemoCarriers
from domain.documents.issuing import DEMO_SELLER, Seller
from domain.fulfillment import acknowledgement, receiving, resourcing
from domain.fulfillment import services as fulfillment
from domain.fulfillment.fulfilling import Command
from domain.fulfillment.scans import Scanned
from domain.integration import WebhookEndpoint
from domain.integration import services as integration
from domain.integration.ports import IntegrationStore, Job, JobStatus
from domain.inventory import Incoming, InventoryLevel, importing
from domain.inventory import services as inventory
from domain.kernel.ports import Clock, Page
from domain.kernel.retry import Retry
from domain.notifications import Notification
from domain.notifications import services as notifications
from domain.notifications.ports import NotificationStore
from domain.orders import Fulfillment, Order, OrderTag, PlaceOrder, TrackingStatus
from domain.payments import services as payments
from domain.payments.ports import Providers
from domain.ports import Reader, UnitOfWorkFactory
from domain.returns import completion
from domain.returns import requests as return_requests
from domain.returns import services as returns
from domain.returns.ports import PaymentGateway
from domain.service_desk import ServiceDeskPolicy
from domain.service_desk import services as service_desk
from domain.sourcing import Decision, Sourcer
from domain.sourcing import services as sourcing
from domain.sourcing.policy import SourcingPolicy
from domain.sourcing.ports import RecordedDecision
from domain.sourcing.shipping import Downtime


@dataclass(frozen=True, slots=True)
class Ports:
    """The adapters, built once by the composition root."""

    reader: Reader
    uow: UnitOfWorkFactory
    clock: Clock
    sourcer: Sourcer
    retry: Retry
    promise_key: bytes  # seals delivery-promise option ids (see checkout/promise.py)
    payments: PaymentGateway
    service_desk: ServiceDeskPolicy = field(default_factory=ServiceDeskPolicy)
    integration: IntegrationStore | None = None  # webhook endpoints, consumers' jobs
    providers: Providers | None = None  # payment providers by name (placeOrder's `payment`)
    # tracking numbers by carrier code; every carrier is the demo one until real adapters exist
    carriers: Carriers = field(default_factory=DemoCarriers)
    notifications: NotificationStore | None = None  # customer mails written and opt-outs
    seller: Seller = DEMO_SELLER  # who invoices and credit notes name as the seller


class CatalogUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def upsert_locations(self, locations: list[Location], *,
                               principal: Principal) -> list[Location]:
        return await self.p.retry(lambda: catalog.upsert_locations(
            self.p.uow, locations, principal=principal, clock=self.p.clock))

    async def upsert_skus(self, skus: list[Sku], *, principal: Principal) -> list[Sku]:
        return await self.p.retry(lambda: catalog.upsert_skus(
            self.p.uow, skus, principal=principal, clock=self.p.clock))

    async def update_channel(self, code: str, *, payment_required: bool | None,
                             principal: Principal, mail: ChannelMail | None = None) -> Channel:
        return await self.p.retry(lambda: catalog.update_channel(
            self.p.uow, code, payment_required=payment_required, principal=principal,
            mail=mail))


class InventoryUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def set_levels(self, snapshot: list[inventory.LevelSnapshot], *, reason: str,
                         principal: Principal) -> list[InventoryLevel]:
        return await self.p.retry(lambda: inventory.set_inventory(
            self.p.uow, snapshot, reason=reason, principal=principal, clock=self.p.clock))

    async def adjust(self, *, sku: str, location: str, delta: int, reason: str,
                     reference: str | None, principal: Principal) -> InventoryLevel:
        return await self.p.retry(lambda: inventory.adjust_inventory(
            self.p.uow, sku=sku, location=location, delta=delta, reason=reason,
            reference=reference, principal=principal, clock=self.p.clock))

    async def expect_incoming(self, *, sku: str, location: str, quantity: int,
                              expected_at: datetime, reference: str | None,
                              principal: Principal) -> Incoming:
        return await self.p.retry(lambda: inventory.expect_incoming(
            self.p.uow, sku=sku, location=location, quantity=quantity,
            expected_at=expected_at, reference=reference, principal=principal,
            clock=self.p.clock))

    async def receive_incoming(self, incoming_id: str, *, quantity: int | None,
                               principal: Principal) -> receiving.Receipt:
        return await self.p.retry(lambda: receiving.receive_incoming(
            self.p.uow, incoming_id, quantity=quantity, principal=principal,
            clock=self.p.clock))

    async def import_levels(self, rows: list[tuple[int, inventory.LevelSnapshot]], *,
                            reason: str,
                            principal: Principal, dry_run: bool) -> importing.BatchResult:
        return await self.p.retry(lambda: importing.import_levels(
            self.p.uow, rows, reason=reason, principal=principal, clock=self.p.clock,
            dry_run=dry_run))

    async def import_skus(self, rows: list[tuple[int, Sku]], *, principal: Principal,
                          dry_run: bool) -> importing.BatchResult:
        return await self.p.retry(lambda: importing.import_skus(
            self.p.uow, rows, principal=principal, clock=self.p.clock, dry_run=dry_run))


class CheckoutUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def delivery_promise(self, query: delivery_promise.PromiseQuery, *,
                               principal: Principal) -> delivery_promise.Promise:
        return await delivery_promise.delivery_promise(
            self.p.reader, query, principal=principal, clock=self.p.clock,
            sourcer=self.p.sourcer, key=self.p.promise_key)

    async def place_order(self, command: PlaceOrder, *, principal: Principal,
                          seen_locations: Callable[[dict[str, Location]], None] | None = None
                          ) -> Order:
        return await self.p.retry(lambda: ordering.place_order(
            self.p.reader, self.p.uow, command, principal=principal, clock=self.p.clock,
            sourcer=self.p.sourcer, promise_key=self.p.promise_key,
            providers=self.p.providers, seen_locations=seen_locations))


class SourcingUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def upsert_policy(self, policy: SourcingPolicy, *,
                            principal: Principal) -> SourcingPolicy:
        return await self.p.retry(lambda: sourcing.upsert_policy(
            self.p.uow, policy, principal=principal, clock=self.p.clock))

    async def policies(self, *, principal: Principal, channel: str | None,
                       history: bool) -> list[SourcingPolicy]:
        return await sourcing.policies(self.p.reader, principal=principal, channel=channel,
                                       history=history)

    async def decisions(self, number: str, *, principal: Principal) -> list[RecordedDecision]:
        return await sourcing.decisions_for(self.p.reader, number, principal=principal)

    async def simulate(self, sim: sourcing.Simulation, *, principal: Principal) -> Decision:
        return await sourcing.simulate(self.p.reader, sim, principal=principal,
                                       clock=self.p.clock, sourcer=self.p.sourcer)

    async def downtime_of(self, location: str, *, principal: Principal) -> list[Downtime]:
        return await sourcing.downtime_of(self.p.reader, location, principal=principal,
                                          clock=self.p.clock)

    async def take_down(self, *, location: str, starts_at: datetime, ends_at: datetime,
                        reason: str, principal: Principal) -> tuple[Downtime, int]:
        """Schedule downtime, and re-source the work the location has not accepted yet."""
        return await resourcing.take_down(
            self.p.reader, self.p.uow, location=location, starts_at=starts_at,
            ends_at=ends_at, reason=reason, principal=principal, clock=self.p.clock,
            sourcer=self.p.sourcer, run=self.p.retry)


class FulfillmentUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def work_on(self, fulfillment_id: str, command: Command, *,
                      principal: Principal) -> tuple[Order, Fulfillment]:
        return await self.p.retry(lambda: fulfillment.work_on(
            self.p.uow, fulfillment_id, command, principal=principal, clock=self.p.clock))

    async def record_tracking_event(self, fulfillment_id: str, *, status: TrackingStatus,
                                    at: datetime, location: str | None,
                                    description: str | None,
                                    expected_delivery: datetime | None,
                                    principal: Principal) -> Scanned:
        return await self.p.retry(lambda: fulfillment.record_tracking_event(
            self.p.uow, fulfillment_id, status=status, at=at, location=location,
            description=description, principal=principal, clock=self.p.clock,
            expected_delivery=expected_delivery))

    async def reject(self, fulfillment_id: str, *, reason: str, principal: Principal,
                     permission: str = "fulfillments.resource") -> resourcing.Resourced:
        """The location will not do the work: re-source it to the next best plan."""
        return await self.p.retry(lambda: resourcing.resource_fulfillment(
            self.p.reader, self.p.uow, fulfillment_id, reason=reason, principal=principal,
            clock=self.p.clock, sourcer=self.p.sourcer, permission=permission))

    async def reroute(self, fulfillment_id: str, *, to: str | None, reason: str,
                      principal: Principal) -> resourcing.Resourced:
        return await self.p.retry(lambda: resourcing.reroute_fulfillment(
            self.p.reader, self.p.uow, fulfillment_id, to=to, reason=reason,
            principal=principal, clock=self.p.clock, sourcer=self.p.sourcer))

    async def expire_unacknowledged(self, *, limit: int = acknowledgement.BATCH) -> int:
        """A timer's: re-source work THIRD_PARTY locations did not accept within their
        acknowledgement window (as the system); how many fulfillments were re-sourced."""
        return await acknowledgement.expire_unacknowledged(
            self.p.reader, self.p.uow, clock=self.p.clock, sourcer=self.p.sourcer,
            run=self.p.retry, limit=limit)


class ServiceDeskUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def cancel(self, number: str, *, skus: list[str] | None, reason: str,
                     principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.cancel_order(
            self.p.uow, number, skus=skus, reason=reason, principal=principal,
            clock=self.p.clock, policy=self.p.service_desk))

    async def hold(self, number: str, *, reason: str, principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.hold_order(
            self.p.uow, number, reason=reason, principal=principal, clock=self.p.clock))

    async def release(self, number: str, *, reason: str | None,
                      principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.release_order(
            self.p.uow, number, reason=reason, principal=principal, clock=self.p.clock))

    async def update_shipping_address(self, number: str, address: Address, *,
                                      principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.update_shipping_address(
            self.p.uow, number, address, principal=principal, clock=self.p.clock))

    async def add_note(self, number: str, text: str, *, principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.add_order_note(
            self.p.uow, number, text, principal=principal, clock=self.p.clock))

    async def retag(self, number: str, *, add: frozenset[OrderTag],
                    remove: frozenset[OrderTag], principal: Principal) -> Order:
        return await self.p.retry(lambda: service_desk.retag_order(
            self.p.uow, number, add=add, remove=remove, principal=principal,
            clock=self.p.clock))


class ReturnsUseCases:
    def __init__(self, p: Ports) -> None:
        self.p = p

    async def eligibility(self, number: str, *, email: str | None,
                          principal: Principal) -> returns.Eligibility | None:
        return await returns.return_eligibility(self.p.reader, number, email=email,
                                                principal=principal, clock=self.p.clock)

    async def request(self, command: return_requests.RequestReturn, *,
                      principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.request_return(
            self.p.reader, self.p.uow, command, principal=principal, clock=self.p.clock,
            sourcer=self.p.sourcer, promise_key=self.p.promise_key, carriers=self.p.carriers))

    async def approve(self, number: str, *, principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.approve_return(
            self.p.uow, number, principal=principal, clock=self.p.clock))

    async def close(self, number: str, *, principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.close_return(
            self.p.uow, number, principal=principal, clock=self.p.clock))

    async def reject(self, number: str, *, reason: str,
                     principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.reject_return(
            self.p.uow, number, reason=reason, principal=principal, clock=self.p.clock))

    async def mark_in_transit(self, number: str, *, principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.mark_in_transit(
            self.p.uow, number, principal=principal, clock=self.p.clock))

    async def receive(self, number: str, counts: dict[str, tuple[int, int]], *,
                      principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.receive_return(
            self.p.uow, number, counts, principal=principal, clock=self.p.clock))

    async def refund(self, number: str, *, amount: Decimal | None,
                     principal: Principal) -> returns.ReturnView:
        return await self.p.retry(lambda: returns.refund_return(
            self.p.uow, self.p.payments, number, amount=amount, principal=principal,
            clock=self.p.clock, providers=self.p.providers, seller=self.p.seller))

    async def complete_due(self, *, limit: int = completion.BATCH) -> int:
        """A timer's: move DELIVERED orders whose return window has closed with no return
        open to COMPLETED (as the system); how many were completed."""
        return await completion.complete_due(self.p.reader, self.p.uow, clock=self.p.clock,
                                             run=self.p.retry, limit=limit)


class IntegrationUseCases:
    """Webhook endpoints, their delivery log, parked events (each call one short transaction
    of the integration store; nothing here races with an order)."""

    def __init__(self, p: Ports) -> None:
        self.p = p

    @property
    def store(self) -> IntegrationStore:
        if self.p.integration is None:
            raise RuntimeError("no integration store is bound")
        return self.p.integration

    async def create_endpoint(self, *, url: str, event_types: list[str],
                              description: str | None, principal: Principal
                              ) -> tuple[WebhookEndpoint, str]:
        return await integration.create_endpoint(
            self.store, url=url, event_types=event_types, description=description,
            principal=principal, clock=self.p.clock)

    async def update_endpoint(self, endpoint_id: str, change: integration.EndpointChange, *,
                              principal: Principal) -> WebhookEndpoint:
        return await integration.update_endpoint(self.store, endpoint_id, change,
                                                 principal=principal, clock=self.p.clock)

    async def rotate_secret(self, endpoint_id: str, *, principal: Principal
                            ) -> tuple[WebhookEndpoint, str]:
        return await integration.rotate_secret(self.store, endpoint_id, principal=principal,
                                               clock=self.p.clock)

    async def delete_endpoint(self, endpoint_id: str, *, principal: Principal) -> str:
        return await integration.delete_endpoint(self.store, endpoint_id, principal=principal)

    async def endpoints(self, *, principal: Principal) -> list[WebhookEndpoint]:
        return await integration.endpoints(self.store, principal=principal)

    async def deliveries(self, endpoint_id: str, *, statuses: list[JobStatus],
                         first: int | None, after: str | None,
                         principal: Principal) -> Page[Job]:
        return await integration.deliveries(self.store, endpoint_id, statuses=statuses,
                                            first=first, after=after, principal=principal)

    async def redeliver(self, endpoint_id: str, *, ids: list[str] | None,
                        since: datetime | None, principal: Principal) -> int:
        return await integration.redeliver(self.store, endpoint_id, ids=ids, since=since,
                                           principal=principal, clock=self.p.clock)

    async def parked(self, *, consumer: str | None, first: int | None,
                     after: str | None) -> Page[Job]:
        return await integration.parked(self.store, consumer=consumer, first=first,
                                        after=after)

    async def retry_parked(self, *, consumer: str, ids: list[str]) -> int:
        return await integration.retry_parked(self.store, consumer=consumer, ids=ids,
                                              clock=self.p.clock)

    async def skip_parked(self, *, consumer: str, ids: list[str]) -> int:
        return await integration.skip_parked(self.store, consumer=consumer, ids=ids,
                                             clock=self.p.clock)


class PaymentUseCases:
    """Money an order is due to move, asked of its provider with no transaction open."""

    def __init__(self, p: Ports) -> None:
        self.p = p

    @property
    def providers(self) -> Providers:
        if self.p.providers is None:
            raise RuntimeError("no payment providers are bound")
        return self.p.providers

    async def settle(self, number: str) -> Order | None:
        return await self.p.retry(lambda: payments.settle(
            self.p.uow, self.providers, number, clock=self.p.clock, seller=self.p.seller))

    async def retry_capture(self, number: str, *, principal: Principal) -> Order:
        order = await self.p.retry(lambda: payments.retry_capture(
            self.p.uow, self.providers, number, principal=principal, clock=self.p.clock,
            seller=self.p.seller))
        if self.p.integration is not None:
            # the consumer's parked job for this order is done now: the operator's list of
            # parked events should not offer it again
            await self.p.integration.jobs.resolved(
                consumer=payments.CONSUMER, partition=f"order:{order.number}",
                now=self.p.clock.now())
        return order

    async def flag_lapsed(self, *, limit: int) -> int:
        return await self.p.retry(lambda: payments.flag_lapsed(
            self.p.reader, self.p.uow, clock=self.p.clock, limit=limit))


class NotificationUseCases:
    """Customer mails: what an agent may do with them."""

    def __init__(self, p: Ports) -> None:
        self.p = p

    @property
    def store(self) -> NotificationStore:
        if self.p.notifications is None:
            raise RuntimeError("no notification store is bound")
        return self.p.notifications

    async def resend(self, notification_id: str, *, principal: Principal) -> Notification:
        return await notifications.resend(self.store, notification_id, principal=principal,
                                          clock=self.p.clock)


class Application:
    """Every use case, by context."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.catalog = CatalogUseCases(ports)
        self.inventory = InventoryUseCases(ports)
        self.checkout = CheckoutUseCases(ports)
        self.sourcing = SourcingUseCases(ports)
        self.fulfillment = FulfillmentUseCases(ports)
        self.service_desk = ServiceDeskUseCases(ports)
        self.returns = ReturnsUseCases(ports)
        self.integration = IntegrationUseCases(ports)
        self.payments = PaymentUseCases(ports)
        self.notifications = NotificationUseCases(ports)
