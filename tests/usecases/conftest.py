"""Use cases without HTTP, GraphQL or SQL: `Application` composed as the API composes it, on the
in-memory store, with the real sourcing engine and the recording payment gateway."""

from __future__ import annotations

import pytest

from domain.access import Principal
from domain.application import Application, Ports
from domain.kernel.retry import Retry
from domain.returns.payments import RecordingPayments
from domain.sourcing.engine import SourcingEngine
from tests.conftest import FixedClock
from tests.stores.memory import MemoryStore
from tests.usecases import shop


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(shop.NOW)


@pytest.fixture
def store(clock: FixedClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


@pytest.fixture
def app(store: MemoryStore, clock: FixedClock, payments: RecordingPayments) -> Application:
    return Application(Ports(reader=store.reader, uow=store.unit_of_work, clock=clock,
                             sourcer=SourcingEngine(), retry=Retry(), promise_key=b"k" * 32,
                             payments=payments))


@pytest.fixture
async def shop_app(app: Application) -> Application:
    """The application over a seeded network: Milan warehouse, two stores in Rome, stock."""
    await shop.seed(app)
    return app


@pytest.fixture
def admin() -> Principal:
    return shop.ADMIN


@pytest.fixture
def agent() -> Principal:
    return shop.AGENT


@pytest.fixture
def integration() -> Principal:
    return shop.INTEGRATION


@pytest.fixture
def ada() -> Principal:
    """A signed-in customer, ada@example.com."""
    return shop.ADA


@pytest.fixture
def roma() -> Principal:
    """A store associate of ST-ROMA."""
    return shop.associate(shop.ST_ROMA)
