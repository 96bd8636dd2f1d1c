"""GraphQL over HTTP (the spec draft): media types, status codes, methods, CSRF, headers, CORS.

Strawberry alone already: runs queries over GET, refuses other HTTP methods, answers a parse
error with 200 for application/json. What it answers differently from the spec — 400 for a
body that is not application/json (spec: 415), 400 for a mutation over GET (405), 200 and
`application/json` whatever the Accept header (406 / the new media type with 4xx for request
errors), a plain-text body for refusals — is ours to fix, and each case is proven here.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import sqlalchemy as sa

from tests.api import test_limits
from tests.api.test_limits import PLACE, place_input

pytestmark = pytest.mark.anyio
NEW = "application/graphql-response+json"
QUERY = "{ channels { code } }"
guarded = test_limits.guarded  # the fixture: a seeded app and a statement counter


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def seeded(guarded):
    async with guarded() as (api, statements):
        yield api, statements


async def _orders(api) -> int:
    async with api.app.state.db.writer.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar_one()


@pytest.mark.parametrize(("accept", "media"), [
    (None, "application/json"),
    ("application/json", "application/json"),
    ("*/*", "application/json"),
    (NEW, NEW),
    (f"{NEW}, application/json;q=0.9", NEW),
    (f"application/json, {NEW};q=0.5", "application/json"),
])
async def test_the_answer_has_the_media_type_the_client_accepts(api, accept, media):
    headers = {"accept": accept} if accept else {}
    if accept is None:
        api.client.headers.pop("accept", None)
    response = await api.client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert response.json()["data"]["channels"]


@pytest.mark.parametrize(("query", "code"), [
    ("{ channels { code }", "BAD_REQUEST"),  # does not parse
    ("{ channels { nope } }", "BAD_REQUEST"),  # does not validate
    ("query { " + " ".join(f"a{i}: channels {{ code }}" for i in range(31)) + " }",
     "MAX_ALIASES_EXCEEDED"),
])
async def test_a_request_error_is_4xx_with_the_new_media_type_and_200_with_json(
        api, query, code):
    new = await api.client.post("/graphql", json={"query": query}, headers={"accept": NEW})
    assert new.status_code == 400
    assert new.headers["content-type"].startswith(NEW)
    assert "data" not in new.json() and new.json()["errors"][0]["extensions"]["code"] == code
    legacy = await api.client.post("/graphql", json={"query": query},
                                   headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert "data" not in legacy.json()


async def test_a_field_error_is_still_200_with_the_new_media_type(api, tokens):
    response = await api.client.post("/graphql", json={"query": "{ orders { totalCount } }"},
                                     headers={"accept": NEW})  # anonymous: refused field
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and body["errors"][0]["path"] == ["orders"]


@pytest.mark.parametrize("accept", ["text/html", "text/csv", "application/xml",
                                    f"{NEW};q=0"])
async def test_an_accept_header_naming_none_of_our_types_is_406(api, accept):
    response = await api.client.post("/graphql", json={"query": QUERY},
                                     headers={"accept": accept})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/graphql", "application/json; charset=latin-1", None])
async def test_a_simple_cross_site_post_is_refused_with_415_and_changes_nothing(
        seeded, content_type):
    """A page on another site can POST these without a CORS preflight: a CSRF vector."""
    import json

    api, statements = seeded
    body = json.dumps({"query": PLACE, "variables": place_input()})
    headers = {"content-type": content_type} if content_type else {}
    response = await api.client.post("/graphql", content=body, headers={
        **headers, "origin": "https://evil.example"})
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert statements == [] and await _orders(api) == 0


async def test_a_mutation_over_get_is_405_with_allow_post_and_changes_nothing(seeded):
    import json

    api, statements = seeded
    response = await api.client.get("/graphql", params={
        "query": PLACE, "variables": json.dumps(place_input())})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert statements == [] and await _orders(api) == 0
    # the same mutation sent properly is placed
    assert (await api.data(PLACE, place_input()))["placeOrder"]["order"]["number"]


async def test_a_query_over_get_runs(api):
    response = await api.client.get("/graphql", params={"query": QUERY},
                                    headers={"accept": NEW})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(NEW)
    assert response.json()["data"]["channels"]


@pytest.mark.parametrize(("body", "status"), [
    ('"a string"', 400), ("[1, 2]", 400), ("{not json", 400), ('{"query": 1}', 400),
    ('{"query": "{ channels { code } }", "variables": [1]}', 400), ("{}", 400)])
async def test_a_malformed_body_is_a_coded_400_not_a_crash(api, body, status):
    response = await api.client.post("/graphql", content=body,
                                     headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] in ("BAD_REQUEST",
                                                                  "BATCH_NOT_SUPPORTED")


async def test_a_bad_token_is_401_with_a_challenge(api):
    response = await api.client.post("/graphql", json={"query": QUERY},
                                     headers={"authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_every_answer_carries_the_security_headers(api):
    for response in (await api.client.post("/graphql", json={"query": QUERY}),
                     await api.client.get("/healthz"),
                     await api.client.post("/graphql", content="x",
                                           headers={"content-type": "text/plain"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # not in development


async def test_graphiql_gets_a_policy_that_lets_its_page_load(api):
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()
    policy = response.headers["content-security-policy"]
    [inline] = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' https://unpkg.com 'sha256-{digest}'" in policy  # that script only
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy


async def test_no_origin_is_allowed_cross_site_by_default(api):
    preflight = await api.client.options("/graphql", headers={
        "origin": "https://shop.example.com", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert preflight.status_code in (400, 405)
    assert "access-control-allow-origin" not in preflight.headers
    response = await api.client.post("/graphql", json={"query": QUERY},
                                     headers={"origin": "https://shop.example.com"})
    assert "access-control-allow-origin" not in response.headers


async def test_a_configured_origin_may_call_the_api_cross_site(live_server):
    async with live_server(cors_origins=("https://shop.example.com",)) as live:
        preflight = await live.api.client.options("/graphql", headers={
            "origin": "https://shop.example.com", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example.com"
        response = await live.api.client.post("/graphql", json={"query": QUERY},
                                              headers={"origin": "https://shop.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://shop.example.com"
        other = await live.api.client.post("/graphql", json={"query": QUERY},
                                           headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
