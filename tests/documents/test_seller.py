"""The seller an invoice names is the one configured (PROMESSA_SELLER_*), not the demo
company; its time zone decides the day, so the year and series, a document is issued in."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from api.app import create_app
from domain.documents.content import Party
from domain.documents.issuing import Seller
from tests.conftest import Api, make_settings
from tests.documents.reading import text
from tests.documents.test_invoices import documents, fetch
from tests.payments.support import consumer, drain, hand_over, paid_order, seed

pytestmark = pytest.mark.anyio
NEGOZIO = Seller(party=Party(name="Negozio S.p.A.", address_lines=(
    "Corso Buenos Aires 1", "20124 Milano (MI)"), country="IT", vat_id="IT01234567897"),
    time_zone="Europe/Rome")


async def test_invoices_name_the_configured_seller(db_url: str, clock, tokens) -> None:
    # New Year's Eve, 23:30 UTC: already 2031 in Rome, the seller's time zone
    clock.current = datetime(2030, 12, 31, 23, 30, tzinfo=UTC)
    app = create_app(make_settings(db_url, seller=NEGOZIO), clock=clock)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        api = Api(client, app)
        await seed(api, tokens)
        payments = consumer(api)
        await payments.take_in()
        number = await paid_order(api, "seller-00001", reference="pi_seller",
                                  lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                                  token=tokens["ada"])
        await hand_over(api, tokens, number, "WH-MIL")
        await drain(payments)
        [invoice] = await documents(api, number, tokens["agent"])
        assert invoice["number"].startswith("IT-2031-"), invoice
        page = " ".join(text((await fetch(api, invoice["url"])).content).split())
        assert "Negozio S.p.A." in page and "IT01234567897" in page
        assert "Corso Buenos Aires 1" in page
        assert "Promessa Demo" not in page and "IT12345678903" not in page
