"""UPU S10 identifiers and the demo carrier that issues them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.documents import carriers, s10

# valid S10 identifiers published as test data: RB…GB/US from the tracking_number_data
# project's couriers/s10.json, AA…GB the worked example of the S10 article on Wikipedia
KNOWN_VALID = ["RB123456785GB", "RB123456785US", "RB123456785CF", "AA473124829GB"]


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_known_valid_identifiers_are_valid(number: str) -> None:
    assert s10.is_valid(number)
    assert s10.check_digit(number[2:10]) == int(number[10])


@pytest.mark.parametrize("number", [
    "RB123456786US",  # wrong check digit (published as invalid)
    "RB123456785G",  # short country
    "rb123456785gb",  # lower case is not the exact form
    "RB12345678GB",  # no check digit
    "RB 123456785GB",
    "RB123456785GB\n",
    "R1123456785GB"])
def test_malformed_or_wrongly_checked_identifiers_are_refused(number: str) -> None:
    assert not s10.is_valid(number)


def test_the_check_digit_maps_ten_to_zero_and_eleven_to_five() -> None:
    # 00000000: sum 0, 11 - 0 = 11 -> 5; 00000008: 8 × 7 = 56, 56 mod 11 = 1, 11 - 1 = 10 -> 0
    assert s10.check_digit("00000000") == 5
    assert s10.check_digit("00000008") == 0
    # 47312482: 32 + 42 + 12 + 2 + 6 + 20 + 72 + 14 = 200, mod 11 = 2, 11 - 2 = 9
    assert s10.check_digit("47312482") == 9


def test_typed_input_is_normalised_before_validation() -> None:
    assert s10.normalise(" rb 1234 5678 5 gb ") == "RB123456785GB"


def test_the_demo_carrier_gives_the_same_parcel_the_same_number() -> None:
    brt = carriers.DemoCarriers().carrier("BRT")

    first = brt.issue_tracking_number("W-000042-R1", returning=True)

    assert first == carriers.DemoCarrier("BRT").issue_tracking_number("W-000042-R1",
                                                                      returning=True)
    assert first.startswith("RT") and first.endswith("IT") and len(first) == 13
    assert brt.is_valid_tracking_number(first)
    assert brt.code == "BRT"


def test_other_parcels_references_and_directions_get_other_numbers() -> None:
    demo = carriers.DemoCarrier()
    numbers = {demo.issue_tracking_number("W-000042-R1", returning=True),
               demo.issue_tracking_number("W-000042-R2", returning=True),
               demo.issue_tracking_number("W-000042-R1", parcel=2, returning=True),
               demo.issue_tracking_number("W-000042-R1")}

    assert len(numbers) == 4
    assert demo.issue_tracking_number("W-000042-R1").startswith("CP")


def test_the_demo_carrier_refuses_other_operators_and_bad_check_digits() -> None:
    demo = carriers.DemoCarrier(country="IT")
    number = demo.issue_tracking_number("F-1")
    wrong = number[:10] + str((int(number[10]) + 1) % 10) + number[11:]

    assert not demo.is_valid_tracking_number(wrong)
    assert not demo.is_valid_tracking_number("RB123456785GB")  # valid S10, not ours


@pytest.mark.parametrize(("reference", "parcel"), [("", 1), ("  ", 1), ("W-1", 0)])
def test_a_number_needs_a_reference_and_a_parcel_from_one(reference: str, parcel: int) -> None:
    with pytest.raises(ValueError):
        carriers.DemoCarrier().issue_tracking_number(reference, parcel=parcel)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(reference=st.text(min_size=1).filter(str.strip), parcel=st.integers(1, 99),
       returning=st.booleans())
def test_every_issued_number_is_a_valid_s10_identifier(reference: str, parcel: int,
                                                       returning: bool) -> None:
    number = carriers.DemoCarrier().issue_tracking_number(reference, parcel=parcel,
                                                          returning=returning)

    assert s10.is_valid(number)
