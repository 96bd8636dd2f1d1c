"""PROMESSA_ENV=production: no introspection or GraphiQL unless enabled, no name suggestions,
unexpected errors masked with a request id that is in the logs, HSTS."""

from __future__ import annotations

import logging

import pytest

from api import settings as settings_module
from api.settings import SettingsError
from tests.api.test_throttling import app_with, client

pytestmark = pytest.mark.anyio
INTROSPECT = "{ __schema { queryType { name } } }"


@pytest.fixture
def db_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "promessa.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


async def test_production_turns_introspection_off_but_not_typename(db_url):
    async with app_with(db_url, environment="production") as app, client(app) as api:
        result = await api.post(INTROSPECT)
        assert "data" not in result
        assert result["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        typed = await api.post("{ __type(name: \"Order\") { name } }")
        assert typed["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        assert (await api.data("{ __typename channels { code } }"))["__typename"] == "Query"


async def test_introspection_and_graphiql_can_be_enabled_in_production(db_url):
    async with app_with(db_url, environment="production", introspection=True,
                        graphiql=True) as app, client(app) as api:
        assert (await api.data(INTROSPECT))["__schema"]["queryType"]["name"] == "Query"
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_development_has_introspection_and_graphiql(api):
    assert (await api.data(INTROSPECT))["__schema"]["queryType"]["name"] == "Query"
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200


async def test_production_serves_no_graphiql(db_url):
    async with app_with(db_url, environment="production") as app, client(app) as api:
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()


@pytest.mark.parametrize(("query", "says"), [
    ("{ channels { nam } }", "Cannot query field 'nam' on type 'Channel'."),
    ("{ orders(frist: 1) { totalCount } }", "Unknown argument 'frist' on field 'Query.orders'."),
    ("{ fulfillments(location: \"X\", status: [ACCEPTD]) { totalCount } }",
     "Value 'ACCEPTD' does not exist in 'FulfillmentStatus' enum."),
])
async def test_production_suggests_no_names(db_url, query, says):
    async with app_with(db_url, environment="production") as app, client(app) as api:
        [error] = (await api.post(query))["errors"]
        assert error["message"] == says
        assert error["extensions"]["code"] == "BAD_REQUEST"
    async with app_with(db_url) as app, client(app) as api:  # development helps
        assert "Did you mean" in (await api.post(query))["errors"][0]["message"]


async def test_production_masks_the_unexpected_and_logs_it_with_the_request_id(db_url, caplog):
    async with app_with(db_url, environment="production") as app, client(app) as api:
        async def broken():
            raise RuntimeError("connection to 10.0.0.5 failed: password=hunter2")

        app.state.deps.reader.channels = broken
        with caplog.at_level(logging.ERROR, logger="promessa.errors"):
            result = await api.post("{ channels { code } }")
        [error] = result["errors"]
        assert error["message"] == "Unexpected error"
        assert error["extensions"]["code"] == "INTERNAL"
        assert "hunter2" not in str(result) and "10.0.0.5" not in str(result)
        assert error["extensions"]["requestId"] in caplog.text and "hunter2" in caplog.text
        # a domain refusal keeps its code
        refused = await api.post("{ orders { totalCount } }")
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_production_answers_carry_strict_transport_security(db_url):
    async with app_with(db_url, environment="production") as app, client(app) as api:
        response = await api.client.post("/graphql", json={"query": "{ __typename }"})
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_protection_settings_are_read_from_the_environment():
    loaded = settings_module.load({
        "PROMESSA_MAX_DEPTH": "8", "PROMESSA_MAX_ALIASES": "5", "PROMESSA_MAX_TOKENS": "900",
        "PROMESSA_MAX_COST": "300", "PROMESSA_MAX_INPUT_LIST": "50",
        "PROMESSA_RATE_LIMIT_BURST": "600", "PROMESSA_RATE_LIMIT_PER_SECOND": "5",
        "PROMESSA_RATE_LIMIT_URL": "redis://cache:6379/1", "PROMESSA_INTROSPECTION": "true",
        "PROMESSA_GRAPHIQL": "false", "PROMESSA_CORS_ORIGINS": "https://shop.example.com",
        "PROMESSA_GUEST_LOOKUPS_PER_CLIENT": "7", "PROMESSA_GUEST_LOOKUPS_PER_ORDER": "2",
        "PROMESSA_MAX_BODY_BYTES": "5000", "PROMESSA_RATE_LIMIT": "off"})
    limits = loaded.limits
    assert (limits.max_depth, limits.max_aliases, limits.max_tokens, limits.max_cost,
            limits.max_list) == (8, 5, 900, 300, 50)
    assert (loaded.rate_limit, loaded.rate_limit_burst, loaded.rate_limit_per_second) == (
        False, 600, 5.0)
    assert loaded.buckets_url == "redis://cache:6379/1"
    assert loaded.introspection_enabled and not loaded.graphiql_enabled
    assert loaded.cors_origins == ("https://shop.example.com",)
    assert (loaded.guest_lookups_per_client, loaded.guest_lookups_per_order,
            loaded.max_body_bytes) == (7, 2, 5000)
    defaults = settings_module.load({})
    assert defaults.rate_limit and defaults.buckets_url is None
    assert settings_module.load({"PROMESSA_BROADCAST_URL": "redis://r:6379/0"}
                                ).buckets_url == "redis://r:6379/0"


@pytest.mark.parametrize(("env", "message"), [
    ({"PROMESSA_MAX_DEPTH": "zero"}, "PROMESSA_MAX_DEPTH must be a whole number"),
    ({"PROMESSA_MAX_COST": "900", "PROMESSA_RATE_LIMIT_BURST": "100"},
     "PROMESSA_RATE_LIMIT_BURST must be at least PROMESSA_MAX_COST"),
    ({"PROMESSA_RATE_LIMIT_URL": "http://x"}, "PROMESSA_RATE_LIMIT_URL must be"),
    ({"PROMESSA_INTROSPECTION": "maybe"}, "PROMESSA_INTROSPECTION must be true or false"),
    ({"PROMESSA_CORS_ORIGINS": "not a url"}, "PROMESSA_CORS_ORIGINS"),
])
def test_unusable_protection_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        settings_module.load(env)


async def test_production_keeps_metrics_and_readiness_details_to_the_token(db_url):
    """Operation names, pool figures and the migration revision are not for anyone in
    production (issue 17, item 14): /metrics is closed without PROMESSA_METRICS_TOKEN, and
    /readyz tells a load balancer ready or not, the details only with the token."""
    async with app_with(db_url, environment="production") as app, client(app) as api:
        assert (await api.client.get("/metrics")).status_code == 403
        ready = await api.client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    token = "a-long-scrape-token-0123"
    async with app_with(db_url, environment="production", metrics_token=token) as app, \
            client(app) as api:
        assert (await api.client.get("/metrics")).status_code == 401
        auth = {"authorization": f"Bearer {token}"}
        assert (await api.client.get("/metrics", headers=auth)).status_code == 200
        detailed = (await api.client.get("/readyz", headers=auth)).json()
        assert detailed["status"] == "ready" and "migrations" in detailed["checks"]
        assert "checks" not in (await api.client.get("/readyz")).json()
    async with app_with(db_url, environment="production", metrics_public=True) as app, \
            client(app) as api:
        assert (await api.client.get("/metrics")).status_code == 200
