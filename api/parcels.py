"""A fulfillment's papers: the packing slip (A4, for the location's printer) and the shipping
label of its parcel (100 × 150 mm, Code 128 of the tracking number), as PDFs at signed links.

A link carries an expiry and an HMAC over (paper, fulfillment id, expiry) made with a key
derived from the server secret for these papers alone (api/signed.py), so it cannot be moved
to another fulfillment, to the other paper, or in time, and an invoice or return-label link
does not open it. A caller who also presents a token must be staff, a store associate of the
fulfillment's location, or — for the label, which is on the customer's parcel — the order's
customer; the packing slip is the location's work paper and is not listed for customers.

What is printed is derived from the fulfillment as it stands, not kept: a packing slip once the
location has accepted the work (until it is rejected or cancelled), a label once the parcel
has a carrier and a tracking number (it shipped). The same fulfillment gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from starlette.requests import Request
from starlette.responses import Response
from strawberry import relay

from api import documents, signed
from api.invoices import formats_for, order_locale
from domain.access import Principal, Role
from domain.catalog import Location, Sku
from domain.documents.content import (
    Label,
    PackingLine,
    PackingSlip,
    Party,
    code128_printable,
    party,
)
from domain.orders import Fulfillment, FulfillmentStatus, Order

# no paper for work the location has not taken on, or gave up
NO_SLIP = frozenset({FulfillmentStatus.ASSIGNED, FulfillmentStatus.REJECTED,
                     FulfillmentStatus.CANCELLED})


class Paper(StrEnum):
    PACKING_SLIP = "packing-slip"
    LABEL = "label"


def paper_key(secret: str) -> bytes:
    """The key packing-slip and shipping-label URLs are signed with."""
    return signed.key("fulfillment-paper/v1", secret)


def paper_path(key: bytes, paper: Paper, fulfillment_id: str, *, now: datetime,
               ttl: timedelta) -> tuple[str, datetime]:
    """The signed path of a fulfillment's paper (by its own id, a UUID), and when it stops
    working."""
    query, expires = signed.query(key, (paper.value, fulfillment_id), now=now, ttl=ttl)
    return f"/fulfillments/{fulfillment_id}/{paper.value}.pdf?{query}", expires


# ------------------------------------------------------------------------------- content


def has_slip(f: Fulfillment) -> bool:
    return f.status not in NO_SLIP and bool(f.lines)


def has_label(f: Fulfillment) -> bool:
    """A carrier and a tracking number Code 128 can print (ASCII)."""
    return bool(f.carrier and f.carrier.strip() and f.tracking_number
                and code128_printable(f.tracking_number))


def public_id(f: Fulfillment) -> str:
    """The fulfillment's id as the API names it (a Relay global id): a packing slip's number,
    so the slip in the box and the store app's screen show the same."""
    return relay.to_base64("Fulfillment", f.id)


def _place(code: str, locations: Mapping[str, Location], *, country: str) -> Party:
    loc = locations.get(code)
    if loc is None:  # a location removed from the catalog since: its code, no address
        return Party(name=code, address_lines=(), country=country)
    return party(f"{loc.name} ({loc.code})", loc.address)


def _country(order: Order) -> str:
    return order.delivery.address.country if order.delivery.address else "IT"


def _recipient(order: Order, f: Fulfillment, locations: Mapping[str, Location]) -> Party:
    """Where the parcel goes: the store it travels to first, the pickup store, or the
    customer's address."""
    store = f.transfer_to or (order.delivery.pickup_location
                              if order.delivery.address is None else None)
    name = order.customer.name or order.customer.email
    if store is not None:
        to = _place(store, locations, country=_country(order))
        return Party(name=f"{name} c/o {to.name}", address_lines=to.address_lines,
                     country=to.country)
    assert order.delivery.address is not None
    return party(name, order.delivery.address)


def packing_slip(order: Order, f: Fulfillment, *, locations: Mapping[str, Location],
                 skus: Mapping[str, Sku]) -> PackingSlip:
    """What goes in the box: the fulfillment's lines by SKU, no prices."""
    units: dict[str, int] = {}
    for line in f.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    return PackingSlip(
        order_number=order.number, fulfillment_id=public_id(f), location_code=f.location,
        location=_place(f.location, locations, country=_country(order)),
        recipient=_recipient(order, f, locations),
        lines=tuple(PackingLine(sku=sku, name=skus[sku].name if sku in skus else sku,
                                quantity=n) for sku, n in units.items() if n > 0),
        parcels=1, issued_at=order.placed_at)


def shipping_label(order: Order, f: Fulfillment, *, locations: Mapping[str, Location]
                   ) -> Label | None:
    """The label of the fulfillment's parcel; None before it has a carrier and a tracking
    number, or when the number cannot be printed as Code 128 (not ASCII)."""
    if not has_label(f) or f.carrier is None or f.tracking_number is None:
        return None
    level = (f.service_level or order.delivery.service_level)
    try:
        return Label(carrier=f.carrier,
                     service=level.value.replace("_", " ").title() if level else "Standard",
                     tracking_number=f.tracking_number,
                     sender=_place(f.location, locations, country=_country(order)),
                     recipient=_recipient(order, f, locations), reference=order.number,
                     contents=", ".join(f"{ln.quantity} × {ln.sku}" for ln in f.lines))
    except ValueError:
        return None


# ------------------------------------------------------------------------------- serving


def allowed(principal: Principal, paper: Paper, order: Order, f: Fulfillment) -> bool:
    """Who may hold a paper of `f` besides the link's bearer: staff, the location's
    associates, and — the label only — the order's customer."""
    if principal.role is Role.STORE:
        return f.location in principal.locations
    if principal.role is Role.CUSTOMER and paper is not Paper.LABEL:
        return False
    return signed.customer_or_staff(principal, order.customer.email)


async def paper_pdf(request: Request) -> Response:
    """GET /fulfillments/{id}/packing-slip.pdf and /fulfillments/{id}/label.pdf"""
    deps = request.app.state.deps
    fid = request.path_params["id"]
    try:
        paper = Paper(request.path_params["paper"])
    except ValueError:
        return signed.refused(404)
    if len(fid) > 36 or not fid.isascii():
        return signed.refused(404)
    if not signed.signed(request, deps.paper_key, (paper.value, fid), now=deps.clock.now()):
        return signed.refused(403)
    principal = signed.caller(request)
    if principal is None:
        return signed.refused(403)
    order = (await deps.reader.orders_by_fulfillment([fid])).get(fid)
    f = next((x for x in order.fulfillments if x.id == fid), None) if order else None
    if order is None or f is None:
        return signed.refused(404)
    if not allowed(principal, paper, order, f):
        return signed.refused(403)
    codes = {f.location} | {c for c in (f.transfer_to, order.delivery.pickup_location) if c}
    locations = await deps.reader.locations(codes)
    formats = formats_for(await order_locale(deps, order))
    if paper is Paper.PACKING_SLIP:
        if not has_slip(f):
            return signed.refused(404)
        skus = await deps.reader.skus({line.sku for line in f.lines})
        return signed.pdf(documents.render_packing_slip(
            packing_slip(order, f, locations=locations, skus=skus), formats),
            f"{order.number}-packing-slip.pdf")
    label = shipping_label(order, f, locations=locations)
    if label is None:
        return signed.refused(404)
    return signed.pdf(documents.render_label(label, formats), f"{order.number}-label.pdf")
