"""The composition root: every adapter is built here, once, at start-up.

`open_dependencies` opens the database (migrating the embedded one) and builds the SQL unit
of work and reader, the clock, the sourcing engine, the one retry layer, the payment gateway,
the service desk's rules and the carriers (the `demo` one for every carrier code);
`Dependencies` binds them into `domain.application.Ports` and the `Application` — the use
cases bound to them — beside what only the API needs (live subscriptions, request guards,
the label key). Resolvers, the CLI and the demo seeder get everything from the
`Dependencies` it returns and never build an adapter themselves.

A plain bootstrap rather than a DI container: the graph is small and fixed, a typed
constructor call shows it whole, and mypy checks every seam (see the README).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from api import invoices, labels, parcels, signed
from api.context import Dependencies
from api.fanout import Fanout
from api.guard import Guards
from api.integration.broker import BrokerHandler
from api.integration.runner import Consumers, Handler, Runner
from api.integration.views import OrderViews
from api.integration.webhooks import WebhookHandler
from api.notifications.consumer import MailSettings, NotificationHandler
from api.notifications.mailer import SmtpMailer
from api.payments.consumer import PaymentHandler
from api.payments.providers import Registry, TestProvider
from api.prometheus import Metrics, counting_reservations
from api.realtime import Realtime
from api.settings import Settings
from api.throttle import Bucket, open_buckets
from domain.documents.carriers import DemoCarriers
from domain.documents.issuing import DEMO_SELLER
from domain.kernel.ports import Clock
from domain.kernel.retry import Retry
from domain.notifications import optout_key
from domain.returns.payments import RecordingPayments
from domain.service_desk import ServiceDeskPolicy
from domain.sourcing.engine import SourcingEngine
from persistence import migrate
from persistence.consumers import SqlConsumers
from persistence.db import Database, is_transient
from persistence.notifications import SqlNotifications
from persistence.outbox import SqlOutbox
from persistence.reads import SqlReader
from persistence.uow import CommitHook, SqlUnitOfWork
from persistence.webhooks import SqlEndpoints, SqlIntegrationStore

log = logging.getLogger("promessa")


async def open_database(settings: Settings) -> Database:
    """The database, migrated when embedded; a server database must already be at head."""
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    try:
        if settings.embedded:
            await migrate.upgrade(db.writer)
        elif await migrate.current_revision(db.writer) != migrate.head_revision():
            raise RuntimeError("the database is not migrated to head: run `promessa migrate`")
    except BaseException:
        await db.dispose()
        raise
    return db


def retry_for(metrics: Metrics | None) -> Retry:
    """The one retry layer, told which database errors are transient; counted in /metrics."""
    def on_retry() -> None:
        log.info("transient database conflict: running the use case again")
        if metrics is not None:
            metrics.db_retries.inc()

    return Retry(transient=is_transient, on_retry=on_retry)


async def open_dependencies(settings: Settings, *, clock: Clock,
                            on_commit: CommitHook | None = None,
                            metrics: Metrics | None = None) -> tuple[Database, Dependencies]:
    """Open the database and bind every port to it; with `metrics`, retries and reservation
    conflicts are counted. The caller disposes of the database."""
    db = await open_database(settings)
    uow_class = SqlUnitOfWork
    if metrics is not None:
        uow_class = counting_reservations(SqlUnitOfWork, metrics.reservation_conflicts)
    deps = Dependencies(
        reader=SqlReader(db), uow=lambda: uow_class(db, clock, on_commit=on_commit),
        clock=clock, sourcer=SourcingEngine(), retrying=retry_for(metrics),
        promise_key=promise_key(settings.jwt_secret), payments=RecordingPayments(),
        policy=ServiceDeskPolicy(
            customer_cancel_window=timedelta(minutes=settings.customer_cancel_minutes)),
        label_key=labels.label_key(settings.jwt_secret),
        label_ttl=timedelta(hours=settings.return_label_hours),
        document_key=invoices.document_key(settings.jwt_secret),
        paper_key=parcels.paper_key(settings.jwt_secret),
        pickup_key=signed.key("pickup-code/v1", settings.jwt_secret),
        integration=SqlIntegrationStore(db), providers=open_providers(settings, clock=clock),
        carriers=DemoCarriers(), notifications=SqlNotifications(db),
        seller=settings.seller or DEMO_SELLER)
    return db, deps


def open_providers(settings: Settings, *, clock: Clock) -> Registry:
    """The payment providers: `test` unless production (or PROMESSA_TEST_PAYMENTS=off), Stripe
    when PROMESSA_STRIPE_API_KEY is set; `offline` needs no adapter."""
    registry = Registry()
    if settings.test_payments_enabled:
        registry.add(TestProvider(clock))
    if settings.stripe_api_key:
        from api.payments.stripe import StripeProvider  # the SDK loads only when it is used

        registry.add(StripeProvider(settings.stripe_api_key, base_url=settings.stripe_api_base,
                                    timeout=settings.stripe_timeout_seconds))
    return registry


def open_realtime(settings: Settings, *, clock: Clock) -> Realtime:
    """Live subscriptions: the fan-out between processes and this process's hub and relay."""
    beat = settings.fanout_heartbeat_seconds
    fanout = Fanout(settings.broadcast_url, heartbeat_seconds=beat, heartbeat_timeout=3 * beat)
    return Realtime(fanout, clock=clock,
                    retention=timedelta(hours=settings.outbox_retention_hours),
                    poll_seconds=settings.realtime_poll_seconds,
                    queue_limit=settings.subscriber_queue)


def open_consumers(settings: Settings, db: Database, *, clock: Clock,
                   metrics: Metrics | None = None, deps: Dependencies | None = None
                   ) -> Consumers:
    """The durable outbox consumers this process runs: webhooks and payments always, the
    broker when PROMESSA_EVENT_SINK_URL names one. Started by the caller (`serve` or
    `worker`)."""
    store = SqlConsumers(db)
    views = OrderViews(deps) if deps is not None else None
    handlers: list[Handler] = [] if deps is None else [
        PaymentHandler(deps.app, backoff=settings.consumer_backoff),
        open_notifications(settings, db, deps, clock=clock)]
    handlers += [WebhookHandler(
        SqlEndpoints(db), clock=clock, backoff=settings.webhook_backoff,
        allow_private=settings.webhooks_may_call_private,
        timeout=settings.webhook_timeout_seconds,
        disable_after_seconds=settings.webhook_disable_after_hours * 3600, views=views)]
    if settings.event_sink_url:
        handlers.append(BrokerHandler(settings.event_sink_url,
                                      backoff=settings.consumer_backoff, views=views))
    return Consumers([Runner(store, h, clock=clock, poll_seconds=settings.consumer_poll_seconds,
                             lease=timedelta(seconds=settings.consumer_lease_seconds),
                             counters=metrics) for h in handlers])


def open_notifications(settings: Settings, db: Database, deps: Dependencies, *,
                       clock: Clock) -> NotificationHandler:
    """Customer mails: through SMTP when PROMESSA_SMTP_URL names a server, else recorded."""
    mailer = SmtpMailer(settings.smtp_url) if settings.smtp_url else None
    return NotificationHandler(
        reader=deps.reader, store=SqlNotifications(db), mailer=mailer, clock=clock,
        backoff=settings.consumer_backoff,
        settings=MailSettings(public_url=settings.public_url, sender=settings.mail_from,
                              optout_key=optout_key(settings.jwt_secret),
                              label_key=labels.label_key(settings.jwt_secret),
                              pickup_key=signed.key("pickup-code/v1", settings.jwt_secret)))


def bind_realtime(realtime: Realtime, db: Database) -> None:
    realtime.bind(SqlOutbox(db))


def promise_key(secret: str) -> bytes:
    """The key delivery-promise option ids are sealed with, derived from the server secret."""
    return hashlib.sha256(b"promessa/delivery-promise/v1\x00" + secret.encode()).digest()


def open_guards(settings: Settings) -> Guards:
    """Cost budgets and guest-lookup limits, in Redis when configured (see api/throttle.py)."""
    ten_minutes = 600.0
    budget = (Bucket(capacity=settings.rate_limit_burst,
                     refill_per_second=settings.rate_limit_per_second)
              if settings.rate_limit else None)
    return Guards(buckets=open_buckets(settings.buckets_url), budget=budget,
                  guest_per_client=Bucket.per(settings.guest_lookups_per_client, ten_minutes),
                  guest_per_order=Bucket.per(settings.guest_lookups_per_order, ten_minutes))
