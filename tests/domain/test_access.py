"""The policy's object-level rules: what each principal sees of an order, of stock and of the
network, and who shares a subscription's execution."""

from __future__ import annotations

import pytest

from domain import access
from domain.access import ANONYMOUS, Principal, Role
from domain.kernel import errors
from domain.orders import DeliveryMethod, FulfillmentStatus
from tests.domain.order_builders import order

ADA = Principal(Role.CUSTOMER, "ada", email="ada@example.com")
BOB = Principal(Role.CUSTOMER, "bob", email="bob@example.com")
X = Principal(Role.STORE, "x", locations=frozenset({"X"}))
Y = Principal(Role.STORE, "y", locations=frozenset({"Y", "Z"}))
Z = Principal(Role.STORE, "z", locations=frozenset({"Z"}))
AGENT = Principal(Role.AGENT, "agent")
INTEGRATION = Principal(Role.INTEGRATION, "erp")


def split_order(method: DeliveryMethod = DeliveryMethod.SHIP):
    return order(lines={"A": 2, "B": 1}, fulfillments=[("X", {"A": 2}), ("Y", {"B": 1})],
                 method=method)


@pytest.mark.parametrize("principal", [ANONYMOUS, BOB, Z], ids=["guest", "other", "no-work"])
def test_an_order_is_invisible_to_whoever_has_no_part_in_it(principal):
    assert access.order_view(principal, split_order()) is None


def test_staff_see_all_and_the_owner_all_but_the_internals():
    assert access.order_view(AGENT, split_order()) == access.FULL_VIEW
    assert access.order_view(INTEGRATION, split_order()) == access.FULL_VIEW
    owner = access.order_view(ADA, split_order())
    assert owner == access.OWNER_VIEW and not owner.internal and owner.email


def test_a_store_sees_its_own_work_and_the_customers_name_only():
    view = access.order_view(Y, split_order())
    assert view is not None
    assert (view.shows("Y"), view.shows("X"), view.shows("Z")) == (True, False, False)
    assert (view.email, view.phone, view.internal, view.tags) == (False, False, False, True)


def test_a_pickup_store_sees_the_phone():
    picked_up = split_order(DeliveryMethod.PICKUP)
    counter = picked_up.delivery.pickup_location
    store = Principal(Role.STORE, "s", locations=frozenset({counter, "X"}))
    assert access.order_view(store, picked_up).phone is True


def test_whoever_placed_or_changed_an_order_is_answered_at_least_the_owners_view():
    assert access.answer_view(ANONYMOUS, split_order()) == access.OWNER_VIEW
    assert access.answer_view(AGENT, split_order()) == access.FULL_VIEW


def test_a_store_without_work_on_an_order_is_answered_nothing_about_its_customer():
    view = access.answer_view(Z, split_order())
    assert view == access.NO_WORK_VIEW
    assert (view.email, view.phone, view.address, view.actors, view.documents,
            view.shows("X"), view.shows("Y")) == (False,) * 7


@pytest.mark.parametrize("ended", [FulfillmentStatus.REJECTED, FulfillmentStatus.CANCELLED])
def test_a_store_stops_seeing_an_order_once_its_work_there_ended(ended):
    placed = split_order()
    placed.fulfillments[0].status = ended  # X rejected (or was moved away from) its work
    assert access.work_locations(placed) == {"Y"}
    assert access.order_view(X, placed) is None
    assert access.answer_view(X, placed) == access.NO_WORK_VIEW
    assert access.order_view(Y, placed) is not None
    assert access.order_view(AGENT, placed) == access.FULL_VIEW


def test_a_store_with_work_sees_where_the_parcels_go_but_nobodys_name():
    view = access.order_view(Y, split_order())
    assert view is not None and view.address and not view.actors and not view.documents


@pytest.mark.parametrize(("actor", "public"), [
    ("customer:ada@example.com", "customer"), ("guest", "guest"),
    ("agent:agent@promessa.example", "promessa"), ("integration:erp", "promessa"),
    ("store:roma@example.com", "promessa"), ("system", "promessa")])
def test_who_acted_is_named_by_role_to_all_but_staff(actor, public):
    assert access.FULL_VIEW.actor(actor) == actor
    for view in (access.OWNER_VIEW, access.NO_WORK_VIEW, access.order_view(Y, split_order())):
        assert view is not None and view.actor(actor) == public


@pytest.mark.parametrize(("principal", "location", "raw"), [
    (ANONYMOUS, "X", False), (ADA, "X", False), (X, "X", True), (X, "Y", False),
    (AGENT, "Y", True), (INTEGRATION, "X", True)])
def test_raw_stock_levels_are_for_staff_and_the_locations_own_associates(principal, location,
                                                                         raw):
    assert access.sees_location_levels(principal, location) is raw


def test_location_cost_models_are_staff_data():
    assert [access.sees_network_internals(p) for p in (ANONYMOUS, ADA, X, AGENT)] == [
        False, False, False, True]


def test_a_store_follows_stock_events_of_its_own_locations_only():
    assert access.inventory_scope(Y, None, field=["locations"]) == {"Y", "Z"}
    assert access.inventory_scope(Y, frozenset({"Z"}), field=["locations"]) == {"Z"}
    assert access.inventory_scope(AGENT, None, field=["locations"]) is None
    with pytest.raises(errors.Forbidden):
        access.inventory_scope(Y, frozenset({"Z", "X"}), field=["locations"])


def test_executions_are_shared_only_by_principals_who_see_the_same():
    assert access.audience(AGENT) == access.audience(INTEGRATION)
    assert len({access.audience(p) for p in (ANONYMOUS, ADA, BOB, X, Y, AGENT)}) == 6


def test_every_entry_point_names_a_known_capability():
    assert set(access.ENTRY_POINTS.values()) <= set(access.CAPABILITIES)


def test_an_entry_point_without_a_rule_is_refused_even_to_admins():
    with pytest.raises(errors.Forbidden):
        access.authorize_entry(Principal(Role.ADMIN, "root"), "Query", "somethingNew")
