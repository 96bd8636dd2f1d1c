"""The `notifications` consumer: an e-mail to the customer for each event that matters.

A durable outbox consumer (api/integration/runner.py), so an order's mails go out in the
order its events happened, a failing SMTP server is retried on the consumer's backoff
(PROMESSA_CONSUMER_BACKOFF) and a message is parked after the last attempt. Each job:

1. finds the message already written about its event (the event id is the key): one that
   went out, was recorded, suppressed or opted out is done — a retry after a crash never
   writes a second message;
2. otherwise renders it (api/notifications/render.py) and writes it as SENDING, with no
   transaction held while the SMTP server is talked to;
3. hands it to the SMTP server and marks it SENT — or RECORDED when no server is configured
   (the embedded default: the demo shows what would have gone out).

Documents go with the mails they belong to: the "shipped" mail carries the parcel's invoice,
the "refund issued" mail the refund's credit note, as PDFs. Which ones is decided when the
message is written (their numbers are kept on it), so a retry or a resend attaches the same.
A credit note is issued in the refund's own transaction, so it is always there; an invoice is
issued by the payments consumer when it captures the parcel's money, which runs beside this
one — a "shipped" mail whose invoice is due but not issued yet waits for it for up to two
attempts (the first waits of PROMESSA_CONSUMER_BACKOFF), then goes without it rather than
hold the news back (the invoice stays on the order's documents and /track).

What that guarantees, exactly: a message is handed to the SMTP server at least once, and more
than once only if the process dies (or the database is away) between the server's "250 OK"
to the message and the write that marks it SENT — a window of one UPDATE. A repeat carries the
same Message-ID. SMTP has no idempotency of its own, so no client can close that window. A
batch the runner cuts off at its deadline stops between two messages, never inside one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from email.utils import formataddr, parseaddr
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.numbers import format_currency

from api import invoices, labels
from api.integration.runner import Result
from api.notifications.mailer import Connection, SmtpMailer
from api.notifications.render import (
    COUNTRY_ZONE,
    DEFAULT_COLOR,
    Facts,
    Renderer,
    babel_locale,
)
from domain.catalog import Channel, Location, Sku
from domain.catalog.hours import days_from
from domain.documents.issuing import Issued
from domain.documents.issuing import Kind as DocumentKind
from domain.fulfillment import pickup
from domain.integration import Backoff
from domain.kernel.money import Money
from domain.notifications import (
    NON_ESSENTIAL,
    Kind,
    Notification,
    Status,
    kind_of,
    language,
    message_id,
    optout_token,
    suppressed,
)
from domain.notifications.ports import (
    Attachment,
    Mail,
    MailRefused,
    MailUnavailable,
    NotificationStore,
)
from domain.orders import Order
from domain.payments import invoiced_when_handed_over
from domain.returns import Return
from persistence.consumers import Claimed, NewEvent
from persistence.notifications import RESEND

log = logging.getLogger("promessa.notifications")
CONSUMER = "notifications"
DONE = frozenset({Status.SENT, Status.RECORDED, Status.SUPPRESSED, Status.OPTED_OUT})
LABEL_TTL = timedelta(days=14)
INVOICE_WAITS = 2  # attempts a "shipped" mail waits for its parcel's invoice


class _Waiting(Exception):
    """The mail's document is due but not issued yet: try again on the next attempt."""


class Reads(Protocol):
    """What a mail is made from (persistence/reads.SqlReader)."""

    async def orders_by_number(self, numbers: Iterable[str]) -> dict[str, Order]: ...
    async def channels(self) -> list[Channel]: ...
    async def locations(self, codes: Iterable[str] | None = None) -> dict[str, Location]: ...
    async def skus(self, codes: Iterable[str]) -> dict[str, Sku]: ...
    async def returns_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Return]]: ...
    async def documents_by_order(self, order_ids: Iterable[str]) -> dict[str, list[Issued]]: ...


@dataclass(frozen=True, slots=True)
class MailSettings:
    public_url: str  # where links in mails point (/track, labels, opt-out)
    sender: str  # PROMESSA_MAIL_FROM, "Name <address>" or an address
    optout_key: bytes
    label_key: bytes
    pickup_key: bytes = b""  # the pickup code's (domain/fulfillment/pickup.py)

    @property
    def domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2] or "promessa.invalid"


class NotificationHandler:
    name = CONSUMER

    def __init__(self, *, reader: Reads, store: NotificationStore, mailer: SmtpMailer | None,
                 settings: MailSettings, backoff: Backoff, clock: Any) -> None:
        self.reader, self.store, self.mailer = reader, store, mailer
        self.settings, self.backoff, self.clock = settings, backoff, clock
        self.renderer = Renderer()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def targets(self, events: list[NewEvent]) -> list[tuple[str, ...]]:
        return [("",) if e.type == RESEND or kind_of(e.type, e.payload) else ()
                for e in events]

    async def handle(self, jobs: list[Claimed]) -> list[Result]:
        written = await self.store.by_events(j.event_id for j in jobs)
        numbers = {str(j.payload["order"]) for j in jobs}
        orders = await self.reader.orders_by_number(numbers)
        earlier = await self.store.for_orders(numbers)
        opted = await self.store.opted_out(o.customer.email for o in orders.values()
                                           if o.customer.email)
        context = await self._context(orders.values(), jobs)
        todo: list[tuple[int, Notification]] = []
        results: list[Result | None] = [None] * len(jobs)
        for i, job in enumerate(jobs):
            try:
                n = await self._message(job, written.get(job.event_id), orders, earlier,
                                        opted, context)
            except _Waiting as waiting:
                results[i] = Result(False, error=str(waiting))
                continue
            except Exception as exc:  # noqa: BLE001 - one message's failure is its job's
                log.exception("notifications: event %s of order %s not rendered",
                              job.event_id, job.payload.get("order"))
                results[i] = Result(False, error=f"render: {type(exc).__name__}: {exc}")
                continue
            if n is None or n.status in DONE:
                results[i] = Result(True)
            else:
                todo.append((i, n))
        for i, result in await self._send(todo, context):
            results[i] = result
        return [r if r is not None else Result(False, error="no outcome") for r in results]

    # --- what to write -------------------------------------------------------------------

    async def _message(self, job: Claimed, written: Notification | None,
                       orders: Mapping[str, Order], earlier: Mapping[str, list[Notification]],
                       opted: set[str], context: _Context) -> Notification | None:
        if job.type == RESEND:
            return await self.store.get(str(job.payload.get("notification")))
        if written is not None:
            return written  # SENDING or FAILED: the same message, the same Message-ID
        kind = kind_of(job.type, job.payload)
        order = orders.get(str(job.payload["order"]))
        if kind is None or order is None or not order.customer.email:
            return None
        fulfillment = job.payload.get("fulfillment")
        status = Status.SENDING
        if suppressed(kind, fulfillment, at=job.at, earlier=earlier.get(order.number, [])):
            status = Status.SUPPRESSED
        elif kind in NON_ESSENTIAL and order.customer.email.lower() in opted:
            status = Status.OPTED_OUT
        facts = self._facts(kind, job, order, context)
        attached = self._attachments(kind, job, order, context)
        if kind is Kind.SHIPPED and attached:
            facts.extra["invoice"] = ", ".join(attached)
        elif kind is Kind.REFUND_ISSUED and attached:
            facts.extra["credit_note"] = ", ".join(attached)
        rendered = self.renderer.render(facts)
        n = Notification(
            id=str(uuid.uuid4()), order_number=order.number, event_id=job.event_id, kind=kind,
            to=order.customer.email, subject=rendered.subject, language=facts.language,
            status=status, created_at=job.at,
            message_id=message_id(job.event_id, kind, self.settings.domain),
            fulfillment_id=fulfillment if isinstance(fulfillment, str) else None,
            text=rendered.text, html=rendered.html, position=job.position,
            attachments=attached)
        return await self.store.add(n)

    def _attachments(self, kind: Kind, job: Claimed, order: Order, context: _Context
                     ) -> tuple[str, ...]:
        """The numbers of the documents the mail carries; _Waiting while a parcel's invoice
        is due but not issued yet and there are attempts left to wait with."""
        docs = context.documents.get(order.id, [])
        if kind is Kind.SHIPPED and isinstance(fid := job.payload.get("fulfillment"), str):
            found = tuple(d.number for d in docs
                          if d.kind is DocumentKind.INVOICE and fid in d.fulfillment_ids)
            if not found and invoiced_when_handed_over(order) \
                    and job.attempts <= min(INVOICE_WAITS, self.backoff.attempts - 1):
                raise _Waiting(f"waiting for the invoice of parcel {fid}")
            return found
        if kind is Kind.REFUND_ISSUED and isinstance(number := job.payload.get("return"), str):
            ret = context.returns.get(number)
            if ret is None or not ret.refunds:
                return ()
            source = f"refund:{ret.refunds[-1].id}"
            return tuple(d.number for d in docs if d.source == source)
        return ()

    # --- handing it over -----------------------------------------------------------------

    async def _send(self, todo: list[tuple[int, Notification]], context: _Context
                    ) -> list[tuple[int, Result]]:
        if not todo:
            return []
        now = self.clock.now
        if self.mailer is None:
            for _, n in todo:
                await self.store.mark(n.id, Status.RECORDED, at=now())
            return [(i, Result(True)) for i, _ in todo]
        out: list[tuple[int, Result]] = []
        try:
            async with self.mailer.connection() as conn:
                for i, n in todo:
                    out.append((i, await _whole(self._one(conn, n, context))))
        except MailUnavailable as exc:
            # the server is away: what was not handed over waits for the next attempt
            done = {i for i, _ in out}
            for i, n in todo:
                if i not in done:
                    await self.store.mark(n.id, Status.FAILED, at=now(), error=str(exc))
                    out.append((i, Result(False, error=str(exc)[:300])))
        return out

    async def _one(self, conn: Connection, n: Notification, context: _Context) -> Result:
        try:
            mail = self._mail(n, context)
        except Exception as exc:  # noqa: BLE001 - one message's document, not the batch
            # its text says the document is attached: not sent without it, retried, then
            # parked where an operator sees it
            log.exception("notifications: mail %s of order %s not built", n.id, n.order_number)
            error = f"attachment: {type(exc).__name__}: {exc}"[:300]
            await self.store.mark(n.id, Status.FAILED, at=self.clock.now(), error=error)
            return Result(False, error=error)
        try:
            await conn.send(mail)
        except MailRefused as exc:
            await self.store.mark(n.id, Status.FAILED, at=self.clock.now(), error=str(exc))
            return Result(False, error=str(exc)[:300], park=True)
        await self.store.mark(n.id, Status.SENT, at=self.clock.now())
        return Result(True)

    def _mail(self, n: Notification, context: _Context) -> Mail:
        name, address = parseaddr(self.settings.sender)
        channel = context.channel_of.get(n.order_number)
        display = (channel.sender_name if channel and channel.sender_name
                   else name or (channel.name if channel else "Promessa"))
        headers = {}
        if n.kind in NON_ESSENTIAL:
            link = self._optout_link(n.to)
            headers = {"List-Unsubscribe": f"<{link}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        if n.resend_of:
            headers["X-Promessa-Resend-Of"] = n.resend_of
        order = context.orders.get(n.order_number)
        docs = {d.number: d for d in context.documents.get(order.id, [])} if order else {}
        attachments = tuple(
            Attachment(f"{number}.pdf", "application/pdf", invoices.render(
                docs[number], order, locale=babel_locale(n.language, order.customer.locale)))
            for number in n.attachments if number in docs and order is not None)
        return Mail(message_id=n.message_id, sender=formataddr((display, address)), to=n.to,
                    subject=n.subject, text=n.text, html=n.html, language=n.language,
                    headers=headers, attachments=attachments)

    def _optout_link(self, email: str) -> str:
        return (f"{self.settings.public_url}/notifications/optout?token="
                f"{optout_token(self.settings.optout_key, email)}")

    # --- what a template may say ---------------------------------------------------------

    async def _context(self, orders: Iterable[Order], jobs: list[Claimed]) -> _Context:
        orders = list(orders)
        channels = {c.code: c for c in await self.reader.channels()}
        codes = {f.location for o in orders for f in o.fulfillments}
        codes |= {o.delivery.pickup_location for o in orders if o.delivery.pickup_location}
        with_returns = {o.id for o in orders
                        if any(isinstance(j.payload.get("return"), str) for j in jobs
                               if j.payload.get("order") == o.number)}
        returns = await self.reader.returns_by_order(with_returns) if with_returns else {}
        codes |= {r.receiving_location for rs in returns.values() for r in rs}
        locations = await self.reader.locations(codes) if codes else {}
        skus = await self.reader.skus({line.sku for o in orders for line in o.lines})
        documents = await self.reader.documents_by_order(o.id for o in orders) \
            if orders else {}
        return _Context(channels=channels, locations=locations, skus=skus,
                        returns={r.number: r for rs in returns.values() for r in rs},
                        channel_of={o.number: channels.get(o.channel) for o in orders},
                        orders={o.number: o for o in orders}, documents=documents)

    def _facts(self, kind: Kind, job: Claimed, order: Order, context: _Context) -> Facts:
        channel = context.channels.get(order.channel)
        address = order.delivery.address
        country = address.country if address else None
        lang = language(customer=order.customer.locale,
                        channel=channel.locale if channel else None, country=country)
        store_code = order.delivery.pickup_location
        locale = babel_locale(lang, order.customer.locale)
        facts = Facts(
            kind=kind, language=lang, locale=locale,
            zone=COUNTRY_ZONE.get(country or "", "Europe/Rome" if lang == "it" else "UTC"),
            brand=(channel.sender_name or channel.name) if channel else "Promessa",
            color=(channel.brand_color if channel and channel.brand_color else DEFAULT_COLOR),
            name=order.customer.name, order=self._order(order, context, locale),
            links={"track": f"{self.settings.public_url}/track#number={order.number}",
                   "optout": self._optout_link(order.customer.email)},
            non_essential=kind in NON_ESSENTIAL)
        if store_code and (store := context.locations.get(store_code)) is not None:
            facts.store = _store(store, job.at)
            facts.store["pickup_code"] = pickup.pickup_code(self.settings.pickup_key, order.id)
        if isinstance(fid := job.payload.get("fulfillment"), str):
            facts.fulfillment = self._fulfillment(order, fid, context)
        if kind is Kind.DELAYED:
            facts.delay = {"before": _when(job.payload.get("before")),
                           "after": _when(job.payload.get("after")) or order.promised_latest}
        if kind is Kind.CANCELLED:
            facts.cancelled = _cancelled(job, order, context, locale)
        if isinstance(number := job.payload.get("return"), str):
            ret = context.returns.get(number)
            if ret is not None:
                facts.ret = self._return(ret, order, context, at=job.at)
        return facts

    def _order(self, order: Order, context: _Context, locale: str) -> dict[str, Any]:
        a = order.delivery.address
        return {
            "number": order.number, "placed": order.placed_at,
            "lines": [{"sku": line.sku, "name": _name(context, line.sku),
                       "quantity": line.quantity,
                       "total": _money(line.unit_price.amount * line.quantity, order.currency,
                                       locale)}
                      for line in order.lines],
            "subtotal": _pair(order.subtotal), "shipping": _pair(order.shipping),
            "tax": _pair(order.tax), "total": _pair(order.total),
            "earliest": order.promised_earliest, "latest": order.promised_latest,
            "method": order.delivery.method.value,
            "address": ", ".join(p for p in (a.line1, a.line2, f"{a.postal_code} {a.city}",
                                             a.country) if p) if a else ""}

    def _fulfillment(self, order: Order, fid: str, context: _Context) -> dict[str, Any] | None:
        f = next((x for x in order.fulfillments if x.id == fid), None)
        if f is None:
            return None
        track = f"{self.settings.public_url}/track#number={order.number}"
        return {"carrier": f.carrier or "", "tracking_number": f.tracking_number or "",
                "tracking_url": track, "delivered_at": f.delivered_at,
                "shipped_at": f.shipped_at,
                "lines": [{"sku": fl.sku, "name": _name(context, fl.sku),
                           "quantity": fl.quantity, "total": ""} for fl in f.lines]}

    def _return(self, ret: Return, order: Order, context: _Context, *, at: datetime
                ) -> dict[str, Any]:
        label_url, expires = "", None
        if ret.tracking_number and ret.status in labels.PRINTABLE:
            path, expires = labels.label_path(self.settings.label_key, ret, now=at,
                                              ttl=LABEL_TTL)
            label_url = f"{self.settings.public_url}{path}"
        where = context.locations.get(ret.receiving_location)
        refunded = ret.refunds[-1].amount if ret.refunds else ret.refund_total
        provider = order.payment.provider if order.payment else None
        return {"number": ret.number, "label_url": label_url, "label_expires": expires,
                "carrier": ret.carrier, "tracking_number": ret.tracking_number,
                "drop_off_code": ret.drop_off_code,
                "drop_off_at": f"{where.name}, {_address(where)}" if where else "",
                "amount": _pair(ret.refund_total), "refunded": _pair(refunded),
                "received_at": ret.received_at,
                "card": provider not in (None, "offline"),
                "method": _method(provider, order.customer.locale),
                "lines": [{"sku": line.sku, "name": _name(context, line.sku),
                           "quantity": line.quantity, "total": ""} for line in ret.lines]}


async def _whole(hand_over: Coroutine[Any, Any, Result]) -> Result:
    """Run one message's hand-over to its end even when the batch is cancelled meanwhile (the
    runner's deadline, 80 % of the lease): cut between the server's 250 and the write of SENT,
    a message still SENDING would go out again on the retry. The cancellation goes on after."""
    task = asyncio.create_task(hand_over)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])  # its outcome is written; the shield retrieves its error
        raise


@dataclass(frozen=True, slots=True)
class _Context:
    channels: dict[str, Channel]
    locations: dict[str, Location]
    skus: dict[str, Sku]
    returns: dict[str, Return]
    channel_of: dict[str, Channel | None]
    orders: dict[str, Order]
    documents: dict[str, list[Issued]]  # by order id


def _name(context: _Context, sku: str) -> str:
    found = context.skus.get(sku)
    return found.name if found else sku


def _pair(m: Money) -> tuple[Decimal, str]:
    return (m.amount, m.currency)


def _money(amount: Decimal, currency: str, locale: str) -> str:
    """A line's amount as the mail's totals show money (Babel, the mail's locale)."""
    return format_currency(amount, currency, locale=locale)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _address(loc: Location) -> str:
    a = loc.address
    return ", ".join(p for p in (a.line1, a.line2, f"{a.postal_code} {a.city}") if p)


def _store(loc: Location, at: datetime) -> dict[str, Any]:
    hours: list[tuple[str, str]] = []
    if loc.opening_hours is not None:
        today = at.astimezone(ZoneInfo(loc.time_zone)).date()
        for day, periods, _ in days_from(loc.opening_hours, today, 7):
            hours.append((day.isoformat(), ", ".join(p.label() for p in periods) or "–"))
    return {"code": loc.code, "name": loc.name, "address": _address(loc), "hours": hours}


def _method(provider: str | None, locale: str | None) -> str:
    italian = (locale or "").lower().startswith("it")
    if provider in (None, "offline"):
        return "il metodo di pagamento originale" if italian else "your original payment method"
    return "la carta usata per l'ordine" if italian else "the card you paid with"


def _cancelled(job: Claimed, order: Order, context: _Context, locale: str
               ) -> dict[str, Any]:
    whole = job.type == "ORDER_CANCELLED"
    lines = [(line, line.quantity if whole else line.cancelled) for line in order.lines]
    lines = [(line, n) for line, n in lines if n]
    amount = sum((line.unit_price.amount * n for line, n in lines), Decimal("0"))
    entry = next((e for e in reversed(order.timeline)
                  if e.type == job.type and e.at == job.at), None)
    payment = order.payment
    money = "NONE"
    if payment is not None and payment.provider != "offline":
        money = "VOIDED" if whole else "LESS"
        if whole:
            amount = payment.authorized
    return {"whole": whole, "reason": (entry.public or entry.message) if entry else "",
            "money": money, "amount": (amount, order.currency),
            "lines": [{"sku": line.sku, "name": _name(context, line.sku), "quantity": n,
                       "total": _money(line.unit_price.amount * n, order.currency, locale)}
                      for line, n in lines]}

