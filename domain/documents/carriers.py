"""Carriers: who moves a parcel, and the tracking number they give it.

The port is synchronous and local on purpose: a tracking number is needed inside the
transaction that creates a return (or ships a parcel), and nothing remote may be called
there. Real carriers fit this shape the way shippers use them — the carrier allots the
shipper a range of numbers (or a formula, as S10 operators do), numbers are issued locally
from it, and the booking or manifest is sent to the carrier afterwards by an outbox consumer.

`DemoCarrier` is the built-in one: it issues UPU S10 identifiers (`s10`) derived from the
parcel's reference, so asking twice for the same parcel gives the same number — a use case
run again by the retry layer, or a label printed twice, shows one number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from domain.documents import s10

# S10 service indicators the demo carrier uses: R* is the registered range ("RT": a
# registered return), C* the parcel range ("CP": an outbound parcel)
RETURN_SERVICE = "RT"
PARCEL_SERVICE = "CP"


class Carrier(Protocol):
    """One carrier's numbering: what a label needs from it."""

    @property
    def code(self) -> str:
        """The carrier's code as orders and returns name it (`BRT`, `DEMO`)."""
        ...

    def issue_tracking_number(self, reference: str, *, parcel: int = 1,
                              returning: bool = False) -> str:
        """The tracking number of parcel `parcel` of the shipment or return `reference` (an
        order's fulfillment id, a return number); the same answer for the same arguments."""
        ...

    def is_valid_tracking_number(self, number: str) -> bool:
        """Whether `number` has this carrier's form and check digit."""
        ...


class Carriers(Protocol):
    """The carriers a deployment can book, by code."""

    def carrier(self, code: str) -> Carrier:
        ...


def _check_parcel(reference: str, parcel: int) -> None:
    if not reference.strip():
        raise ValueError("a tracking number needs the parcel's reference")
    if parcel < 1:
        raise ValueError(f"parcels are numbered from 1, not {parcel}")


@dataclass(frozen=True, slots=True)
class DemoCarrier:
    """Issues S10 identifiers whose 8-digit serial is derived from the reference.

    Derived, not counted: there is no state to keep, and the same parcel always gets the
    same number. The price is that two different parcels can share a serial — with n parcels
    the chance is about n² / 2·10⁸ (0.5 % at 1 000 returns, per carrier and service) — which
    is acceptable for a demo and is why a real carrier's adapter issues from its allotted
    range instead.
    """

    code: str = "DEMO"
    country: str = "IT"  # the operator's country, the S10 suffix

    def issue_tracking_number(self, reference: str, *, parcel: int = 1,
                              returning: bool = False) -> str:
        _check_parcel(reference, parcel)
        service = RETURN_SERVICE if returning else PARCEL_SERVICE
        seed = f"{self.code}\x00{service}\x00{reference}\x00{parcel}".encode()
        serial = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % (s10.MAX_SERIAL + 1)
        return s10.identifier(service, serial, self.country)

    def is_valid_tracking_number(self, number: str) -> bool:
        return s10.is_valid(number) and number.endswith(self.country)


@dataclass(frozen=True, slots=True)
class DemoCarriers:
    """Every carrier code served by a `DemoCarrier` under that code: the default until real
    carriers' adapters are configured, so a return sent with BRT shows BRT and a valid,
    stable number."""

    country: str = "IT"

    def carrier(self, code: str) -> Carrier:
        return DemoCarrier(code=code, country=self.country)
