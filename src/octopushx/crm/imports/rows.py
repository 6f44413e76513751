"""One row of an import, validated with the same rules as every other write path."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from octopushx.crm import fields as rules
from octopushx.crm import services
from octopushx.crm.models import (
    Consent,
    LawfulBasis,
    LeadStatus,
    Lifecycle,
    ObjectType,
)
from octopushx.tenancy.models import Membership

CHOICES = {"lifecycle_stage": Lifecycle, "lead_status": LeadStatus, "consent": Consent, "lawful_basis": LawfulBasis}


@dataclass
class Row:
    number: int
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class RowCleaner:
    """Validates one mapped row with the same rules as every other write path."""

    def __init__(self, tenant, headers: list[str], mapping: dict[str, str]):
        self.tenant = tenant
        self.region = tenant.default_region
        self.width = len(headers)
        self.columns = [(index, mapping.get(header, "")) for index, header in enumerate(headers)]
        self.custom = services.custom_definitions(tenant, ObjectType.CONTACT)
        self.members = {
            m.user.email.lower(): m.user for m in Membership.objects.filter(tenant=tenant).select_related("user")
        }

    def clean(self, number: int, raw: list[str]) -> Row:
        row = Row(number, raw)
        if len(raw) > self.width and any(cell for cell in raw[self.width :]):
            row.errors.append(f"The row has {len(raw)} cells but the header has {self.width}")
            return row
        values: dict[str, Any] = {}
        custom_raw: dict[str, Any] = {}
        for index, target in self.columns:
            if not target:
                continue
            value = raw[index].strip() if index < len(raw) else ""
            if target.startswith("cf."):
                if value:
                    custom_raw[target[3:]] = value
            elif value:
                values[target] = value
        if "full_name" in values:
            first, _, last = values.pop("full_name").partition(" ")
            values.setdefault("first_name", first)
            values.setdefault("last_name", last)
        for name in ("email", "phone"):
            if name in values:
                try:
                    values[name] = (
                        rules.clean_email(values[name])
                        if name == "email"
                        else rules.clean_phone(values[name], self.region)
                    )
                except ValueError as exc:
                    row.errors.append(f"{name}: {exc}")
        for name, choices in CHOICES.items():
            if name in values:
                wanted = values[name].strip().lower().replace(" ", "_")
                match = next(
                    (v for v, label in choices.choices if wanted in (v, label.lower().replace(" ", "_"))), None
                )
                if match is None:
                    row.errors.append(
                        f"{name}: {values[name]!r} is not one of {', '.join(v for v in choices.values if v)}"
                    )
                else:
                    values[name] = match
        if "country" in values:
            values["country"] = values["country"].upper()
            if not re.match(r"^[A-Z]{2}$", values["country"]):
                row.errors.append("country: use a two-letter code such as GB")
        if "owner_email" in values:
            owner = self.members.get(values.pop("owner_email").lower())
            if owner is None:
                row.errors.append("owner: no member of this organisation has that email")
            else:
                values["owner"] = owner
        for name in (
            "first_name",
            "last_name",
            "job_title",
            "city",
            "region",
            "postal_code",
            "external_id",
            "preferred_language",
            "company",
        ):
            if len(values.get(name, "")) > (200 if name == "company" else 100):
                row.errors.append(f"{name}: too long")
        if "street" in values and len(values["street"]) > 200:
            row.errors.append("street: too long")
        if custom_raw:
            try:
                row.custom = rules.clean_custom(self.custom, custom_raw, region=self.region, partial=True)
            except ValidationError as exc:
                row.errors.extend(f"{k.split('.', 1)[-1]}: {' '.join(v)}" for k, v in exc.message_dict.items())
        if not any(values.get(n) for n in ("first_name", "last_name", "email", "phone")) and not row.errors:
            row.errors.append("The row has no name, email or phone number")
        row.values = values
        return row
