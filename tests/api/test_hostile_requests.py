"""Requests that once escaped the error masking with a bare 500 (issue 17 #2): a compressed
body and a validly signed token whose claims have the wrong types. Each is answered in the
GraphQL-over-HTTP error shape with a code (or refused with 4403 over a WebSocket)."""

from __future__ import annotations

import gzip
import json
import time

import jwt
import pytest

from tests.api.test_ws_protocol import _closed_with, _open, _send
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio
QUERY = {"query": "{ channels { code } }"}


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:  # refused before any database work
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


def _signed(**claims: object) -> str:
    # an hour to live: within the lifetime cap, so the claim under test is what is refused
    return jwt.encode({"sub": "someone", "exp": int(time.time()) + 3600, **claims}, SECRET,
                      algorithm="HS256")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "gzip, identity"])
async def test_a_compressed_body_is_refused_with_415_and_a_code(api, coding):
    body = gzip.compress(json.dumps(QUERY).encode())
    response = await api.client.post("/graphql", content=body, headers={
        "content-type": "application/json", "content-encoding": coding})

    assert response.status_code == 415, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_an_identity_content_encoding_is_no_encoding(api):
    response = await api.client.post("/graphql", json=QUERY,
                                     headers={"content-encoding": "identity"})

    assert response.status_code == 200, response.text


ROLES = [["admin"], {"admin": True}, 1, None, True]


@pytest.mark.parametrize("role", ROLES, ids=repr)
async def test_a_signed_token_whose_role_is_not_a_string_is_401(api, role):
    response = await api.client.post("/graphql", json=QUERY,
                                     headers={"authorization": f"Bearer {_signed(role=role)}"})

    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", ROLES, ids=repr)
async def test_a_signed_token_whose_role_is_not_a_string_closes_a_socket_with_4403(live, role):
    async with _open(live) as ws:
        await _send(ws, {"type": "connection_init",
                         "payload": {"Authorization": f"Bearer {_signed(role=role)}"}})
        assert (await _closed_with(ws))[0] == 4403


LIFETIMES = [{"exp": None}, {"exp": 10**30}, {"exp": int(time.time()) + 400 * 86_400}]


def _lasting(claims: dict[str, object]) -> str:
    body = {"sub": "someone", "role": "admin", **claims}
    if body["exp"] is None:
        del body["exp"]
    return jwt.encode(body, SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", LIFETIMES)
async def test_a_token_that_never_expires_or_lives_too_long_is_refused(api, claims):
    """Every token says when it expires, within PROMESSA_TOKEN_MAX_DAYS (366 days by default),
    so no socket opened with one stays open for ever (issue 17, item 13)."""
    forged = _lasting(claims)
    response = await api.client.post("/graphql", json=QUERY,
                                     headers={"authorization": f"Bearer {forged}"})
    assert response.status_code == 401, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "exp" in error["message"] or "too long" in error["message"]


@pytest.mark.parametrize("claims", LIFETIMES)
async def test_a_socket_is_refused_a_token_that_never_expires_or_lives_too_long(live, claims):
    async with _open(live) as ws:
        await _send(ws, {"type": "connection_init",
                         "payload": {"Authorization": f"Bearer {_lasting(claims)}"}})
        assert (await _closed_with(ws))[0] == 4403


async def test_a_subscription_sent_over_http_is_a_bad_request_not_an_internal_error(
        api, tokens):
    """A subscription has no stream to answer on over HTTP (issue 17, item 9)."""
    response = await api.client.post(
        "/graphql", json={"query": "subscription { inventoryEvents { sequence } }"},
        headers={"authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
