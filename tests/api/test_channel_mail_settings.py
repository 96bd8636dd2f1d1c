"""updateChannel's mail settings (issue 16, item 6's sweep): a sender name that goes into a
From header, an accent colour #rrggbb and a locale like a customer's. A bad value is
INVALID_INPUT on its own field and changes nothing — a line break in the sender name would
otherwise break every mail of the channel at the SMTP step."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

UPDATE = """mutation($input: UpdateChannelInput!) { updateChannel(input: $input) {
  channel { code senderName brandColor locale paymentRequired }
  userErrors { field message code } } }"""
CHANNELS = "{ channels { code senderName brandColor locale paymentRequired } }"
SAVED = {"senderName": "Bottega Roma", "brandColor": "#0b5fff", "locale": "it-IT"}


async def web(api) -> dict:
    return next(c for c in (await api.data(CHANNELS))["channels"] if c["code"] == "web")


async def update(api, tokens, **fields) -> dict:
    return (await api.data(UPDATE, {"input": {"code": "web", **fields}},
                           token=tokens["admin"]))["updateChannel"]


async def test_mail_settings_are_saved_normalised_and_cleared_by_an_empty_string(api, tokens):
    saved = await update(api, tokens, senderName="  Bottega Roma ", brandColor="#0B5FFF",
                         locale="it-IT")

    assert saved["userErrors"] == []
    assert await web(api) == {"code": "web", "paymentRequired": False, **SAVED}
    cleared = await update(api, tokens, senderName="", brandColor="", locale="")
    assert cleared["userErrors"] == []
    assert await web(api) == {"code": "web", "paymentRequired": False, "senderName": None,
                              "brandColor": None, "locale": None}


@pytest.mark.parametrize(("field", "value"), [
    ("brandColor", "blue"),
    ("brandColor", "#0b5ff"),
    ("brandColor", "#0b5fff0"),
    ("brandColor", "#gg0000"),
    ("brandColor", "0b5fff"),
    ("locale", "de"),  # no mail is written in German
    ("locale", "xx-IT"),
    ("locale", "it-!!"),
    ("locale", "it-IT-x-private-use"),
    ("locale", "italiano"),
    ("senderName", "Bottega\nBcc: everyone"),
    ("senderName", "Bottega\nRoma"),
    ("senderName", "Bottega\r\nRoma"),
    ("senderName", "Bottega\tRoma"),
    ("senderName", "Bottega\u200bRoma"),  # invisible
    ("senderName", "Bottega\x7fRoma"),
    ("senderName", "B" * 101),
    ("senderName", "Roma <shop@example.com>"),
])
async def test_a_bad_mail_setting_is_refused_on_its_field_and_changes_nothing(
        api, tokens, field, value):
    await update(api, tokens, **SAVED, paymentRequired=False)
    before = await web(api)

    refused = await update(api, tokens, **{field: value}, paymentRequired=True)

    assert refused["channel"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", [field])]
    assert await web(api) == before
