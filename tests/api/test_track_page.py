"""/track and its static files as served (the browser tests in tests/browser drive the page),
and the pickup facts trackOrder gives the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.lifecycle import place
from tests.conftest import load_examples, load_operations, seed_contract_network

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]

TRACKED = """query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) {
  deliveryMethod readyBy promisedDelivery { earliest latest }
  pickupStore { code name timeZone address { line1 city postalCode country } } } }"""


async def test_the_page_and_its_files_are_served_without_inline_code(api):
    page = await api.client.get("/track")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'; style-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    # a strict Content-Security-Policy (script-src 'self'; style-src 'self') must not break it
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/track-words.js" defer>',
        '<script src="/static/track-live.js" defer>',
        '<script src="/static/track-returns.js" defer>', '<script src="/static/track.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere

    for path, kind in (("/static/track.js", "javascript"), ("/static/track-live.js", "javascript"),
                       ("/static/track-words.js", "javascript"),
                       ("/static/track-returns.js", "javascript"),
                       ("/static/track.css", "text/css")):
        served = await api.client.get(path)
        assert served.status_code == 200, path
        assert kind in served.headers["content-type"]
        assert "http://" not in served.text and "https://" not in served.text
    # the page fetched by its file name keeps the page's policy, not GraphiQL's looser one
    direct = await api.client.get("/static/track.html")
    assert direct.headers["content-security-policy"] == page.headers["content-security-policy"]
    assert (await api.client.get("/static/nothing.js")).status_code == 404
    assert (await api.client.get("/static/../app.py")).status_code == 404


async def test_tracking_a_pickup_shows_its_store_and_ready_by_time(api, tokens):
    await seed_contract_network(api, tokens)
    number = (await place(api, "track-pickup-api1", token=tokens["ada"],
                          delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"}))["number"]

    got = (await api.data(TRACKED, {"n": number, "e": "ada@example.com"}))["trackOrder"]

    assert got["deliveryMethod"] == "PICKUP"
    assert got["pickupStore"] == {"code": "ST-ROMA", "name": "Roma Via del Corso",
                                  "timeZone": "Europe/Rome",
                                  "address": {"line1": "Via del Corso 200", "city": "Roma",
                                              "postalCode": "00186", "country": "IT"}}
    assert got["readyBy"] == got["promisedDelivery"]["latest"]


async def test_tracking_a_shipment_has_no_pickup_facts(api, tokens):
    await seed_contract_network(api, tokens)
    number = (await place(api, "track-ship-api01", token=tokens["ada"]))["number"]

    got = (await api.data(TRACKED, {"n": number, "e": "ada@example.com"}))["trackOrder"]

    assert (got["deliveryMethod"], got["pickupStore"], got["readyBy"]) == ("SHIP", None, None)
    assert got["promisedDelivery"] is not None


async def test_the_page_s_pickup_store_selection_answers_the_store_s_week(api, tokens):
    """What track.js asks of the pickup store (taken from the file, so the two cannot drift)
    runs against the schema and gives the store's next seven days."""
    script = (ROOT / "api" / "static" / "track.js").read_text()
    selection = re.search(r"pickupStore \{(.*?)\n    \}", script, re.S)
    assert selection is not None and "openingHours" in selection[1]
    await seed_contract_network(api, tokens)
    ops, examples = load_operations(), load_examples()
    roma = next(x for x in examples["UpsertLocations"]["input"]["locations"]
                if x["code"] == "ST-ROMA")
    hours = {"weekly": [{"day": "WEDNESDAY", "opens": "09:30", "closes": "13:00"},
                        {"day": "WEDNESDAY", "opens": "15:00", "closes": "19:30"}],
             "exceptions": [{"date": "2030-01-03", "periods": [
                 {"opens": "10:00", "closes": "12:00"}]}]}
    await api.data(ops["UpsertLocations"], {"input": {"locations": [
        {**roma, "openingHours": hours}]}}, token=tokens["admin"])
    number = (await place(api, "track-pickup-hrs1", token=tokens["ada"],
                          delivery={"method": "PICKUP", "pickupLocation": "ST-ROMA"}))["number"]

    got = (await api.data(
        "query($n: String!, $e: String!) { trackOrder(number: $n, email: $e) { pickupStore {"
        + selection[1] + "} } }", {"n": number, "e": "ada@example.com"}))["trackOrder"]

    week = got["pickupStore"]["openingHours"]["upcoming"]
    assert [(d["date"], d["closed"], [(p["opens"], p["closes"]) for p in d["periods"]])
            for d in week] == [
        ("2030-01-02", False, [("09:30", "13:00"), ("15:00", "19:30")]),
        ("2030-01-03", False, [("10:00", "12:00")]),
        *((f"2030-01-0{day}", True, []) for day in range(4, 9))]
