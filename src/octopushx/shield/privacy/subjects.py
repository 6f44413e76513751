"""Finding everything about one person in a tenant, exporting it and erasing it.

Each product registers a ``Source`` with ``register`` from its own ``privacy.py``, which
Shield autodiscovers when it starts (``crm/privacy.py``, ``calls/privacy.py``); Shield never
imports a product:

- ``find(tenant, identity, found)`` returns the ids of its records about the person. Sources
  run after the contacts source, so they can follow ``found.contact_ids`` and
  ``found.markers`` (the person's emails, phone numbers and full names).
- ``export(tenant, ids)`` returns ``{filename: bytes}`` for the access ZIP; ``notes`` says in
  one line what each file holds (it goes into the ZIP's README).
- ``erase(tenant, actor, ids)`` deletes or irreversibly anonymises them, through the app's
  services so each change is audited, and returns how many.
- ``with_found=True`` passes ``found`` as a fourth argument to ``export`` and ``erase`` (for
  sources that keep only the person's part of a shared record, such as one row of a file).
- ``history`` says which audit entries on the found records concern the person: ``"all"``
  (the record is about the person: contacts, notes) or ``"mentions"`` (only the entries whose
  personal part names the person: a company that lists them). The audit source, last,
  pseudonymises those entries.

What staff see before they confirm, and the summary afterwards, come from the same source:

- ``noun`` (singular, plural) counts it in a sentence: ``("call with its recording", "calls
  with their recordings")``; ``outcome`` says what erasure does to it (``"erased"``, or for
  example ``"unlinked"``, ``"pseudonymised"``), so the summary reads "Erased 1 contact, 1 call
  with its recording, 3 notes; 12 audit entries pseudonymised".
- ``describe(tenant, ids)`` returns ``[(text, url)]`` for the preview's list (``url`` may be
  ``""``); Shield passes at most ``PREVIEW_ITEMS`` ids and counts the rest.
- ``hold_scope`` names the legal-hold scope (``"contact"``, ``"call"``) whose holds on these
  records block an erasure.
- ``rectify(tenant, actor, ids, changes)`` and ``restrict(tenant, actor, ids, restricted,
  withdraw_consent)`` carry out rectification, restriction and objection on the records that
  support them (the contacts), returning how many changed.

A new product registers the same way and Shield needs no change: Studio's workflow runs
register a source ``workflow_runs`` (noun "workflow run") whose ``find`` follows
``found.contact_ids`` and ``found.markers`` through the runs' trigger payloads, whose
``describe`` links each run, and whose ``erase`` deletes or anonymises those runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

ERASED = "[erased]"
PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-/]{4,}\d")


@dataclass(frozen=True)
class Identity:
    email: str = ""
    phone: str = ""
    contact_id: str = ""


@dataclass
class Markers:
    """What names the person in free text and files: emails, E.164 numbers and full names."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.names)

    def add_email(self, email: str) -> None:
        if email and "@" in email:
            self.emails.add(email.strip().lower())

    def add_phone(self, e164: str) -> None:
        if e164 and e164.startswith("+") and sum(ch.isdigit() for ch in e164) >= 7:
            self.phones.add(e164)

    def add_name(self, first: str, last: str) -> None:
        """Only a full name identifies someone; a first name alone is left alone."""
        first, last = (first or "").strip(), (last or "").strip()
        if first and last:
            self.names.add(" ".join(f"{first} {last}".lower().split()))

    def _phone_variants(self) -> list[tuple[str, str]]:
        """(international digits, national significant number) for each number."""
        import phonenumbers

        variants = []
        for e164 in self.phones:
            digits = e164.lstrip("+")
            try:
                national = str(phonenumbers.parse(e164).national_number)
            except phonenumbers.NumberParseException:
                national = digits
            variants.append((digits, national))
        return variants

    def _is_phone(self, candidate: str, variants: list[tuple[str, str]]) -> bool:
        digits = re.sub(r"\D", "", candidate)
        for international, national in variants:
            if digits in (international, national, "0" + national):
                return True
            # 0044…, (0)20… and other prefixes before the national number
            if len(national) >= 6 and digits.endswith(national) and len(digits) - len(national) <= 4:
                return True
        return False

    def _patterns(self) -> list[re.Pattern]:
        patterns = [re.compile(re.escape(email), re.IGNORECASE) for email in self.emails]
        for name in self.names:
            first, _, last = name.partition(" ")
            words = r"\s+".join(re.escape(w) for w in name.split())
            patterns.append(re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE))
            if last:  # "Surname, First"
                patterns.append(re.compile(rf"(?<!\w){re.escape(last)},\s*{re.escape(first)}(?!\w)", re.IGNORECASE))
        return patterns

    def matches(self, text: str) -> bool:
        """Whether ``text`` names the person (email, any format of their number, full name)."""
        if not text or not self:
            return False
        if any(pattern.search(text) for pattern in self._patterns()):
            return True
        variants = self._phone_variants()
        return bool(variants) and any(self._is_phone(m.group(), variants) for m in PHONE_LIKE.finditer(text))

    def scrub(self, text: str) -> str:
        """``text`` with every mention of the person replaced by ``[erased]``."""
        if not text or not self:
            return text
        for pattern in self._patterns():
            text = pattern.sub(ERASED, text)
        variants = self._phone_variants()
        if variants:
            text = PHONE_LIKE.sub(lambda m: ERASED if self._is_phone(m.group(), variants) else m.group(), text)
        return text

    def row_matches(self, cells: Iterable) -> bool:
        """A table row names the person if one cell does, or its cells hold their first and last name."""
        values = ["" if c is None else str(c) for c in cells]
        if any(self.matches(value) for value in values):
            return True
        lowered = {" ".join(v.lower().split()) for v in values if v}
        return any(set(name.split(" ", 1)) <= lowered for name in self.names if " " in name)


@dataclass
class Found:
    """Ids per source key, the contact ids and markers the other sources can follow."""

    items: dict[str, list[str]] = field(default_factory=dict)
    markers: Markers = field(default_factory=Markers)

    @property
    def contact_ids(self) -> list[str]:
        return self.items.get("contacts", [])

    def total(self) -> int:
        return sum(len(v) for v in self.items.values())


PREVIEW_ITEMS = 20  # records listed (with links) per source in the preview; the rest are counted


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    find: Callable  # (tenant, identity, found) -> list[str]
    export: Callable  # (tenant, ids[, found]) -> dict[filename, bytes]
    erase: Callable  # (tenant, actor, ids[, found]) -> int
    order: int = 50  # erasure order: dependent records before the contact itself
    with_found: bool = False
    history: str = ""  # "all", "mentions" or "" (the source handles its own audit entries)
    notes: dict[str, str] = field(default_factory=dict)
    noun: tuple[str, str] = ("record", "records")
    outcome: str = "erased"
    describe: Callable | None = None  # (tenant, ids) -> [(text, url)]
    hold_scope: str = ""
    rectify: Callable | None = None  # (tenant, actor, ids, changes) -> int
    restrict: Callable | None = None  # (tenant, actor, ids, restricted, withdraw_consent) -> int

    def count(self, n: int) -> str:
        """``n`` of these records in words: "1 note", "3 notes"."""
        return f"{n} {self.noun[0] if n == 1 else self.noun[1]}"

    def run_export(self, tenant, ids, found: Found) -> dict[str, bytes]:
        return self.export(tenant, ids, found) if self.with_found else self.export(tenant, ids)

    def run_erase(self, tenant, actor, ids, found: Found) -> int:
        return self.erase(tenant, actor, ids, found) if self.with_found else self.erase(tenant, actor, ids)


_SOURCES: dict[str, Source] = {}


def register(
    key: str, *, label: str, find, export, erase, order: int = 50, with_found: bool = False, history: str = "",
    notes: dict[str, str] | None = None, noun: tuple[str, str] | None = None, outcome: str = "erased",
    describe: Callable | None = None, hold_scope: str = "", rectify: Callable | None = None,
    restrict: Callable | None = None,
) -> Source:  # fmt: skip
    """Add (or replace) the source ``key``; see the module docstring for the contract."""
    if history not in ("", "all", "mentions"):
        raise ValueError("history is 'all', 'mentions' or ''")
    if noun is not None and (len(noun) != 2 or not all(noun)):
        raise ValueError("noun is (singular, plural)")
    source = Source(
        key, label, find, export, erase, order, with_found, history, dict(notes or {}),
        tuple(noun) if noun else (key.replace("_", " ").rstrip("s"), key.replace("_", " ")), outcome, describe,
        hold_scope, rectify, restrict,
    )  # fmt: skip
    _SOURCES[key] = source
    return source


def discover() -> None:
    """Import every installed app's ``privacy`` module, which registers its sources (once)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("privacy")
        _discovered = True


_discovered = False


def sources() -> list[Source]:
    discover()
    return sorted(_SOURCES.values(), key=lambda s: (s.order, s.key))


def _rank(source: Source) -> int:
    """Contacts first (the others follow them), the audit trail last."""
    return 0 if source.key == "contacts" else 2 if source.key == "audit" else 1


def _reading_position(source: Source) -> tuple[int, int, str]:
    return (_rank(source), source.order, source.key)


def in_reading_order() -> list[Source]:
    """For people: the contacts first, then what hangs off them, the audit trail last."""
    discover()
    return sorted(_SOURCES.values(), key=_reading_position)


def file_notes() -> dict[str, str]:
    """What each file of the access ZIP holds, from the sources that write it."""
    discover()
    notes: dict[str, str] = {}
    for source in _SOURCES.values():
        notes.update(source.notes)
    return notes


def normalise_phone(tenant, phone: str) -> str:
    """A number in any format as E.164, or stripped as it was when it cannot be parsed."""
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, tenant.default_region or None)
    except phonenumbers.NumberParseException:
        return phone.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_normalise_phone = normalise_phone  # the name calls/privacy.py uses


def find(tenant, identity: Identity) -> Found:
    """Contacts first (the others follow them), the audit trail last, the rest in key order."""
    discover()
    found = Found()
    found.markers.add_email(identity.email)
    if identity.phone:
        found.markers.add_phone(normalise_phone(tenant, identity.phone))
    for source in sorted(_SOURCES.values(), key=lambda s: (_rank(s), s.key)):
        ids = [str(i) for i in source.find(tenant, identity, found)]
        if ids:
            found.items[source.key] = ids
    return found


def as_json(data) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


# --- built-in sources: the audit trail and earlier requests --------------------------------


def _find_audit(tenant, identity: Identity, found: Found) -> list[str]:
    from octopushx.core.models import AuditEntry

    every, mentioned = [], []
    for source in _SOURCES.values():
        ids = found.items.get(source.key, [])
        if source.history == "all":
            every += ids
        elif source.history == "mentions":
            mentioned += ids
    entries: list[str] = []
    if every:
        entries += [
            str(pk) for pk in AuditEntry.objects.filter(tenant=tenant, object_id__in=every).values_list("pk", flat=True)
        ]
    if mentioned and found.markers:
        candidates = AuditEntry.objects.filter(tenant=tenant, object_id__in=mentioned).select_related("personal")
        for entry in candidates:
            personal = getattr(entry, "personal", None)
            if personal is None:
                continue
            text = as_json(personal.changes).decode() + "\n" + personal.actor_label
            if found.markers.matches(text):
                entries.append(str(entry.pk))
    return entries


def _export_audit(tenant, ids) -> dict[str, bytes]:
    from octopushx.core.models import AuditEntry

    rows = [
        {"at": e.at, "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
         "changes": e.personal.changes}
        for e in AuditEntry.objects.filter(tenant=tenant, pk__in=ids).select_related("personal")
    ]  # fmt: skip
    return {"history.json": as_json(rows)}


def _erase_audit(tenant, actor, ids) -> int:
    """The entries stay (the chain must verify); their personal part becomes a pseudonym."""
    from octopushx.core import audit
    from octopushx.core.models import AuditEntry

    return audit.erase_personal(AuditEntry.objects.filter(tenant=tenant, pk__in=ids), "erased data subject")


def _find_past_requests(tenant, identity: Identity, found: Found) -> list[str]:
    """Earlier requests by the same person: their archives and identifiers go with the rest."""
    from django.db.models import Q

    from octopushx.shield.privacy.models import PrivacyRequest

    query = Q(pk__in=[])
    if identity.email:
        query |= Q(email__iexact=identity.email)
    if identity.phone:
        query |= Q(phone=identity.phone)
    if identity.contact_id:
        query |= Q(contact_ref=identity.contact_id)
    return [str(pk) for pk in PrivacyRequest.objects.for_tenant(tenant).filter(query).values_list("pk", flat=True)]


def _erase_past_requests(tenant, actor, ids) -> int:
    import hashlib

    from octopushx.core import blobs
    from octopushx.shield.privacy.models import PrivacyRequest

    def pseudonym(value: str) -> str:
        return f"erased:{hashlib.sha256(value.encode()).hexdigest()[:12]}" if value else ""

    count = 0
    for request in PrivacyRequest.objects.for_tenant(tenant).filter(pk__in=ids).select_related("result_blob"):
        if request.result_blob is not None:
            blobs.delete(request.result_blob)
            request.result_blob, request.download_hash = None, ""
        request.email, request.phone = pseudonym(request.email), pseudonym(request.phone)
        request.details, request.changes = "", {}
        request.save()
        count += 1
    return count


def _describe_past_requests(tenant, ids) -> list[tuple[str, str]]:
    from django.urls import reverse

    from octopushx.shield.privacy.models import PrivacyRequest

    return [
        (f"{r.get_kind_display()} request of {r.created_at.day} {r.created_at:%b %Y} ({r.get_state_display().lower()})",
         reverse("shield:privacy_request", args=[r.pk]))
        for r in PrivacyRequest.objects.for_tenant(tenant).filter(pk__in=ids).order_by("created_at")
    ]  # fmt: skip


def _describe_audit(tenant, ids) -> list[tuple[str, str]]:
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils.timezone import localtime

    from octopushx.core.models import AuditEntry

    entries = AuditEntry.objects.filter(tenant=tenant, pk__in=ids).order_by("at")
    return [
        (f"{e.action} on {localtime(e.at).day} {localtime(e.at):%b %Y %H:%M}",
         f"{reverse('shield:audit')}?{urlencode({'object_id': e.object_id, 'action': e.action})}")
        for e in entries
    ]  # fmt: skip


register("privacy_requests", label="Earlier privacy requests (archives deleted)", find=_find_past_requests,
         export=lambda tenant, ids: {}, erase=_erase_past_requests, order=90,
         noun=("earlier privacy request", "earlier privacy requests"), outcome="pseudonymised",
         describe=_describe_past_requests)  # fmt: skip
# Last: after every deletion above wrote its own audit entry, so those are pseudonymised too.
register("audit", label="Audit entries (pseudonymised)", find=_find_audit, export=_export_audit,
         erase=_erase_audit, order=99, notes={"history.json": "the history of changes to your records"},
         noun=("audit entry", "audit entries"), outcome="pseudonymised", describe=_describe_audit)  # fmt: skip
