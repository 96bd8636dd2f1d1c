"""Parsing money amounts at the edge: anything out of range is invalid input, not a crash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.kernel import errors
from domain.kernel.money import to_amount


@pytest.mark.parametrize("value", ["1e9999", "-1e9999", "100000000", "99999999.995", "-0.01",
                                   "NaN", "Infinity", "abc", Decimal("1e400")])
def test_amounts_out_of_range_or_not_numbers_are_invalid_input(value):
    with pytest.raises(errors.InvalidInput):
        to_amount(value, field=["amount"])


def test_amounts_are_rounded_half_up_to_cents():
    assert to_amount("19.905") == Decimal("19.91")
    assert to_amount("-0.001") == Decimal("0.00")
    assert to_amount("99999999.994") == Decimal("99999999.99")
