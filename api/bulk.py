"""`promessa import skus|inventory FILE` and `promessa export orders --since …`.

Imports read the CSV once, check each record on its own (domain/inventory/bulk.py), and apply them a
batch per transaction (domain/inventory/importing.py) through the same unit of work as the API:
ledger rows and outbox events are written with the levels, so running servers' subscribers
hear of the changes (at their next poll of the outbox). A batch that meets a transient
database conflict is run again whole. Rejected records are reported with line, column and
reason; the good ones are applied regardless. Exit status: 0 all applied, 1 some rejected,
2 the file or the configuration cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from api.context import Dependencies
from api.settings import Settings, load_or_exit
from domain.access import Principal, Role
from domain.inventory import bulk, importing
from domain.inventory.bulk import Rejection

CLI_PRINCIPAL = Principal(Role.ADMIN, subject="promessa-import")
SHOWN_REJECTIONS = 50
CSV_COLUMNS = ("number", "placedAt", "channel", "status", "currency", "subtotal", "shipping",
               "tax", "total", "deliveryMethod", "serviceLevel", "shipCountry",
               "pickupLocation", "customerEmail", "tags", "lines", "units", "updatedAt")


@dataclasses.dataclass
class ImportReport:
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def summary(self, kind: str, *, dry_run: bool) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        return (f"{kind}: {self.read} rows read, {self.changed} changed, {self.unchanged} "
                f"unchanged, {len(self.rejected)} rejected in {self.seconds:.1f} s "
                f"({rate:,.0f} rows/s)" + (" — dry run: nothing was written" if dry_run else ""))


class Progress:
    """A one-line progress bar on stderr (a line per update when stderr is not a terminal)."""

    def __init__(self, total: int, stream: IO[str] | None, label: str) -> None:
        self.total, self.stream, self.label = max(total, 1), stream, label
        self.started = time.perf_counter()
        self.tty = bool(stream is not None and stream.isatty())

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        text = f"{self.label} [{bar:<30}] {done}/{self.total} rows {share:4.0%} {rate:,.0f}/s"
        self.stream.write(("\r" + text) if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")


def _count_records(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1,
                   0)


def _dialect(first_line: str) -> str:
    # Excel in much of Europe (Italy included) writes ';'-separated "CSV"
    return ";" if first_line.count(";") > first_line.count(",") else ","


async def import_file(kind: str, path: Path, *, deps: Dependencies, batch_size: int = 1000,
                      dry_run: bool = False, reason: str = "IMPORT",
                      progress: IO[str] | None = None) -> ImportReport:
    """Import `path` (kind "inventory" or "skus") through `deps`' unit of work."""
    report, started = ImportReport(), time.perf_counter()
    columns_of = (bulk.INVENTORY_COLUMNS, bulk.INVENTORY_REQUIRED) if kind == "inventory" \
        else (bulk.SKU_COLUMNS, bulk.SKU_REQUIRED)
    parse: Callable[..., Any] = bulk.level_from if kind == "inventory" else bulk.sku_from
    key_of = (lambda r: (r.sku, r.location)) if kind == "inventory" else (lambda r: r.sku)
    bar = Progress(_count_records(path), progress, f"importing {kind}")
    seen: dict[Any, int] = {}
    batch: list[tuple[int, Any]] = []

    async def flush() -> None:
        if not batch:
            return
        rows = list(batch)
        batch.clear()
        result = await _apply(kind, rows, deps=deps, reason=reason, dry_run=dry_run)
        report.changed += result.changed
        report.unchanged += result.unchanged
        report.rejected.extend(result.rejected)
        bar.update(report.read)

    with path.open(newline="", encoding="utf-8-sig") as f:
        delimiter = _dialect(f.readline())
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        columns = bulk.header_map(next(reader, []), *columns_of)
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num
            report.read += 1
            parsed = parse(record, columns, line=line)
            if isinstance(parsed, Rejection):
                report.rejected.append(parsed)
                continue
            key = key_of(parsed)
            if key in seen:
                report.rejected.append(Rejection(line, "sku", f"repeats line {seen[key]}"))
                continue
            seen[key] = line
            batch.append((line, parsed))
            if len(batch) >= batch_size:
                await flush()
        await flush()
    bar.close()
    report.rejected.sort(key=lambda r: r.line)
    report.seconds = time.perf_counter() - started
    return report


async def _apply(kind: str, rows: list[tuple[int, Any]], *, deps: Dependencies, reason: str,
                 dry_run: bool) -> importing.BatchResult:
    if kind == "inventory":
        return await deps.app.inventory.import_levels(rows, reason=reason,
                                                      principal=CLI_PRINCIPAL, dry_run=dry_run)
    return await deps.app.inventory.import_skus(rows, principal=CLI_PRINCIPAL, dry_run=dry_run)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula (`=HYPERLINK(…)`,
    `+`, `-`, `@`, tab, CR) gets a leading apostrophe (OWASP, CSV injection); numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def write_rejections(rejected: list[Rejection], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(["line", "column", "reason"])
    writer.writerows([r.line, cell(r.column or ""), cell(r.reason)] for r in rejected)


async def export_orders(db: Any, out: IO[str], *, since: datetime, until: datetime | None,
                        fmt: str, batch: int = 500) -> int:
    """Write orders placed in [since, until) as CSV or JSON lines; how many."""
    from persistence.exports import orders_since

    count = 0
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    async for orders in orders_since(db, since, until=until, batch=batch):
        for order in orders:
            if writer is None:
                out.write(json.dumps(order, separators=(",", ":")) + "\n")
            else:
                lines = order.pop("lines")
                writer.writerow({k: cell(v) for k, v in {
                    **order, "tags": "|".join(order["tags"]), "lines": len(lines),
                    "units": sum(ln["quantity"] for ln in lines)}.items()})
        count += len(orders)
    return count


# --- the command line --------------------------------------------------------------------------

def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_commands(sub: Any) -> None:
    importer = sub.add_parser("import", help="import a CSV file of SKUs or stock levels")
    importer.add_argument("kind", choices=("skus", "inventory"))
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true",
                          help="check every row against the database, write nothing")
    importer.add_argument("--batch-size", type=int, default=1000,
                          help="rows per transaction (default 1000)")
    importer.add_argument("--reason", default="IMPORT", help="ledger reason (inventory)")
    importer.add_argument("--rejects", type=Path, help="also write rejected rows to this CSV")
    importer.add_argument("--quiet", action="store_true", help="no progress bar")
    importer.add_argument("--database-url", help="instead of PROMESSA_DATABASE_URL")
    importer.set_defaults(func=cmd_import)
    exporter = sub.add_parser("export", help="export orders for a data warehouse")
    exporter.add_argument("what", choices=("orders",))
    exporter.add_argument("--since", type=_when, required=True,
                          help="orders placed at or after this ISO 8601 time (UTC if no zone)")
    exporter.add_argument("--until", type=_when, help="and before this one")
    exporter.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    exporter.add_argument("--output", type=Path, help="file to write (default stdout)")
    exporter.add_argument("--database-url", help="instead of PROMESSA_DATABASE_URL")
    exporter.set_defaults(func=cmd_export)


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_or_exit()
    url = (args.database_url or "").strip()
    if url:
        if not url.startswith(("sqlite", "postgres")):
            print("promessa: --database-url must be a sqlite:// or postgresql:// URL",
                  file=sys.stderr)
            raise SystemExit(2)
        settings = dataclasses.replace(settings, database_url=url)
    return settings


def cmd_import(args: argparse.Namespace) -> int:
    async def main(settings) -> int:
        from api.bootstrap import open_dependencies
        from api.clock import SystemClock

        if not 1 <= args.batch_size <= importing.MAX_BATCH:
            print(f"promessa: --batch-size must be 1-{importing.MAX_BATCH}", file=sys.stderr)
            return 2
        if not args.file.is_file():
            print(f"promessa: no such file: {args.file}", file=sys.stderr)
            return 2
        db, deps = await open_dependencies(settings, clock=SystemClock())
        try:
            report = await import_file(
                args.kind, args.file, deps=deps, batch_size=args.batch_size,
                dry_run=args.dry_run, reason=args.reason,
                progress=None if args.quiet else sys.stderr)
        except bulk.MissingColumns as exc:
            print(f"promessa: {args.file}: {exc}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        for r in report.rejected[:SHOWN_REJECTIONS]:
            print(f"rejected line {r.line}, column {r.column or '-'}: {r.reason}",
                  file=sys.stderr)
        if len(report.rejected) > SHOWN_REJECTIONS:
            print(f"… and {len(report.rejected) - SHOWN_REJECTIONS} more rejected rows"
                  + ("" if args.rejects else " (--rejects FILE lists them all)"),
                  file=sys.stderr)
        if args.rejects:
            with args.rejects.open("w", newline="", encoding="utf-8") as out:
                write_rejections(report.rejected, out)
        print(report.summary(args.kind, dry_run=args.dry_run))
        return 1 if report.rejected else 0

    return asyncio.run(main(_settings(args)))


def cmd_export(args: argparse.Namespace) -> int:
    async def main(settings) -> int:
        from persistence.db import Database

        db = Database(settings.database_url)
        try:
            if args.output:
                with args.output.open("w", newline="", encoding="utf-8") as out:
                    count = await export_orders(db, out, since=args.since, until=args.until,
                                                fmt=args.format)
            else:
                count = await export_orders(db, sys.stdout, since=args.since,
                                            until=args.until, fmt=args.format)
        finally:
            await db.dispose()
        print(f"exported {count} orders", file=sys.stderr)
        return 0

    return asyncio.run(main(_settings(args)))
