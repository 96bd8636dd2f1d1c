"""VAT by rate from tax-inclusive amounts: per-rate and overall totals agree with the gross
amounts to the cent, and each rate's VAT is rounded once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.documents import vat

D = Decimal
RATES = [D("0.22"), D("0.10"), D("0.05"), D("0.04"), D("0"), D("0.19"), D("0.055"), D("0.21")]
LINES = st.lists(st.tuples(st.integers(0, 10_000_000).map(lambda c: D(c) / 100),
                           st.sampled_from(RATES)), min_size=1, max_size=40)


def test_italian_rates_are_broken_down_per_rate_highest_first() -> None:
    lines = [(D("24.40"), D("0.22")), (D("11.00"), D("0.10")), (D("4.99"), D("0.22")),
             (D("5.25"), D("0.05")), (D("10.40"), D("0.04"))]

    summary = vat.breakdown(lines)

    assert summary == (
        vat.VatLine(rate=D("0.22"), net=D("24.09"), vat=D("5.30"), gross=D("29.39")),
        vat.VatLine(rate=D("0.1"), net=D("10.00"), vat=D("1.00"), gross=D("11.00")),
        vat.VatLine(rate=D("0.05"), net=D("5.00"), vat=D("0.25"), gross=D("5.25")),
        vat.VatLine(rate=D("0.04"), net=D("10.00"), vat=D("0.40"), gross=D("10.40")))
    assert vat.totals(summary) == vat.Totals(net=D("49.09"), vat=D("6.95"), gross=D("56.04"))


def test_vat_is_rounded_once_per_rate_not_per_line() -> None:
    # per line: 0.10 holds 0.018 VAT, rounded 0.02, three times 0.06; on the rate's 0.30 the
    # VAT is 0.0541, rounded 0.05 — the rule the module states
    summary = vat.breakdown([(D("0.10"), D("0.22"))] * 3)

    assert [(v.net, v.vat, v.gross) for v in summary] == [(D("0.25"), D("0.05"), D("0.30"))]


def test_the_same_rate_written_two_ways_is_one_rate() -> None:
    summary = vat.breakdown([(D("1.22"), D("0.22")), (D("1.22"), D("0.220"))])

    assert len(summary) == 1 and summary[0].gross == D("2.44")


@pytest.mark.parametrize(("amount", "rate"), [
    (D("1.005"), D("0.22")), (D("-1.00"), D("0.22")), (D("1.00"), D("22")),
    (D("1.00"), D("-0.01")), (D("NaN"), D("0.22"))])
def test_amounts_off_the_cent_and_rates_that_are_not_fractions_are_refused(
        amount: Decimal, rate: Decimal) -> None:
    with pytest.raises(ValueError):
        vat.breakdown([(amount, rate)])


@pytest.mark.parametrize(("rate", "printed"), [
    (D("0.22"), "22%"), (D("0.10"), "10%"), (D("0.055"), "5.5%"), (D("0"), "0%"),
    (D("0.00"), "0%")])
def test_a_rate_is_printed_as_a_plain_percentage(rate: Decimal, printed: str) -> None:
    assert vat.percent(rate) == printed


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(lines=LINES)
def test_per_rate_and_overall_totals_agree_with_the_gross_amounts_to_the_cent(
        lines: list[tuple[Decimal, Decimal]]) -> None:
    summary = vat.breakdown(lines)
    total = vat.totals(summary)

    assert total.gross == sum((g for g, _ in lines), D(0))
    assert total.net + total.vat == total.gross
    assert total.net == sum((v.net for v in summary), D(0))
    assert total.vat == sum((v.vat for v in summary), D(0))
    for line in summary:
        assert line.net + line.vat == line.gross
        assert line.gross == sum((g for g, r in lines if r == line.rate), D(0))
        exact = line.gross * line.rate / (1 + line.rate)
        assert abs(line.vat - exact) <= D("0.005")
        assert line.vat.as_tuple().exponent == -2 and line.net.as_tuple().exponent == -2
    assert [v.rate for v in summary] == sorted({r.normalize() for _, r in lines}, reverse=True)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(lines=LINES, data=st.data())
def test_the_breakdown_does_not_depend_on_the_order_of_lines(
        lines: list[tuple[Decimal, Decimal]], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(lines))

    assert vat.breakdown(shuffled) == vat.breakdown(lines)
