"""Promise options: sealed plans checkout can trust, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.checkout.promise import (
    destination_digest,
    option,
    redeem,
    seal,
    service_level_of,
    unseal,
)
from domain.kernel import errors
from domain.orders import DeliveryMethod, LineRequest, ServiceLevel
from tests.domain.builders import (
    MILAN,
    NOW,
    ROME_ADDRESS,
    at,
    decide,
    location,
    receipt,
    sku,
)

KEY = b"k" * 32
SHIRT, MUG = sku("SHIRT"), sku("MUG", backorderable=True)
LINES = [LineRequest("SHIRT", 2), LineRequest("MUG", 3)]


@pytest.fixture
def made():
    decision = decide([(SHIRT, 2), (MUG, 3)], [at(location("WH-MIL", MILAN), SHIRT=5, MUG=1)],
                      incoming={"MUG": [receipt("R-1", "MUG", "WH-MIL", quantity=5, day=4)]})
    return option(decision, channel="web", lines=LINES, address=ROME_ADDRESS,
                  expires_at=NOW + timedelta(minutes=30), key=KEY)


def open_(made, **changes):
    kw = {"now": NOW, "channel": "web", "lines": LINES, "method": DeliveryMethod.SHIP,
          "service_level": ServiceLevel.STANDARD, "pickup": None, "address": ROME_ADDRESS}
    return redeem(made.id, KEY, **{**kw, **changes})


def test_an_option_says_per_line_what_waits_for_incoming_stock(made) -> None:
    assert [(x.sku, x.quantity, x.available_on.date().isoformat()) for x in made.lines] == [
        ("SHIRT", 2, "2030-01-02"), ("MUG", 1, "2030-01-02"), ("MUG", 2, "2030-02-04")]
    assert made.shipments == 2  # the parcel now and the one after the receipt


def test_an_option_redeems_to_the_same_plan_whatever_the_line_order(made) -> None:
    promised = open_(made, lines=list(reversed(LINES)))

    assert sorted((a.location, a.line, a.units) for a in promised.plan.allocations) == [
        ("WH-MIL", 0, 1), ("WH-MIL", 1, 2)]  # MUG is line 0 now, SHIRT line 1
    assert [(b.line, b.incoming_id, b.units) for b in promised.plan.backorders] == [
        (0, "R-1", 2)]
    assert (promised.earliest, promised.latest) == (
        made.earliest.replace(microsecond=0), made.latest.replace(microsecond=0))
    assert service_level_of(made.id, KEY) is ServiceLevel.STANDARD


def test_an_option_cannot_be_redeemed_at_or_after_its_expiry(made) -> None:
    open_(made, now=NOW + timedelta(minutes=29))

    with pytest.raises(errors.PromiseExpired):
        open_(made, now=NOW + timedelta(minutes=30))


@pytest.mark.parametrize(("change", "what"), [
    ({"channel": "store"}, "channel"),
    ({"lines": [LineRequest("SHIRT", 1), LineRequest("MUG", 3)]}, "cart"),
    ({"method": DeliveryMethod.PICKUP, "pickup": "ST-ROMA", "address": None},
     "delivery method"),
    ({"service_level": ServiceLevel.EXPRESS}, "service level"),
    ({"address": ROME_ADDRESS.__class__("Via Appia 1", "Roma", "00184", "IT",
                                        point=ROME_ADDRESS.point)}, "destination"),
])
def test_an_option_for_another_cart_or_delivery_is_refused(made, change, what) -> None:
    with pytest.raises(errors.PromiseMismatch) as refused:
        open_(made, **change)

    assert refused.value.message.endswith(f"different {what}")


@pytest.mark.parametrize("forge", [
    lambda t: t.replace("p1.", "p2."),
    lambda t: t[:-3] + ("AAA" if t[-3:] != "AAA" else "BBB"),
    lambda t: t.split(".")[0] + "." + seal({"x": 9_999_999_999}, b"other-key").split(".")[1]
    + "." + t.split(".")[2],
    lambda t: "",
    lambda t: "p1.@@@.@@@",
    lambda t: t + "." + t,
])
def test_a_forged_or_mangled_option_is_invalid(made, forge) -> None:
    with pytest.raises(errors.PromiseInvalid):
        redeem(forge(made.id), KEY, now=NOW, channel="web", lines=LINES,
               method=DeliveryMethod.SHIP, service_level=ServiceLevel.STANDARD, pickup=None,
               address=ROME_ADDRESS)


def test_an_option_sealed_with_another_key_is_invalid(made) -> None:
    with pytest.raises(errors.PromiseInvalid):
        unseal(made.id, b"another-key")


def test_the_destination_digest_ignores_case_but_not_the_street() -> None:
    shouting = ROME_ADDRESS.__class__("VIA NAZIONALE 10", "ROMA", "00184", "IT",
                                      point=ROME_ADDRESS.point)
    elsewhere = ROME_ADDRESS.__class__("Via Nazionale 12", "Roma", "00184", "IT",
                                       point=ROME_ADDRESS.point)

    assert destination_digest(shouting) == destination_digest(ROME_ADDRESS)
    assert destination_digest(elsewhere) != destination_digest(ROME_ADDRESS)
    assert destination_digest(None) is None
