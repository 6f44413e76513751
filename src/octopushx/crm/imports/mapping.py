"""Which field each column of an import goes to: guessed from the headers, or given."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from octopushx.crm import services
from octopushx.crm.models import (
    ObjectType,
)

TARGETS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split)",
    "email": "Email",
    "phone": "Phone",
    "company": "Company name",
    "job_title": "Job title",
    "owner_email": "Owner (email)",
    "tags": "Tags",
    "lifecycle_stage": "Lifecycle stage",
    "lead_status": "Lead status",
    "street": "Street",
    "city": "City",
    "region": "Region / state",
    "postal_code": "Postal code",
    "country": "Country (2 letters)",
    "preferred_language": "Preferred language",
    "consent": "Consent",
    "lawful_basis": "Lawful basis",
    "external_id": "External id",
    "original_created_at": "Original creation date",
}
# Headers as people type them and as HubSpot, Pipedrive and Salesforce export them (compared after
# lower-casing and folding spaces, dashes, dots and underscores: "Person - Email - Work" is "person email work").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name", "forename", "first", "person first name"),
    "last_name": ("last name", "lastname", "surname", "family name", "last", "person last name"),
    "full_name": ("name", "full name", "fullname", "contact name", "contact", "person name", "person"),
    "email": (
        "email", "e-mail", "email address", "e-mail address", "mail", "primary email", "email work",
        "email home", "email other", "person email", "person email work", "person email home",
    ),
    "phone": (
        "phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "mobile phone number",
        "mobilephone", "cell", "primary phone", "phone work", "phone mobile", "phone home", "person phone",
        "person phone work", "person phone mobile", "business phone",
    ),
    "company": (
        "company", "company name", "organisation", "organization", "account", "account name", "employer",
        "associated company", "person organization", "organization name",
    ),
    "job_title": ("job title", "title", "position", "role", "jobtitle", "person job title"),
    "owner_email": ("owner", "owner email", "contact owner", "person owner", "contact owner email"),
    "tags": ("tags", "tag", "labels"),
    "lifecycle_stage": ("lifecycle", "lifecycle stage", "lifecyclestage", "stage", "label", "person label"),
    "lead_status": ("lead status", "hs lead status", "leadstatus", "status"),
    "street": ("street", "address", "street address", "address line 1", "mailing street", "mailingstreet"),
    "city": ("city", "town", "mailing city", "mailingcity"),
    "region": (
        "region", "state", "county", "province", "state/region", "state/province", "mailing state/province",
        "mailing state", "mailingstate",
    ),
    "postal_code": (
        "postal code", "postcode", "zip", "zip code", "post code", "zip/postal code", "mailing zip/postal code",
        "mailing postal code", "mailingpostalcode",
    ),
    "country": ("country", "country code", "country/region", "mailing country", "mailingcountry"),
    "preferred_language": ("language", "preferred language", "locale"),
    "consent": ("consent", "marketing consent"),
    "lawful_basis": ("lawful basis", "legal basis"),
    "external_id": (
        "external id", "external_id", "id", "record id", "crm id", "contact id", "person id", "hs object id",
    ),
    "original_created_at": (
        "create date", "created date", "createdate", "createddate", "created", "date created", "created at",
        "creation date", "person created", "created time", "add time", "person add time",
    ),
}  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-.]+", " ", text.strip().lower())


def auto_mapping(tenant, headers: list[str]) -> dict[str, str]:
    """Guess a target for each column: standard fields by synonym, custom fields by key or label."""
    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    by_name = {_norm(d.key): f"cf.{d.key}" for d in custom.values()}
    by_name.update({_norm(d.label): f"cf.{d.key}" for d in custom.values()})
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        name = _norm(header)
        target = by_name.get(name) or next(
            (t for t, words in SYNONYMS.items() if name in {_norm(w) for w in words} or name == _norm(t)), ""
        )
        if target in used:
            target = ""
        mapping[header] = target
        if target:
            used.add(target)
    return mapping


def clean_mapping(tenant, headers: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    if mapping is None:
        return auto_mapping(tenant, headers)
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": ["An object of column name → field"]})
    custom = services.custom_definitions(tenant, ObjectType.CONTACT)
    errors, cleaned, used = [], {}, set()
    for header in headers:
        target = str(mapping.get(header) or "").strip()
        if target and target not in TARGETS and not (target.startswith("cf.") and target[3:] in custom):
            errors.append(f"{header!r} → {target!r} is not a field")
        elif target and target in used:
            errors.append(f"Two columns are mapped to {target!r}")
        cleaned[header] = target
        used.add(target)
    unknown = [h for h in mapping if h not in headers]
    if unknown:
        errors.append(f"No column named {', '.join(map(repr, unknown))} in the file")
    if errors:
        raise ValidationError({"mapping": errors})
    if not any(cleaned.values()):
        raise ValidationError({"mapping": ["Map at least one column"]})
    return cleaned
