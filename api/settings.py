"""Settings from the environment, read and validated once at start."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strawberry.http.websocket_origin import normalize_allowed_origins

from api.limits import Limits
from domain.documents.content import Party
from domain.documents.issuing import Seller
from domain.integration import CONSUMER_BACKOFF, WEBHOOK_BACKOFF, Backoff
from persistence.db import DEFAULT_POOL_SIZE

# Secrets that must never protect a real deployment (documentation examples, obvious words).
WELL_KNOWN_SECRETS = {"secret", "changeme", "change-me", "password", "promessa", "jwt-secret",
                      "your-256-bit-secret", "test", "dev", "development", "demo"}
MIN_SECRET_LENGTH = 32
DEV_SECRET = "promessa-dev-only-secret-do-not-use-in-production"
ENVIRONMENTS = ("development", "test", "production")
LOG_FORMATS = ("json", "text")


class SettingsError(ValueError):
    """The configuration cannot start a server; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    broadcast_url: str = "memory://"
    jwt_secret: str = DEV_SECRET
    environment: str = "development"
    demo: bool = False
    db_pool_size: int = DEFAULT_POOL_SIZE
    customer_cancel_minutes: int = 30
    # browser pages on these origins may open subscriptions (same-origin ones always may)
    allowed_origins: tuple[str, ...] = ()
    ws_init_timeout_seconds: float = 10.0
    ws_max_subscriptions: int = 50
    outbox_retention_hours: float = 168.0
    realtime_poll_seconds: float = 1.0
    subscriber_queue: int = 1000
    fanout_heartbeat_seconds: float = 2.0
    return_label_hours: float = 72.0
    metrics_token: str | None = None  # when set, /metrics wants `Authorization: Bearer <it>`
    metrics_public: bool | None = None  # without a token: None = open, except in production
    token_max_days: float = 366.0  # bearer tokens expiring later than this are refused
    http_head_timeout_seconds: float = 10.0  # a request head must be complete within this
    max_connections: int = 1000  # per process; uvicorn answers 503 past it
    log_format: str = "json"
    # request limits (api/limits.py) and abuse protection (api/guard.py, api/http.py)
    limits: Limits = field(default_factory=Limits)
    rate_limit: bool = True
    rate_limit_burst: int = 20_000  # cost points a caller may spend at once
    rate_limit_per_second: float = 1_000.0  # cost points a caller regains each second
    rate_limit_url: str | None = None  # redis:// shares the buckets between processes
    guest_lookups_per_client: int = 30  # trackOrder & co, per 10 minutes
    guest_lookups_per_order: int = 10  # per order number and client, per 10 minutes
    max_body_bytes: int = 1_000_000
    http_body_timeout_seconds: float = 30.0  # a request body must arrive whole within this
    introspection: bool | None = None  # None: on, except in production
    graphiql: bool | None = None  # None: on, except in production
    cors_origins: tuple[str, ...] = ()
    # durable outbox consumers (api/integration): in `serve` unless off, or alone in `worker`
    consumers: bool = True
    consumer_backoff: Backoff = CONSUMER_BACKOFF
    consumer_poll_seconds: float = 0.25
    consumer_lease_seconds: float = 60.0
    webhook_backoff: Backoff = WEBHOOK_BACKOFF
    webhook_allow_private: bool | None = None  # None: allowed, except in production
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_hours: float = 72.0
    event_sink_url: str | None = None  # amqp://… publishes every event to RabbitMQ
    # payments (api/payments): the built-in `test` provider, and Stripe when a key is given
    test_payments: bool | None = None  # None: on, except in production
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None  # another Stripe API address (an emulator in tests)
    stripe_timeout_seconds: float = 10.0
    # customer mails (api/notifications): sent through SMTP when a server is named, else
    # rendered and recorded only; links in them point at public_url
    smtp_url: str | None = None
    mail_from: str = "Promessa <orders@promessa.example>"
    public_url: str = "http://127.0.0.1:8000"
    # who invoices and credit notes name as the seller; None: the demo company (not in
    # production, where PROMESSA_SELLER_* are required)
    seller: Seller | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def introspection_enabled(self) -> bool:
        return not self.production if self.introspection is None else self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def webhooks_may_call_private(self) -> bool:
        return (not self.production if self.webhook_allow_private is None
                else self.webhook_allow_private)

    @property
    def metrics_open(self) -> bool:
        """/metrics and /readyz's details answer anyone (no token set)."""
        return not self.production if self.metrics_public is None else self.metrics_public

    @property
    def test_payments_enabled(self) -> bool:
        return not self.production if self.test_payments is None else self.test_payments

    @property
    def buckets_url(self) -> str | None:
        """Where cost budgets live: the rate-limit URL, else the Redis fan-out, else memory."""
        if self.rate_limit_url:
            return self.rate_limit_url
        return self.broadcast_url if self.broadcast_url.startswith("redis") else None


def default_database_url(cwd: Path | None = None) -> str:
    return f"sqlite+aiosqlite:///{(cwd or Path.cwd()) / 'promessa.db'}"


def load(env: dict[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Build settings from `env` (default: os.environ); raise SettingsError when unusable."""
    env = dict(os.environ if env is None else env)
    environment = env.get("PROMESSA_ENV", "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"PROMESSA_ENV must be one of {', '.join(ENVIRONMENTS)}")
    database_url = env.get("PROMESSA_DATABASE_URL", "").strip() or default_database_url()
    if not database_url.startswith(("sqlite", "postgres")):
        raise SettingsError("PROMESSA_DATABASE_URL must be a sqlite:// or postgresql:// URL")
    broadcast_url = env.get("PROMESSA_BROADCAST_URL", "").strip() or "memory://"
    if not broadcast_url.startswith(("memory://", "redis://", "rediss://", "postgres://",
                                     "postgresql://")):
        raise SettingsError("PROMESSA_BROADCAST_URL must be memory://, redis:// or postgres://")
    secret = env.get("PROMESSA_JWT_SECRET")
    if secret is None:
        if environment == "production" and not demo:
            raise SettingsError("PROMESSA_JWT_SECRET is required in production")
        secret = DEV_SECRET
    elif (not secret.strip() or secret.strip().lower() in WELL_KNOWN_SECRETS
          or len(secret) < MIN_SECRET_LENGTH):
        raise SettingsError(
            f"PROMESSA_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters and not a "
            "well-known value (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if environment == "production" and secret == DEV_SECRET:
        raise SettingsError("the development JWT secret cannot be used in production")
    try:
        pool = int(env.get("PROMESSA_DB_POOL_SIZE", str(DEFAULT_POOL_SIZE)))
    except ValueError:
        raise SettingsError("PROMESSA_DB_POOL_SIZE must be a whole number") from None
    if not 1 <= pool <= 200:
        raise SettingsError("PROMESSA_DB_POOL_SIZE must be 1-200")
    try:
        cancel_minutes = int(env.get("PROMESSA_CUSTOMER_CANCEL_MINUTES", "30"))
    except ValueError:
        raise SettingsError("PROMESSA_CUSTOMER_CANCEL_MINUTES must be a whole number") from None
    if not 0 <= cancel_minutes <= 7 * 24 * 60:
        raise SettingsError("PROMESSA_CUSTOMER_CANCEL_MINUTES must be 0-10080 (a week)")
    log_format = env.get("PROMESSA_LOG_FORMAT", "json").strip().lower() or "json"
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"PROMESSA_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    metrics_token = env.get("PROMESSA_METRICS_TOKEN", "").strip() or None
    if metrics_token is not None and len(metrics_token) < 16:
        raise SettingsError("PROMESSA_METRICS_TOKEN must be at least 16 characters")
    return Settings(database_url=database_url, metrics_token=metrics_token,
                    metrics_public=_flag(env, "PROMESSA_METRICS_PUBLIC"),
                    token_max_days=_number(env, "PROMESSA_TOKEN_MAX_DAYS", 366.0, low=0.001,
                                           high=3660),
                    http_head_timeout_seconds=_number(env, "PROMESSA_HTTP_HEAD_TIMEOUT_SECONDS",
                                                      10.0, low=0.1, high=300),
                    max_connections=_whole(env, "PROMESSA_MAX_CONNECTIONS", 1000, low=10,
                                           high=1_000_000),
                    log_format=log_format, broadcast_url=broadcast_url, jwt_secret=secret,
                    environment=environment, demo=demo, db_pool_size=pool,
                    customer_cancel_minutes=cancel_minutes,
                    allowed_origins=_origins(env.get("PROMESSA_ALLOWED_ORIGINS", "")),
                    ws_init_timeout_seconds=_number(env, "PROMESSA_WS_INIT_TIMEOUT", 10.0,
                                                    low=0.1, high=300),
                    ws_max_subscriptions=int(_number(env, "PROMESSA_WS_MAX_SUBSCRIPTIONS", 50,
                                                     low=1, high=10_000, whole=True)),
                    outbox_retention_hours=_number(env, "PROMESSA_OUTBOX_RETENTION_HOURS",
                                                   168.0, low=0.01, high=24 * 366),
                    realtime_poll_seconds=_number(env, "PROMESSA_REALTIME_POLL_SECONDS", 1.0,
                                                  low=0.05, high=300),
                    subscriber_queue=int(_number(env, "PROMESSA_SUBSCRIBER_QUEUE", 1000, low=10,
                                                 high=1_000_000, whole=True)),
                    fanout_heartbeat_seconds=_number(env, "PROMESSA_FANOUT_HEARTBEAT_SECONDS",
                                                     2.0, low=0.05, high=60),
                    return_label_hours=_number(env, "PROMESSA_RETURN_LABEL_HOURS", 72.0,
                                               low=0.01, high=24 * 90),
                    **_protection(env), **_integration(env), **_payments(env),
                    seller=_seller(env, required=environment == "production" and not demo),
                    **_mail(env))


def _whole(env: dict[str, str], name: str, default: int, *, low: int, high: int) -> int:
    return int(_number(env, name, default, low=low, high=high, whole=True))


def _flag(env: dict[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false")


class _Protection(TypedDict):
    """The Settings fields `_protection` reads (passed on as keyword arguments)."""

    limits: Limits
    rate_limit: bool
    rate_limit_burst: int
    rate_limit_per_second: float
    rate_limit_url: str | None
    guest_lookups_per_client: int
    guest_lookups_per_order: int
    max_body_bytes: int
    http_body_timeout_seconds: float
    introspection: bool | None
    graphiql: bool | None
    cors_origins: tuple[str, ...]


def _protection(env: dict[str, str]) -> _Protection:
    """Request limits, rate limits, production switches and CORS."""
    defaults = Limits()
    limits = Limits(
        max_depth=_whole(env, "PROMESSA_MAX_DEPTH", defaults.max_depth, low=2, high=100),
        max_aliases=_whole(env, "PROMESSA_MAX_ALIASES", defaults.max_aliases, low=0,
                           high=10_000),
        max_tokens=_whole(env, "PROMESSA_MAX_TOKENS", defaults.max_tokens, low=100,
                          high=1_000_000),
        max_cost=_whole(env, "PROMESSA_MAX_COST", defaults.max_cost, low=10, high=10_000_000),
        max_list=_whole(env, "PROMESSA_MAX_INPUT_LIST", defaults.max_list, low=1,
                        high=100_000))
    burst = _whole(env, "PROMESSA_RATE_LIMIT_BURST", Settings.rate_limit_burst, low=10,
                   high=100_000_000)
    if burst < limits.max_cost:
        raise SettingsError("PROMESSA_RATE_LIMIT_BURST must be at least PROMESSA_MAX_COST "
                            "(a query within the cost limit must be able to run)")
    rate_url = env.get("PROMESSA_RATE_LIMIT_URL", "").strip() or None
    if rate_url and not rate_url.startswith(("memory://", "redis://", "rediss://")):
        raise SettingsError("PROMESSA_RATE_LIMIT_URL must be memory:// or redis://")
    cors = _origins(env.get("PROMESSA_CORS_ORIGINS", ""), name="PROMESSA_CORS_ORIGINS")
    return _Protection(
        limits=limits, rate_limit=_flag(env, "PROMESSA_RATE_LIMIT") is not False,
        rate_limit_burst=burst,
        rate_limit_per_second=_number(env, "PROMESSA_RATE_LIMIT_PER_SECOND",
                                      Settings.rate_limit_per_second, low=0.01, high=1e9),
        rate_limit_url=rate_url,
        guest_lookups_per_client=_whole(env, "PROMESSA_GUEST_LOOKUPS_PER_CLIENT",
                                        Settings.guest_lookups_per_client, low=1,
                                        high=1_000_000),
        guest_lookups_per_order=_whole(env, "PROMESSA_GUEST_LOOKUPS_PER_ORDER",
                                       Settings.guest_lookups_per_order, low=1, high=1_000_000),
        max_body_bytes=_whole(env, "PROMESSA_MAX_BODY_BYTES", Settings.max_body_bytes,
                              low=1_000, high=1_000_000_000),
        http_body_timeout_seconds=_number(env, "PROMESSA_HTTP_BODY_TIMEOUT_SECONDS",
                                          Settings.http_body_timeout_seconds, low=0.1,
                                          high=3600),
        introspection=_flag(env, "PROMESSA_INTROSPECTION"),
        graphiql=_flag(env, "PROMESSA_GRAPHIQL"),
        cors_origins=cors)


class _Integration(TypedDict):
    """The Settings fields `_integration` reads."""

    consumers: bool
    consumer_backoff: Backoff
    consumer_poll_seconds: float
    consumer_lease_seconds: float
    webhook_backoff: Backoff
    webhook_allow_private: bool | None
    webhook_timeout_seconds: float
    webhook_disable_after_hours: float
    event_sink_url: str | None


def _backoff(env: dict[str, str], name: str, default: Backoff) -> Backoff:
    raw = env.get(name, "").strip()
    try:
        return Backoff.parse(raw, name=name) if raw else default
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _integration(env: dict[str, str]) -> _Integration:
    """Outbox consumers, webhooks and the broker."""
    sink = env.get("PROMESSA_EVENT_SINK_URL", "").strip() or None
    if sink is not None and not sink.startswith(("amqp://", "amqps://")):
        raise SettingsError("PROMESSA_EVENT_SINK_URL must be an amqp:// or amqps:// URL")
    return _Integration(
        consumers=_flag(env, "PROMESSA_CONSUMERS") is not False,
        consumer_backoff=_backoff(env, "PROMESSA_CONSUMER_BACKOFF", CONSUMER_BACKOFF),
        consumer_poll_seconds=_number(env, "PROMESSA_CONSUMER_POLL_SECONDS", 0.25, low=0.01,
                                      high=60),
        consumer_lease_seconds=_number(env, "PROMESSA_CONSUMER_LEASE_SECONDS", 60.0, low=1,
                                       high=3600),
        webhook_backoff=_backoff(env, "PROMESSA_WEBHOOK_BACKOFF", WEBHOOK_BACKOFF),
        webhook_allow_private=_flag(env, "PROMESSA_WEBHOOK_ALLOW_PRIVATE"),
        webhook_timeout_seconds=_number(env, "PROMESSA_WEBHOOK_TIMEOUT_SECONDS", 10.0,
                                        low=0.1, high=60),
        webhook_disable_after_hours=_number(env, "PROMESSA_WEBHOOK_DISABLE_AFTER_HOURS", 72.0,
                                            low=0.001, high=24 * 90),
        event_sink_url=sink)


class _Payments(TypedDict):
    test_payments: bool | None
    stripe_api_key: str | None
    stripe_api_base: str | None
    stripe_timeout_seconds: float


def _payments(env: dict[str, str]) -> _Payments:
    """Payment providers: `test` (not in production unless asked for) and Stripe."""
    key = env.get("PROMESSA_STRIPE_API_KEY", "").strip() or None
    if key is not None and not key.startswith(("sk_", "rk_")):
        raise SettingsError("PROMESSA_STRIPE_API_KEY must be a Stripe secret or restricted "
                            "key (sk_… or rk_…)")
    base = env.get("PROMESSA_STRIPE_API_BASE", "").strip() or None
    if base is not None and not base.startswith(("http://", "https://")):
        raise SettingsError("PROMESSA_STRIPE_API_BASE must be an http(s):// URL")
    return _Payments(test_payments=_flag(env, "PROMESSA_TEST_PAYMENTS"), stripe_api_key=key,
                     stripe_api_base=base,
                     stripe_timeout_seconds=_number(env, "PROMESSA_STRIPE_TIMEOUT_SECONDS", 10.0,
                                                    low=0.1, high=120))


class _Mail(TypedDict):
    smtp_url: str | None
    mail_from: str
    public_url: str


def _mail(env: dict[str, str]) -> _Mail:
    """Customer mails: PROMESSA_SMTP_URL (smtp:// or smtps://), PROMESSA_MAIL_FROM and the
    address links in mails point at, PROMESSA_PUBLIC_URL."""
    smtp = env.get("PROMESSA_SMTP_URL", "").strip() or None
    if smtp is not None:
        parts = urlsplit(smtp)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == -1:
            raise SettingsError("PROMESSA_SMTP_URL must be smtp://[user:pass@]host[:port] or "
                                "smtps://[user:pass@]host[:port]")
    sender = env.get("PROMESSA_MAIL_FROM", "").strip() or "Promessa <orders@promessa.example>"
    if "@" not in parseaddr(sender)[1] or any(c in sender for c in "\r\n"):
        raise SettingsError("PROMESSA_MAIL_FROM must be an address, e.g. "
                            "'Shop <orders@shop.example>'")
    public = (env.get("PROMESSA_PUBLIC_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")
    if not public.startswith(("http://", "https://")):
        raise SettingsError("PROMESSA_PUBLIC_URL must be an http(s):// URL")
    return _Mail(smtp_url=smtp, mail_from=sender, public_url=public)


SELLER_FIELDS = ("PROMESSA_SELLER_NAME", "PROMESSA_SELLER_ADDRESS", "PROMESSA_SELLER_COUNTRY",
                 "PROMESSA_SELLER_VAT_ID")


def _seller(env: dict[str, str], *, required: bool) -> Seller | None:
    """The seller invoices name: PROMESSA_SELLER_NAME, _ADDRESS (lines separated by `;`),
    _COUNTRY (ISO alpha-2), _VAT_ID, and _TIME_ZONE (the day a document is issued on, so its
    year and series; default Europe/Rome). All four or none; required in production."""
    values = {name: env.get(name, "").strip() for name in SELLER_FIELDS}
    if not any(values.values()) and env.get("PROMESSA_SELLER_TIME_ZONE", "").strip():
        raise SettingsError("PROMESSA_SELLER_TIME_ZONE needs the other PROMESSA_SELLER_*")
    if not any(values.values()):
        if required:
            raise SettingsError("PROMESSA_SELLER_NAME, PROMESSA_SELLER_ADDRESS, "
                                "PROMESSA_SELLER_COUNTRY and PROMESSA_SELLER_VAT_ID are "
                                "required in production: invoices name the seller")
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SettingsError(f"{', '.join(missing)} must be set with the other PROMESSA_SELLER_*")
    zone = env.get("PROMESSA_SELLER_TIME_ZONE", "").strip() or "Europe/Rome"
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsError("PROMESSA_SELLER_TIME_ZONE must be an IANA time zone, e.g. "
                            "Europe/Rome") from None
    lines = tuple(line.strip() for line in values["PROMESSA_SELLER_ADDRESS"].split(";")
                  if line.strip())
    if not lines:
        raise SettingsError("PROMESSA_SELLER_ADDRESS must hold the seller's address, its "
                            "lines separated by ';'")
    try:
        party = Party(name=values["PROMESSA_SELLER_NAME"], address_lines=lines,
                      country=values["PROMESSA_SELLER_COUNTRY"].upper(),
                      vat_id=values["PROMESSA_SELLER_VAT_ID"])
    except ValueError as exc:
        raise SettingsError(f"PROMESSA_SELLER_*: {exc}") from None
    if len(lines) > 4 or any(len(x) > 100 for x in (party.name, *lines, party.vat_id or "")):
        raise SettingsError("PROMESSA_SELLER_*: at most 4 address lines of 100 characters")
    return Seller(party=party, time_zone=zone)


def _number(env: dict[str, str], name: str, default: float, *, low: float, high: float,
            whole: bool = False) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a {'whole ' if whole else ''}number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}")
    return value


def _origins(raw: str, *, name: str = "PROMESSA_ALLOWED_ORIGINS") -> tuple[str, ...]:
    """Comma-separated origins such as https://shop.example.com, or * for any (not advised)."""
    origins = tuple(o.strip() for o in raw.split(",") if o.strip())
    try:
        normalize_allowed_origins(origins)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    return origins


def load_or_exit(*, demo: bool = False) -> Settings:
    """`load` for a command line: a configuration error is printed, and the command exits 2."""
    try:
        return load(demo=demo)
    except SettingsError as exc:
        print(f"promessa: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
