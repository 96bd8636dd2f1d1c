"""The packing slip as an A4 PDF, for the location's printer: what goes in the box, where
from and to, how many parcels — and no prices (the box may be a gift)."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from api.documents import a4
from api.documents.pdf import Formats
from domain.documents.content import PackingSlip


def render_packing_slip(slip: PackingSlip, formats: Formats | None = None) -> bytes:
    """The packing slip as an A4 PDF."""
    f = formats or Formats()
    title = f"{f.word('packing_slip')} {slip.order_number}"
    rows: list[list[object]] = [[f.word("sku"), f.word("item"), f.word("quantity")]]
    rows += [[a4.para(line.sku, a4.SMALL), a4.para(line.name), str(line.quantity)]
             for line in slip.lines]
    story: list[Flowable] = [
        a4.para(title, a4.TITLE),
        a4.para(f"{f.word('issued')}: {f.date(slip.issued_at)}"),
        a4.para(f"{f.word('fulfillment')}: {slip.fulfillment_id} ({slip.location_code})"),
        a4.para(f"{f.word('parcels')}: {slip.parcels}"), Spacer(1, 6 * mm),
        a4.side_by_side(a4.party_block(f.word("ships_from"), slip.location, f),
                        a4.party_block(f.word("ship_to"), slip.recipient, f)),
        a4.grid(rows, [40 * mm, a4.WIDTH - 60 * mm, 20 * mm], right_from=2)]
    return a4.render(story, title=title, footer=f"{title} · {slip.fulfillment_id}",
                     formats=f)
