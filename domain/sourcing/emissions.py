"""What a parcel emits, in grams of CO2e counted well-to-wheel (as EN 16258 did and ISO 14083
and the GLEC Framework v3 do): a line haul by weight and distance, plus a last-mile drop.

- Line haul: weight (tonnes) × distance (km) × the shipping location's `carbon_factor`, which
  is the intensity of the road freight carrying its parcels, in kg CO2e per tonne-km (the same
  number is grams per kg-km). The catalog's default, 0.1, is of the order of the GLEC Framework v3
  (Smart Freight Centre, 2023) Table 8 European defaults for an articulated truck (34–40 t,
  average/mixed load, diesel; the well-to-tank part alone is 0.022); a location whose parcels
  leave in smaller trucks sets more (the demo network uses 0.08–0.17).
- Last mile: every shipped parcel is one drop of a van round, LAST_MILE_G_PER_PARCEL whatever
  its weight or distance: 181 g CO2 for a typical van home delivery of a small parcel, from
  Edwards, McKinnon & Cullinane, "Comparative analysis of the carbon footprints of
  conventional and online retailing: a 'last mile' perspective", IJPDLM 40(1/2), 2010. This
  is what keeps a parcel from a store 1 km away from being "0 g", and what makes one more
  shipment cost CO2e as well as money.
- Pickups have no last mile in the network's figure: a parcel bound for a pickup store rides
  that store's delivery (its line haul counts), and the customer's own trip to the store is
  theirs, not the network's (Edwards et al. put an average car shopping trip at 4,274 g, so
  this figure is the network's share, not the whole journey). Stock already at the pickup
  store emits nothing.

Not modelled: air legs, same-day couriers' fuller rounds, failed drops and returns.
"""

from __future__ import annotations

LAST_MILE_G_PER_PARCEL = 181
MG_PER_G = 1000


def line_haul_mg(weight_grams: int, km: float, carbon_factor: float) -> int:
    """Milligrams of CO2e to carry `weight_grams` over `km` at `carbon_factor` kg/tonne-km
    (g × km × kg/t·km = mg)."""
    return round(weight_grams * km * carbon_factor)


def last_mile_mg(*, pickup: bool) -> int:
    """Milligrams of CO2e of one parcel's last mile: a van drop, or nothing for a pickup."""
    return 0 if pickup else LAST_MILE_G_PER_PARCEL * MG_PER_G


def grams(milligrams: int) -> int:
    return round(milligrams / MG_PER_G)
