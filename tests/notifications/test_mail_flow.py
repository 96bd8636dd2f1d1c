"""Customer mails through a real SMTP server (aiosmtpd), on both engines: an Italian order
placed, shipped, delayed, delivered, partly returned and refunded makes exactly the expected
mails, in Italian, each with its parts, links that work and the right amounts."""

from __future__ import annotations

import re
from decimal import Decimal
from email.message import EmailMessage

import pytest
from babel.numbers import format_currency

from api.integration.runner import Runner
from tests.api.lifecycle import step
from tests.api.returns import op, request
from tests.conftest import Api
from tests.documents.reading import text as pdf_text
from tests.notifications.smtp import smtp_server
from tests.notifications.support import PUBLIC, drain, mail_app, mailer, run
from tests.payments.support import consumer as payments_consumer
from tests.payments.support import drain as drain_payments
from tests.payments.support import hand_over, paid_order, payment_of, seed

pytestmark = pytest.mark.anyio


async def consumers(api: Api, tokens: dict[str, str], *, retries: int = 2
                    ) -> tuple[Runner, Runner]:
    """The shop seeded, and its mail and payments consumers taking in from now on."""
    await seed(api, tokens)
    mails, payments = mailer(api, retries=retries), payments_consumer(api)
    await mails.take_in()
    await payments.take_in()
    return mails, payments


def attached(msg: EmailMessage) -> dict[str, bytes]:
    """The message's attachments by file name, each checked to be a PDF."""
    found = {}
    for part in msg.iter_attachments():
        assert part.get_content_type() == "application/pdf", part.get_content_type()
        data = part.get_content()
        assert isinstance(data, bytes) and data.startswith(b"%PDF-"), part.get_filename()
        found[part.get_filename()] = data
    return found


async def documents_of(api: Api, number: str) -> list:
    reader = api.app.state.deps.reader
    order = await reader.order_by_number(number)
    return (await reader.documents_by_order([order.id])).get(order.id, [])


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None, msg
    return text.get_content(), html.get_content()


async def test_an_order_s_life_makes_exactly_the_expected_mails_in_its_language(
        db_url: str, clock, tokens: dict[str, str]) -> None:
    with smtp_server() as (inbox, port):
        async with mail_app(db_url, clock, port) as api:
            mails, payments = await consumers(api, tokens)
            number = await paid_order(api, "mail-flow-001", reference="pi_mail",
                                      lines=[{"sku": "TSHIRT-RED-M", "quantity": 2}],
                                      token=tokens["ada"])
            await _italian_by_country(api, number)
            fid = await hand_over(api, tokens, number, "WH-MIL")
            await drain_payments(payments)
            now = clock.now().isoformat()
            late = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                              status="DELAYED", at=now)
            assert late["userErrors"] == [], late
            # the same delay scan again (a carrier re-sending it): not a second mail
            again = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                               status="DELAYED", at=now)
            assert again["userErrors"] == [], again
            # a delivery scan repeated by the carrier: one "delivered" mail
            done = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                              status="DELIVERED", at=now)
            assert done["userErrors"] == [], done
            twice = await step(api, "recordTrackingEvent", fid, tokens["integration"],
                               status="DELIVERED", at=now)
            assert twice["userErrors"] == [], twice
            await drain_payments(payments)
            asked = await op(api, "RequestReturn", request(number, [
                {"sku": "TSHIRT-RED-M", "quantity": 1, "reason": "TOO_SMALL"}],
                method="DROP_AT_STORE"), token=tokens["ada"])
            assert asked["userErrors"] == [], asked
            ret = asked["return"]["number"]
            received = await op(api, "ReceiveReturn", {"input": {"returnNumber": ret, "lines": [
                {"sku": "TSHIRT-RED-M", "condition": "RESTOCK"}]}}, token=tokens["store_roma"])
            assert received["userErrors"] == [], received
            refunded = await op(api, "RefundReturn", {"input": {"returnNumber": ret}},
                                token=tokens["agent"])
            assert refunded["userErrors"] == [], refunded
            await drain(mails)
            assert await drain(mails) == 0  # a second pass sends nothing more

            got = inbox.messages
            subjects = [m["Subject"] for m in got]
            kinds = [n["kind"] for n in (await run(api, "OrderNotifications",
                                                   {"number": number},
                                                   tokens["agent"]))["notifications"]]
            print(subjects, kinds)
            assert kinds == ["ORDER_CONFIRMED", "SHIPPED", "DELAYED", "DELIVERED",
                             "RETURN_APPROVED", "RETURN_RECEIVED", "REFUND_ISSUED"]
            assert len(got) == 7, subjects
            assert len({m["Message-ID"] for m in got}) == 7
            for m in got:
                assert m["To"] == "ada@example.com"
                assert m["From"] == "Negozio <ordini@negozio.example>"
                assert m["Content-Language"] == "it"
                text, html = parts(m)
                assert number in text and number in html
                assert "<img" not in html and "http" not in re.sub(
                    r'href="[^"]*"', "", html).replace(PUBLIC, "")  # no remote resources
                for link in re.findall(r'href="([^"]+)"', html):
                    assert link.startswith(PUBLIC), link
                    page = await api.client.get(link.replace("&amp;", "&"))
                    assert page.status_code == 200, link
            confirmed, shipped, delayed, delivered, approved, back, refund = got
            assert confirmed["Subject"].startswith(f"Ordine {number} confermato")
            assert "grazie per il tuo ordine" in parts(confirmed)[0]
            paid = await payment_of(api, number, tokens["agent"])
            total = format_currency(Decimal(paid["authorized"]["amount"]), "EUR",
                                    locale="it_IT")
            assert total in parts(confirmed)[0]
            assert "è stato spedito" in shipped["Subject"]
            assert "BRT" in parts(shipped)[0]
            assert "in ritardo" in delayed["Subject"]
            assert "Avevamo promesso" in parts(delayed)[0]
            assert "consegnato" in delivered["Subject"]
            assert delivered["List-Unsubscribe"] and "optout" in delivered["List-Unsubscribe"]
            assert ret in approved["Subject"] and "Codice di consegna" in parts(approved)[0]
            assert ret in back["Subject"]
            money = format_currency(Decimal(paid["refunded"]["amount"]), "EUR", locale="it_IT")
            assert money.replace("\xa0", " ") in refund["Subject"] and money in parts(refund)[0]
            # the parcel's invoice goes with "shipped", the refund's credit note with "refund
            # issued", as PDFs showing their numbers and amounts; no other mail carries one
            invoice, credit = await documents_of(api, number)
            assert invoice.kind.value == "INVOICE" and credit.kind.value == "CREDIT_NOTE"
            assert list(attached(shipped)) == [f"{invoice.number}.pdf"]
            assert f"In allegato la fattura {invoice.number}" in parts(shipped)[0]
            shown = pdf_text(attached(shipped)[f"{invoice.number}.pdf"])
            # in Italian, as the mail is: "Fattura", decimal commas
            assert invoice.number in shown and "Fattura" in shown
            assert f"{invoice.total:.2f}".replace(".", ",") in shown, shown
            assert invoice.total == Decimal(paid["captured"]["amount"])
            assert list(attached(refund)) == [f"{credit.number}.pdf"]
            shown = pdf_text(attached(refund)[f"{credit.number}.pdf"])
            assert credit.number in shown and invoice.number in shown
            assert credit.total == Decimal(paid["refunded"]["amount"])
            assert all(not attached(m) for m in (confirmed, delayed, delivered, approved, back))
            # an agent sends the delivery mail again: a new message, its own Message-ID
            listed = (await run(api, "OrderNotifications", {"number": number},
                                tokens["agent"]))["notifications"]
            first = next(n for n in listed if n["kind"] == "DELIVERED")
            assert first["status"] == "SENT" and first["to"] == "ada@example.com"
            again = await run(api, "ResendNotification", {"input": {"id": first["id"]}},
                              tokens["agent"])
            assert again["userErrors"] == [] and again["notification"]["status"] == "QUEUED"
            await drain(mails)
            resent = inbox.messages[-1]
            assert len(inbox.messages) == 8 and resent["Subject"] == delivered["Subject"]
            assert resent["Message-ID"] != delivered["Message-ID"]
            refused = await run(api, "ResendNotification", {"input": {"id": first["id"]}},
                                tokens["ada"])
            assert refused is None or refused["userErrors"]
            # the customer turns off non-essential updates from the link in the mail
            link = delivered["List-Unsubscribe"].strip("<>")
            assert (await api.client.post(link)).status_code == 200
            optouts = await api.app.state.deps.notifications.opted_out(["ada@example.com"])
            assert optouts == {"ada@example.com"}
            forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
            assert (await api.client.post(forged)).status_code == 404
            # nobody but staff and the customer sees the list
            store = await run(api, "OrderNotifications", {"number": number},
                              tokens["store_mil"])
            assert store is None or store["notifications"] == []


async def _italian_by_country(api: Api, number: str) -> None:
    """The tests' order input names no locale: its mails are Italian by the shipping country."""
    order = await api.app.state.deps.reader.order_by_number(number)
    assert order is not None and order.delivery.address is not None
    assert order.delivery.address.country == "IT"


async def test_a_shipped_mail_waits_for_its_invoice_then_goes_without_it(
        db_url: str, clock, tokens: dict[str, str]) -> None:
    """The payments consumer issues the invoice beside the mail consumer: "shipped" waits for
    it an attempt or two and carries it; when the capture does not come (the provider is away),
    the news goes out without it rather than not at all."""
    with smtp_server() as (inbox, port):
        async with mail_app(db_url, clock, port) as api:
            mails, payments = await consumers(api, tokens)
            first = await paid_order(api, "mail-wait-001", reference="pi_wait1",
                                     lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                                     token=tokens["ada"])
            await hand_over(api, tokens, first, "WH-MIL")
            await mails.round()  # confirmed goes; shipped waits: no invoice yet
            assert [m["Subject"] for m in inbox.messages if first in m["Subject"]
                    and "spedito" in m["Subject"]] == []
            await drain_payments(payments)
            await drain(mails)
            [shipped] = [m for m in inbox.messages if "spedito" in m["Subject"]]
            [invoice] = await documents_of(api, first)
            assert list(attached(shipped)) == [f"{invoice.number}.pdf"]
            listed = (await run(api, "OrderNotifications", {"number": first},
                                tokens["agent"]))["notifications"]
            assert [n["status"] for n in listed] == ["SENT", "SENT"], listed

            second = await paid_order(api, "mail-wait-002", reference="pi_wait2",
                                      lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                                      token=tokens["ada"])
            await hand_over(api, tokens, second, "WH-MIL")
            await drain(mails)  # no payments consumer: the invoice never comes
            [late] = [m for m in inbox.messages
                      if second in m["Subject"] and "spedito" in m["Subject"]]
            assert attached(late) == {} and "fattura" not in parts(late)[0]
            assert await documents_of(api, second) == []


NOTIFICATIONS = """query($number: String!) { order(number: $number) {
  notifications { kind status attachments } } }"""


async def test_a_document_that_fails_to_render_holds_back_only_its_own_mail(
        db_url: str, clock, tokens: dict[str, str], monkeypatch) -> None:
    """The invoice is rendered when the mail is handed over: a failure there fails that one
    mail (its text says the invoice is attached, so it is not sent without it) while the rest
    of the batch goes out; the retry attaches the invoice chosen when the mail was written."""
    from api import invoices

    with smtp_server() as (inbox, port):
        async with mail_app(db_url, clock, port) as api:
            mails, payments = await consumers(api, tokens, retries=6)
            numbers = [await paid_order(api, f"mail-broken-{i}", reference=f"pi_broken{i}",
                                        lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}],
                                        token=tokens["ada"]) for i in (1, 2)]
            for number in numbers:
                await hand_over(api, tokens, number, "WH-MIL")
            await drain_payments(payments)
            [broken] = await documents_of(api, numbers[0])
            real = invoices.render

            def render(issued, order, **kw):  # type: ignore[no-untyped-def]
                if issued.number == broken.number:
                    raise RuntimeError("font missing")
                return real(issued, order, **kw)

            monkeypatch.setattr(invoices, "render", render)
            for _ in range(3):  # the confirmations, then both "shipped" mails in one batch
                await mails.round()
            shipped = [m for m in inbox.messages if "spedito" in m["Subject"]]
            assert [numbers[1] in m["Subject"] for m in shipped] == [True]
            listed = (await run_query(api, numbers[0], tokens["agent"]))
            assert ("SHIPPED", "FAILED", [broken.number]) in listed, listed

            monkeypatch.setattr(invoices, "render", real)
            await drain(mails)
            again = [m for m in inbox.messages if numbers[0] in m["Subject"]
                     and "spedito" in m["Subject"]]
            assert len(again) == 1 and list(attached(again[0])) == [f"{broken.number}.pdf"]
            assert ("SHIPPED", "SENT", [broken.number]) in await run_query(
                api, numbers[0], tokens["agent"])


async def run_query(api: Api, number: str, token: str) -> list[tuple[str, str, list[str]]]:
    data = await api.data(NOTIFICATIONS, {"number": number}, token=token)
    return [(n["kind"], n["status"], n["attachments"]) for n in data["order"]["notifications"]]
