"""One row of an import, validated with the same rules as every other write path.

Each value is checked alone. An invalid value in an optional field is reported for that row and
column and left out, and the record is still written without it (as HubSpot's importer does); only
an unusable identity fails the row: no name and no valid email or phone, or an invalid value in the
column that matches existing records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from octopushx.crm import fields as rules
from octopushx.crm import services
from octopushx.crm.imports.values import CHOICES, country_code, options_for, parse_moment, suggest
from octopushx.crm.models import FieldType, ObjectType
from octopushx.tenancy.models import Membership

__all__ = ["CHOICES", "Issue", "Row", "RowCleaner"]

TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 100,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "external_id": 100,
    "preferred_language": 16,
    "company": 200,
    "street": 200,
}
SKIP = "__skip__"  # a value mapped to "leave empty" on purpose: no problem to report


@dataclass
class Issue:
    column: str
    value: str
    reason: str
    fatal: bool = False


@dataclass
class Row:
    number: int
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Why the row cannot be imported (empty when it can)."""
        return [f"{i.column}: {i.reason}" if i.column else i.reason for i in self.issues if i.fatal]

    @property
    def problems(self) -> list[Issue]:
        """Values left out of a row that is imported."""
        return [i for i in self.issues if not i.fatal]

    def fail(self, reason: str, column: str = "", value: str = "") -> None:
        self.issues.append(Issue(column, value, reason, fatal=True))


class RowCleaner:
    """Validates one mapped row with the same rules as every other write path."""

    def __init__(
        self,
        tenant,
        headers: list[str],
        mapping: dict[str, str],
        value_mapping: dict[str, dict[str, str]] | None = None,
        match_on: str = "",
    ):
        self.tenant = tenant
        self.region = tenant.default_region
        self.width = len(headers)
        self.columns = [(index, header, mapping.get(header, "")) for index, header in enumerate(headers)]
        self.value_mapping = value_mapping or {}
        self.match_on = match_on
        self.custom = services.custom_definitions(tenant, ObjectType.CONTACT)
        self.options = {
            target: options_for(target, self.custom) for _i, _h, target in self.columns if target
        }  # fmt: skip
        self.members = {
            m.user.email.lower(): m.user for m in Membership.objects.filter(tenant=tenant).select_related("user")
        }

    def choice(self, header: str, target: str, value: str) -> str:
        """The option a file's value stands for: as mapped on the mapping page, else recognised."""
        mapped = self.value_mapping.get(header, {}).get(value)
        if mapped is not None:
            return mapped
        options = self.options.get(target) or []
        found = suggest(target, value, options)
        if found is None:
            raise ValueError(f"{value!r} is not one of {', '.join(label for _v, label in options)}")
        return found

    def clean(self, number: int, raw: list[str]) -> Row:
        row = Row(number, raw)
        if len(raw) > self.width and any(cell for cell in raw[self.width :]):
            row.fail(f"The row has {len(raw)} cells but the header has {self.width}")
            return row
        values: dict[str, Any] = {}
        for index, header, target in self.columns:
            if not target:
                continue
            value = raw[index].strip() if index < len(raw) else ""
            if not value:
                continue
            try:
                cleaned = self._value(header, target, value)
            except ValueError as exc:
                if target == self.match_on:
                    row.fail(str(exc), header, value)
                else:
                    row.issues.append(Issue(header, value, str(exc)))
                continue
            if cleaned == SKIP:
                continue
            if target.startswith("cf."):
                row.custom[target[3:]] = cleaned
            elif target == "full_name":
                first, _, last = cleaned.partition(" ")
                values.setdefault("first_name", first)
                values.setdefault("last_name", last)
            else:
                values["owner" if target == "owner_email" else target] = cleaned
        if not any(values.get(n) for n in ("first_name", "last_name", "email", "phone")) and not row.errors:
            row.fail("The row has no name and no valid email or phone number")
        row.values = values
        return row

    def _value(self, header: str, target: str, value: str) -> Any:
        """The cleaned value of one cell, ``SKIP``, or ``ValueError`` with the reason."""
        if self.options.get(target) is not None:
            if target.startswith("cf.") and self.custom[target[3:]].field_type == FieldType.MULTI_SELECT:
                chosen = [self.choice(header, target, part.strip()) for part in value.split(";") if part.strip()]
                chosen = [c for c in chosen if c != SKIP]
                return chosen or SKIP
            return self.choice(header, target, value)
        if target == "email":
            return rules.clean_email(value)
        if target == "phone":
            return rules.clean_phone(value, self.region)
        if target == "country":
            return country_code(value)
        if target == "original_created_at":
            return parse_moment(value, self.region)
        if target == "owner_email":
            owner = self.members.get(value.lower())
            if owner is None:
                raise ValueError("no member of this organisation has that email")
            return owner
        if target.startswith("cf."):
            return rules.clean_custom_value(self.custom[target[3:]], value, self.region)
        limit = TEXT_LIMITS.get(target)
        if limit and len(value) > limit:
            raise ValueError(f"too long (at most {limit} characters)")
        return value
