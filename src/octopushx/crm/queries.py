"""List queries shared by the API and the web UI: filters on any field, full-text ``q``, ordering."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
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
    DealStageChange,
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
        "no_expected_close": ("expected_close__isnull", "bool"),
        "tag": ("tags__name__iexact", "text"),
        "created_after": ("created_at__gte", "date"),
        "created_before": ("created_at__lt", "date"),
        "updated_after": ("updated_at__gte", "date"),
        "closed_after": ("closed_at__gte", "date"),
        "closed_before": ("closed_at__lt", "date"),
        # last activity (crm.activity): a note, task change, edit or stage move
        "active_after": ("last_activity_at__gte", "date"),
        "quiet_since": ("last_activity_at__lt", "date"),
        # deals whose stage history reached every one of these stages (comma-separated): a funnel's step
        "reached_stage_ids": ("stage_changes__to_stage_id", "reached"),
    },
}
ORDERING: dict[str, tuple[str, ...]] = {
    ObjectType.CONTACT: ("created_at", "updated_at", "last_name", "first_name", "email"),
    ObjectType.COMPANY: ("created_at", "updated_at", "name", "domain"),
    ObjectType.DEAL: ("created_at", "updated_at", "name", "value", "last_activity_at"),
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
        elif kind == "reached":
            for stage_id in [part for part in raw.split(",") if part.strip()]:
                moves = DealStageChange.objects.filter(tenant=tenant, to_stage_id=_value(name, "id", stage_id, region))
                qs = qs.filter(pk__in=moves.values("deal_id"))
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


# The task and note lists' filters (what a report's drill-down carries): name -> (lookup, kind, label)
ACTIVITY_FILTERS: dict[str, dict[str, tuple[str, str, str]]] = {
    "task": {
        "assignee_id": ("assignee_id", "id", "Assignee"),
        "created_after": ("created_at__gte", "date", "Created from"),
        "created_before": ("created_at__lt", "date", "Created before"),
        "completed_after": ("completed_at__gte", "date", "Completed from"),
        "completed_before": ("completed_at__lt", "date", "Completed before"),
        "due_after": ("due_at__gte", "date", "Due from"),
        "due_before": ("due_at__lt", "date", "Due before"),
    },
    "note": {
        "author_id": ("author_id", "id", "Author"),
        "kind": ("kind", "text", "Kind"),
        "created_after": ("created_at__gte", "date", "Created from"),
        "created_before": ("created_at__lt", "date", "Created before"),
    },
}


def apply_activity_filters(qs: QuerySet, kind: str, params: Mapping[str, Any], tenant) -> tuple[QuerySet, list]:
    """Narrow a task or note list by ``ACTIVITY_FILTERS``; returns the rows and the filters in words
    (``(label, value)``; member ids are named by the caller). Bad values raise ``ValidationError``."""
    from django.utils import timezone

    shown = []
    for name, (lookup, value_kind, label) in ACTIVITY_FILTERS[kind].items():
        raw = params.get(name)
        if raw in (None, ""):
            continue
        value = _value(name, value_kind, str(raw), tenant.default_region)
        if value_kind == "date" and not isinstance(value, datetime.datetime):
            value = datetime.datetime.combine(value, datetime.time.min)
        if isinstance(value, datetime.datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value)
        qs = qs.filter(**{lookup: value})
        if isinstance(value, datetime.datetime):
            shown.append((name, label, f"{timezone.localtime(value):%-d %b %Y %H:%M}"))
        else:
            shown.append((name, label, str(value)))
    return qs, shown


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


def _word(tenant, term: str, within: set | None, counting: bool = False) -> tuple[Q, set | None]:
    """The contacts one search word matches: inside a name, or inside any of their email addresses
    when the word has three letters or more (or "@" or "."); accents and case aside ("muller" finds
    "Jürgen Müller", "latin1" finds "jo.latin1@example.com").

    Unless another word has narrowed the search to a few ids (``within``), the matching ids are
    read first through the search indexes and answered by id when few (returned as the second
    value): the page then reads just those contacts. A common word is tested on each row as the
    page walks its order, and soon found; so is a word on the few rows ``within``.

    On PostgreSQL a word that more than ``MATCH_CAP`` contacts match is tested against names and
    the primary address only: testing every address of each row made the planner read all of a
    common word's addresses first (seconds at a million contacts). A word the planner expects to
    be that common is not read through the indexes at all (``_common``).
    """
    emails = len(term) >= 3 or "@" in term or "." in term
    names = Q(holds("first_name", term)) | Q(holds("last_name", term))
    if not emails:
        each_row = names
    elif within is not None:
        owners = ContactEmail.objects.filter(holds("email", term), contact_id__in=within).values("contact_id")
        each_row = names | Q(pk__in=owners)
    elif connection.vendor == "postgresql":
        each_row = names | Q(holds("email", term))
    else:
        each_row = names | Q(Exists(ContactEmail.objects.filter(holds("email", term), contact_id=OuterRef("pk"))))
    if within is not None or not _trigrams(term):
        return each_row, None
    if _has_search_index():
        # SQLite: one MATCH of the trigram index finds names and addresses alike.
        ids = set(_indexed_ids(tenant, term, ("name", "email"), MATCH_CAP + 1))
        if len(ids) <= MATCH_CAP:
            return Q(pk__in=ids), ids
        if not counting:
            # A page walks its order testing each row and soon finds a common word's matches
            # (a page in 3 ms); the index's every match took 80-560 ms to read first.
            return each_row, None
        # A count reads the index (88 ms for 9,500 matches, where testing every row took 1.2 s).
        sql, params = _indexed(tenant, term, ("name", "email"))
        return Q(pk__in=RawSQL(sql, params)), None  # noqa: S611 - fixed names, bound parameters
    if connection.vendor != "postgresql":
        return each_row, None  # SQLite without FTS5's trigram tokenizer: no index to read
    if _common(Contact.objects.filter(tenant=tenant), names | Q(holds("email", term))):
        return each_row, None
    # PostgreSQL: the trigram indexes over crm_fold(...), names then addresses, each read only
    # as far as MATCH_CAP rows.
    with through_search_indexes():
        ids = set(Contact.objects.filter(names, tenant=tenant).order_by().values_list("pk", flat=True)[: MATCH_CAP + 1])
        if emails and len(ids) <= MATCH_CAP:
            owners = ContactEmail.objects.filter(holds("email", term), tenant=tenant).order_by()
            found = list(owners.values_list("contact_id", flat=True)[: MATCH_CAP + 1])
            ids.update(found)
            if len(found) > MATCH_CAP:
                return each_row, None
    if len(ids) > MATCH_CAP:
        return each_row, None
    return Q(pk__in=ids), ids


def search_contacts(qs: QuerySet, tenant, q: str, *, counting: bool = False) -> QuerySet:
    """Names, emails and phone numbers in any format the user types.

    ``counting``: the same matches, in the form that counts them fastest rather than the one
    that finds a page of them fastest.
    """
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
    within = None
    for term in sorted(terms, key=len, reverse=True):
        # Once a word (the longest first: the rarest, likely) has narrowed the search to a few ids,
        # the other words are tested on those rows only, not scanned for again.
        word, ids = _word(tenant, term, within, counting)
        condition &= word
        within = within if within is not None else ids
    if "@" in q and len(terms) > 1:
        condition |= _emails_holding(tenant, q)
    if phone is not None:
        condition |= phone
    return _matching(qs, condition) if within is None else qs.filter(condition)


def _matching(qs: QuerySet, condition: Q) -> QuerySet:
    """``qs.filter(condition)``, by primary key when few rows match: on PostgreSQL, words that are
    each common but rare together ("Ada Ashford") are read through the trigram indexes at once
    (a bitmap AND), where walking the page's order tested a quarter of a million contacts.
    """
    matched = qs.filter(condition)
    if connection.vendor != "postgresql" or _common(qs, condition):
        return matched
    with through_search_indexes():
        ids = list(matched.order_by().values_list("pk", flat=True)[: MATCH_CAP + 1])
    return matched if len(ids) > MATCH_CAP else qs.filter(pk__in=ids)


COMMON_SHARE = 0.01  # PostgreSQL: a search expected in 1 row of 100 (and MATCH_CAP rows) walks the page's order


def _common(qs: QuerySet, condition: Q) -> bool:
    """The planner expects ``condition`` to hold for more than ``MATCH_CAP`` of ``qs``'s rows, and
    for ``COMMON_SHARE`` of them or more.

    Such a search is not read through its trigram indexes first, which build a bitmap of every
    match before the first is read (a four-letter prefix of a surname, a third of a million
    contacts: 50-100 ms); a page walks its order testing each row and meets its 20 matches within a
    couple of thousand rows (5-30 ms). Like a word found in more than ``MATCH_CAP`` contacts, it is
    tested against names and the primary address. The estimates come from the statistics of the
    folded columns (crm 0013; 1,000 values deep since crm 0014), a millisecond or two each; a word
    found in names and addresses alike is counted in both, so it walks a little sooner than it
    needs to.
    """
    qs = qs.order_by()
    matches = _estimate(qs.filter(condition))
    return matches > MATCH_CAP and matches >= _estimate(qs) * COMMON_SHARE


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


@contextmanager
def without_parallel_workers():
    """On PostgreSQL, run a page's statements without parallel workers.

    A page walks an index until it holds its rows. When the planner expects a long walk (a common
    word in a manager's contacts) it splits it over workers, and each walked on ahead to fill its
    queue: a page of a first name read 56,000 rows in 360 ms, where one process read 6,000 in 30 ms.
    """
    if connection.vendor != "postgresql":
        yield
        return
    inside = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield  # an error rolls the savepoint back, and the setting with it
        if inside:  # a released savepoint keeps the setting until the outer transaction ends
            cursor.execute("RESET max_parallel_workers_per_gather")


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


def listing(object_type: str, qs: QuerySet, tenant, params: Mapping[str, Any], *, counting: bool = False) -> QuerySet:
    """``qs`` filtered and searched by ``params``; ``counting`` for the form that counts fastest."""
    qs = apply_filters(qs, object_type, params, tenant)
    q = str(params.get("q") or "")
    if object_type == ObjectType.CONTACT:
        return search_contacts(qs, tenant, q, counting=counting)
    return SEARCH[object_type](qs, tenant, q)


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
    largest tenants well under the page's budget. PostgreSQL asks the planner first: when it
    expects more than ``COUNT_EXACT`` rows (counting a million-contact tenant took 200 ms; a
    common word's matches are tested row by row) the list says "about N" and pages on past it;
    otherwise the rows are counted, up to ``COUNT_EXACT`` (a search through its indexes).
    """
    qs = qs.order_by()
    if connection.vendor != "postgresql":
        return Total(qs.count())
    estimate = _estimate(qs)
    if estimate > COUNT_EXACT:
        return Total(estimate, estimated=True)
    with through_search_indexes() if searched else nullcontext():
        counted = qs[: COUNT_EXACT + 1].count()
    if counted <= COUNT_EXACT:
        return Total(counted)
    return Total(max(estimate, counted), estimated=True)


def _estimate(qs: QuerySet) -> int:
    try:
        sql, params = qs.values("pk").query.sql_with_params()
    except EmptyResultSet:  # qs.none(), or a search that found no ids: nothing to ask the planner
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)  # noqa: S608 - Django's own SQL
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
