"""Bulk files from ERP/WMS exports: their columns, and each record checked on its own.

A bad record is a `Rejection` (line, column, reason) and never stops the good ones. Column
names are matched loosely — case, spaces and hyphens do not matter, and the usual synonyms of
WMS/ERP exports are accepted (`item` for `sku`, `warehouse` for `location`, `qty` for
`on_hand`…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain import catalog, inventory
from domain.catalog import Sku
from domain.inventory.services import LevelSnapshot
from domain.kernel import errors

INVENTORY_COLUMNS = {
    "sku": ("sku", "item", "item_code", "article", "product_code"),
    "location": ("location", "location_code", "warehouse", "site", "store"),
    "on_hand": ("on_hand", "onhand", "qty", "quantity", "qty_on_hand", "stock"),
    "safety_stock": ("safety_stock", "safetystock", "safety"),
}
INVENTORY_REQUIRED = ("sku", "location", "on_hand")
SKU_COLUMNS = {
    "sku": ("sku", "item", "item_code", "article", "product_code"),
    "name": ("name", "description", "item_name"),
    "product_group": ("product_group", "group", "category"),
    "handling": ("handling", "handling_class"),
    "weight_grams": ("weight_grams", "weight_g", "weight"),
    "price": ("price", "list_price", "unit_price"),
    "currency": ("currency", "currency_code"),
    "backorderable": ("backorderable",),
    "preorderable": ("preorderable",),
    "tax_class": ("tax_class", "vat_class"),
}
SKU_REQUIRED = ("sku", "name", "product_group", "weight_grams", "price", "currency")
TRUE, FALSE = {"1", "true", "yes", "y", "t"}, {"", "0", "false", "no", "n", "f"}
# domain field names (GraphQL input paths) → the file's columns
SKU_FIELDS = {"sku": "sku", "name": "name", "productGroup": "product_group",
              "handling": "handling", "weightGrams": "weight_grams", "amount": "price",
              "currency": "currency", "taxClass": "tax_class"}


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    column: str | None
    reason: str


class MissingColumns(ValueError):
    """The header lacks required columns: the file cannot be read at all."""


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def header_map(header: Sequence[str], columns: Mapping[str, tuple[str, ...]],
               required: Iterable[str]) -> dict[str, int]:
    """Our column name → its index in the file's header."""
    found: dict[str, int] = {}
    normalised = [_norm(h) for h in header]
    for ours, names in columns.items():
        for i, theirs in enumerate(normalised):
            if theirs in names and ours not in found:
                found[ours] = i
    missing = [c for c in required if c not in found]
    if missing:
        raise MissingColumns(f"missing column(s): {', '.join(missing)} (header has: "
                             f"{', '.join(header) or 'nothing'})")
    return found


def _cell(record: Sequence[str], columns: dict[str, int], name: str) -> str:
    i = columns.get(name)
    return record[i].strip() if i is not None and i < len(record) else ""


def _units(text: str, *, column: str, line: int) -> int | Rejection:
    try:
        value = int(text)
    except ValueError:
        return Rejection(line, column, f"{text!r} is not a whole number")
    if not 0 <= value <= inventory.MAX_UNITS:
        return Rejection(line, column, f"must be 0-{inventory.MAX_UNITS}")
    return value


def level_from(record: Sequence[str], columns: dict[str, int], *,
               line: int) -> LevelSnapshot | Rejection:
    """One inventory record: sku, location, on_hand and (optional) safety_stock."""
    sku, location = _cell(record, columns, "sku"), _cell(record, columns, "location")
    if not sku:
        return Rejection(line, "sku", "required")
    if not location:
        return Rejection(line, "location", "required")
    on_hand = _units(_cell(record, columns, "on_hand"), column="on_hand", line=line)
    if isinstance(on_hand, Rejection):
        return on_hand
    safety: int | None = None
    if _cell(record, columns, "safety_stock"):
        units = _units(_cell(record, columns, "safety_stock"), column="safety_stock", line=line)
        if isinstance(units, Rejection):
            return units
        safety = units
    return LevelSnapshot(sku, location, on_hand, safety)


def _flag(text: str, *, column: str, line: int) -> bool | Rejection:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    return Rejection(line, column, f"{text!r} is not true/false")


def sku_from(record: Sequence[str], columns: dict[str, int], *, line: int) -> Sku | Rejection:
    """One catalog record: a plain (non-kit) SKU with one price."""
    weight_text = _cell(record, columns, "weight_grams")
    try:
        weight = int(weight_text)
    except ValueError:
        return Rejection(line, "weight_grams", f"{weight_text!r} is not a whole number")
    flags = {}
    for name in ("backorderable", "preorderable"):
        flag = _flag(_cell(record, columns, name), column=name, line=line)
        if isinstance(flag, Rejection):
            return flag
        flags[name] = flag
    try:
        return catalog.new_sku(
            sku=_cell(record, columns, "sku"), name=_cell(record, columns, "name"),
            product_group=_cell(record, columns, "product_group"),
            handling=_cell(record, columns, "handling").upper() or "STANDARD",
            weight_grams=weight,
            prices=[(_cell(record, columns, "price"), _cell(record, columns, "currency"))],
            components=[], at=[], backorderable=flags["backorderable"],
            preorderable=flags["preorderable"],
            tax_class=_cell(record, columns, "tax_class").upper() or "STANDARD")
    except errors.DomainError as exc:
        field = exc.field[-1] if exc.field else None
        return Rejection(line, SKU_FIELDS.get(field or "", field), exc.message)
