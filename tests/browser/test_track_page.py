"""The guest order-status page (/track) in a real headless Chromium against a real server:
look an order up, watch it change by itself as the store works on it, not-found answers,
links carrying the order in their fragment, Italian, phone and desktop layouts, and starting
a return of a delivered order."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.app import create_app
from tests.api.lifecycle import fulfillment_ids, place, step
from tests.api.returns import delivered_order, op
from tests.api.returns import seed as seed_returns
from tests.browser.conftest import Page
from tests.conftest import (
    Api,
    load_examples,
    load_operations,
    make_settings,
    seed_contract_network,
    serve,
)

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

PHONE, DESKTOP = (390, 844), (1280, 900)
NOT_FOUND = ("We could not find an order with this number and email. "
             "Check both and try again.")


async def _seeded_order(live, tokens, key: str, **changes) -> tuple[str, str]:
    await seed_contract_network(live.api, tokens)
    number = (await place(live.api, key, token=tokens["ada"], **changes))["number"]
    fid = (await fulfillment_ids(live.api, number, tokens["agent"]))["ST-ROMA"]
    return number, fid


async def _type_and_submit(page: Page, number: str, email: str) -> None:
    """Fill the form with the keyboard only: number, Tab, email, Enter."""
    from selenium.webdriver.common.keys import Keys

    def keys() -> None:
        driver = page.driver
        driver.find_element("id", "number").clear()
        driver.find_element("id", "email").clear()
        driver.find_element("id", "number").click()
        driver.switch_to.active_element.send_keys(number, Keys.TAB)
        driver.switch_to.active_element.send_keys(email, Keys.ENTER)

    await page.run(keys)


async def test_a_guest_sees_the_order_and_the_page_follows_it_live(page, live, tokens):
    number, fid = await _seeded_order(live, tokens, "track-page-live-1")
    await page.open(f"{live.url}/track")
    assert await page.script("return document.activeElement.id") == "number"
    labelled = await page.script(
        "return [...document.querySelectorAll('input, select')].every("
        "  el => document.querySelector(`label[for='${el.id}']`))")
    assert labelled is True

    await _type_and_submit(page, number, " Ada@Example.com ")
    await page.wait_text("status", "Confirmed")
    assert await page.text("order-number") == number
    assert await page.script("return document.activeElement.id") == "order-heading"
    assert "Home delivery" in await page.text("facts")
    assert "Expected delivery" in await page.text("facts")
    assert "We received your order" in await page.text("timeline")
    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "live", "the page never went live")
    await page.shot("track-confirmed", *PHONE)

    store = tokens["store_roma"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(live.api, name, fid, store))["userErrors"] == []
    await page.wait_text("status", "Being prepared")
    shipped = await step(live.api, "shipFulfillment", fid, store, carrier="BRT",
                         trackingNumber="BRT123456789")
    assert shipped["userErrors"] == []

    await page.wait_text("status", "Shipped")
    await page.wait_text("shipments", "Tracking number: BRT123456789")
    assert "Carrier: BRT" in await page.text("shipments")
    assert "Shipped with BRT, tracking number BRT123456789" in await page.text("timeline")
    assert "Shipped" in await page.script(
        "return document.getElementById('announcer').textContent")
    assert await page.script("return location.href") == f"{live.url}/track"

    await page.shot("track-shipped", *DESKTOP)
    await page.shot("track-shipped", *PHONE)
    assert await page.fits_width(*PHONE)
    assert await page.fits_width(320, 640)
    # served with a strict Content-Security-Policy: nothing was refused, nothing went wrong
    assert await page.console_problems() == []


async def test_a_wrong_email_reads_exactly_like_an_unknown_number(page, live, tokens):
    number, _ = await _seeded_order(live, tokens, "track-page-nf-01")
    await page.open(f"{live.url}/track")

    await _type_and_submit(page, number, "eve@example.com")
    await page.wait_text("problem", "could not find")
    wrong_email = await page.text("problem")
    await _type_and_submit(page, "PR-999999", "ada@example.com")
    await page.wait(lambda d: d.find_element("id", "submit").is_enabled())
    wrong_number = await page.text("problem")

    assert wrong_email == wrong_number == NOT_FOUND
    await page.shot("track-not-found", *DESKTOP)
    await page.shot("track-not-found", *PHONE)
    assert await page.script("return document.getElementById('result').hidden") is True
    assert await page.script(
        "return document.getElementById('problem').getAttribute('role')") == "alert"


async def test_a_link_with_the_order_in_its_fragment_opens_a_pickup_and_leaves_no_trace(
        page, live, tokens):
    number, fid = await _seeded_order(
        live, tokens, "track-page-pick1",
        delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"})
    await page.open(f"{live.url}/track#number={number}&email=ada%40example.com")

    await page.wait_text("status", "Confirmed")
    facts = await page.text("facts")
    assert "Pickup in store" in facts
    assert "Roma Via del Corso — Via del Corso 200, 00186 Roma" in facts
    assert "Ready by" in facts
    code = (await live.api.data("query($n: String!) { order(number: $n) { pickupCode } }",
                                {"n": number}, token=tokens["ada"]))["order"]["pickupCode"]
    assert f"Pickup code (say it at the counter)\n{code}" in facts, facts
    assert await page.script("return location.href") == f"{live.url}/track"
    assert await page.script("return history.length") >= 1
    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "live", "the page never went live")

    store = tokens["store_roma"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment",
                 "markReadyForPickup"):
        assert (await step(live.api, name, fid, store))["userErrors"] == []
    await page.wait_text("status", "Ready for pickup")
    assert "Ready for pickup at Roma Via del Corso" in await page.text("timeline")
    assert await page.text("facts") == facts  # the live view carries the same pickup facts
    await page.shot("track-pickup", *PHONE)


async def test_a_pickup_shows_the_store_s_opening_hours_for_the_week(page, live, tokens):
    await seed_contract_network(live.api, tokens)
    ops, examples = load_operations(), load_examples()
    roma = next(x for x in examples["UpsertLocations"]["input"]["locations"]
                if x["code"] == "ST-ROMA")
    week = [{"day": d, "opens": "09:30", "closes": "19:30"}
            for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")]
    saved = await live.api.data(ops["UpsertLocations"], {"input": {"locations": [
        {**roma, "openingHours": {"weekly": week}}]}}, token=tokens["admin"])
    assert saved["upsertLocations"]["userErrors"] == []
    number = (await place(live.api, "track-page-hours1", token=tokens["ada"],
                          delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"}))["number"]

    await page.open(f"{live.url}/track#number={number}&email=ada%40example.com")
    await page.wait_text("status", "Confirmed")

    facts = await page.text("facts")
    assert "Store opening hours" in facts
    # the clock's Wednesday 2 January 2030 and the six days after it, Sunday closed (the
    # dates are written in the browser's own locale)
    days = [line for line in facts.splitlines() if line.endswith(("19:30", "closed"))]
    assert len(days) == 7 and days[0].startswith("Wed") and days[4].startswith("Sun")
    assert [line.endswith(": closed") for line in days] == [False] * 4 + [True] + [False] * 2
    await page.shot("track-pickup-hours", *PHONE)


async def test_italian_follows_the_browser_and_the_switch_is_remembered(
        page, italian_page, live, tokens):
    number, _ = await _seeded_order(live, tokens, "track-page-it-01")

    await italian_page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await italian_page.wait_text("status", "Confermato")
    assert await italian_page.text("title") == "Traccia il tuo ordine"
    assert await italian_page.script("return document.documentElement.lang") == "it"
    assert "Abbiamo ricevuto il tuo ordine" in await italian_page.text("timeline")
    await italian_page.shot("track-italian", *PHONE)

    await page.open(f"{live.url}/track")
    assert await page.text("title") == "Track your order"

    def choose(value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(page.driver.find_element("id", "lang")).select_by_value(value)

    await page.run(choose, "it")
    assert await page.text("title") == "Traccia il tuo ordine"
    await _type_and_submit(page, number, "nobody@example.com")
    await page.wait_text("problem", "Non abbiamo trovato un ordine")
    await page.open(f"{live.url}/track")  # a new visit remembers the choice
    assert await page.text("title") == "Traccia il tuo ordine"
    assert await page.script("return document.getElementById('lang').value") == "it"
    await page.run(choose, "en")
    assert await page.text("title") == "Track your order"


async def test_the_form_has_a_visible_keyboard_focus(page, live):
    from selenium.webdriver.common.keys import Keys

    await page.open(f"{live.url}/track")

    def tab_to_email() -> str:
        page.driver.switch_to.active_element.send_keys(Keys.TAB)
        return page.driver.execute_script(
            "const el = document.activeElement;"
            "const s = getComputedStyle(el);"
            "return `${el.id} ${s.outlineStyle} ${parseFloat(s.outlineWidth) >= 2}`")

    assert await page.run(tab_to_email) == "email solid true"


async def test_the_page_reconnects_and_catches_up_on_what_it_missed(page, db_url, clock, tokens):
    """The server goes away; while it is down the store packs and ships; when it is back the
    page reconnects by itself and resumes from the last event it saw."""
    with socket.socket() as probe:  # a port both servers will use, one after the other
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with serve(create_app(make_settings(db_url), clock=clock), port) as url, \
            httpx.AsyncClient(base_url=url, timeout=30) as client:
        api = Api(client, None)
        await seed_contract_network(api, tokens)
        number = (await place(api, "track-page-back1", token=tokens["ada"]))["number"]
        fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
        await page.open(f"{url}/track#number={number}&email=ada@example.com")
        await page.wait_text("status", "Confirmed")
        await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
            "data-state") == "live", "the page never went live")
        assert (await step(api, "acceptFulfillment", fid, tokens["store_roma"]))[
            "userErrors"] == []
        await page.wait_text("status", "Being prepared")

    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "reconnecting", "the page did not notice the server went away")
    offline = create_app(make_settings(db_url), clock=clock)
    async with offline.router.lifespan_context(offline), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=offline), base_url="http://test") as client:
        api = Api(client, offline)
        for name, extra in (("pickFulfillment", {}), ("packFulfillment", {}),
                            ("shipFulfillment", {"carrier": "BRT",
                                                 "trackingNumber": "BRT555000111"})):
            assert (await step(api, name, fid, tokens["store_roma"], **extra))[
                "userErrors"] == []
    assert await page.text("status") == "Being prepared"  # nobody told the page yet

    async with serve(create_app(make_settings(db_url), clock=clock), port):
        await page.wait_text("status", "Shipped")
        await page.wait_text("shipments", "BRT555000111")
        await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
            "data-state") == "live", "the page did not come back live")
    # it caught up from the replayed events alone: one trackOrder request, the first lookup
    assert await page.script(
        "return performance.getEntriesByType('resource')"
        "  .filter(e => e.initiatorType === 'fetch').map(e => new URL(e.name).pathname)"
    ) == ["/graphql"]


CONTRAST = """
const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
const lum = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const backdrop = (el) => {
  for (let at = el; at; at = at.parentElement) {
    const c = rgb(getComputedStyle(at).backgroundColor);
    if (c.length < 4 || c[3] === 1) return c;
  }
  return [255, 255, 255];
};
return [...document.querySelectorAll(arguments[0])]
  .filter((el) => el.offsetParent !== null && el.textContent.trim())
  .map((el) => {
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(backdrop(el))];
    return [el.id || el.className || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
"""


async def test_text_has_enough_contrast(page, live, tokens):
    number, _ = await _seeded_order(live, tokens, "track-page-aa-01")
    await page.open(f"{live.url}/track")
    await _type_and_submit(page, number, "eve@example.com")
    await page.wait_text("problem", "could not find")
    seen = await page.script(CONTRAST, "label, .hint, button, .problem, .brand, select")
    await page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await page.wait_text("status", "Confirmed")
    seen += await page.script(CONTRAST, "h1, h2, h3, .status, .status-label, .status-words, "
                                        ".connection, dt, dd, time, .timeline span, .sku")

    assert len(seen) >= 15
    assert [(what, ratio) for what, ratio in seen if ratio < 4.5] == []  # WCAG AA


FETCHES = ("return performance.getEntriesByType('resource')"
           "  .filter(e => e.initiatorType === 'fetch').length")


async def test_an_order_whose_events_are_past_retention_is_still_followed_live(
        page, live, tokens, clock):
    """Replaying from the start is refused (RESYNC_REQUIRED): the page follows live only,
    takes the state from trackOrder once more, and still sees the next change."""
    number, fid = await _seeded_order(live, tokens, "track-page-old-1")
    clock.current += timedelta(days=8)
    assert await live.app.state.realtime.prune_once() > 0

    await page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await page.wait_text("status", "Confirmed")
    await page.wait(lambda d: d.execute_script(FETCHES) == 2, "no second trackOrder")
    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "live", "the page never went live")

    store = tokens["store_roma"]
    for name, extra in (("acceptFulfillment", {}), ("pickFulfillment", {}),
                        ("packFulfillment", {}),
                        ("shipFulfillment", {"carrier": "SDA", "trackingNumber": "SDA42"})):
        assert (await step(live.api, name, fid, store, **extra))["userErrors"] == []
    await page.wait_text("status", "Shipped")
    await page.wait_text("shipments", "SDA42")
    assert await page.script(FETCHES) == 2


SHIRT, MUG = "TSHIRT-BLU-M", "MUG-NAME"
RETURN_FORM_SHOWN = "the return form never showed"


async def _delivered(live, tokens, key: str, clock) -> str:
    """A guest's order of two shirts and a personalised mug, delivered on 3 January 2030,
    looked at two days later."""
    await seed_returns(live.api, tokens)
    number = await delivered_order(live.api, tokens, key, [{"sku": SHIRT, "quantity": 2},
                                                           {"sku": MUG, "quantity": 1}])
    clock.current = datetime(2030, 1, 5, 10, 0, tzinfo=UTC)
    return number


def _form_shown(driver) -> bool:
    return driver.find_element("id", "return-form").is_displayed()


async def test_a_guest_returns_one_unit_for_a_refund_and_follows_the_return_live(
        page, live, tokens, clock):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    number = await _delivered(live, tokens, "track-page-ret-01", clock)
    await page.open(f"{live.url}/track")
    await _type_and_submit(page, number, "ada@example.com")
    await page.wait_text("status", "Delivered")
    await page.wait(_form_shown, RETURN_FORM_SHOWN)
    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "live", "the page never went live")

    # the shirt may come back (two units, until 2 February), the personalised mug may not
    lines = (await page.text("return-lines")).split("\n")
    assert lines[:3] == [SHIRT, "Return this item", "How many"]
    assert lines[-1] == "You can return it until February 2, 2030"
    assert await page.script("return [...document.getElementById('ret-0-qty').options]"
                             ".map(o => o.value)") == ["1", "2"]
    assert await page.text("not-returnable") == (
        f"{MUG}: this kind of item cannot be returned")
    assert await page.text("resolutions") == "A refund\nStore credit"
    assert await page.text("methods") == ("Send it with a prepaid label\n"
                                          "Drop it at a store")
    assert "A return label costs €4.90; it is taken off your refund." in await page.text(
        "return-form")
    unlabelled = await page.script(
        "return [...document.querySelectorAll('#return-form input, #return-form select')]"
        "  .filter(el => !document.querySelector(`label[for='${el.id}']`)).map(el => el.id)")
    assert unlabelled == []
    assert await page.script("return document.querySelectorAll("
                             "'#return-form fieldset > legend').length") == 3
    await page.shot("track-return-form", *PHONE)
    await page.shot("track-return-form", *DESKTOP)

    def fill_with_the_keyboard() -> list[str]:
        """From the reason select on, keys only: type the reason, Tab to each choice, Space
        to take it, Tab to the button, Enter."""
        driver = page.driver
        driver.execute_script("document.getElementById('ret-0-reason').focus()")
        visited = []
        for keys in ("Arr", Keys.TAB + Keys.SPACE, Keys.TAB + Keys.SPACE, Keys.TAB + Keys.ENTER):
            driver.switch_to.active_element.send_keys(keys)
            visited.append(driver.execute_script("return document.activeElement.id"))
        return visited

    assert await page.run(fill_with_the_keyboard) == [
        "ret-0-reason", "ret-resolution-REFUND", "ret-method-SHIP_BACK", "return-submit"]
    await page.wait_text("return-result", f"Return {number}-R1")
    assert await page.script("return document.activeElement.id") == "return-result"
    # the mutation's answer is shown at once; the whole card (lines, refund, label) follows
    # with the order's next live update
    await page.wait_text("return-result", f"{SHIRT} × 1 — A refund")
    result = await page.text("return-result")
    assert "Approved: you can send it back" in result
    assert "Refund: €15.00" in result
    assert "Return tracking number: BRT RT" in result
    link = await page.script(
        "const a = document.querySelector('#return-result a.label-link');"
        "return [a.href, a.target, a.rel, a.textContent]")
    assert link[1:] == ["_blank", "noopener noreferrer",
                        "Print the return label (PDF) (opens in a new tab)"]
    async with httpx.AsyncClient(timeout=30) as client:
        label = await client.get(link[0])
    assert label.status_code == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")

    listed = (await op(live.api, "OrderReturns", {"number": number},
                       token=tokens["agent"]))["returns"]
    assert [(r["number"], r["status"], r["method"], r["resolution"],
             [(x["sku"], x["quantity"], x["reason"]) for x in r["lines"]]) for r in listed] == [
        (f"{number}-R1", "APPROVED", "SHIP_BACK", "REFUND", [(SHIRT, 1, "DAMAGED")])]
    # one shirt is left to return: the form offers exactly that, afresh
    await page.wait(lambda d: d.execute_script(
        "return [...document.getElementById('ret-0-qty').options].map(o => o.value)") == ["1"],
        "the form still offers the returned unit")
    assert await page.script("return document.getElementById('ret-0-reason').value") == \
        "TOO_SMALL"
    await page.shot("track-return-result", *PHONE)
    await page.shot("track-return-result", *DESKTOP)

    # the parcel travels and the warehouse receives it: the page follows by itself
    moved = await op(live.api, "MarkReturnInTransit", {"input": {
        "returnNumber": f"{number}-R1"}}, token=tokens["integration"])
    assert moved["userErrors"] == []
    await page.wait_text("return-result", "On its way back to us")
    received = await op(live.api, "ReceiveReturn", {"input": {
        "returnNumber": f"{number}-R1", "lines": [{"sku": SHIRT, "condition": "RESTOCK"}]}},
        token=tokens["store_mil"])
    assert received["userErrors"] == []
    await page.wait_text("return-result", "Received: we are checking the items")
    await page.wait_text("status", "Partly returned")
    assert "Print the return label" not in await page.text("return-result")  # used now
    assert await page.script("return location.href") == f"{live.url}/track"

    def choose_italian() -> None:
        Select(page.driver.find_element("id", "lang")).select_by_value("it")

    seen = await page.script(CONTRAST, "#returns h4, #returns label, legend, #returns .hint, "
                                       "#returns p, .label-link, .return-status, "
                                       ".not-returnable li")
    assert len(seen) >= 15
    assert [(what, ratio) for what, ratio in seen if ratio < 4.5] == []  # WCAG AA

    await page.run(choose_italian)
    assert "Ricevuto: stiamo controllando gli articoli" in await page.text("return-result")
    assert "Rendi questo articolo" in await page.text("return-lines")
    assert "Puoi renderlo fino al 2 febbraio 2030" in await page.text("return-lines")
    assert f"Abbiamo ricevuto il reso {number}-R1" in await page.text("timeline")
    await page.shot("track-return-italian", *PHONE)
    await page.run(lambda: Select(page.driver.find_element("id", "lang")).select_by_value("en"))
    assert await page.fits_width(*PHONE)
    assert await page.fits_width(320, 640)
    assert await page.console_problems() == []


async def test_a_refused_return_is_told_in_plain_words_and_changes_nothing(
        page, live, tokens, clock):
    number = await _delivered(live, tokens, "track-page-ret-02", clock)
    await page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await page.wait(_form_shown, RETURN_FORM_SHOWN)

    await page.run(lambda: page.driver.find_element("id", "ret-0-pick").click())  # unticked
    await page.run(lambda: page.driver.find_element("id", "return-submit").click())
    await page.wait_text("return-problem", "Choose at least one item to return.")
    assert await page.script("return document.activeElement.id") == "ret-0-pick"

    clock.current = datetime(2030, 2, 2, 23, 0, tzinfo=UTC)  # the window closed meanwhile
    await page.run(lambda: page.driver.find_element("id", "ret-0-pick").click())
    await page.run(lambda: page.driver.find_element("id", "return-submit").click())
    await page.wait_text("return-problem", "The time to return this item has passed.")
    assert await page.script(
        "return document.getElementById('return-problem').getAttribute('role')") == "alert"
    assert await page.script("return document.getElementById('return-result').hidden") is True
    listed = await op(live.api, "OrderReturns", {"number": number}, token=tokens["agent"])
    assert listed["returns"] == []
    await page.shot("track-return-refused", *PHONE)


async def test_an_order_not_yet_delivered_offers_no_return(page, live, tokens):
    number, fid = await _seeded_order(live, tokens, "track-page-ret-03")
    await page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await page.wait_text("status", "Confirmed")
    await page.wait(lambda d: d.find_element("id", "connection").get_attribute(
        "data-state") == "live", "the page never went live")
    store = tokens["store_roma"]
    for name, extra in (("acceptFulfillment", {}), ("pickFulfillment", {}),
                        ("packFulfillment", {}),
                        ("shipFulfillment", {"carrier": "BRT", "trackingNumber": "BRT9"})):
        assert (await step(live.api, name, fid, store, **extra))["userErrors"] == []
    await page.wait_text("status", "Shipped")

    assert await page.script("return document.getElementById('returns').hidden") is True
    assert await page.script("return document.getElementById('return-form').hidden") is True
    assert await page.script(FETCHES) == 1  # not even asked: nothing was delivered


async def test_a_return_dropped_at_a_store_shows_the_store_and_the_code(
        page, italian_page, live, tokens, clock):
    """Store credit, taken to a store: the page names the store and the code to show, in
    Italian; the label link is for parcels sent back only."""
    number = await _delivered(live, tokens, "track-page-ret-04", clock)
    await italian_page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await italian_page.wait(_form_shown, RETURN_FORM_SHOWN)
    assert "Puoi renderlo fino al 2 febbraio 2030" in await italian_page.text("return-lines")

    def choose() -> None:
        driver = italian_page.driver
        driver.find_element("css selector", "label[for='ret-resolution-STORE_CREDIT']").click()
        driver.find_element("css selector", "label[for='ret-method-DROP_AT_STORE']").click()
        driver.find_element("id", "return-submit").click()

    await italian_page.run(choose)
    await italian_page.wait_text("return-result", f"Reso {number}-R1")
    result = await italian_page.text("return-result")
    assert f"{SHIRT} × 1 — Un buono da spendere" in result
    assert "Porta il pacco a: Roma Via del Corso — Via del Corso 200, 00186 Roma" in result
    [ret] = (await op(live.api, "OrderReturns", {"number": number},
                      token=tokens["agent"]))["returns"]
    assert (ret["method"], ret["resolution"], ret["label"]) == ("DROP_AT_STORE", "STORE_CREDIT",
                                                                None)
    assert f"Mostra questo codice in negozio: {ret['dropOff']['code']}" in result
    assert "etichetta di reso (PDF)" not in result
    assert await italian_page.script("return document.activeElement.id") == "return-result"
    await italian_page.shot("track-return-drop-off", *PHONE)
    await italian_page.shot("track-return-drop-off", *DESKTOP)

    # another visit lists it among the order's returns
    await italian_page.open(f"{live.url}/track#number={number}&email=ada@example.com")
    await italian_page.wait_text("returns-list", f"Reso {number}-R1")
    listed = await italian_page.text("returns-list")
    assert "Approvato: puoi rimandarlo" in listed
    assert f"Mostra questo codice in negozio: {ret['dropOff']['code']}" in listed
    assert await italian_page.text("returns-list-heading") == "I tuoi resi"
    assert await italian_page.script(
        "return document.getElementById('return-result').hidden") is True
    assert await italian_page.console_problems() == []


async def test_the_guest_gets_the_invoice_and_the_label_of_a_shipped_parcel(page, live, tokens):
    from tests.payments.support import consumer, drain

    payments = consumer(live.api)
    await payments.take_in()
    number, fid = await _seeded_order(live, tokens, "track-page-docs1")
    store = tokens["store_roma"]
    for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment"):
        assert (await step(live.api, name, fid, store))["userErrors"] == []
    shipped = await step(live.api, "shipFulfillment", fid, store, carrier="BRT",
                         trackingNumber="BRT987654321")
    assert shipped["userErrors"] == []
    await drain(payments)  # the parcel handed over is invoiced (no payment: per parcel)

    await page.open(f"{live.url}/track#number={number}&email=ada%40example.com")
    await page.wait_text("documents", "Shipping label BRT987654321")
    listed = await page.text("documents")
    assert "Invoice IT-" in listed, listed
    assert "Packing slip" not in listed  # the store's paper, not the customer's
    links = await page.script(
        "return [...document.querySelectorAll('#documents a')].map(a => a.href)")
    assert len(links) == 2
    for link in links:
        assert link.startswith(f"{live.url}/")
        got = await live.api.client.get(link)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert got.content.startswith(b"%PDF-")
    await page.shot("track-documents", *PHONE)
    await page.shot("track-documents", *DESKTOP)
    assert await page.console_problems() == []
