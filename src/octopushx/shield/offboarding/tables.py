"""Which tables hold an organisation's rows, found from the models themselves (no product imported).

A model with a ``tenant`` foreign key holds the rows of that tenant. A model without one holds
an organisation's rows through any foreign key to the organisation (a reseller's invoice
counter) or, one step away, through a foreign key to a tenant-owned model (the personal part of
an audit entry, a many-to-many link between a contact and its tags). Export and deletion read
the same list, so a product that adds a table is covered by both without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from django.apps import apps
from django.db import models
from django.db.models import Q

# Tables that never belong in an export or are cleaned up another way: the data key (destroyed
# on its own, first), Django's sessions and lock-out logs (keyed by session or user name).
SKIPPED = {"core.tenantkey", "sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}

# Secrets a customer's export must not carry: hashes of tokens and links, signing secrets.
# Every BinaryField (sealed provider credentials) is left out as well.
SECRET_FIELDS = {
    "tenancy.invitation": {"token_hash"},
    "accounts.apitoken": {"secret_hash"},
    "shield.privacyrequest": {"verification_hash", "download_hash"},
    "studio.workflow": {"secret"},
    "otp_totp.totpdevice": {"key"},
}


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    owner_paths: tuple[str, ...]  # lookups that reach the organisation, e.g. ("tenant",)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def direct(self) -> bool:
        """Its rows name the organisation themselves (not through another table)."""
        return all("__" not in path for path in self.owner_paths)

    def rows(self, org) -> models.QuerySet:
        condition = reduce(lambda a, b: a | b, (Q(**{path: org.pk}) for path in self.owner_paths))
        return self.model._base_manager.filter(condition)

    def exported_fields(self) -> list[models.Field]:
        secrets = SECRET_FIELDS.get(self.label, set())
        return [
            f
            for f in self.model._meta.concrete_fields
            if f.name not in secrets and f.get_internal_type() != "BinaryField"
        ]

    def omitted_fields(self) -> list[str]:
        kept = {f.name for f in self.exported_fields()}
        return [f.name for f in self.model._meta.concrete_fields if f.name not in kept]


def _organization_model():
    return apps.get_model("tenancy", "Organization")


def _tenant_field(model) -> models.Field | None:
    organization = _organization_model()
    try:
        field = model._meta.get_field("tenant")
    except Exception:  # FieldDoesNotExist
        return None
    return field if getattr(field, "related_model", None) is organization and field.concrete else None


def tenant_tables() -> list[Table]:
    """Every table that holds rows of an organisation, in a stable order."""
    organization = _organization_model()
    tables: list[Table] = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if model is organization or label in SKIPPED:
            continue
        if _tenant_field(model) is not None:
            tables.append(Table(model, ("tenant",)))
            continue
        relations = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None]
        direct = tuple(f.name for f in relations if f.related_model is organization)
        if direct:
            tables.append(Table(model, direct))
            continue
        via = tuple(f"{f.name}__tenant" for f in relations if _tenant_field(f.related_model) is not None)
        if via:
            tables.append(Table(model, via))
    return sorted(tables, key=lambda table: table.label)
