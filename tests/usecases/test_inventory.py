"""Stock counts and adjustments: every change of onHand is on the ledger, and no count or
adjustment takes away units already promised to orders."""

from __future__ import annotations

import pytest

from domain.inventory import LedgerEntry
from domain.inventory.services import LevelSnapshot
from domain.kernel import errors
from tests.usecases.shop import NOW, ST_EUR, ST_ROMA, TEE, held, order_of, state

pytestmark = pytest.mark.anyio


async def test_a_stock_count_sets_on_hand_and_puts_the_difference_on_the_ledger(
        shop_app, store, integration):
    [level] = await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 10)],
                                                  reason="CYCLE_COUNT", principal=integration)

    assert (level.on_hand, level.reserved, level.safety_stock) == (10, 0, 0)
    assert held(store.levels)[(TEE, ST_ROMA)] == (10, 0)
    assert store.ledger[-1] == LedgerEntry(TEE, ST_ROMA, 4, 0, "CYCLE_COUNT", None,
                                           "integration:erp", NOW)
    news = store.outbox[-1].event
    assert (news.type, news.payload["onHand"], news.payload["available"]) == (
        "INVENTORY_CHANGED", 10, 10)
    # the same count again is no news: no ledger row, no event
    before = state(store)
    await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 10)],
                                        reason="CYCLE_COUNT", principal=integration)
    assert state(store) == before


async def test_no_count_or_adjustment_takes_units_promised_to_orders(shop_app, store, ada,
                                                                     integration):
    await shop_app.checkout.place_order(order_of("count-0001", (TEE, 2)), principal=ada)
    before = state(store)

    with pytest.raises(errors.NegativeInventory):
        await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 1)],
                                            reason="CYCLE_COUNT", principal=integration)
    with pytest.raises(errors.NegativeInventory):
        await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 6, 5)],
                                            reason="CYCLE_COUNT", principal=integration)
    with pytest.raises(errors.NegativeInventory):
        await shop_app.inventory.adjust(sku=TEE, location=ST_ROMA, delta=-5, reason="DAMAGED",
                                        reference=None, principal=integration)

    assert state(store) == before
    level = await shop_app.inventory.adjust(sku=TEE, location=ST_ROMA, delta=-4,
                                            reason="DAMAGED", reference="QC-1",
                                            principal=integration)
    assert (level.on_hand, level.reserved) == (2, 2)


async def test_a_store_associate_counts_only_their_own_location(shop_app, store, roma):
    before = state(store)

    with pytest.raises(errors.Forbidden):
        await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 7),
                                             LevelSnapshot(TEE, ST_EUR, 7)],
                                            reason="CYCLE_COUNT", principal=roma)

    assert state(store) == before  # not even the ST-ROMA row of the batch
    await shop_app.inventory.set_levels([LevelSnapshot(TEE, ST_ROMA, 7)], reason="CYCLE_COUNT",
                                        principal=roma)
    assert held(store.levels)[(TEE, ST_ROMA)] == (7, 0)

