"""Bulk tools: CSV imports of SKUs and stock, order exports, and setInventory in batches."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api import cli
from api.app import create_app
from api.bulk import export_orders, import_file
from tests.api.lifecycle import place
from tests.api.test_place_order import STOCK_READER
from tests.conftest import (
    Api,
    FixedClock,
    make_settings,
    seed_contract_network,
    statement_counter,
    token,
)
from tests.invariants import count_rows, violations

pytestmark = pytest.mark.anyio
LEVEL = """query($skus: [String!]!) { availability(skus: $skus, channel: "web") {
  sku locations { location { code } onHand reserved safetyStock } } }"""
SET = """mutation($levels: [InventoryLevelInput!]!) { setInventory(input: {reason: "COUNT",
  levels: $levels}) { levels { sku onHand safetyStock } userErrors { field code } } }"""
SKUS = """mutation($skus: [SkuInput!]!) { upsertSkus(input: {skus: $skus}) {
  userErrors { code } } }"""
CATALOG = """query { skus(first: 100, productGroup: "kitchen") { edges { node { sku name
  handling backorderable prices { amount currency } } } } }"""

INVENTORY_CSV = """\
Item,Warehouse,Qty On Hand,Safety Stock
TSHIRT-BLU-M,WH-MIL,40,2
LAMP-ARCO,WH-MIL,7,
NOPE-1,WH-MIL,3,
TSHIRT-BLU-M,NOWHERE,3,
LAMP-ARCO,ST-ROMA,many,
,WH-MIL,1,
TSHIRT-BLU-M,WH-MIL,41,
TSHIRT-BLU-M,ST-ROMA,0,
LAMP-ARCO,ST-ROMA,-4,
LAMP-ARCO,ST-ROMA,2,1
"""
# line 9: ST-ROMA has 2 shirts reserved by the order each test places first


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def stock(api, *skus: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    rows = (await api.data(LEVEL, {"skus": list(skus)}, token=STOCK_READER))["availability"]
    return {(r["sku"], x["location"]["code"]): (x["onHand"], x["reserved"], x["safetyStock"])
            for r in rows for x in r["locations"]}


@pytest.fixture
async def network(api, tokens):
    await seed_contract_network(api, tokens)
    await place(api, "bulk-order-1")  # 2 shirts reserved at ST-ROMA
    return api


def counts(api):
    return count_rows(api.app.state.db.url, "inventory_ledger", "outbox")


async def test_inventory_import_applies_good_rows_and_reports_each_bad_one(network, tmp_path):
    path = write(tmp_path, "stock.csv", INVENTORY_CSV)
    before = await stock(network, "TSHIRT-BLU-M", "LAMP-ARCO")
    report = await import_file("inventory", path, deps=network.app.state.deps, batch_size=3)
    assert [(r.line, r.column) for r in report.rejected] == [
        (4, "sku"), (5, "location"), (6, "on_hand"), (7, "sku"), (8, "sku"), (9, "on_hand"),
        (10, "on_hand")]
    reasons = {r.line: r.reason for r in report.rejected}
    assert reasons[4] == "unknown SKU 'NOPE-1'"
    assert reasons[5] == "unknown location 'NOWHERE'"
    assert reasons[6] == "'many' is not a whole number"
    assert reasons[7] == "required"
    assert reasons[8] == "repeats line 2"
    assert "reserved" in reasons[9]
    assert reasons[10] == "must be 0-10000000"
    assert (report.read, report.changed, report.unchanged) == (10, 3, 0)
    after = await stock(network, "TSHIRT-BLU-M", "LAMP-ARCO")
    assert after[("TSHIRT-BLU-M", "WH-MIL")] == (40, 0, 2)
    assert after[("LAMP-ARCO", "WH-MIL")] == (7, 0, before[("LAMP-ARCO", "WH-MIL")][2])
    assert after[("LAMP-ARCO", "ST-ROMA")] == (2, 0, 1)
    assert after[("TSHIRT-BLU-M", "ST-ROMA")] == before[("TSHIRT-BLU-M", "ST-ROMA")]
    assert await violations(network.app.state.db.url) == []


async def test_reimporting_the_same_file_changes_nothing(network, tmp_path):
    path = write(tmp_path, "stock.csv", INVENTORY_CSV)
    deps = network.app.state.deps
    await import_file("inventory", path, deps=deps)
    before = await counts(network)
    again = await import_file("inventory", path, deps=deps)
    assert (again.changed, again.unchanged, len(again.rejected)) == (0, 3, 7)
    assert await counts(network) == before
    assert await violations(network.app.state.db.url) == []


async def test_a_dry_run_checks_every_row_and_writes_nothing(network, tmp_path):
    path = write(tmp_path, "stock.csv", INVENTORY_CSV)
    before_rows, before_stock = await counts(network), await stock(network, "TSHIRT-BLU-M")
    report = await import_file("inventory", path, deps=network.app.state.deps, dry_run=True)
    assert (report.changed, len(report.rejected)) == (3, 7)
    assert 9 in {r.line for r in report.rejected}  # found only by asking the database
    assert await counts(network) == before_rows
    assert await stock(network, "TSHIRT-BLU-M") == before_stock


async def test_imported_levels_are_events_like_any_stock_change(network, tmp_path):
    path = write(tmp_path, "stock.csv", "sku;location;on_hand\nLAMP-ARCO;WH-MIL;11\n")
    before = await counts(network)
    report = await import_file("inventory", path, deps=network.app.state.deps)
    assert (report.changed, report.rejected) == (1, [])
    after = await counts(network)
    assert after["inventory_ledger"] == before["inventory_ledger"] + 1
    assert after["outbox"] == before["outbox"] + 2  # the event, and its copy on $all


SKUS_CSV = """\
sku,name,product_group,handling,weight_grams,price,currency,backorderable
MUG-RED,Red mug,kitchen,FRAGILE,350,9.90,EUR,yes
MUG-BLU,Blue mug,kitchen,,350,9.90,EUR,
BAD-WEIGHT,Heavy,kitchen,STANDARD,a lot,1.00,EUR,
BAD-HANDLING,Odd,kitchen,SQUISHY,10,1.00,EUR,
BAD-PRICE,Free,kitchen,STANDARD,10,-1,EUR,
TSHIRT-BLU-M,T-shirt blue M,apparel,STANDARD,200,19.90,EUR,no
MUG-RED,Red mug again,kitchen,FRAGILE,350,9.90,EUR,yes
"""


async def test_sku_import_creates_updates_and_reports(network, tmp_path):
    path = write(tmp_path, "skus.csv", SKUS_CSV)
    deps = network.app.state.deps
    dry = await import_file("skus", path, deps=deps, dry_run=True)
    assert (await network.data(CATALOG))["skus"]["edges"] == []
    report = await import_file("skus", path, deps=deps)
    assert [(r.line, r.column) for r in report.rejected] == [
        (4, "weight_grams"), (5, "handling"), (6, "price"), (8, "sku")]
    assert (dry.changed, dry.unchanged) == (report.changed, report.unchanged) == (2, 1)
    found = [e["node"] for e in (await network.data(CATALOG))["skus"]["edges"]]
    assert {s["sku"]: (s["handling"], s["backorderable"], s["prices"]) for s in found} == {
        "MUG-RED": ("FRAGILE", True, [{"amount": "9.90", "currency": "EUR"}]),
        "MUG-BLU": ("STANDARD", False, [{"amount": "9.90", "currency": "EUR"}])}
    before = await counts(network)
    again = await import_file("skus", path, deps=deps)
    assert (again.changed, again.unchanged) == (0, 3)
    assert await counts(network) == before


async def test_set_inventory_writes_nothing_for_levels_already_as_counted(network, tokens):
    levels = [{"sku": "TSHIRT-BLU-M", "location": "WH-MIL", "onHand": 120, "safetyStock": 5},
              {"sku": "LAMP-ARCO", "location": "WH-MIL", "onHand": 1}]  # as the seed set them
    before = await counts(network)
    result = await network.data(SET, {"levels": levels}, token=tokens["integration"])
    assert result["setInventory"]["userErrors"] == []
    assert [x["onHand"] for x in result["setInventory"]["levels"]] == [120, 1]
    assert await counts(network) == before
    levels[1]["onHand"] = 4
    await network.data(SET, {"levels": levels}, token=tokens["integration"])
    after = await counts(network)
    assert after["inventory_ledger"] == before["inventory_ledger"] + 1
    assert after["outbox"] == before["outbox"] + 2  # the event, and its copy on $all


async def test_set_inventory_sends_the_same_statements_for_250_levels_as_for_5(api, tokens):
    await seed_contract_network(api, tokens)
    skus = [{"sku": f"BULK-{i:03d}", "name": f"Bulk {i}", "productGroup": "bulk",
             "handling": "STANDARD", "weightGrams": 100,
             "prices": [{"amount": "1.00", "currency": "EUR"}]} for i in range(250)]
    assert (await api.data(SKUS, {"skus": skus}, token=tokens["admin"]))["upsertSkus"][
        "userErrors"] == []
    seen = statement_counter(api.app.state.db)

    async def statements(n: int, on_hand: int) -> int:
        seen.clear()
        levels = [{"sku": s["sku"], "location": "WH-MIL", "onHand": on_hand} for s in skus[:n]]
        result = await api.data(SET, {"levels": levels}, token=tokens["integration"])
        assert result["setInventory"]["userErrors"] == []
        return len(seen)

    assert await statements(5, 3) == await statements(250, 7)


# --- export ------------------------------------------------------------------------------------

async def test_export_returns_exactly_the_orders_placed_since(api, tokens, clock, tmp_path):
    await seed_contract_network(api, tokens)
    start = clock.now()
    clock.current = start - timedelta(seconds=1)
    await place(api, "export-before")
    numbers = []
    for i in range(5):
        clock.current = start + timedelta(minutes=i)
        numbers.append((await place(api, f"export-{i}"))["number"])
    db = api.app.state.db
    jsonl, table = io.StringIO(), io.StringIO()
    assert await export_orders(db, jsonl, since=start, until=None, fmt="jsonl", batch=2) == 5
    assert await export_orders(db, table, since=start, until=None, fmt="csv", batch=2) == 5
    rows = [json.loads(line) for line in jsonl.getvalue().splitlines()]
    assert [r["number"] for r in rows] == numbers
    assert rows[0]["lines"] == [{"sku": "TSHIRT-BLU-M", "quantity": 2, "unitPrice": "19.90",
                                 "status": rows[0]["lines"][0]["status"], "backordered": 0,
                                 "cancelled": 0, "returned": 0}]
    assert rows[0]["placedAt"] == start.isoformat()
    records = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert [r["number"] for r in records] == numbers
    assert (records[0]["lines"], records[0]["units"], records[0]["total"]) == (
        "1", "2", rows[0]["total"])
    until = io.StringIO()
    assert await export_orders(db, until, since=start, until=start + timedelta(minutes=2),
                               fmt="jsonl") == 2


async def test_the_csv_export_does_not_hand_a_spreadsheet_a_formula(api, tokens, clock):
    """A guest's email may start like a formula; its cell is text (issue 17, item 12)."""
    await seed_contract_network(api, tokens)
    start = clock.now()
    evil = '=HYPERLINK("//evil.example","x")@x.co'
    await place(api, "export-evil", customer={"email": evil, "name": "Eve"})
    table = io.StringIO()
    assert await export_orders(api.app.state.db, table, since=start, until=None,
                               fmt="csv") == 1
    [record] = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert record["customerEmail"] == "'" + evil.lower()
    assert not any(v.startswith(("=", "+", "@")) for v in record.values())
    assert record["total"][0].isdigit()  # numbers stay numbers


# --- the command line --------------------------------------------------------------------------

def _seed(db_url: str) -> None:
    async def run() -> None:
        app = create_app(make_settings(db_url), clock=FixedClock())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                api = Api(client, app)
                admin = token("admin", email="admin@example.com")
                await seed_contract_network(api, {"admin": admin})
                await place(api, "cli-order-1")

    asyncio.run(run())


def test_the_command_line_imports_reports_and_exports(db_url, tmp_path, capsys,
                                                      monkeypatch):
    monkeypatch.setenv("PROMESSA_JWT_SECRET", "test-secret-that-is-long-enough-for-hs256-01")
    _seed(db_url)
    path = write(tmp_path, "stock.csv", INVENTORY_CSV)
    rejects = tmp_path / "rejects.csv"
    args = ["import", "inventory", str(path), "--database-url", db_url, "--quiet"]
    assert cli.main([*args, "--dry-run"]) == 1
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert cli.main([*args, "--rejects", str(rejects)]) == 1
    out, err = capsys.readouterr()
    assert "10 rows read, 3 changed, 0 unchanged, 7 rejected" in out
    assert "rejected line 4, column sku: unknown SKU 'NOPE-1'" in err
    assert [r["line"] for r in csv.DictReader(io.StringIO(rejects.read_text()))] == [
        "4", "5", "6", "7", "8", "9", "10"]
    assert cli.main(args) == 1
    assert "0 changed, 3 unchanged" in capsys.readouterr().out
    assert asyncio.run(violations(db_url)) == []
    good = write(tmp_path, "good.csv", "sku,location,on_hand\nLAMP-ARCO,WH-MIL,9\n")
    assert cli.main(["import", "inventory", str(good), "--database-url", db_url]) == 0
    assert "importing inventory [" in capsys.readouterr().err
    export = tmp_path / "orders.csv"
    assert cli.main(["export", "orders", "--since", "2030-01-01", "--format", "csv",
                     "--output", str(export), "--database-url", db_url]) == 0
    [exported] = list(csv.DictReader(io.StringIO(export.read_text())))
    assert (exported["channel"], exported["units"]) == ("web", "2")
    assert "exported 1 orders" in capsys.readouterr().err
    missing = write(tmp_path, "bad.csv", "sku,qty\nX,1\n")
    assert cli.main(["import", "inventory", str(missing), "--database-url", db_url]) == 2
    assert "missing column(s): location" in capsys.readouterr().err
