"""The domain is pure: standard library and `domain` only, no wall clock, no environment.

Every .py file under domain/ is parsed with `ast` (never imported), so a forbidden import inside
a function or behind a condition is caught as well as one at the top of a module.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
DOMAIN_FILES = sorted(DOMAIN.rglob("*.py"))
ALLOWED = frozenset(sys.stdlib_module_names) | {"domain"}
FORBIDDEN = frozenset({
    "api", "persistence", "strawberry", "sqlmodel", "sqlalchemy", "starlette", "uvicorn",
    "broadcaster", "asyncpg", "aiosqlite", "httpx", "jwt", "alembic",
})
# (receiver name, method) pairs that read the wall clock.
CLOCK_CALLS = frozenset({
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
})


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import; relative ones stay inside domain."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _receiver_name(node: ast.expr) -> str | None:
    """`datetime` for `datetime.now`, and also for `dt.datetime.now` (the last dotted part)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def impurities(source: str, filename: str = "<snippet>") -> list[str]:
    """Every layering or purity violation in one module's source, as readable messages."""
    tree = ast.parse(source, filename=filename)
    problems = []
    for line, module in imported_modules(tree):
        if module in FORBIDDEN:
            problems.append(f"{filename}:{line} imports forbidden {module}")
        elif module not in ALLOWED:
            problems.append(f"{filename}:{line} imports non-stdlib {module}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and (_receiver_name(node.func.value), node.func.attr) in CLOCK_CALLS):
            problems.append(f"{filename}:{node.lineno} reads the wall clock "
                            f"({_receiver_name(node.func.value)}.{node.func.attr}())")
        elif (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
              and isinstance(node.value, ast.Name) and node.value.id == "os"):
            problems.append(f"{filename}:{node.lineno} reads the environment (os.{node.attr})")
        elif (isinstance(node, ast.ImportFrom) and node.module == "os"
              and {a.name for a in node.names} & {"environ", "getenv"}):
            problems.append(f"{filename}:{node.lineno} reads the environment (from os import)")
    return problems


# --- the checker itself: it must flag what it claims to flag ---------------------------------


@pytest.mark.parametrize("source", [
    "import sqlalchemy",
    "import sqlalchemy.orm as orm",
    "from sqlmodel import Field",
    "from persistence.db import Database",
    "from api import settings",
    "import strawberry",
    "def lazy():\n    import jwt\n    return jwt",
    "try:\n    import httpx\nexcept ImportError:\n    httpx = None",
])
def test_checker_flags_a_forbidden_import(source: str) -> None:
    problems = impurities(source)

    assert len(problems) == 1
    assert "imports forbidden" in problems[0]


def test_checker_flags_a_third_party_import_not_on_the_forbidden_list() -> None:
    assert impurities("import requests") == ["<snippet>:1 imports non-stdlib requests"]


@pytest.mark.parametrize(("source", "expected"), [
    ("from datetime import datetime\nx = datetime.now()", "datetime.now()"),
    ("import datetime\nx = datetime.datetime.now(datetime.UTC)", "datetime.now()"),
    ("from datetime import datetime\nx = datetime.utcnow()", "datetime.utcnow()"),
    ("from datetime import date\nx = date.today()", "date.today()"),
])
def test_checker_flags_a_wall_clock_read(source: str, expected: str) -> None:
    assert impurities(source) == [f"<snippet>:2 reads the wall clock ({expected})"]


@pytest.mark.parametrize("source", [
    "import os\nsecret = os.environ['SECRET']",
    "import os\nsecret = os.environ.get('SECRET')",
    "import os\nsecret = os.getenv('SECRET')",
])
def test_checker_flags_an_environment_read(source: str) -> None:
    problems = impurities(source)

    assert len(problems) == 1
    assert problems[0].startswith("<snippet>:2 reads the environment")


def test_checker_flags_environ_imported_from_os() -> None:
    assert impurities("from os import environ") == [
        "<snippet>:1 reads the environment (from os import)"]


def test_checker_accepts_stdlib_domain_and_relative_imports_and_an_injected_clock() -> None:
    source = (
        "from __future__ import annotations\n"
        "import zoneinfo\n"
        "from datetime import UTC, datetime\n"
        "from decimal import Decimal\n"
        "from domain import errors\n"
        "from domain.catalog import Sku\n"
        "from . import money\n"
        "def placed_at(clock):\n"
        "    return clock.now()\n"
    )

    assert impurities(source) == []


def test_forbidden_packages_are_not_mistaken_for_standard_library() -> None:
    assert FORBIDDEN & ALLOWED == frozenset()


# --- the domain itself ------------------------------------------------------------------------


def test_domain_files_are_found_including_services() -> None:
    relative = {p.relative_to(DOMAIN).as_posix() for p in DOMAIN_FILES}

    assert {"__init__.py", "sourcing.py", "orders.py", "services/ordering.py"} <= relative


@pytest.mark.parametrize("path", DOMAIN_FILES,
                         ids=[p.relative_to(DOMAIN).as_posix() for p in DOMAIN_FILES])
def test_domain_module_is_pure(path: Path) -> None:
    relative = path.relative_to(DOMAIN.parent).as_posix()

    assert impurities(path.read_text(encoding="utf-8"), filename=relative) == []
