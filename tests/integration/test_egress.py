"""Webhook egress in production: only public addresses are called, checked on the addresses
DNS gave for the connection itself; outside production a local receiver works."""

from __future__ import annotations

import httpx
import pytest

from api.integration import egress
from tests.integration.receiver import receiver

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4",
                                     "169.254.169.254", "100.64.0.1", "::1", "fe80::1",
                                     "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1", "fd00::1",
                                     "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1",
                                     "::7f00:1", "::ffff:0:7f00:1"])
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not egress.public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are(address: str) -> None:
    assert egress.public(address)


async def test_production_refuses_a_local_receiver_and_development_calls_it() -> None:
    async with receiver() as hook:
        guarded = egress.client(allow_private=False, timeout=5)
        try:
            with pytest.raises(egress.Refused):
                await egress.post(guarded, hook.url, body=b"{}", headers={})
            # a name that resolves to loopback is refused the same way
            with pytest.raises(egress.Refused):
                await egress.post(guarded, hook.url.replace("127.0.0.1", "localhost"),
                                  body=b"{}", headers={})
        finally:
            await guarded.aclose()
        assert hook.requests == []
        open_ = egress.client(allow_private=True, timeout=5)
        try:
            status, _ = await egress.post(open_, hook.url, body=b"{}", headers={})
        finally:
            await open_.aclose()
        assert status == 204 and len(hook.requests) == 1


async def test_redirects_are_not_followed() -> None:
    async with receiver(lambda _n: 307) as hook:
        client = egress.client(allow_private=True, timeout=5)
        try:
            status, _ = await egress.post(client, hook.url, body=b"{}", headers={})
        finally:
            await client.aclose()
        assert status == 307 and len(hook.requests) == 1
        assert isinstance(client, httpx.AsyncClient)
