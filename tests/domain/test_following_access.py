"""Who may follow an order's events, and how a refusal looks (SPEC §3 invariant 6)."""

from __future__ import annotations

import pytest

from domain import access
from domain.access import ANONYMOUS, Principal, Role
from domain.kernel import errors

ADA = Principal(Role.CUSTOMER, "ada", email="ada@example.com")
BOB = Principal(Role.CUSTOMER, "bob", email="bob@example.com")
ROMA = Principal(Role.STORE, "roma", locations=frozenset({"ST-ROMA"}))
MILANO = Principal(Role.STORE, "mil", locations=frozenset({"WH-MIL"}))
AGENT = Principal(Role.AGENT, "agent")


def follow(principal, *, exists=True, email=None):
    return access.order_follower(
        principal, number="PR-000001", customer_email="ada@example.com" if exists else None,
        fulfillment_locations=frozenset({"ST-ROMA"}), email=email)


@pytest.mark.parametrize("principal", [ADA, ROMA, AGENT], ids=["owner", "store", "agent"])
def test_who_may_read_the_order_follows_it_with_the_full_view(principal):
    assert follow(principal) is True


@pytest.mark.parametrize("principal", [ANONYMOUS, BOB, MILANO],
                         ids=["guest", "other-customer", "other-store"])
def test_whoever_gives_the_orders_email_follows_it_with_the_guest_view(principal):
    assert follow(principal, email=" Ada@Example.com ") is False


@pytest.mark.parametrize(("principal", "email", "refusal"), [
    (ANONYMOUS, None, errors.Unauthenticated),
    (ANONYMOUS, "bob@example.com", errors.Forbidden),
    (BOB, None, errors.Forbidden),
    (MILANO, None, errors.Forbidden),
])
def test_others_are_refused(principal, email, refusal):
    with pytest.raises(refusal):
        follow(principal, email=email)


@pytest.mark.parametrize("principal", [ANONYMOUS, BOB, MILANO])
def test_a_missing_order_is_refused_like_someone_elses(principal):
    with pytest.raises(errors.Forbidden) as present:
        follow(principal, email="x@example.com")
    with pytest.raises(errors.Forbidden) as missing:
        follow(principal, exists=False, email="x@example.com")
    assert (missing.value.message, missing.value.field) == (
        present.value.message, present.value.field) == (
        "you may not follow order PR-000001", ["number"])


def test_staff_are_told_a_missing_order_does_not_exist():
    with pytest.raises(errors.NotFound, match="no order PR-000001"):
        follow(AGENT, exists=False)


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.AGENT, True), (Role.ADMIN, True), (Role.INTEGRATION, True), (Role.STORE, False),
    (Role.CUSTOMER, False), (Role.ANONYMOUS, False)])
def test_only_staff_follow_every_order(role, allowed):
    principal = Principal(role, "x", email="x@example.com")
    if allowed:
        access.require(principal, "orders.follow_all")
    else:
        with pytest.raises(errors.Unauthenticated if role is Role.ANONYMOUS
                           else errors.Forbidden):
            access.require(principal, "orders.follow_all")
