"""Shared pieces of the benchmarks: a throw-away database with a seeded network, uvicorn
server processes, a bounded load driver, and a few measurements read from /proc and PostgreSQL.

Everything talks to 127.0.0.1 only. The database is named promessa_bench_<random> and dropped
when the benchmark ends, also on errors and Ctrl-C (unless --keep-db).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import secrets
import signal
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
DEFAULT_POOL_SIZE = 20  # the app's default (PROMESSA_DB_POOL_SIZE)

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


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, as domain.kernel.geo.distance_km computes it."""
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


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
    """The app with its lifespan, and an httpx client calling it in-process. Without the
    outbox consumers: their statements would be counted with the request's (bench.webhooks
    measures them)."""
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url=url, jwt_secret=SECRET, environment="test",
                              consumers=False))
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
    process: asyncio.subprocess.Process
    log_path: Path


UVICORN_FLAGS = ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]


def _log_file(name: str) -> tuple[Any, Path]:
    handle = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
    return handle, Path(handle.name)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


@asynccontextmanager
async def uvicorn_server(name: str, target: str, env: dict[str, str], *,
                         access_log: bool = False, workers: int = 1,
                         startup_timeout: float = 60.0) -> AsyncIterator[Server]:
    """`python -m uvicorn <target> --factory` on a free port; stopped (by pid) at the end."""
    port = free_port()
    flags = [f for f in UVICORN_FLAGS if not (access_log and f == "--no-access-log")]
    if workers > 1:
        flags += ["--workers", str(workers)]
    handle, log_path = _log_file(name)
    with handle:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *flags,
            cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=handle,
            stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
            while True:
                if process.returncode is not None:
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
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await asyncio.wait_for(process.wait(), timeout=10)
        if process.returncode not in (0, -15):
            log(f"{name} exited with {process.returncode}:\n{log_tail(log_path)}")
        _remove(log_path)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- clients ---------------------------------------------------------------------------------
Post = Callable[[str, dict[str, Any]], Awaitable[Any]]


class LightClient:
    """A minimal HTTP/1.1 keep-alive client for JSON POSTs: a load generator that costs a few
    per cent of httpx's CPU, so the client does not become the bottleneck of a fast server."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: list[asyncio.StreamWriter] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._all.append(writer)
        return reader, writer, False

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        payload = json.dumps(body).encode()
        request = (b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (path.encode(), self.host.encode(),
                                                       self.port, len(payload), payload))
        for _attempt in range(2):
            reader, writer, reused = await self._connection()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                writer.close()
                # the server closed an idle keep-alive connection before reading the request
                if reused and not getattr(exc, "partial", b""):
                    continue
                raise
            except BaseException:
                writer.close()
                raise
            break
        else:
            raise RuntimeError("keep-alive connections keep closing")
        try:
            length, keep = None, True
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep = False
            if length is None:
                raise RuntimeError("response without Content-Length")
            data = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if keep:
            self._idle.append((reader, writer))
        else:
            writer.close()
        status = int(head[9:12])
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
        return json.loads(data)

    async def aclose(self) -> None:
        for writer in self._all:
            writer.close()
        self._idle.clear()


@asynccontextmanager
async def json_client(kind: str, base_url: str, *, concurrency: int) -> AsyncIterator[Post]:
    """`post(path, body) -> parsed JSON` over keep-alive connections, with httpx or LightClient.
    """
    if kind == "light":
        light = LightClient(base_url)
        try:
            yield light.post
        finally:
            await light.aclose()
        return
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        async def post(path: str, body: dict[str, Any]) -> Any:
            response = await client.post(path, json=body)
            response.raise_for_status()
            return response.json()

        yield post


# --- load ------------------------------------------------------------------------------------
@dataclass
class Run:
    """One side's timed work; `merge` adds up the rounds of an interleaved benchmark."""

    label: str
    n: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: process name -> seconds
    sessions: int = 0  # PostgreSQL sessions opened to the database during the run
    busy: float = 0.0  # machine CPU busy, in core-seconds
    cores: float = 0.0  # core-seconds elapsed

    @property
    def rate(self) -> float:
        return (self.n - len(self.errors)) / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        k = min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))
        return values[k] * 1000

    def cpu_ms(self, name: str) -> float:
        """CPU milliseconds of one process (or "postgres") per request."""
        return 1000 * self.cpu.get(name, float("nan")) / max(1, self.n)

    @property
    def machine_busy(self) -> float:
        return self.busy / self.cores if self.cores else 0.0

    def merge(self, other: Run) -> None:
        self.n += other.n
        self.elapsed += other.elapsed
        self.latencies += other.latencies
        self.errors += other.errors
        for name, seconds in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds
        self.sessions += other.sessions
        self.busy += other.busy
        self.cores += other.cores


async def drive(label: str, n: int, concurrency: int,
                operation: Callable[[int], Awaitable[Any]]) -> Run:
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
    return Run(label, n, time.perf_counter() - started, latencies, errors)


class Monitor:
    """One connection kept open to the benchmark database for statistics (so it opens no
    sessions during runs): its backends' CPU, and sessions from pg_stat_database."""

    def __init__(self, conn: asyncpg.Connection, database: str) -> None:
        self.conn, self.database = conn, database

    @classmethod
    @asynccontextmanager
    async def open(cls, dsn: str, database: str) -> AsyncIterator[Monitor]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            yield cls(conn, database)
        finally:
            await conn.close()

    async def backends(self) -> list[int]:
        """Pids of every backend connected to the database (but this one)."""
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.database)
        return [r["pid"] for r in rows]

    async def sessions(self) -> int:
        return int(await self.conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", self.database) or 0)

    @asynccontextmanager
    async def measure(self, run_label: str, servers: dict[str, int]
                      ) -> AsyncIterator[list[Run]]:
        """Measure whatever runs inside; the caller appends its Run to the yielded list and
        gets CPU filled in (of each server's process tree, of this process as "bench" and of
        the database's backends as "postgres"), machine load and sessions."""
        backends, sessions = await self.backends(), await self.sessions()
        table, ticks = cpu_table(), machine_ticks()
        out: list[Run] = []
        yield out
        after, backends = cpu_table(), set(backends) | set(await self.backends())
        cpu = {name: tree_cpu(after, pid) - tree_cpu(table, pid) for name, pid in servers.items()}
        me = os.getpid()
        cpu["bench"] = after[me][1] - table[me][1]
        # backends that ended meanwhile are missed; those that started count in full
        cpu["postgres"] = sum(after[pid][1] - table.get(pid, (0, 0.0))[1]
                              for pid in backends if pid in after)
        busy, total = (a - b for a, b in zip(machine_ticks(), ticks, strict=True))
        await asyncio.sleep(1.1)  # backends report new sessions to the statistics lazily
        for run in out:
            run.label = run_label
            run.cpu = cpu
            run.sessions = await self.sessions() - sessions
            tick = os.sysconf("SC_CLK_TCK")
            run.busy, run.cores = busy / tick, total / tick


def cpu_table() -> dict[int, tuple[int, float]]:
    """Every process: pid -> (parent pid, user + system CPU seconds), from /proc (Linux)."""
    table: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def tree_cpu(table: dict[int, tuple[int, float]], pid: int) -> float:
    """CPU seconds of a process and its descendants (uvicorn --workers)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in table:
            total += table[current][1]
            todo += [child for child, (parent, _) in table.items() if parent == current]
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores since boot."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


async def background_load(seconds: float = 1.0) -> float:
    """Share of the machine's CPU that other processes use while the benchmark is idle."""
    before = machine_ticks()
    await asyncio.sleep(seconds)
    busy, total = (a - b for a, b in zip(machine_ticks(), before, strict=True))
    return busy / total if total else 0.0


def warn_if_busy(load: float) -> None:
    cores = os.cpu_count() or 1
    log(f"machine: {cores} cores, {100 * load:.0f} % busy before the benchmark")
    if load > 0.15:
        log("WARNING: other processes are using the CPU; absolute numbers will be low and "
            "noisy (the rounds alternate sides, so ratios suffer less)")


# --- output ------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percent(part: float, whole: float) -> str:
    """`part` as a share of `whole`, for a printed ratio ("n/a" when there is no whole)."""
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def run_main(main: Callable[[], Awaitable[int]]) -> int:
    """Run on uvloop when installed (the event loop uvicorn gives the app). Ctrl-C and SIGTERM
    cancel the benchmark, which still stops its servers and drops its database."""
    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError):  # not on this platform
            pass
        return await main()

    try:
        import uvloop
    except ImportError:
        uvloop = None
    try:
        return uvloop.run(guarded()) if uvloop else asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted")
        return 130


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
    from sqlalchemy.engine.interfaces import ExecuteStyle

    seen: list[Statement] = []

    def on_execute(_conn, _cursor, statement, parameters, context, executemany) -> None:
        # SQLAlchemy's "insertmanyvalues" (a list of parameter sets for an INSERT … RETURNING)
        # reaches the driver as one multi-row statement, executed once
        if getattr(context, "execute_style", None) is ExecuteStyle.INSERTMANYVALUES:
            executemany = False
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
