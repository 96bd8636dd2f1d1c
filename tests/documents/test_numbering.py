"""Invoice numbers: `<country>-<year>-<6 digits>`, formatted and read back strictly."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.documents import numbering
from domain.documents.numbering import InvalidNumber, Series


def test_a_number_is_country_year_and_six_digits() -> None:
    assert numbering.format_number(Series("IT", 2026), 123) == "IT-2026-000123"
    assert numbering.format_number(Series("DE", 2027), 999_999) == "DE-2027-999999"


def test_a_number_reads_back_as_its_series_and_sequence() -> None:
    assert numbering.parse_number("IT-2026-000123") == (Series("IT", 2026), 123)
    assert Series("IT", 2026).key == "IT-2026"


def test_the_series_is_the_year_of_the_local_day_of_issue() -> None:
    assert numbering.series_for("it", date(2027, 1, 1)) == Series("IT", 2027)


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
def test_sequences_outside_six_digits_are_refused_rather_than_wrapped(sequence: int) -> None:
    with pytest.raises(InvalidNumber):
        numbering.format_number(Series("IT", 2026), sequence)


@pytest.mark.parametrize("text", [
    "IT-2026-000000", "it-2026-000001", "IT-2026-1234567", "IT-2026-12345", "IT-26-000001",
    " IT-2026-000001", "IT-2026-000001\n", "ITA-2026-000001", "IT_2026_000001", "",
    "IT-2026-٠٠٠٠٠١"])
def test_anything_but_the_exact_form_is_not_a_number(text: str) -> None:
    with pytest.raises(InvalidNumber):
        numbering.parse_number(text)


@pytest.mark.parametrize(("country", "year"), [("I", 2026), ("it", 2026), ("IT", 999),
                                               ("IT", 10_000), ("1T", 2026)])
def test_a_series_needs_two_capital_letters_and_a_four_digit_year(country: str,
                                                                  year: int) -> None:
    with pytest.raises(InvalidNumber):
        Series(country, year)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(country=st.sampled_from(["IT", "DE", "FR", "ES", "AT"]), year=st.integers(1000, 9999),
       sequence=st.integers(1, numbering.MAX_NUMBER))
def test_format_and_parse_round_trip(country: str, year: int, sequence: int) -> None:
    series = Series(country, year)

    assert numbering.parse_number(numbering.format_number(series, sequence)) == (series,
                                                                                 sequence)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(a=st.integers(1, numbering.MAX_NUMBER), b=st.integers(1, numbering.MAX_NUMBER))
def test_numbers_of_a_series_sort_as_their_sequences(a: int, b: int) -> None:
    series = Series("IT", 2026)

    assert (numbering.format_number(series, a) < numbering.format_number(series, b)) == (a < b)
