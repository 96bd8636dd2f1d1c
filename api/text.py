"""Every text a caller sends, checked and normalised once, before any resolver sees it.

Run by the authorization gate (api/authorization.py) over all the arguments of every root
field, so no field can be forgotten:

- bounded: a name at most 200 characters, a phone 40, an email 254, free text (notes,
  descriptions) 2000, anything else 1000 — the field's name decides (`CAPS`); a stored value
  may be bounded tighter by its own check;
- normalised to Unicode NFC, so `é` typed two ways is one customer, one SKU, one note;
- refused with a NUL (PostgreSQL cannot store one), a lone surrogate (`"\\ud800"` in JSON:
  not text), another control character (tab and line breaks pass in free text), or a
  bidirectional override (text that reads differently
  from what it stores); identifiers and emails refuse every invisible character too (zero
  width spaces and joiners, soft hyphens, marks: `ada@example.com\\u200b` must not become
  a second customer).

Dates are checked here too, for what every resolver would otherwise trip on: a time that
cannot be expressed in UTC (year 9999 west of Greenwich). Their sane ranges are the domain's
(domain/kernel/dates.py).

Refusals are INVALID_INPUT with the path inside the input (["customer", "name"]).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime
from typing import Any

from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition

from domain.kernel.errors import InvalidInput

DEFAULT_CAP = 1000
CAPS = {"name": 200, "phone": 40, "email": 254, "text": 2000, "description": 2000,
        "message": 2000, "url": 2048, "line1": 200, "line2": 200, "city": 200,
        "region": 200, "postalCode": 16}
# fields holding identifiers (codes, numbers, keys, references, emails)
IDENTIFIERS = frozenset({
    "email", "sku", "skus", "code", "codes", "number", "orderNumber", "returnNumber",
    "idempotencyKey", "reference", "location", "locations", "channel", "pickupLocation",
    "exchangeSku", "currency", "fulfillmentId", "id", "ids", "carrier", "trackingNumber",
    "provider", "consumer", "productGroup", "eventTypes", "after", "before", "lineId",
    "incomingId", "component", "promiseOptionId", "country", "timeZone"})
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FREE_TEXT_CONTROLS = frozenset("\t\n\r")
_NAMES = NameConverter()


def clean_arguments(kwargs: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The arguments (by Python name) with every text checked and NFC-normalised (inputs
    changed in place); InvalidInput when one is refused. `names` gives each argument's GraphQL
    name: the one its bound and its kind are looked up by (`orderNumber`, not
    `order_number`), and the one a refusal names."""
    cleaned = {}
    for name, value in kwargs.items():
        public = names.get(name, name)
        # a mutation's `input` is where every userErrors.field starts, as the contract's
        # examples show (["customer", "email"]): the path names what is inside it
        cleaned[name] = _clean(value, [] if public == "input" else [public], public)
    return cleaned


def _clean(value: Any, path: list[str], field: str) -> Any:
    if isinstance(value, str):
        return clean_text(value, field=field, path=path)
    if isinstance(value, datetime) and value.utcoffset() is not None:
        try:  # 9999-12-31T23:59:59-14:00 is a valid literal and no UTC time at all
            value.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(f"{field} {value.isoformat()} is beyond the last representable "
                               "time", field=path) from None
        return value
    if isinstance(value, list):
        return [_clean(item, [*path, str(i)], field) for i, item in enumerate(value)]
    definition = get_object_definition(type(value)) if dataclasses.is_dataclass(value) \
        else None
    if definition is not None:
        for f in definition.fields:
            inner = getattr(value, f.python_name, None)
            if inner is not None:
                name = _NAMES.get_graphql_name(f)
                setattr(value, f.python_name, _clean(inner, [*path, name], name))
    return value


def clean_text(text: str, *, field: str, path: list[str]) -> str:
    """One text of the field called `field` (its GraphQL name), checked and normalised."""
    if "\x00" in text:
        raise InvalidInput("text must not contain a NUL character", field=path)
    cap = CAPS.get(field, DEFAULT_CAP)
    if len(text) > 4 * cap:  # before normalising a huge text: it cannot pass anyway
        raise InvalidInput(f"{field} must be at most {cap} characters", field=path)
    text = unicodedata.normalize("NFC", text)
    if len(text) > cap:
        raise InvalidInput(f"{field} must be at most {cap} characters", field=path)
    identifier = field in IDENTIFIERS
    for ch in text:
        if ch in BIDI_OVERRIDES:
            raise InvalidInput("text must not contain bidirectional override characters",
                               field=path)
        category = unicodedata.category(ch)
        if category == "Cs":  # half of a UTF-16 pair, alone: no text, and no database takes it
            raise InvalidInput("text must be valid Unicode (a lone surrogate is not)",
                               field=path)
        if category == "Cc" and (identifier or ch not in FREE_TEXT_CONTROLS):
            raise InvalidInput("text must not contain control characters", field=path)
        if identifier and (category in ("Cf", "Zl", "Zp") or (category == "Zs" and ch != " ")):
            raise InvalidInput(f"{field} must not contain invisible characters", field=path)
    return text
