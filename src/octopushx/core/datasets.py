"""Reportable datasets: the one metric definition layer that dashboards, the builder, exports and the API read.

Reports sits above every product, but reads them through this registry, as Studio reads
``automation.py``: each product's ``datasets.py`` (autodiscovered) registers a ``Dataset`` with

- ``rows(tenant, membership)``: the tenant's rows the member may see (tenant AND role scoping live
  here, nowhere else), or ``PermissionDenied`` when the role may not read the dataset at all;
- ``fields``: what may be measured, grouped and filtered, each with its kind and ORM expression;
- ``default_date_field``: the field a period applies to when the spec names none;
- ``list_url(filters)``: the product list showing the same records (drill-down), or ``None``;
- ``currency_field``: money is summed per currency, never across currencies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

KINDS = ("number", "money", "date", "datetime", "text", "choice", "user", "team", "tag", "fk", "bool")
NUMERIC = ("number", "money")
DATES = ("date", "datetime")


@dataclass(frozen=True)
class Field:
    label: str
    kind: str = "text"  # one of KINDS
    expr: str = ""  # ORM path from the dataset's rows; the field's name when empty
    choices: tuple[tuple[str, str], ...] = ()
    label_expr: str = ""  # ORM path of a readable label for fk values (e.g. "stage__name"); users/teams by id
    # (tenant) -> an ORM expression, when the value is computed (a team through the owner's membership,
    # a custom field out of JSON, value × probability); takes the place of ``expr``
    annotate: Callable[[Any], Any] | None = None
    order_expr: str = ""  # ORM path groups of this field sort by (a stage's position); the label otherwise
    groupable: bool = True
    filterable: bool = True

    def path(self, name: str) -> str:
        return self.expr or name


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    rows: Callable[[Any, Any], Any]  # (tenant, membership) -> QuerySet, scoped; PermissionDenied if not readable
    fields: dict[str, Field]
    default_date_field: str = "created_at"
    # (filters as the query's normal form: [{"field","op","value"}]) -> URL of the product's list, or None
    list_url: Callable[[list[dict]], str | None] | None = None
    currency_field: str | None = None
    # (tenant) -> extra fields computed per tenant (custom fields), merged over ``fields``
    extra_fields: Callable[[Any], dict[str, Field]] | None = None

    def all_fields(self, tenant) -> dict[str, Field]:
        if self.extra_fields is None or tenant is None:
            return dict(self.fields)
        return {**self.fields, **self.extra_fields(tenant)}


DATASETS: dict[str, Dataset] = {}
_discovered = False


def register(dataset: Dataset) -> Dataset:
    for name, f in dataset.fields.items():
        if f.kind not in KINDS:
            raise ValueError(f"{dataset.name}.{name}: unknown kind {f.kind!r}")
    DATASETS[dataset.name] = dataset
    return dataset


def discover() -> None:
    """Import every installed app's ``datasets.py`` once."""
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("octopushx."):
            try:
                importlib.import_module(f"{config.name}.datasets")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.datasets":
                    raise
    _discovered = True


def get(name: str) -> Dataset | None:
    discover()
    return DATASETS.get(name)


def all_datasets() -> dict[str, Dataset]:
    discover()
    return dict(DATASETS)


__all__ = ["DATASETS", "Dataset", "Field", "all_datasets", "discover", "get", "register"]
