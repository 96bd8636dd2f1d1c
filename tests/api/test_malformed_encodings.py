"""Bytes that are not UTF-8 JSON, or JSON nested deeper than the parser goes, are malformed
requests like any other: a coded 400 in the GraphQL-over-HTTP error shape with the security
headers and a request id over HTTP, 4400 over a WebSocket — never a bare 500 (issue 16, #1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from tests import fuzzlog
from tests.api.test_ws_protocol import _closed_with, _initialised, _open
from tests.conftest import FixedClock, make_settings

JSON = {"content-type": "application/json", "accept": "application/json"}
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_URL = "[" * 3_000 + "]" * 3_000  # as deep as the probe, short enough for a URL


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:  # what is refused here never reaches a database
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


def _refused(response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    [error] = response.json()["errors"]
    return error["extensions"]["code"]


@pytest.mark.parametrize("body", [
    b'{"query":"{ channels { code } }","x":"\xff\xfe"}',  # the example of the issue
    '{"query": "{ channels { code } }"}'.encode("utf-16"),  # a valid query, in UTF-16
    '{"query": "{ channels { code } }"}'.encode("utf-32-le"),  # and in UTF-32, no mark
    b'{"query":"{ channels { code } }","x":"\xc3"}',  # a sequence cut in half
])
@pytest.mark.anyio
async def test_a_body_that_is_not_utf8_is_a_coded_400(api, body):
    response = await api.client.post("/graphql", content=body, headers=JSON)

    assert _refused(response) == "BAD_REQUEST"


@pytest.mark.anyio
async def test_a_body_nested_deeper_than_the_parser_goes_is_a_coded_400(api):
    body = '{"query": "{ channels { code } }", "variables": {"x": ' + DEEP + "}}"

    response = await api.client.post("/graphql", content=body, headers=JSON)

    assert _refused(response) == "BAD_REQUEST"


@pytest.mark.parametrize("variables", [DEEP_URL, "%FF%FE"])
@pytest.mark.anyio
async def test_malformed_variables_in_a_query_string_are_a_coded_400(api, variables):
    # the percent-encoded bytes reach the server as sent: not UTF-8 once decoded
    query = "query=%7B%20channels%20%7B%20code%20%7D%20%7D"
    response = await api.client.get(f"/graphql?{query}&variables={variables}", headers=JSON)

    assert _refused(response) == "BAD_REQUEST"


@pytest.mark.anyio
async def test_a_websocket_frame_nested_too_deep_closes_with_4400(live):
    async with _open(live) as ws:
        await _initialised(ws)
        await ws.send(DEEP)
        assert (await _closed_with(ws))[0] == 4400


# Any bytes at all, and valid documents with their bytes damaged: never a 5xx, always JSON
# with a code. Derandomized: the same bodies every run.
_DOCUMENT = b'{"query": "{ channels { code } }", "variables": {"x": "caff\xc3\xa8"}}'
BODIES = st.one_of(
    st.binary(max_size=120),
    st.tuples(st.integers(0, len(_DOCUMENT) - 1), st.binary(min_size=1, max_size=4)).map(
        lambda cut: _DOCUMENT[:cut[0]] + cut[1] + _DOCUMENT[cut[0] + 1:]),
    st.integers(1, 40_000).map(lambda n: b'{"query": "{ channels { code } }", "v": '
                               + b"[" * n + b"]" * n + b"}"))


def test_any_bytes_in_a_body_get_a_coded_answer_never_a_crash(db_url):
    async def target() -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(db_url, rate_limit=False), clock=FixedClock())
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://fuzz") as client:
            yield client

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(
            asynccontextmanager(target)()) as client:

        sent = 0

        @settings(max_examples=300, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(body=BODIES)
        def run(body: bytes) -> None:
            nonlocal sent
            sent += 1
            response = portal.call(partial(client.post, "/graphql", content=body, headers=JSON))
            assert response.status_code in (200, 400), response.text
            assert response.headers["x-request-id"]
            answer = response.json()
            for error in answer.get("errors") or []:
                assert error["extensions"]["code"] not in (None, "INTERNAL"), error

        run()
    fuzzlog.record("http", sent)
