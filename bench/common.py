"""Shared pieces of the benchmarks: a throw-away database with a seeded network, uvicorn
server processes, a bounded load driver, and a few measurements read from /proc and PostgreSQL.

Everything talks to 127.0.0.1 only. The database is named promessa_bench_<random> and dropped
when the benchmark ends, also on errors and Ctrl-C (unless --keep-db).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = secrets.token_urlsafe(48)  # this run's JWT secret, shared with the servers it starts
CHANNEL = "web"
HOT_SKU = "BN-HOT"
DEFAULT_POOL_SIZE = 10  # the app's default (PROMESSA_DB_POOL_SIZE)

GQL_UPSERT_LOCATIONS = """
mutation UpsertLocations($input: UpsertLocationsInput!) {
  upsertLocations(input: $input) { locations { code } userErrors { field message code } }
}"""
GQL_UPSERT_SKUS = """
mutation UpsertSkus($input: UpsertSkusInput!) {
  upsertSkus(input: $input) { skus { sku } userErrors { field message code } }
}"""
GQL_SET_INVENTORY = """
mutation SetInventory($input: SetInventoryInput!) {
  setInventory(input: $input) { levels { sku } userErrors { field message code } }
}"""


# --- the network -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    type: str  # WAREHOUSE or STORE
    city: str
    postal_code: str
    latitude: float
    longitude: float


WAREHOUSES = [
    Site("WH-MIL", "Milano warehouse", "WAREHOUSE", "Milano", "20141", 45.43, 9.21),
    Site("WH-BLQ", "Bologna warehouse", "WAREHOUSE", "Bologna", "40127", 44.52, 11.37),
    Site("WH-FCO", "Fiumicino warehouse", "WAREHOUSE", "Fiumicino", "00054", 41.80, 12.25),
    Site("WH-NOL", "Nola warehouse", "WAREHOUSE", "Nola", "80035", 40.93, 14.53),
]
STORES = [
    Site("ST-TORINO", "Torino Via Roma", "STORE", "Torino", "10121", 45.07, 7.68),
    Site("ST-GENOVA", "Genova Via XX Settembre", "STORE", "Genova", "16121", 44.41, 8.94),
    Site("ST-VENEZIA", "Venezia Mestre", "STORE", "Venezia", "30171", 45.49, 12.24),
    Site("ST-VERONA", "Verona Via Mazzini", "STORE", "Verona", "37121", 45.44, 10.99),
    Site("ST-TRIESTE", "Trieste Corso Italia", "STORE", "Trieste", "34121", 45.65, 13.78),
    Site("ST-FIRENZE", "Firenze Via Calzaiuoli", "STORE", "Firenze", "50122", 43.77, 11.25),
    Site("ST-PISA", "Pisa Corso Italia", "STORE", "Pisa", "56125", 43.71, 10.40),
    Site("ST-PERUGIA", "Perugia Corso Vannucci", "STORE", "Perugia", "06121", 43.11, 12.39),
    Site("ST-PESCARA", "Pescara Corso Umberto", "STORE", "Pescara", "65122", 42.46, 14.21),
    Site("ST-ROMA", "Roma Via del Corso", "STORE", "Roma", "00186", 41.90, 12.48),
    Site("ST-BARI", "Bari Via Sparano", "STORE", "Bari", "70121", 41.12, 16.87),
    Site("ST-LECCE", "Lecce Via Trinchese", "STORE", "Lecce", "73100", 40.35, 18.17),
    Site("ST-REGGIO", "Reggio Calabria Corso Garibaldi", "STORE", "Reggio Calabria", "89125",
         38.11, 15.65),
    Site("ST-PALERMO", "Palermo Via Ruggero Settimo", "STORE", "Palermo", "90139", 38.12, 13.36),
    Site("ST-CATANIA", "Catania Via Etnea", "STORE", "Catania", "95131", 37.50, 15.09),
    Site("ST-CAGLIARI", "Cagliari Via Roma", "STORE", "Cagliari", "09124", 39.22, 9.11),
]

# Shipping destinations: (city, postal code, latitude, longitude); jittered per order.
DESTINATIONS = [
    ("Milano", "20121", 45.46, 9.19), ("Monza", "20900", 45.58, 9.27),
    ("Bergamo", "24121", 45.70, 9.67), ("Brescia", "25121", 45.54, 10.22),
    ("Torino", "10123", 45.07, 7.69), ("Genova", "16123", 44.41, 8.93),
    ("Padova", "35121", 45.41, 11.88), ("Venezia", "30124", 45.44, 12.33),
    ("Verona", "37122", 45.44, 10.99), ("Trieste", "34122", 45.65, 13.77),
    ("Bologna", "40121", 44.49, 11.34), ("Parma", "43121", 44.80, 10.33),
    ("Firenze", "50123", 43.77, 11.26), ("Pisa", "56126", 43.72, 10.40),
    ("Ancona", "60121", 43.62, 13.52), ("Perugia", "06122", 43.11, 12.39),
    ("Roma", "00184", 41.90, 12.49), ("Latina", "04100", 41.47, 12.90),
    ("Pescara", "65121", 42.46, 14.21), ("Napoli", "80133", 40.85, 14.27),
    ("Salerno", "84121", 40.68, 14.77), ("Bari", "70122", 41.12, 16.87),
    ("Lecce", "73100", 40.35, 18.17), ("Cosenza", "87100", 39.30, 16.25),
    ("Reggio Calabria", "89127", 38.11, 15.65), ("Palermo", "90133", 38.12, 13.36),
    ("Catania", "95124", 37.50, 15.09), ("Cagliari", "09123", 39.22, 9.12),
]


@dataclass(frozen=True)
class Network:
    sites: list[Site]
    skus: list[str]  # the ordinary SKUs (HOT_SKU is extra)
    prices: dict[str, Decimal]
    on_hand: int
    safety_stock: int

    def levels(self) -> int:
        return len(self.sites) * (len(self.skus) + 1)


def build_network(*, locations: int = 20, skus: int = 200, on_hand: int = 1_000_000,
                  safety_stock: int = 2, seed: int = 7) -> Network:
    rng = random.Random(seed)
    sites = (WAREHOUSES + STORES)[:locations]
    codes = [f"BN-{i:04d}" for i in range(1, skus + 1)]
    prices = {code: Decimal(rng.randrange(390, 19_990)) / 100 for code in [*codes, HOT_SKU]}
    return Network(sites, codes, prices, on_hand, safety_stock)


# --- orders ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One order both the HTTP run and the raw baseline can place."""

    key: str
    email: str
    name: str
    lines: tuple[tuple[str, int], ...]
    city: str
    postal_code: str
    latitude: float
    longitude: float
    line1: str


def make_orders(network: Network, n: int, *, seed: int, hot: bool = False,
                max_lines: int = 3) -> list[OrderSpec]:
    """`n` orders of 1-`max_lines` distinct SKUs, shipped to Italian addresses.

    With `hot`, every order's first line is HOT_SKU and every address is in Milano, so all
    orders reserve the same (sku, location) row: the worst case for row-lock contention.
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        count = rng.randint(1, max_lines)
        skus = rng.sample(network.skus, count)
        if hot:
            skus[0] = HOT_SKU
            city, postal, lat, lon = DESTINATIONS[0]
        else:
            city, postal, lat, lon = rng.choice(DESTINATIONS)
        lines = tuple((sku, rng.randint(1, 3)) for sku in skus)
        out.append(OrderSpec(
            key=f"bench-{seed}-{i}-{secrets.token_hex(8)}", email=f"customer{rng.randrange(10_000)}"
            "@example.com", name=f"Cliente {i}", lines=lines, city=city, postal_code=postal,
            latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
            longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
            line1=f"Via Garibaldi {rng.randint(1, 200)}"))
    return out


# --- the database ------------------------------------------------------------------------------
def app_url(database: str) -> str:
    """The app's URL (PROMESSA_DATABASE_URL) for one database on the benchmark's server."""
    return make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=database
                                   ).render_as_string(hide_password=False)


def raw_dsn(database: str) -> str:
    """The same database as a plain libpq-style DSN for asyncpg."""
    return make_url(ADMIN_URL).set(drivername="postgresql", database=database
                                   ).render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(raw_dsn(make_url(ADMIN_URL).database or "postgres"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class BenchDatabase:
    name: str
    url: str  # for the app (postgresql+asyncpg://)
    dsn: str  # for asyncpg
    network: Network


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any], *,
              token: str | None = None) -> dict[str, Any]:
    """POST a GraphQL operation; raise on errors and on userErrors."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers=headers)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    for payload in body["data"].values():
        if isinstance(payload, dict) and payload.get("userErrors"):
            raise RuntimeError(f"userErrors: {payload['userErrors']}")
    return body["data"]


@asynccontextmanager
async def in_process_app(url: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app with its lifespan, and an httpx client calling it in-process."""
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url=url, jwt_secret=SECRET, environment="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield app, client


def admin_token() -> str:
    from api.auth import issue_token

    return issue_token(role="admin", email="bench@example.com", secret=SECRET)


async def seed(url: str, network: Network) -> None:
    """Locations, SKUs and stock through the app's own GraphQL API, in-process."""
    token = admin_token()
    locations = [{
        "code": s.code, "name": s.name, "type": s.type,
        "address": {"line1": "Via Roma 1", "city": s.city, "postalCode": s.postal_code,
                    "country": "IT", "latitude": s.latitude, "longitude": s.longitude},
        "capabilities": ["SHIP"] if s.type == "WAREHOUSE" else ["SHIP_FROM_STORE", "PICKUP"],
        "channels": [CHANNEL, "call_center"] if s.type == "WAREHOUSE" else [CHANNEL, "store"],
        "timeZone": "Europe/Rome", "cutoffTime": "15:00" if s.type == "WAREHOUSE" else "17:00",
        "processingHours": 4 if s.type == "WAREHOUSE" else 2,
    } for s in network.sites]
    skus = [{"sku": code, "name": f"Articolo {code}", "productGroup": f"group-{i % 10}",
             "handling": "STANDARD", "weightGrams": 200 + i,
             "prices": [{"amount": str(network.prices[code]), "currency": "EUR"}]}
            for i, code in enumerate([*network.skus, HOT_SKU])]
    levels = [{"sku": code, "location": s.code, "onHand": network.on_hand,
               "safetyStock": network.safety_stock}
              for code in [*network.skus, HOT_SKU] for s in network.sites]
    async with in_process_app(url) as (_app, client):
        await gql(client, GQL_UPSERT_LOCATIONS, {"input": {"locations": locations}}, token=token)
        for i in range(0, len(skus), 250):
            await gql(client, GQL_UPSERT_SKUS, {"input": {"skus": skus[i:i + 250]}}, token=token)
        for i in range(0, len(levels), 250):
            await gql(client, GQL_SET_INVENTORY,
                      {"input": {"reason": "BENCH_SEED", "levels": levels[i:i + 250]}},
                      token=token)


@asynccontextmanager
async def bench_database(network: Network, *, keep: bool = False
                         ) -> AsyncIterator[BenchDatabase]:
    """A fresh database, migrated and seeded; dropped at the end, whatever happens."""
    from persistence import migrate
    from persistence.db import Database

    name = f"promessa_bench_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        db = Database(app_url(name))
        try:
            await migrate.upgrade(db.writer)
        finally:
            await db.dispose()
        started = time.perf_counter()
        await seed(app_url(name), network)
        log(f"database {name}: {len(network.sites)} locations, {len(network.skus)} SKUs "
            f"+ {HOT_SKU}, {network.levels()} levels seeded in "
            f"{time.perf_counter() - started:.1f}s")
        yield BenchDatabase(name, app_url(name), raw_dsn(name), network)
    finally:
        if keep:
            log(f"kept database {name} (drop it with: DROP DATABASE \"{name}\")")
        else:
            await asyncio.shield(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- servers -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


UVICORN_FLAGS = ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]


@asynccontextmanager
async def uvicorn_server(name: str, target: str, env: dict[str, str], *,
                         access_log: bool = False, startup_timeout: float = 60.0
                         ) -> AsyncIterator[Server]:
    """`python -m uvicorn <target> --factory` on a free port; stopped (by pid) at the end."""
    port = free_port()
    flags = [f for f in UVICORN_FLAGS if not (access_log and f == "--no-access-log")]
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *flags]
    log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    # Popen only starts the server (no wait); it is polled below without blocking the loop
    process = subprocess.Popen(  # noqa: ASYNC220
        cmd, cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=log_file,
        stderr=subprocess.STDOUT)
    log_file.close()
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                                       f"{log_tail(log_path)}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer /healthz in {startup_timeout}s:\n"
                                       f"{log_tail(log_path)}")
                await asyncio.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            for _ in range(150):  # up to 15 s for a graceful shutdown
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                process.kill()
                process.wait(timeout=10)
        if process.returncode not in (0, -15, None):
            log(f"{name} exited with {process.returncode}:\n{log_tail(log_path)}")
        log_path.unlink(missing_ok=True)  # noqa: ASYNC240 - a local temp file, once


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- load --------------------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    n: int
    concurrency: int
    elapsed: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds in the run
    db: dict[str, int] = field(default_factory=dict)  # pg_stat_database deltas
    machine_busy: float = 0.0  # share of all cores busy during the run

    @property
    def rate(self) -> float:
        return (self.n - len(self.errors)) / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        k = min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))
        return values[k] * 1000


async def drive(label: str, n: int, concurrency: int,
                operation: Callable[[int], Awaitable[None]]) -> Run:
    """Run operation(0..n-1) from `concurrency` workers; each index exactly once."""
    indexes = iter(range(n))
    latencies: list[float] = []
    errors: list[str] = []

    async def worker() -> None:
        for i in indexes:  # shared iterator: bounded by n in total
            started = time.perf_counter()
            try:
                await operation(i)
            except Exception as exc:  # noqa: BLE001 - counted and reported, not fatal
                errors.append(f"{type(exc).__name__}: {exc}"[:500])
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(label, n, concurrency, time.perf_counter() - started, latencies, errors)


class Probe:
    """CPU seconds of some processes, machine busy share, and pg_stat_database, around a run."""

    def __init__(self, dsn: str, database: str, pids: dict[str, int]) -> None:
        self.dsn, self.database, self.pids = dsn, database, pids

    async def __aenter__(self) -> Probe:
        self._cpu = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = machine_ticks()
        self._db = await pg_stats(self.dsn, self.database)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cpu = {name: process_cpu_seconds(pid) - self._cpu[name]
                    for name, pid in self.pids.items()}
        busy, total = (a - b for a, b in zip(machine_ticks(), self._machine, strict=True))
        self.machine_busy = busy / total if total else 0.0
        await asyncio.sleep(1.1)  # other backends flush their statistics within a second
        after = await pg_stats(self.dsn, self.database)
        self.db = {k: after[k] - self._db[k] for k in after}

    def fill(self, run: Run) -> Run:
        run.cpu, run.machine_busy, run.db = self.cpu, self.machine_busy, self.db
        return run


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores since boot."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


async def pg_stats(dsn: str, database: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await conn.fetchrow(
            "SELECT sessions, xact_commit, xact_rollback, deadlocks FROM pg_stat_database "
            "WHERE datname = $1", database)
    finally:
        await conn.close()
    return {k: int(v or 0) for k, v in dict(row).items()} if row else {}


# --- output ------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def run_main(main: Callable[[], Awaitable[int]]) -> int:
    """asyncio.run on uvloop when installed: the event loop uvicorn gives the app."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


# --- what the app sends ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # "BEGIN", "COMMIT" and "ROLLBACK" mark transaction boundaries
    executemany: bool = False
    rows: int = 1  # parameter sets sent with the statement


@asynccontextmanager
async def capture_statements(app: Any) -> AsyncIterator[list[Statement]]:
    """Record every statement (and BEGIN/COMMIT/ROLLBACK) the app's engines send meanwhile."""
    import sqlalchemy as sa

    seen: list[Statement] = []

    def on_execute(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        rows = len(parameters) if executemany and parameters is not None else 1
        seen.append(Statement(statement, executemany, rows))

    def marker(word: str) -> Callable[..., None]:
        return lambda *_args: seen.append(Statement(word))

    db = app.state.db
    engines = {id(e): e.sync_engine for e in (db.writer, db.reader)}.values()
    hooks = [("before_cursor_execute", on_execute), ("begin", marker("BEGIN")),
             ("commit", marker("COMMIT")), ("rollback", marker("ROLLBACK"))]
    for engine in engines:
        for name, fn in hooks:
            sa.event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for engine in engines:
            for name, fn in hooks:
                sa.event.remove(engine, name, fn)
