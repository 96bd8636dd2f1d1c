"""Shared fixtures: both engines, the ASGI app with its lifespan, GraphQL helpers.

Database-backed tests take the `db_url` fixture, parametrized over SQLite and PostgreSQL.
PostgreSQL tests run in a database created for this run and dropped after it. When the server
is unreachable they are skipped, unless PROMESSA_REQUIRE_POSTGRES=1 (as in CI) makes that a
failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import make_url

from api.app import create_app
from api.auth import issue_token
from api.settings import Settings
from persistence import migrate
from persistence.db import Database
from persistence.tables import METADATA

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PG_ADMIN_URL = os.environ.get("PROMESSA_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("PROMESSA_REQUIRE_POSTGRES") == "1"
# Reference data the migration seeds; everything else is emptied between tests.
KEEP_TABLES = {"channels", "counters", "alembic_version"}


def contract_dir() -> Path:
    """The shared contract beside the repo (as in CI), else the snapshot kept in tests/."""
    shared = ROOT.parent / "shared" / "contract"
    return shared if shared.is_dir() else ROOT / "tests" / "contract"


# The modules whose tests take seconds each; run first, so that the workers of pytest-xdist
# end together instead of one finishing a long tail alone.
LONG_FIRST = ("tests/api/test_fuzz.py", "tests/domain/test_sourcing_optimality.py",
              "tests/persistence/test_concurrency.py", "tests/api/test_multiprocess.py",
              "tests/api/test_slow_consumer.py", "tests/api/test_authorization_matrix.py",
              "tests/browser/", "tests/domain/test_lifecycle_reachability.py",
              "tests/persistence/test_return_races.py", "tests/js/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first."""
    def long_first(item: pytest.Item) -> int:
        return 0 if item.nodeid.startswith(LONG_FIRST) else 1

    items.sort(key=long_first)


@pytest.fixture(autouse=True)
def _one_redis_test_at_a_time(request: pytest.FixtureRequest) -> Any:
    """Under pytest-xdist (`-n`) the workers share one Redis server, and two tests drop every
    pub/sub connection of it (CLIENT KILL) to prove reconnection: a lock file held for the
    whole of each Redis test keeps another worker's Redis test from losing its connection."""
    if request.node.get_closest_marker("redis") is None:
        yield
        return
    import fcntl
    import tempfile

    with open(Path(tempfile.gettempdir()) / "promessa-redis-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


class FixedClock:
    """A clock tests can set and move."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2030, 1, 2, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"),
                                 timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_url_for(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=database
                                      ).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Any:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    name = f"promessa_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        # a throwaway database need not wait for the disk at every commit
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    except (OSError, Exception) as exc:  # noqa: BLE001 - any connection failure
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (PROMESSA_REQUIRE_POSTGRES=1) but: {exc!r}")
        pytest.skip(f"PostgreSQL not reachable: {exc!r}")
    url = pg_url_for(name)

    async def up() -> None:
        db = Database(url)
        try:
            await migrate.upgrade(db.writer)
        finally:
            await db.dispose()

    asyncio.run(up())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (migrations run once per session)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def up() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            await migrate.upgrade(db.writer)
        finally:
            await db.dispose()  # the last connection to close checkpoints the WAL

    asyncio.run(up())
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _emptying_script() -> str:
    """DELETE every table but the reference data (reset), children first, and restart the
    sequences.

    Not TRUNCATE: on a database this small TRUNCATE costs ~0.4 s (new files for every table
    and its indexes), DELETE a few milliseconds, and the tests empty it hundreds of times.
    """
    tables = [t.name for t in reversed(METADATA.sorted_tables) if t.name not in KEEP_TABLES]
    deletes = "".join(f"DELETE FROM {name};" for name in tables)
    # the reference data kept, as the migrations wrote it (a test may change a channel): the
    # columns' own defaults, so that a default the migrations change shows on this engine too
    deletes += ("UPDATE channels SET payment_required = DEFAULT, sender_name = DEFAULT, "
                "brand_color = DEFAULT, locale = DEFAULT;")
    return deletes + (
        "DO $$DECLARE s record; BEGIN FOR s IN SELECT c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' "
        "AND n.nspname = current_schema() LOOP "
        "EXECUTE format('ALTER SEQUENCE %I RESTART', s.relname); END LOOP; END$$;")


async def _empty_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        await conn.execute(_emptying_script())
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of each engine."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "promessa.db"
        path.write_bytes(template.read_bytes())
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    asyncio.run(_empty_pg(url))
    return url


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def pg_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated PostgreSQL database, for tests of several processes sharing one."""
    url = request.getfixturevalue("pg_database")
    asyncio.run(_empty_pg(url))
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def make_settings(db_url: str, **overrides: Any) -> Settings:
    """Test settings; outbox consumers are off unless a test turns them on (`consumers=True`),
    so that other tests' transactions do not share the database with them."""
    overrides.setdefault("consumers", False)
    return Settings(database_url=db_url, jwt_secret=SECRET, environment="test", **overrides)


@dataclass
class Api:
    """A GraphQL client over the ASGI app."""

    client: httpx.AsyncClient
    app: Any

    async def post(self, query: str, variables: dict | None = None, *, token: str | None = None,
                   operation: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body: dict = {"query": query, "variables": variables or {}}
        if operation:
            body["operationName"] = operation
        response = await self.client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, **kw: Any) -> dict:
        result = await self.post(query, variables, **kw)
        assert "errors" not in result, result
        return result["data"]


@pytest.fixture
async def api(db_url: str, clock: FixedClock) -> AsyncIterator[Api]:
    app = create_app(make_settings(db_url), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, app)


@asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Run `app` under a real uvicorn server on 127.0.0.1 (a free port unless one is given),
    in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None,
                            log_level="warning", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start in 10 s")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


@dataclass
class Live:
    """The app behind a real server: GraphQL over HTTP (`api`) and WebSocket (`ws_url`)."""

    api: Api
    app: Any
    url: str

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/graphql"


@pytest.fixture
def live_server(db_url: str, clock: FixedClock) -> Callable[..., Any]:
    """`async with live_server(**settings) as live:` — the app on a real server, per test."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Live]:
        app = create_app(make_settings(db_url, **overrides), clock=clock)
        async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Live(Api(client, app), app, url)

    return start


@pytest.fixture
async def live(live_server: Callable[..., Any]) -> AsyncIterator[Live]:
    async with live_server() as server:
        yield server


def token(role: str, *, email: str | None = None, locations: list[str] | None = None) -> str:
    return issue_token(role=role, email=email, locations=locations, secret=SECRET)


@pytest.fixture(scope="session")
def tokens() -> dict[str, str]:
    return {
        "admin": token("admin", email="admin@example.com"),
        "agent": token("agent", email="agent@example.com"),
        "integration": token("integration"),
        "ada": token("customer", email="ada@example.com"),
        "bob": token("customer", email="bob@example.com"),
        "store_roma": token("store", email="roma@example.com", locations=["ST-ROMA"]),
        "store_mil": token("store", email="mil@example.com", locations=["WH-MIL"]),
    }


def load_operations() -> dict[str, str]:
    """Every named operation of the contract, as a standalone document with its fragments."""
    from graphql import OperationDefinitionNode, parse, print_ast

    ops: dict[str, str] = {}
    for path in sorted(contract_dir().glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                ops[definition.name.value] = print_ast(definition)
    return ops


def load_examples() -> dict[str, Any]:
    return json.loads((contract_dir() / "examples.json").read_text())


@pytest.fixture(scope="session")
def contract() -> tuple[dict[str, str], dict[str, Any]]:
    return load_operations(), load_examples()


async def seed_contract_network(api: Api, tokens: dict[str, str]) -> None:
    """The contract's own catalog, network and stock, sent as the contract sends them."""
    ops, examples = load_operations(), load_examples()
    for name in ("UpsertLocations", "UpsertSkus", "SetInventory"):
        data = await api.data(ops[name], examples[name], token=tokens["admin"])
        payload = next(iter(data.values()))
        assert payload["userErrors"] == [], (name, payload)


def statement_counter(database: Database) -> list[str]:
    """Collect every SQL statement sent through the writer and reader engines."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engines = {id(database.writer): database.writer, id(database.reader): database.reader}
    for engine in engines.values():
        sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen
