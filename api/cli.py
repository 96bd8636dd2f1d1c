"""The `promessa` command: serve, worker, migrate, export-schema, token, import, export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from api import settings as settings_module

DEMO_USERS = [
    ("customer", "ada@example.com", None),
    ("agent", "agent@promessa.example", None),
    ("store", "roma@promessa.example", ["ST-ROMA"]),
    ("admin", "admin@promessa.example", None),
    ("integration", None, None),
]


_settings = settings_module.load_or_exit


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(demo=args.demo)
    if args.workers > 1 and settings.embedded:
        print("promessa: --workers > 1 needs PostgreSQL (PROMESSA_DATABASE_URL)",
              file=sys.stderr)
        return 2
    if args.workers > 1 and settings.broadcast_url.startswith("memory://"):
        print("promessa: --workers > 1 needs PROMESSA_BROADCAST_URL (redis://… or postgres://…)"
              " so that subscribers on every worker hear of every change at once",
              file=sys.stderr)
        return 2
    if not settings.embedded:
        from api.app import create_app  # noqa: F401  (fail fast on import errors)
    if args.demo:
        from api.auth import issue_token

        print("Demo tokens (send as 'Authorization: Bearer <token>'):")
        for role, email, locations in DEMO_USERS:
            token = issue_token(role=role, email=email, locations=locations,
                                secret=settings.jwt_secret)
            print(f"  {role:<12} {email or '':<26} {token}")
        print(f"GraphiQL: http://{args.host}:{args.port}/graphql", flush=True)
    # JSON logs: uvicorn leaves logging to us (each worker configures it in app_factory)
    log_config = None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    # no uvicorn access log in either format: RequestLog writes the one line per request, and
    # the access log would print query strings (signed label links, GET variables)
    from api import server

    uvicorn.run("api.cli:app_factory", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="info", lifespan="on", log_config=log_config,
                access_log=False, ws_max_size=settings.max_body_bytes,
                limit_concurrency=settings.max_connections,
                **server.configure(head_timeout=settings.http_head_timeout_seconds))
    return 0


def app_factory():
    """Uvicorn's entry point (also in each worker process): settings from the environment."""
    import os

    from api import server
    from api.app import create_app
    from api.observability import configure_logging

    demo = os.environ.get("PROMESSA_DEMO") == "1"
    settings = _settings(demo=demo)
    server.configure(head_timeout=settings.http_head_timeout_seconds)
    if settings.log_format == "json":
        configure_logging("json")
    return create_app(settings)


def cmd_worker(args: argparse.Namespace) -> int:
    from api import worker
    from api.observability import configure_logging

    settings = _settings()
    if settings.log_format == "json":
        configure_logging("json")
    asyncio.run(worker.run(settings, host=args.host, port=args.port))
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from persistence import migrate
    from persistence.db import Database

    settings = _settings()

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db.writer)
            print(f"migrated to {await migrate.current_revision(db.writer)}")
        finally:
            await db.dispose()

    asyncio.run(run())
    return 0


def cmd_export_schema(_: argparse.Namespace) -> int:
    from api.schema.root import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from api.auth import TOKEN_ROLES, issue_token

    settings = _settings()
    if args.role not in TOKEN_ROLES:
        print(f"promessa: --role must be one of {', '.join(sorted(TOKEN_ROLES))}",
              file=sys.stderr)
        return 2
    locations = [x.strip() for x in args.locations.split(",") if x.strip()] if args.locations \
        else None
    if args.role == "customer" and not args.email:
        print("promessa: a customer token needs --email", file=sys.stderr)
        return 2
    ttl = duration_seconds(args.expires_in)
    if ttl is None:
        print("promessa: --expires-in is a positive number of seconds, or of minutes, hours "
              "or days with m, h or d (90s, 15m, 2h, 30d)", file=sys.stderr)
        return 2
    if ttl > settings.token_max_days * 86_400:
        print(f"promessa: --expires-in is longer than tokens may live here "
              f"(PROMESSA_TOKEN_MAX_DAYS={settings.token_max_days:g})", file=sys.stderr)
        return 2
    print(issue_token(role=args.role, email=args.email, locations=locations,
                      subject=args.subject, secret=settings.jwt_secret, ttl_seconds=ttl))
    return 0


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int | None:
    """`90`, `90s`, `15m`, `2h`, `30d` as seconds; None for anything else (or ≤ 0)."""
    text = text.strip().lower()
    unit = UNITS.get(text[-1:], None)
    number = text[:-1] if unit is not None else text
    if not number.isdigit():
        return None
    seconds = int(number) * (unit or 1)
    return seconds if 0 < seconds <= 366 * 86400 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="promessa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--demo", action="store_true", help="seed and use the demo network")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run the outbox consumers (webhooks, broker) "
                            "without the API")
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument("--port", type=int, default=None,
                        help="answer /healthz and /metrics on this port")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="migrate the database to head").set_defaults(
        func=cmd_migrate)
    sub.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(
        func=cmd_export_schema)
    token = sub.add_parser("token", help="print a signed token for local use")
    token.add_argument("--role", required=True)
    token.add_argument("--email")
    token.add_argument("--locations", help="comma separated location codes (store role)")
    token.add_argument("--subject", help="who the token names (default: the email, else the "
                       "role); give each integration its own: its webhook endpoints are "
                       "those created under its subject")
    token.add_argument("--expires-in", default="30d",
                       help="how long the token is valid: 90s, 15m, 2h, 30d (default 30d; "
                            "a short one is handy to try token expiry)")
    token.set_defaults(func=cmd_token)
    from api import bulk

    bulk.add_commands(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if getattr(args, "demo", False):
        import os

        os.environ["PROMESSA_DEMO"] = "1"
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
