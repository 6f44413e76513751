"""List queries shared by the API and the web UI: filters on any field, full-text ``q``, ordering."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Contains
from django.utils.dateparse import parse_date, parse_datetime

from octopushx.crm import fields as rules
from octopushx.crm.folding import Fold, fold, folded
from octopushx.crm.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CustomField,
    Deal,
    FieldType,
    ObjectType,
    Tag,
)

CUSTOM_PREFIX = "cf."
# filter name -> (lookup, kind); kind: text (exact), itext (contains), bool, id, date
FILTERS: dict[str, dict[str, tuple[str, str]]] = {
    ObjectType.CONTACT: {
        "owner_id": ("owner_id", "id"),
        "company_id": ("company_id", "id"),
        "lifecycle_stage": ("lifecycle_stage", "text"),
        "lead_status": ("lead_status", "text"),
        "consent": ("consent", "text"),
        "lawful_basis": ("lawful_basis", "text"),
        "restricted": ("restricted", "bool"),
        "external_id": ("external_id", "text"),
        "preferred_language": ("preferred_language", "text"),
        "first_name": ("first_name", "itext"),
        "last_name": ("last_name", "itext"),
        "job_title": ("job_title", "itext"),
        "city": ("city", "itext"),
        "region": ("region", "itext"),
        "postal_code": ("postal_code", "itext"),
        "country": ("country", "upper"),
        "tag": ("tags__name__iexact", "text"),
        "email": ("email", "email"),
        "phone": ("phone", "phone"),
        "created_after": ("created_at__gte", "date"),
        "created_before": ("created_at__lt", "date"),
        "updated_after": ("updated_at__gte", "date"),
    },
    ObjectType.COMPANY: {
        "owner_id": ("owner_id", "id"),
        "name": ("name", "itext"),
        "domain": ("domain", "itext"),
        "industry": ("industry", "itext"),
        "size": ("size", "text"),
        "city": ("city", "itext"),
        "country": ("country", "upper"),
        "external_id": ("external_id", "text"),
        "tag": ("tags__name__iexact", "text"),
        "created_after": ("created_at__gte", "date"),
        "created_before": ("created_at__lt", "date"),
        "updated_after": ("updated_at__gte", "date"),
    },
    ObjectType.DEAL: {
        "owner_id": ("owner_id", "id"),
        "pipeline_id": ("pipeline_id", "id"),
        "stage_id": ("stage_id", "id"),
        "company_id": ("company_id", "id"),
        "contact_id": ("contacts__id", "id"),
        "status": ("status", "text"),
        "currency": ("currency", "upper"),
        "value_min": ("value__gte", "number"),
        "value_max": ("value__lte", "number"),
        "expected_close_after": ("expected_close__gte", "date"),
        "expected_close_before": ("expected_close__lte", "date"),
        "tag": ("tags__name__iexact", "text"),
        "created_after": ("created_at__gte", "date"),
        "created_before": ("created_at__lt", "date"),
        "updated_after": ("updated_at__gte", "date"),
    },
}
ORDERING: dict[str, tuple[str, ...]] = {
    ObjectType.CONTACT: ("created_at", "updated_at", "last_name", "first_name", "email"),
    ObjectType.COMPANY: ("created_at", "updated_at", "name", "domain"),
    ObjectType.DEAL: ("created_at", "updated_at", "name", "value"),
    "task": ("created_at", "updated_at", "title"),
    "note": ("created_at", "updated_at"),
}
MODELS = {ObjectType.CONTACT: Contact, ObjectType.COMPANY: Company, ObjectType.DEAL: Deal}
# Sort fields whose ties are broken by another field before the id: contacts by surname, then first
# name (the (tenant, last_name, first_name) index).
THEN: dict[str, tuple[str, ...]] = {"last_name": ("first_name",)}


def ordering(object_type: str, value: str | None, default: str = "-created_at") -> tuple[str, bool]:
    """``("last_name", False)`` from ``?ordering=last_name``; 422 for unknown fields."""
    value = (value or default).strip()
    descending = value.startswith("-")
    field = value.lstrip("-")
    allowed = ORDERING[object_type]
    if field not in allowed:
        raise ValidationError({"ordering": [f"Order by one of: {', '.join(allowed)} (prefix - for descending)"]})
    return field, descending


def _value(name: str, kind: str, raw: str, region: str) -> Any:
    raw = raw.strip()
    if kind == "bool":
        try:
            return rules.clean_bool(raw)
        except ValueError as exc:
            raise ValidationError({name: [str(exc)]})
    if kind == "id":
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise ValidationError({name: ["Not a valid id"]})
    if kind == "date":
        parsed = parse_datetime(raw) or parse_date(raw)
        if parsed is None:
            raise ValidationError({name: ["A date such as 2026-01-31"]})
        return parsed
    if kind == "number":
        try:
            return rules.clean_number(raw)
        except ValueError as exc:
            raise ValidationError({name: [str(exc)]})
    if kind == "upper":
        return raw.upper()
    return raw


def _custom_filter(definitions: dict[str, CustomField], key: str, raw: str, region: str) -> Q:
    field = definitions.get(key)
    if field is None:
        raise ValidationError({f"{CUSTOM_PREFIX}{key}": [f"Unknown custom field {key!r}"]})
    lookup = f"custom__{key}"
    if field.field_type in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.MULTI_SELECT):
        return Q(**{f"{lookup}__icontains": raw})
    try:
        value = rules.clean_custom_value(field, raw, region)
    except ValueError as exc:
        raise ValidationError({f"{CUSTOM_PREFIX}{key}": [str(exc)]})
    if connection.vendor == "postgresql":
        return Q(custom__contains={key: value})  # custom @> {...}: the GIN index of crm 0007
    return Q(**{lookup: value})


def apply_filters(qs: QuerySet, object_type: str, params: Mapping[str, Any], tenant) -> QuerySet:
    """Apply every known filter in ``params`` (a dict or QueryDict); unknown keys are ignored."""
    region = tenant.default_region
    definitions = None
    joins = False
    for name, (lookup, kind) in FILTERS[object_type].items():
        raw = params.get(name)
        if raw in (None, ""):
            continue
        raw = str(raw)
        if kind == "email":
            qs = qs.filter(
                pk__in=ContactEmail.objects.filter(tenant=tenant, email=raw.strip().lower()).values("contact_id")
            )
        elif kind == "phone":
            try:
                number = rules.clean_phone(raw, region)
            except ValueError as exc:
                raise ValidationError({name: [str(exc)]})
            qs = qs.filter(pk__in=ContactPhone.objects.filter(tenant=tenant, number=number).values("contact_id"))
        elif kind == "itext":
            qs = qs.filter(**{f"{lookup}__icontains": raw.strip()})
        elif lookup in THROUGH:
            qs = qs.filter(_through(qs.model, tenant, lookup, _value(name, kind, raw, region)))
        else:
            qs = qs.filter(**{lookup: _value(name, kind, raw, region)})
            joins = joins or "__" in lookup and not lookup.endswith(("__gte", "__lte", "__lt"))
    for key in list(params.keys()):
        if key.startswith(CUSTOM_PREFIX) and params.get(key) not in (None, ""):
            if definitions is None:
                definitions = {f.key: f for f in CustomField.objects.for_tenant(tenant).filter(object_type=object_type)}
            qs = qs.filter(_custom_filter(definitions, key[len(CUSTOM_PREFIX) :], str(params.get(key)), region))
    return qs.distinct() if joins else qs


# Many-to-many filters answered by a subquery of ids: a join would repeat rows and need DISTINCT
# over every column, which sorts the whole match before the first page.
THROUGH = {"tags__name__iexact": "tags", "contacts__id": "contacts"}


def _through(model, tenant, lookup: str, value) -> Q:
    relation = THROUGH[lookup]
    through = getattr(model, relation).through
    own = f"{model._meta.model_name}_id"
    if relation == "tags":
        # The tag's ids first: the database then probes the (row, tag) unique index, no join with tags.
        tags = list(Tag.objects.for_tenant(tenant).filter(name__iexact=value).values_list("pk", flat=True))
        if model is Contact and connection.vendor == "postgresql":
            # The contact's own array of tag ids (crm 0007): an indexed condition the planner can
            # combine with the other filters and estimate.
            return Q(RawSQL('"crm_contact"."tag_ids" && %s::uuid[]', [[str(tag) for tag in tags]], BooleanField()))
        return Q(pk__in=through.objects.filter(tag_id__in=tags).values(own))
    return Q(pk__in=through.objects.filter(contact_id=value).values(own))


MATCH_CAP = 2000  # ids fetched first, so the contact query is a primary-key lookup, not an ordered scan


def _ids(qs) -> list:
    return list(qs.values_list("contact_id", flat=True)[:MATCH_CAP])


def _on_index(column: str) -> dict:
    """A bound that holds for every row, so SQLite reads the ``(tenant, column)`` index for a scan.

    SQLite otherwise reads a fragment search through the tenant index, fetching every row of
    the tenant; the composite index holds the searched column and is read alone (240,000 emails:
    27 ms against 100). PostgreSQL reads its trigram indexes and gets no such bound.
    """
    return {f"{column}__gte": ""} if connection.vendor == "sqlite" else {}


def _phone_condition(tenant, term: str) -> Q | None:
    e164, digits = rules.phone_query(term, tenant.default_region)
    if e164:
        return Q(pk__in=_ids(ContactPhone.objects.filter(tenant=tenant, number=e164)))
    digits = digits.lstrip("0")
    if len(digits) >= 4:
        phones = ContactPhone.objects.filter(tenant=tenant, number__contains=digits, **_on_index("number"))
        return Q(pk__in=_ids(phones))
    return None


def holds(column: str, term: str) -> Contains:
    """``column`` holds ``term``, accents and case aside: ``crm_fold(column) LIKE '%' || crm_fold(term) || '%'``.

    On PostgreSQL the trigram indexes of crm 0010 are over ``crm_fold(column)``.
    """
    return Contains(Fold(column), folded(term))


# SQLite only: an FTS5 trigram index of every contact's folded name and email addresses (crm 0010).
SEARCH_TABLE, SEARCH_INDEX = "crm_search_text", "crm_search_fts"


def _has_search_index() -> bool:
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [SEARCH_INDEX])
        return cursor.fetchone() is not None


def _trigrams(term: str) -> bool:
    """A trigram index can find ``term``: three letters or more once folded."""
    return len(fold(term)) >= 3


def _indexed(tenant, term: str, kinds: tuple[str, ...]) -> tuple[str, list]:
    """SQL (and its parameters) selecting the ids of the tenant's contacts whose indexed ``kinds``
    ("name", "email") hold ``term`` of three letters or more."""
    marks = ", ".join(["%s"] * len(kinds))
    sql = (
        f"SELECT object_id FROM {SEARCH_TABLE} WHERE tenant_id = %s AND kind IN ({marks}) AND id IN "  # noqa: S608
        f"(SELECT rowid FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH %s)"
    )
    return sql, [tenant.pk.hex, *kinds, '"' + fold(term).replace('"', '""') + '"']


def _indexed_ids(tenant, term: str, kinds: tuple[str, ...], limit: int) -> list:
    sql, params = _indexed(tenant, term, kinds)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT object_id FROM ({sql}) LIMIT %s", [*params, limit])  # noqa: S608
        return [uuid.UUID(row[0]) for row in cursor.fetchall()]


def _emails_holding(tenant, term: str) -> Q:
    """The contacts with an address holding ``term`` (any of their addresses, not just the primary)."""
    if _trigrams(term) and _has_search_index():
        sql, params = _indexed(tenant, term, ("email",))
        return Q(pk__in=RawSQL(sql, params))  # noqa: S611 - fixed names, bound parameters
    return Q(pk__in=ContactEmail.objects.filter(holds("email", term), tenant=tenant).values("contact_id"))


def _word(tenant, term: str, probe: bool) -> tuple[Q, bool]:
    """The contacts one search word matches: inside a name, or inside any of their email addresses
    when the word has three letters or more (or "@" or "."); accents and case aside ("muller" finds
    "Jürgen Müller", "latin1" finds "jo.latin1@example.com").

    With ``probe``, on SQLite, the matching ids are read first through the search index and
    answered by id when few; the second value says so. Without it the word is tested on each row
    the other words let through.
    """
    emails = len(term) >= 3 or "@" in term or "." in term
    names = Q(holds("first_name", term)) | Q(holds("last_name", term))
    if not probe:
        if not emails:
            return names, False
        addresses = ContactEmail.objects.filter(holds("email", term), contact_id=OuterRef("pk"))
        return names | Q(Exists(addresses)), False
    if _trigrams(term) and _has_search_index():
        # SQLite: one MATCH of the trigram index finds names and addresses alike.
        ids = _indexed_ids(tenant, term, ("name", "email"), MATCH_CAP + 1)
        if len(ids) <= MATCH_CAP:
            return Q(pk__in=ids), True
        sql, params = _indexed(tenant, term, ("name", "email"))
        return Q(pk__in=RawSQL(sql, params)), False  # noqa: S611 - fixed names, bound parameters
    if not emails:
        return names, False
    by_name = Contact.objects.filter(names, tenant=tenant).order_by().values_list("pk", flat=True)
    by_email = (
        ContactEmail.objects.filter(holds("email", term), tenant=tenant).order_by().values_list("contact_id", flat=True)
    )
    # One id set (names UNION any address), so the database reads two indexes (PostgreSQL's
    # trigram indexes) and never tests every contact against a subquery, as an OR across tables
    # would make it do.
    return Q(pk__in=by_name.union(by_email)), False


def search_contacts(qs: QuerySet, tenant, q: str) -> QuerySet:
    """Names, emails and phone numbers in any format the user types."""
    q = (q or "").strip()
    if not q:
        return qs
    if " " not in q and "@" in q:
        try:
            email = rules.clean_email(q)
        except ValueError:
            email = None
        ids = _ids(ContactEmail.objects.filter(tenant=tenant, email=email)) if email else []
        if ids:
            # A whole address: the indexed exact match, not a scan for the fragment.
            return qs.filter(pk__in=ids)
    # A number is typed in words without letters ("Ada 020 7946 0123"); digits inside an email
    # address or a name are not a phone number.
    number = " ".join(word for word in q.split() if not any(c.isalpha() for c in word))
    phone = _phone_condition(tenant, number) if rules.DIGITS.search(number) else None
    if phone is not None and not any(c.isalpha() for c in q):
        return qs.filter(phone)
    condition = Q()
    terms = q.split()
    narrowed = False
    for term in sorted(terms, key=len, reverse=True):
        # Once a word (the longest first: the rarest, likely) has narrowed the search to a few ids,
        # the other words are tested on those rows only, not scanned for again.
        word, by_ids = _word(tenant, term, probe=not narrowed)
        condition &= word
        narrowed = narrowed or by_ids
    if "@" in q and len(terms) > 1:
        condition |= _emails_holding(tenant, q)
    if phone is not None:
        condition |= phone
    return _matching(qs, condition)


def _matching(qs: QuerySet, condition: Q) -> QuerySet:
    """``qs.filter(condition)``, by primary key when few rows match.

    On PostgreSQL (trigram indexes, migration 0005). A page is ordered (newest first by default);
    for a rare name the database would otherwise walk the ordering index and test every row.
    Fetching the matching ids first reads the search indexes; when more than ``MATCH_CAP`` rows
    match, walking the ordering index finds a page quickly, so the condition is applied as it is.
    """
    matched = qs.filter(condition)
    if connection.vendor != "postgresql":
        return matched  # no search index to read: the ids query would be one more scan
    with through_search_indexes():
        ids = list(matched.order_by().values_list("pk", flat=True)[: MATCH_CAP + 1])
    return matched if len(ids) > MATCH_CAP else qs.filter(pk__in=ids)


@contextmanager
def through_search_indexes():
    """On PostgreSQL, read a search's matches through its indexes, whatever the planner guesses.

    For a common word it expects enough matches early in a table scan, and a word as common as
    "Ada" (1 row in 70) took 110 ms that way, against 16 ms through the indexes.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        yield  # an error rolls the savepoint back, and the settings with it
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")


def search_companies(qs: QuerySet, tenant, q: str) -> QuerySet:
    """Inside the name or the domain, accents and case aside."""
    q = (q or "").strip()
    if not q:
        return qs
    return qs.filter(Q(holds("name", q)) | Q(holds("domain", q)))


def search_deals(qs: QuerySet, tenant, q: str) -> QuerySet:
    """Inside the deal's name or its company's name, accents and case aside."""
    q = (q or "").strip()
    if not q:
        return qs
    companies = Company.objects.filter(holds("name", q), tenant=tenant).values("pk")
    return qs.filter(Q(holds("name", q)) | Q(company_id__in=companies))


def search_notes(qs: QuerySet, tenant, q: str) -> QuerySet:
    q = (q or "").strip()
    return qs.filter(Q(body__icontains=q) | Q(subject__icontains=q)) if q else qs


def search_tasks(qs: QuerySet, tenant, q: str) -> QuerySet:
    q = (q or "").strip()
    return qs.filter(Q(title__icontains=q) | Q(description__icontains=q)) if q else qs


SEARCH = {
    ObjectType.CONTACT: search_contacts,
    ObjectType.COMPANY: search_companies,
    ObjectType.DEAL: search_deals,
}


def listing(object_type: str, qs: QuerySet, tenant, params: Mapping[str, Any]) -> QuerySet:
    qs = apply_filters(qs, object_type, params, tenant)
    return SEARCH[object_type](qs, tenant, str(params.get("q") or ""))


COUNT_EXACT = 10_000  # PostgreSQL: matches counted one by one before the planner's estimate is used


@dataclass(frozen=True)
class Total:
    """How many rows a list holds: ``count`` exactly, or about that many when ``estimated``."""

    count: int
    estimated: bool = False

    @property
    def text(self) -> str:
        return f"about {rounded(self.count):,}" if self.estimated else f"{self.count:,}"


def rounded(number: int) -> int:
    """``number`` to two significant figures (an estimate claims no more): 1,234,567 -> 1,200,000."""
    return round(number, 2 - len(str(number))) if number >= 100 else number


def total(qs: QuerySet, *, searched: bool = False) -> Total:
    """The number of rows in ``qs``: exact where counting is cheap, else the planner's estimate.

    SQLite counts every match: its indexes (the search index for a search) keep a count of its
    largest tenants well under the page's budget. PostgreSQL counts up to ``COUNT_EXACT``
    matches (a search through its trigram indexes); past that, counting a million-contact tenant
    took 200 ms, so the list says "about N" from the planner's row estimate (its statistics of
    the tenant, filters and search indexes) and pages on past it.
    """
    qs = qs.order_by()
    if connection.vendor != "postgresql":
        return Total(qs.count())
    with through_search_indexes() if searched else nullcontext():
        counted = qs[: COUNT_EXACT + 1].count()
    if counted <= COUNT_EXACT:
        return Total(counted)
    return Total(max(_estimate(qs), counted), estimated=True)


def _estimate(qs: QuerySet) -> int:
    sql, params = qs.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)  # noqa: S608 - Django's own SQL
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
