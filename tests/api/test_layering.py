"""The API package and the products it mounts do not import each other in a circle.

``octopushx.api`` mounts every product's router; a product's API module may use the generic
helpers in ``octopushx.api`` (auth, errors, pagination, crud) but never the API object itself,
and those helpers import no product.
"""

from __future__ import annotations

import ast
from pathlib import Path

import octopushx

SRC = Path(octopushx.__file__).parent
PRODUCTS = ("crm", "calls", "telephony", "studio", "reports", "billing")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_api_helpers_import_no_product():
    offenders = []
    for path in sorted((SRC / "api").glob("*.py")):
        if path.name == "__init__.py":  # the one place that mounts the products' routers
            continue
        for module, _names in _imports(path):
            if any(module == f"octopushx.{p}" or module.startswith(f"octopushx.{p}.") for p in PRODUCTS):
                offenders.append(f"{path.relative_to(SRC)} imports {module}")
    assert offenders == []


def test_no_product_imports_the_api_object():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "api" or relative == Path("urls.py"):
            continue
        for module, names in _imports(path):
            if module == "octopushx.api" or (module == "octopushx" and "api" in names):
                offenders.append(f"{relative} imports {module} {names}")
    assert offenders == []
