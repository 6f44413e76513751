"""The dependency direction of ARCHITECTURE.md holds: a lower package never imports a higher one.

Every module under ``src/octopushx`` is parsed (``ast``, so imports inside functions and under
``if TYPE_CHECKING`` count too) and each ``octopushx.<package>`` it imports is checked against
the order::

    core → tenancy, accounts → shield → crm → calls, telephony → studio, reports, billing → api

A package imports its own level and below. A higher product reaches a lower one's data by
registering into it (``privacy.py``, ``retention.py``, ``home.py``, … autodiscovered), never the
other way round. ``api`` sits on top of everything it routes; each product's router modules
(``api.py``, ``*_api.py``, ``routers.py``) are the API layer living beside their product, so they may also use
``octopushx.api``'s auth, pagination and error helpers. ``intelligence`` is pure: it imports no
Django and no other ``octopushx`` package. The project modules at the top (settings, urls, cli,
demo, wsgi, asgi) wire everything together and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "octopushx"

LEVELS = {
    "core": 0,
    "tenancy": 1,
    "accounts": 1,
    "shield": 2,
    "crm": 3,
    "calls": 4,
    "telephony": 4,
    "studio": 5,
    "reports": 5,
    "billing": 5,
    "api": 6,
}
PROJECT_MODULES = {"__init__", "settings", "urls", "cli", "demo", "wsgi", "asgi"}
# A product's API modules (its router and the router helpers beside it) use the generic helpers in
# ``octopushx.api`` (auth, errors, pagination, crud); tests/api/test_layering.py keeps those free of products.
ROUTER_MODULES = {"api.py", "routers.py", "endpoints.py"}

# Known violations another branch removes; delete each line once that branch is merged.
ALLOWED: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from octopushx import crm`` imports the package named by the alias.
            if module == "octopushx":
                found += [(node.lineno, f"octopushx.{alias.name}") for alias in node.names]
    return found


def violations_in(path: Path) -> list[str]:
    relative = path.relative_to(SRC).as_posix()
    package = relative.split("/")[0]
    if package.removesuffix(".py") in PROJECT_MODULES:
        return []
    problems = []
    for line, module in imported_modules(path):
        top, _, rest = module.partition(".")
        if package == "intelligence":
            if top == "django" or (top == "octopushx" and not rest.startswith("intelligence")):
                problems.append(f"{relative}:{line} imports {module} (intelligence stays pure)")
            continue
        if top != "octopushx" or not rest:
            continue
        target = rest.split(".")[0]
        if target == package or target in PROJECT_MODULES:
            if target in PROJECT_MODULES and target != "__init__":
                problems.append(f"{relative}:{line} imports the project module {module}")
            continue
        if target == "intelligence":
            continue  # pure code: every layer may use it
        if target == "api" and (path.name in ROUTER_MODULES or path.name.endswith("_api.py")):
            continue
        if (relative, target) in ALLOWED:
            continue
        if target not in LEVELS or package not in LEVELS:
            problems.append(f"{relative}:{line} imports {module}: place {package!r} or {target!r} in LEVELS")
        elif LEVELS[target] > LEVELS[package]:
            problems.append(f"{relative}:{line} imports {module}, a higher package than {package}")
    return problems


def test_no_package_imports_a_higher_one():
    problems = [problem for path in sorted(SRC.rglob("*.py")) for problem in violations_in(path)]
    assert not problems, "Lower packages import higher ones:\n" + "\n".join(problems)


def test_every_package_has_a_level():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(LEVELS) <= {"intelligence", "templates", "static"}


# --- the checker itself catches what it should ----------------------------------------------


@pytest.fixture
def module(tmp_path, monkeypatch):
    """Write a module at ``octopushx/<relative>`` in a throwaway tree and check it."""
    root = tmp_path / "octopushx"
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", root)

    def check(relative: str, source: str) -> list[str]:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return violations_in(path)

    return check


def test_an_import_inside_a_function_is_caught(module):
    source = "def erase():\n    from octopushx.crm.models import Contact\n"
    assert module("shield/privacy/services.py", source) == [
        "shield/privacy/services.py:2 imports octopushx.crm.models, a higher package than shield"
    ]


def test_a_type_checking_import_is_caught(module):
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from octopushx.accounts.models import User\n"
    assert len(module("core/context.py", source)) == 1


def test_a_relative_import_of_a_higher_package_is_caught(module):
    assert len(module("tenancy/views.py", "from ..shield.suspension import services\n")) == 1


def test_importing_the_package_by_name_is_caught(module):
    assert len(module("accounts/views.py", "from octopushx import shield\n")) == 1


def test_lower_and_same_level_imports_pass(module):
    source = "from octopushx.core import audit\nfrom octopushx.accounts.models import User\nimport octopushx.tenancy\n"
    assert module("tenancy/services.py", source) == []


def test_a_higher_product_may_import_lower_ones(module):
    assert module("calls/privacy.py", "from octopushx.shield.privacy import subjects\nimport octopushx.crm\n") == []


def test_a_product_router_may_use_the_api_helpers_but_its_services_may_not(module):
    assert module("crm/api.py", "from octopushx.api.auth import require\n") == []
    assert len(module("crm/services.py", "from octopushx.api.auth import require\n")) == 1


def test_intelligence_imports_no_django_and_no_other_package(module):
    source = (
        "import django.conf\nfrom octopushx.core import audit\nfrom octopushx.intelligence import asr\nimport numpy\n"
    )
    assert len(module("intelligence/summary.py", source)) == 2
