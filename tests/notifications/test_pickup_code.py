"""The pickup code, on both engines: the "ready for pickup" mail names six digits that are the
order's code on the customer's order and on /track (never on the store's view), and the
counter's confirmPickup refuses a wrong one, changing nothing, and takes the right one."""

from __future__ import annotations

import re

import pytest

from tests.api.lifecycle import fulfillment_ids, place, step
from tests.conftest import seed_contract_network
from tests.notifications.support import drain, mail_app, mailer

pytestmark = pytest.mark.anyio
CODE = """query($number: String!) { order(number: $number) { pickupCode status } }"""
TRACK = """query($number: String!, $email: String!) {
  trackOrder(number: $number, email: $email) { pickupCode } }"""
CONFIRM = """mutation($input: FulfillmentActionInput!, $code: String) {
  confirmPickup(input: $input, pickupCode: $code) {
    fulfillment { status } userErrors { field message code } } }"""


async def test_the_mail_s_pickup_code_is_the_one_the_counter_checks(
        db_url: str, clock, tokens: dict[str, str]) -> None:
    async with mail_app(db_url, clock, None) as api:  # recorded, not sent
        await seed_contract_network(api, tokens)
        mails = mailer(api)
        await mails.take_in()
        number = (await place(api, "pickup-code-01", token=tokens["ada"], delivery={
            "method": "PICKUP", "pickupLocation": "ST-ROMA"}))["number"]
        fid = (await fulfillment_ids(api, number, tokens["agent"]))["ST-ROMA"]
        store = tokens["store_roma"]
        for name in ("acceptFulfillment", "pickFulfillment", "packFulfillment",
                     "markReadyForPickup"):
            assert (await step(api, name, fid, store))["userErrors"] == []
        await drain(mails)

        written = (await api.app.state.deps.notifications.for_orders([number]))[number]
        [ready] = [n for n in written if n.kind.value == "READY_FOR_PICKUP"]
        found = re.search(r"Pickup code\W+(\d{6})\b", ready.text)
        assert found, ready.text
        code = found.group(1)
        assert code in ready.html and number in ready.text

        mine = (await api.data(CODE, {"number": number}, token=tokens["ada"]))["order"]
        assert mine["pickupCode"] == code
        track = await api.data(TRACK, {"number": number, "email": "ada@example.com"})
        assert track["trackOrder"]["pickupCode"] == code
        theirs = (await api.data(CODE, {"number": number}, token=store))["order"]
        assert theirs["pickupCode"] is None  # the store checks the code, never reads it

        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        refused = (await api.data(CONFIRM, {"input": {"fulfillmentId": fid}, "code": wrong},
                                  token=store))["confirmPickup"]
        assert [e["code"] for e in refused["userErrors"]] == ["PICKUP_CODE_MISMATCH"]
        assert refused["userErrors"][0]["field"] == ["pickupCode"]
        still = (await api.data(CODE, {"number": number}, token=tokens["agent"]))["order"]
        assert still["status"] == "READY_FOR_PICKUP"

        said = f"{code[:3]} {code[3:]}"  # read out in two groups of three
        done = (await api.data(CONFIRM, {"input": {"fulfillmentId": fid}, "code": said},
                               token=store))["confirmPickup"]
        assert done["userErrors"] == [] and done["fulfillment"]["status"] == "DELIVERED"
