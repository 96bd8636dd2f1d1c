"""Invoices and credit notes as PDFs at links only the order's customer (and staff) can use.

A document's URL carries an expiry and an HMAC over (document number, the order's customer
email, expiry), made with a key derived from the server secret for this purpose alone: a link
cannot be moved to another document, customer or time, and a return-label link does not open
an invoice. A caller who also presents a token must be that customer or staff. The PDF is
rendered from the document as issued (its content is frozen at issue), in the customer's
language, amounts and dates formatted for the order's locale (Babel).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_currency
from starlette.requests import Request
from starlette.responses import Response

from api import documents, signed
from api.notifications.render import babel_locale
from domain.documents.content import CreditNote
from domain.documents.issuing import Issued
from domain.notifications import language
from domain.orders import Order


def document_key(secret: str) -> bytes:
    """The key document URLs are signed with, derived from the server secret."""
    return signed.key("document/v1", secret)


def document_path(key: bytes, number: str, email: str, *, now: datetime, ttl: timedelta
                  ) -> tuple[str, datetime]:
    """The signed path of a document, and when it stops working."""
    query, expires = signed.query(key, (number, email.lower()), now=now, ttl=ttl)
    return f"/documents/{quote(number)}.pdf?{query}", expires


def formats_for(locale: str | None) -> documents.Formats:
    """Money and dates as the order's locale writes them; Italian or English words."""
    tag = (locale or "en").replace("-", "_")
    try:
        format_currency(Decimal(1), "EUR", locale=tag)
    except (ValueError, LookupError):  # babel's UnknownLocaleError is a ValueError
        tag = "en"

    def money(amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=tag)

    def day(at: datetime) -> str:
        return format_date(at.date(), format="long", locale=tag)

    return documents.Formats(money=money, date=day,
                             language="it" if tag.lower().startswith("it") else "en")


def locale_of(order: Order, channel_locale: str | None = None) -> str:
    """The locale a document of the order is written in: its mails' language (the customer's
    locale, else its channel's, else the shipping country's), with the customer's own formats
    when they match."""
    country = order.delivery.address.country if order.delivery.address else None
    lang = language(customer=order.customer.locale, channel=channel_locale, country=country)
    return babel_locale(lang, order.customer.locale)


async def order_locale(deps: Any, order: Order) -> str:
    """`locale_of` the order, its channel read for its language."""
    channel = await deps.reader.channel(order.channel)
    return locale_of(order, channel.locale if channel is not None else None)


def render(issued: Issued, order: Order, *, locale: str | None = None) -> bytes:
    """The document as a PDF in `locale` (Babel's, e.g. it_IT), else the order's."""
    formats = formats_for(locale or locale_of(order))
    doc = issued.document
    if isinstance(doc, CreditNote):
        return documents.render_credit_note(doc, formats)
    return documents.render_invoice(doc, formats)  # type: ignore[arg-type]


async def document_pdf(request: Request) -> Response:
    """GET /documents/{number}.pdf?expires=…&signature=…"""
    deps = request.app.state.deps
    number = request.path_params["number"]
    if len(number) > 20 or not number.isascii():
        return signed.refused(404)
    issued = await deps.reader.document(number)
    order = None if issued is None else await deps.reader.order_by_id(issued.order_id)
    if issued is None or order is None:
        return signed.refused(404)
    email = order.customer.email
    if not signed.signed(request, deps.document_key, (number, email.lower()),
                         now=deps.clock.now()):
        return signed.refused(403)
    principal = signed.caller(request)
    if principal is None or not signed.customer_or_staff(principal, email):
        return signed.refused(403)
    return signed.pdf(render(issued, order, locale=await order_locale(deps, order)),
                      f"{number}.pdf")
