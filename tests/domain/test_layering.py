"""The domain is pure, and its bounded contexts are layered as they say.

Pure: standard library and `domain` only, no wall clock, no environment. Layered: every package
of domain/ says in its `__init__` docstring which other packages it may use (`May use: …`);
an import arrow to a package it did not name fails, and so does any circle — between packages
(declared or imported) or between modules. Every .py file under domain/ is parsed with `ast`
(never imported), so an import inside a function, behind a condition or under TYPE_CHECKING
counts as well as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
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
    for node in ast.walk(tree):  # imports the arrow check could not see
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            problems.append(f"{filename}:{node.lineno} imports relatively: write domain.… in "
                            f"full, so every arrow between packages is seen")
        elif isinstance(node, ast.Import) and any(a.name == "domain" for a in node.names):
            problems.append(f"{filename}:{node.lineno} imports the domain package whole: "
                            f"import the module it uses")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
              and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
              in ("__import__", "import_module")):
            problems.append(f"{filename}:{node.lineno} imports dynamically")
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


def test_checker_accepts_stdlib_and_domain_imports_and_an_injected_clock() -> None:
    source = (
        "from __future__ import annotations\n"
        "import zoneinfo\n"
        "from datetime import UTC, datetime\n"
        "from decimal import Decimal\n"
        "from domain.kernel import errors\n"
        "from domain.catalog import Sku\n"
        "def placed_at(clock):\n"
        "    return clock.now()\n"
    )

    assert impurities(source) == []


@pytest.mark.parametrize(("source", "what"), [
    ("from . import money", "imports relatively"),
    ("from ..orders import Order", "imports relatively"),
    ("from ... import persistence", "imports relatively"),
    ("import domain\nx = domain.orders.Order", "imports the domain package whole"),
    ("import importlib\nm = importlib.import_module('domain.orders')", "imports dynamically"),
    ("m = __import__('persistence')", "imports dynamically"),
])
def test_checker_flags_imports_the_arrow_check_could_not_see(source: str, what: str) -> None:
    assert any(what in problem for problem in impurities(source)), impurities(source)


def test_forbidden_packages_are_not_mistaken_for_standard_library() -> None:
    assert FORBIDDEN & ALLOWED == frozenset()


# --- the domain itself ------------------------------------------------------------------------


def test_domain_files_are_found_including_services() -> None:
    relative = {p.relative_to(DOMAIN).as_posix() for p in DOMAIN_FILES}

    assert {"__init__.py", "ports.py", "orders/__init__.py", "checkout/ordering.py",
            "returns/services.py"} <= relative


@pytest.mark.parametrize("path", DOMAIN_FILES,
                         ids=[p.relative_to(DOMAIN).as_posix() for p in DOMAIN_FILES])
def test_domain_module_is_pure(path: Path) -> None:
    relative = path.relative_to(DOMAIN.parent).as_posix()

    assert impurities(path.read_text(encoding="utf-8"), filename=relative) == []


# --- bounded contexts: declared arrows only, and no circles ------------------------------------

# domain/ports.py (the union of every context's ports) and domain/application.py (the use
# cases bound to them) sit above every context: they may use any, no context may use them
TOP = frozenset({"ports", "application"})
# one line, or continued on the next ones (a long list wraps)
MAY_USE = re.compile(r"^May use: (?P<names>[a-z_,\s]+)\.$", re.MULTILINE)


def module_name(path: Path, root: Path) -> str:
    """`orders.lifecycle` for domain/orders/lifecycle.py, `orders` for its __init__.py."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def domain_imports(tree: ast.AST, known: Iterable[str] = ()) -> set[str]:
    """The domain modules a module imports: `from domain.a import b` names module `a.b` when
    that is one of the `known` modules, else `a`."""
    known = set(known)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "domain" or node.module.startswith("domain.")):
            base = node.module.removeprefix("domain").removeprefix(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                found.add(sub if sub in known or not base else base)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("domain.") for a in node.names
                         if a.name.startswith("domain."))
    return found


def allowances(sources: Mapping[str, str]) -> dict[str, set[str]]:
    """Each package's `May use:` line, from its __init__ docstring (sources by module name)."""
    declared: dict[str, set[str]] = {}
    for name, source in sources.items():
        if "." in name or name in TOP:
            continue
        doc = ast.get_docstring(ast.parse(source)) or ""
        found = MAY_USE.search(doc)
        names = {n.strip() for n in found["names"].split(",")} if found else set()
        declared[name] = names - {"nothing"}
    return declared


def cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One circle of `graph` (its nodes in order, the first repeated last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def layering_problems(sources: Mapping[str, str]) -> list[str]:
    """Every undeclared arrow and every circle, for sources keyed by module name."""
    declared = allowances(sources)
    problems = [f"package {p} does not say which packages it may use (a `May use:` line)"
                for p in sorted(declared) if not declared[p] and p != "kernel"
                and MAY_USE.search(ast.get_docstring(ast.parse(sources[p])) or "") is None]
    modules: dict[str, set[str]] = {}
    for name, source in sources.items():
        imported = {m for m in domain_imports(ast.parse(source), sources) if m != name}
        modules[name] = imported
        package = name.split(".")[0]
        for target in sorted(imported):
            other = target.split(".")[0]
            if other == package or package in TOP:
                continue
            if other in TOP:
                problems.append(f"{name} imports domain.{other}: contexts use their own ports")
            elif other not in declared.get(package, set()):
                problems.append(f"{name} imports {target}: package {package} may not use "
                                f"{other} (declare it in its `May use:` line)")
    for graph, kind in ((declared, "packages"), (modules, "modules")):
        if (found := cycle(graph)) is not None:
            problems.append(f"circle between {kind}: {' -> '.join(found)}")
    return problems


def test_layering_checker_flags_an_undeclared_arrow() -> None:
    sources = {
        "kernel": '"""Kernel.\n\nMay use: nothing.\n"""',
        "catalog": '"""Catalog.\n\nMay use: kernel.\n"""\nfrom domain.orders import Order',
        "orders": '"""Orders.\n\nMay use: kernel, catalog.\n"""\nfrom domain import kernel',
    }

    assert layering_problems(sources) == [
        "catalog imports orders: package catalog may not use orders "
        "(declare it in its `May use:` line)"]


def test_layering_checker_flags_a_declared_circle_between_packages() -> None:
    sources = {
        "catalog": '"""Catalog.\n\nMay use: orders.\n"""',
        "orders": '"""Orders.\n\nMay use: catalog.\n"""',
    }

    assert layering_problems(sources) == [
        "circle between packages: catalog -> orders -> catalog"]


def test_layering_checker_flags_a_circle_between_modules_even_type_only() -> None:
    sources = {
        "sourcing": '"""Sourcing.\n\nMay use: nothing.\n"""',
        "sourcing.engine": "from domain.sourcing import explain",
        "sourcing.explain": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    from domain.sourcing.engine import Prepared"),
    }

    assert layering_problems(sources) == [
        "circle between modules: sourcing.engine -> sourcing.explain -> sourcing.engine"]


def test_layering_checker_flags_a_context_importing_the_union_of_ports() -> None:
    sources = {"orders": '"""Orders.\n\nMay use: nothing.\n"""\nfrom domain.ports import Reader'}

    assert layering_problems(sources) == [
        "orders imports domain.ports: contexts use their own ports"]


def test_layering_checker_flags_a_package_without_allowances() -> None:
    sources = {"orders": '"""Orders, with no word on what it may use."""'}

    assert layering_problems(sources) == [
        "package orders does not say which packages it may use (a `May use:` line)"]


def test_the_domain_is_layered_as_its_packages_say() -> None:
    sources = {module_name(p, DOMAIN): p.read_text(encoding="utf-8") for p in DOMAIN_FILES}
    sources.pop("", None)  # domain/__init__.py

    assert layering_problems(sources) == []
    assert set(allowances(sources)) == {
        "kernel", "access", "catalog", "inventory", "orders", "sourcing", "checkout",
        "fulfillment", "service_desk", "returns", "integration", "payments", "notifications",
        "documents"}
