"""Customer mails, rendered with Jinja2 in the order's language, with Babel's dates and money.

One template per language and kind (templates/<language>/<kind>.j2) sets `subject` and a
`body(fmt)` macro built from the blocks of templates/_blocks.j2; the layout wraps the body
twice, as HTML (inline styles, the channel's colour, no remote images, no trackers) and as
plain text. Templates are autoescaped; the plain-text part is the same rendering with the
entities turned back into characters (it is never read as HTML).

`Facts` is everything a template may say, gathered by the consumer from the order, its
channel, locations, returns and the event; nothing else reaches a template.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency

from domain.notifications import MAX_SUBJECT, Kind

TEMPLATES = Path(__file__).parent / "templates"
BABEL_LOCALE = {"it": "it_IT", "en": "en_GB"}
# the customer's clock: the shipping country's zone (orders hold no time zone of their own)
COUNTRY_ZONE = {"IT": "Europe/Rome", "DE": "Europe/Berlin", "FR": "Europe/Paris",
                "ES": "Europe/Madrid", "AT": "Europe/Vienna", "NL": "Europe/Amsterdam",
                "BE": "Europe/Brussels", "PT": "Europe/Lisbon", "IE": "Europe/Dublin",
                "GR": "Europe/Athens", "SE": "Europe/Stockholm", "DK": "Europe/Copenhagen",
                "PL": "Europe/Warsaw", "GB": "Europe/London", "CH": "Europe/Zurich",
                "US": "America/New_York"}
DEFAULT_COLOR = "#1f4e79"


@dataclass
class Facts:
    """What a mail says; amounts are (Decimal, currency), times UTC datetimes."""

    kind: Kind
    language: str
    locale: str  # Babel's, e.g. it_IT
    zone: str
    brand: str
    color: str
    name: str | None
    order: dict[str, Any]
    links: dict[str, str]
    fulfillment: dict[str, Any] | None = None
    store: dict[str, Any] | None = None
    delay: dict[str, Any] | None = None
    cancelled: dict[str, Any] | None = None
    ret: dict[str, Any] | None = None
    non_essential: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def babel_locale(language: str, customer: str | None) -> str:
    """The customer's own locale when it is of the mail's language (en-US keeps US dates),
    else the language's default."""
    if customer:
        try:
            loc = Locale.parse(customer.replace("-", "_"))
        except (ValueError, TypeError):
            loc = None
        if loc is not None and loc.language == language and loc.territory:
            return f"{loc.language}_{loc.territory}"
    return BABEL_LOCALE.get(language, "en_GB")


class Renderer:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def render(self, facts: Facts) -> Rendered:
        zone = ZoneInfo(facts.zone)
        loc = facts.locale

        def money(value: Any) -> str:
            amount, currency = value
            return format_currency(Decimal(amount), currency, locale=loc)

        def day(value: datetime | None) -> str:
            return "" if value is None else format_date(value.astimezone(zone), "full",
                                                        locale=loc)

        def moment(value: datetime | None) -> str:
            return "" if value is None else format_datetime(
                value.astimezone(zone), "EEEE d MMMM, HH:mm", locale=loc)

        def clock(value: datetime | None) -> str:
            return "" if value is None else format_time(value.astimezone(zone), "HH:mm",
                                                        locale=loc)

        def window(earliest: datetime | None, latest: datetime | None) -> str:
            if latest is None:
                return ""
            if earliest is None or day(earliest) == day(latest):
                return day(latest)
            return f"{day(earliest)} – {day(latest)}"

        values = {"f": facts, "o": facts.order, "money": money, "day": day, "moment": moment,
                  "clock": clock, "window": window, "links": facts.links}
        module = self.env.get_template(f"{facts.language}/{facts.kind.value.lower()}.j2"
                                       ).make_module(values)
        exported = vars(module)  # the template's top-level `set`s and macros
        subject = " ".join(str(exported["subject"]).split())[:MAX_SUBJECT]
        body = exported["body"]
        page = self.env.get_template("layout.j2")
        html_part = page.render(values, fmt="html", subject=subject, body=body("html"))
        text_part = html.unescape(page.render(values, fmt="text", subject=subject,
                                              body=body("text")))
        return Rendered(subject, _tidy(text_part), html_part)


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"
