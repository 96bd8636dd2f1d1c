"""Deterministic demo dataset (an Italian retail network) used by `promessa serve --demo`."""

from __future__ import annotations

import datetime
import random

_ALL_HANDLING = ["STANDARD", "FRAGILE", "HAZMAT", "OVERSIZED", "COLD_CHAIN"]

# Per location type: capabilities, handling classes, channels.
_PROFILES = {
    "WAREHOUSE": (["SHIP"], _ALL_HANDLING, ["web", "call_center", "marketplace:amazon"]),
    "STORE": (["SHIP_FROM_STORE", "PICKUP"], ["STANDARD", "FRAGILE"], ["web", "store"]),
    "SUPPLIER": (["SHIP"], ["STANDARD", "OVERSIZED"], ["web", "call_center"]),
}

# code, name, type, line1, city, postalCode, lat, lon,
# cutoff, processingHours, dailyCapacity, costPerShipment, costPerKg, carbonFactor
_LOCATIONS = (
    ("WH-MIL", "Magazzino Centrale Milano", "WAREHOUSE", "Via Stephenson 94", "Milano", "20157",
     45.5134, 9.1072, "17:00", 24, 5000, "4.50", "0.35", 0.09),
    ("WH-BLQ", "Hub Interporto Bologna", "WAREHOUSE", "Via Santa Maria in Duno 8", "Bentivoglio", "40010",
     44.6368, 11.4000, "16:00", 24, 4000, "4.20", "0.32", 0.08),
    ("WH-NAP", "Hub Interporto Sud Europa", "WAREHOUSE", "Interporto Sud Europa, SS 265", "Marcianise", "81025",
     41.0262, 14.3270, "16:00", 24, 3000, "4.80", "0.38", 0.10),
    ("ST-ROMA", "Promessa Roma Via del Corso", "STORE", "Via del Corso 189", "Roma", "00187",
     41.90, 12.48, "18:00", 4, 120, "6.90", "0.60", 0.14),
    ("ST-MILANO", "Promessa Milano Corso Vittorio Emanuele", "STORE", "Corso Vittorio Emanuele II 24", "Milano",
     "20122", 45.4655, 9.1920, "18:00", 4, 120, "6.90", "0.60", 0.14),
    ("ST-TORINO", "Promessa Torino Via Roma", "STORE", "Via Roma 53", "Torino", "10123",
     45.0677, 7.6825, "18:00", 4, 80, "6.90", "0.60", 0.14),
    ("ST-FIRENZE", "Promessa Firenze Calzaiuoli", "STORE", "Via dei Calzaiuoli 38", "Firenze", "50122",
     43.7710, 11.2545, "18:00", 4, 80, "6.90", "0.60", 0.14),
    ("ST-VENEZIA", "Promessa Venezia Strada Nova", "STORE", "Strada Nova 3821, Cannaregio", "Venezia", "30121",
     45.4410, 12.3330, "17:00", 6, 40, "8.90", "0.75", 0.16),
    ("ST-NAPOLI", "Promessa Napoli Via Toledo", "STORE", "Via Toledo 210", "Napoli", "80134",
     40.8425, 14.2490, "18:00", 4, 80, "6.90", "0.60", 0.14),
    ("ST-BARI", "Promessa Bari Via Sparano", "STORE", "Via Sparano da Bari 90", "Bari", "70121",
     41.1220, 16.8700, "18:00", 4, 60, "6.90", "0.60", 0.15),
    ("ST-PALERMO", "Promessa Palermo Via Ruggero Settimo", "STORE", "Via Ruggero Settimo 52", "Palermo", "90139",
     38.1230, 13.3570, "17:30", 6, 50, "7.90", "0.70", 0.17),
    ("ST-GENOVA", "Promessa Genova Via XX Settembre", "STORE", "Via XX Settembre 120", "Genova", "16121",
     44.4060, 8.9400, "18:00", 4, 60, "6.90", "0.60", 0.14),
    ("ST-BOLOGNA", "Promessa Bologna Via Indipendenza", "STORE", "Via dell'Indipendenza 45", "Bologna", "40121",
     44.4985, 11.3440, "18:00", 4, 80, "6.90", "0.60", 0.14),
    ("SUP-BRIANZA", "Arredo Brianza (drop-ship)", "SUPPLIER", "Via Carlo Porta 18", "Lissone", "20851",
     45.6105, 9.2395, "12:00", 72, 150, "29.00", "0.45", 0.12),
)

# sku, name, productGroup, handling, weightGrams, price EUR, flags (B = backorderable, P = preorderable)
_SKUS = (
    ("TSHIRT-BLU-S", "T-shirt Blue S", "apparel", "STANDARD", 190, "19.90", ""),
    ("TSHIRT-BLU-M", "T-shirt Blue M", "apparel", "STANDARD", 200, "19.90", ""),
    ("TSHIRT-BLU-L", "T-shirt Blue L", "apparel", "STANDARD", 210, "19.90", ""),
    ("TSHIRT-WHT-S", "T-shirt White S", "apparel", "STANDARD", 190, "19.90", ""),
    ("TSHIRT-WHT-M", "T-shirt White M", "apparel", "STANDARD", 200, "19.90", ""),
    ("TSHIRT-WHT-L", "T-shirt White L", "apparel", "STANDARD", 210, "19.90", ""),
    ("POLO-NAV-M", "Polo piqué Navy M", "apparel", "STANDARD", 280, "29.90", ""),
    ("POLO-NAV-L", "Polo piqué Navy L", "apparel", "STANDARD", 290, "29.90", ""),
    ("JEANS-SLIM-32", "Jeans Slim Fit 32", "apparel", "STANDARD", 650, "59.90", ""),
    ("JEANS-SLIM-34", "Jeans Slim Fit 34", "apparel", "STANDARD", 670, "59.90", ""),
    ("SWEATER-MERINO-GRY-M", "Maglione Merino Grigio M", "apparel", "STANDARD", 350, "89.00", ""),
    ("JACKET-DOWN-BLK-M", "Piumino Nero M", "apparel", "STANDARD", 900, "189.00", ""),
    ("SCARF-CASHMERE-CAMEL", "Sciarpa Cashmere Cammello", "apparel", "STANDARD", 180, "149.00", ""),
    ("DRESS-LINEN-BEI-S", "Abito in Lino Beige S", "apparel", "STANDARD", 300, "79.90", ""),
    ("SHIRT-OXF-WHT-40", "Camicia Oxford Bianca 40", "apparel", "STANDARD", 300, "49.90", ""),
    ("SNEAKER-WHT-41", "Sneaker Pelle Bianca 41", "footwear", "STANDARD", 880, "99.00", ""),
    ("SNEAKER-WHT-42", "Sneaker Pelle Bianca 42", "footwear", "STANDARD", 900, "99.00", "B"),
    ("SNEAKER-WHT-43", "Sneaker Pelle Bianca 43", "footwear", "STANDARD", 920, "99.00", ""),
    ("LOAFER-BRN-42", "Mocassino Pelle Marrone 42", "footwear", "STANDARD", 800, "159.00", ""),
    ("BOOT-CHELSEA-BLK-43", "Chelsea Boot Nero 43", "footwear", "STANDARD", 1200, "179.00", ""),
    ("SANDAL-LEA-38", "Sandalo in Cuoio 38", "footwear", "STANDARD", 450, "69.00", ""),
    ("RUNNER-GRY-44", "Scarpa Running Grigia 44", "footwear", "STANDARD", 650, "119.00", ""),
    ("SLIPPER-WOOL-40", "Pantofola in Lana 40", "footwear", "STANDARD", 300, "29.90", ""),
    ("EARBUDS-WL-BLK", "Auricolari Wireless Neri", "electronics", "STANDARD", 60, "79.00", ""),
    ("HEADPHONES-NC-BLK", "Cuffie Noise Cancelling Nere", "electronics", "STANDARD", 320, "249.00", ""),
    ("SPEAKER-BT-MINI", "Speaker Bluetooth Mini", "electronics", "STANDARD", 350, "49.90", ""),
    ("CHARGER-USBC-65W", "Caricatore USB-C 65W", "electronics", "STANDARD", 180, "39.90", ""),
    ("CABLE-USBC-2M", "Cavo USB-C 2 m", "electronics", "STANDARD", 60, "12.90", ""),
    ("HUB-USBC-7IN1", "Hub USB-C 7 in 1", "electronics", "STANDARD", 120, "59.90", ""),
    ("SMARTWATCH-S2", "Smartwatch S2", "electronics", "STANDARD", 90, "299.00", ""),
    ("TABLET-10-64GB", "Tablet 10\" 64 GB", "electronics", "FRAGILE", 480, "349.00", ""),
    ("EREADER-6", "E-reader 6\"", "electronics", "STANDARD", 190, "129.00", ""),
    ("WEBCAM-HD", "Webcam Full HD", "electronics", "STANDARD", 160, "69.90", ""),
    ("BATTERY-LI-PACK", "Batteria al Litio 48V per E-bike", "electronics", "HAZMAT", 2800, "399.00", ""),
    ("PHONE-NOVA-256", "Smartphone Nova 256 GB (in arrivo)", "electronics", "FRAGILE", 200, "899.00", "P"),
    ("EARBUDS-NOVA-PRO", "Auricolari Nova Pro (in arrivo)", "electronics", "STANDARD", 55, "199.00", "P"),
    ("MOKA-3TZ", "Caffettiera Moka 3 Tazze", "home", "STANDARD", 450, "29.90", ""),
    ("MOKA-6TZ", "Caffettiera Moka 6 Tazze", "home", "STANDARD", 650, "39.90", "B"),
    ("PAN-NONSTICK-28", "Padella Antiaderente 28 cm", "home", "STANDARD", 1100, "34.90", ""),
    ("POT-STEEL-24", "Pentola Acciaio Inox 24 cm", "home", "STANDARD", 1800, "59.90", ""),
    ("TOWEL-SET-4", "Set 4 Asciugamani in Spugna", "home", "STANDARD", 1600, "44.90", ""),
    ("SHEETS-MATR-WHT", "Completo Letto Matrimoniale Bianco", "home", "STANDARD", 2200, "89.00", ""),
    ("CANDLE-FIG", "Candela Profumata al Fico", "home", "STANDARD", 400, "24.90", ""),
    ("VASE-MURANO-BLU", "Vaso in Vetro di Murano Blu", "home", "FRAGILE", 1500, "240.00", ""),
    ("GLASS-SET-6", "Set 6 Bicchieri in Cristallo", "home", "FRAGILE", 1800, "49.90", ""),
    ("ESPRESSO-MACH", "Macchina Espresso Manuale", "home", "FRAGILE", 6500, "249.00", ""),
    ("DESK-OAK-140", "Scrivania Rovere 140 cm", "furniture", "OVERSIZED", 32000, "449.00", ""),
    ("CHAIR-ERGO-BLK", "Sedia Ergonomica Nera", "furniture", "OVERSIZED", 17000, "329.00", ""),
    ("SOFA-3S-GRY", "Divano 3 Posti Grigio", "furniture", "OVERSIZED", 68000, "1190.00", "B"),
    ("BOOKCASE-5SH", "Libreria 5 Ripiani Noce", "furniture", "OVERSIZED", 41000, "279.00", ""),
    ("TABLE-DINING-180", "Tavolo da Pranzo 180 cm", "furniture", "OVERSIZED", 55000, "890.00", "B"),
    ("STOOL-BAR-WHT", "Sgabello Bar Bianco", "furniture", "STANDARD", 5200, "89.00", ""),
    ("SIDETABLE-ROUND", "Tavolino Rotondo Ottone", "furniture", "STANDARD", 4200, "149.00", ""),
    ("MIRROR-FLOOR-170", "Specchio da Terra 170 cm", "furniture", "FRAGILE", 14000, "229.00", ""),
    ("LAMP-ARCO", "Arco Floor Lamp", "lighting", "OVERSIZED", 16000, "1290.00", "B"),
    ("LAMP-DESK-LED", "Lampada da Scrivania LED", "lighting", "STANDARD", 1400, "79.00", ""),
    ("LAMP-TABLE-GLASS", "Lampada da Tavolo in Vetro Soffiato", "lighting", "FRAGILE", 2600, "189.00", ""),
    ("PENDANT-BRASS", "Lampada a Sospensione Ottone", "lighting", "STANDARD", 2100, "219.00", ""),
    ("BULB-E27-4PK", "Lampadine LED E27 (4 pz)", "lighting", "FRAGILE", 240, "14.90", ""),
    ("LAMP-FLOOR-TRIPOD", "Lampada da Terra Treppiede", "lighting", "OVERSIZED", 9000, "249.00", ""),
    ("PERFUME-EDP-50", "Eau de Parfum Agrumi 50 ml", "beauty", "FRAGILE", 320, "89.00", ""),
    ("CREAM-FACE-50", "Crema Viso Idratante 50 ml", "beauty", "STANDARD", 150, "39.90", ""),
    ("SHAMPOO-300", "Shampoo Nutriente 300 ml", "beauty", "STANDARD", 340, "12.90", ""),
    ("SOAP-OLIVE-3PK", "Sapone all'Olio d'Oliva (3 pz)", "beauty", "STANDARD", 360, "14.90", ""),
    ("LIPSTICK-RED", "Rossetto Rosso", "beauty", "STANDARD", 30, "24.90", ""),
    ("SERUM-VITC-30", "Siero Vitamina C 30 ml", "beauty", "STANDARD", 110, "49.00", ""),
    ("HANDCREAM-75", "Crema Mani 75 ml", "beauty", "STANDARD", 95, "9.90", ""),
)

# Kits: sku, name, productGroup, handling, price EUR, components. Weight = sum of components.
_KITS = (
    ("KIT-HOME-OFFICE", "Kit Home Office (scrivania, sedia, lampada)", "furniture", "OVERSIZED", "799.00",
     (("DESK-OAK-140", 1), ("CHAIR-ERGO-BLK", 1), ("LAMP-DESK-LED", 1))),
    ("KIT-BEAUTY-GIFT", "Cofanetto Regalo Beauty", "beauty", "STANDARD", "84.90",
     (("CREAM-FACE-50", 1), ("SERUM-VITC-30", 1), ("HANDCREAM-75", 1))),
)

# Hand-placed stock (overrides generated rows): low-stock, store-only and backorder scenarios.
_FIXED_STOCK = {
    "LAMP-ARCO": (("WH-MIL", 1, 0),),
    "SOFA-3S-GRY": (("WH-BLQ", 2, 0),),
    "TABLE-DINING-180": (),
    "SNEAKER-WHT-42": (("WH-MIL", 2, 0), ("ST-MILANO", 1, 0)),
    "MOKA-6TZ": (("WH-NAP", 3, 0),),
    "HEADPHONES-NC-BLK": (("WH-MIL", 3, 0),),
    "VASE-MURANO-BLU": (("ST-VENEZIA", 2, 0), ("ST-MILANO", 1, 0)),
    "DRESS-LINEN-BEI-S": (("ST-FIRENZE", 1, 0), ("ST-ROMA", 1, 0)),
    "SCARF-CASHMERE-CAMEL": (("ST-MILANO", 2, 0),),
}

# Always stocked everywhere it can be (anchors for demo scenarios).
_EVERYWHERE = {"TSHIRT-BLU-M"}

_STORE_GROUPS = {"apparel", "footwear", "beauty"}

# sku, location, quantity, days from today
_INCOMING = (
    ("TSHIRT-BLU-M", "WH-BLQ", 300, 3),
    ("HEADPHONES-NC-BLK", "WH-MIL", 40, 4),
    ("SNEAKER-WHT-42", "WH-MIL", 120, 5),
    ("MOKA-6TZ", "WH-NAP", 200, 7),
    ("LAMP-ARCO", "WH-MIL", 6, 12),
    ("SCARF-CASHMERE-CAMEL", "WH-MIL", 24, 14),
    ("SOFA-3S-GRY", "WH-BLQ", 8, 18),
    ("VASE-MURANO-BLU", "WH-MIL", 12, 21),
    ("TABLE-DINING-180", "WH-BLQ", 10, 25),
    ("PHONE-NOVA-256", "WH-MIL", 300, 30),
    ("PHONE-NOVA-256", "WH-NAP", 150, 35),
    ("EARBUDS-NOVA-PRO", "WH-MIL", 250, 40),
)

_CUSTOMERS = (
    ("ada@example.com", "Ada Lovelace"),
    ("giulia.rossi@example.com", "Giulia Rossi"),
    ("marco.bianchi@example.com", "Marco Bianchi"),
)


_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# Opening hours per type, as an Italian high-street shop and a logistics site keep them.
_HOURS = {
    "WAREHOUSE": [(day, "08:00", "18:00") for day in _DAYS[:5]],
    "STORE": [(day, "09:30", "19:30") for day in _DAYS[:6]],
    "SUPPLIER": [(day, "08:30", "17:30") for day in _DAYS[:5]],
}
# Venice lives on tourists: its store opens on Sundays too.
_SUNDAY_OPENING = {"ST-VENEZIA": ("SUNDAY", "10:00", "19:00")}
# Italy's fixed-date public holidays (month, day): everyone closed. Christmas Eve and New
# Year's Eve stores close early. (Easter Monday moves; a real network sends it as well.)
_HOLIDAYS = ((1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25),
             (12, 26))
_SHORT_DAYS = ((12, 24), (12, 31))


def opening_hours(code: str, type_: str, today: datetime.date) -> dict:
    """A location's `openingHours` input: its type's week, holidays this year and next."""
    weekly = [*_HOURS[type_]]
    if code in _SUNDAY_OPENING:
        weekly.append(_SUNDAY_OPENING[code])
    exceptions: list[dict[str, object]] = []
    for year in (today.year, today.year + 1):
        exceptions += [{"date": datetime.date(year, m, d).isoformat(), "periods": []}
                       for m, d in _HOLIDAYS]
        if type_ == "STORE":
            exceptions += [{"date": datetime.date(year, m, d).isoformat(),
                            "periods": [{"opens": "09:30", "closes": "16:00"}]}
                           for m, d in _SHORT_DAYS]
    return {"weekly": [{"day": d, "opens": o, "closes": c} for d, o, c in weekly],
            "exceptions": sorted(exceptions, key=lambda x: x["date"])}


def locations(today: datetime.date | None = None) -> list[dict]:
    """The 14 demo locations: 3 warehouses, 10 stores, 1 drop-ship supplier, with opening
    hours (holidays of `today`'s year and the next; 2030 when not given)."""
    today = today or datetime.date(2030, 1, 1)
    result = []
    for (code, name, type_, line1, city, postal, lat, lon,
         cutoff, hours, capacity, per_shipment, per_kg, carbon) in _LOCATIONS:
        capabilities, handling, channels = _PROFILES[type_]
        result.append({
            "code": code,
            "name": name,
            "type": type_,
            "address": {"line1": line1, "city": city, "postalCode": postal, "country": "IT",
                        "latitude": lat, "longitude": lon},
            "capabilities": list(capabilities),
            "handlingClasses": list(handling),
            "channels": list(channels),
            "timeZone": "Europe/Rome",
            "cutoffTime": cutoff,
            "processingHours": hours,
            "dailyCapacity": capacity,
            "costPerShipment": per_shipment,
            "costPerKg": per_kg,
            "carbonFactor": carbon,
            "openingHours": opening_hours(code, type_, today),
        })
    return result


def _sku(sku, name, group, handling, grams, price, backorderable=False, preorderable=False, components=()):
    return {
        "sku": sku, "name": name, "productGroup": group, "handling": handling, "weightGrams": grams,
        "prices": [{"amount": price, "currency": "EUR"}],
        "backorderable": backorderable, "preorderable": preorderable,
        "components": [{"sku": c, "quantity": q} for c, q in components],
    }


def skus() -> list[dict]:
    """Demo catalogue; kits are listed after their components."""
    result = [_sku(s, n, g, h, w, p, "B" in f, "P" in f) for s, n, g, h, w, p, f in _SKUS]
    weights = {row[0]: row[4] for row in _SKUS}
    for sku, name, group, handling, price, components in _KITS:
        grams = sum(weights[c] * q for c, q in components)
        result.append(_sku(sku, name, group, handling, grams, price, components=components))
    return result


def _warehouse_range(price: float) -> tuple[int, int]:
    if price < 30:
        return 120, 400
    if price < 100:
        return 60, 250
    if price < 300:
        return 20, 120
    return 10, 40


def inventory() -> list[dict]:
    """Stock levels per SKU and location (kits and pre-order SKUs have no rows)."""
    rng = random.Random(42)
    locs = [(row[0], row[2]) for row in _LOCATIONS]
    warehouses = [c for c, t in locs if t == "WAREHOUSE"]
    stores = [c for c, t in locs if t == "STORE"]
    supplier_handling = _PROFILES["SUPPLIER"][1]
    rows = []

    def add(sku, loc, on_hand, safety):
        rows.append({"sku": sku, "location": loc, "onHand": on_hand, "safetyStock": safety})

    for sku, _name, group, handling, grams, price, flags in _SKUS:
        if "P" in flags:
            continue
        if sku in _FIXED_STOCK:
            for loc, on_hand, safety in _FIXED_STOCK[sku]:
                add(sku, loc, on_hand, safety)
            continue
        always = sku in _EVERYWHERE
        low, high = _warehouse_range(float(price))
        held = [wh for wh in warehouses if always or rng.random() < 0.8] or [warehouses[0]]
        for wh in held:
            add(sku, wh, rng.randint(low, high), rng.randint(0, 5))
        small_electronics = group == "electronics" and grams <= 500
        if (group in _STORE_GROUPS or small_electronics) and handling in ("STANDARD", "FRAGILE"):
            chance = 0.6 if group in _STORE_GROUPS else 0.45
            for st in stores:
                if always or rng.random() < chance:
                    add(sku, st, rng.randint(1, 9), 0)
        if group == "furniture" and handling in supplier_handling:
            add(sku, "SUP-BRIANZA", rng.randint(10, 40), 0)
    return rows


def incoming(today: datetime.date) -> list[dict]:
    """Expected warehouse receipts, 09:00 Rome time (+01:00), 3-40 days after `today`."""
    return [
        {"sku": sku, "location": loc, "quantity": qty,
         "expectedAt": f"{(today + datetime.timedelta(days=days)).isoformat()}T09:00:00+01:00"}
        for sku, loc, qty, days in _INCOMING
    ]


def customers() -> list[dict]:
    """Three demo customers."""
    return [{"email": email, "name": name} for email, name in _CUSTOMERS]
