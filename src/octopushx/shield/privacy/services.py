"""Data-subject requests: intake (form, API, staff), verification, due dates and fulfilment.

Identity is verified by a link emailed to the subject (or a staff attestation with a
reason). The due date is one calendar month after verified receipt and can be extended
with a reason. Fulfilment runs as a job: access/export build a ZIP downloadable once by
a time-limited link; rectification, restriction and objection go through the CRM
services; erasure deletes or pseudonymises everything the subject finder found.
Responses never reveal whether a person exists in the tenant.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, blobs, events, jobs, links
from octopushx.core import text as text_rules
from octopushx.core.context import Actor
from octopushx.shield.privacy import subjects
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestState
from octopushx.tenancy.roles import Perm, has_perm

VERIFY_HOURS = 72
DOWNLOAD_DAYS = 7
REASON_MAX = 2000
# How the emails name each kind of request ("an erasure request", never "a erasure request").
REQUEST_PHRASES: dict[str, str] = {
    RequestKind.ACCESS: "a request for a copy of your personal data (an access request)",
    RequestKind.EXPORT: "a request for your personal data in a portable format (an export request)",
    RequestKind.RECTIFICATION: "a request to correct your personal data (a rectification request)",
    RequestKind.ERASURE: "a request to erase your personal data (an erasure request)",
    RequestKind.RESTRICTION: "a request to restrict the processing of your personal data (a restriction request)",
    RequestKind.OBJECTION: "an objection to the processing of your personal data",
}
RECTIFIABLE = {"first_name", "last_name", "email", "phone", "job_title", "street", "city", "postcode", "country"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_month(moment: datetime) -> datetime:
    """One calendar month later (31 January → 28/29 February), as Article 12(3) counts it."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _staff(actor: Actor) -> None:
    if actor.user is not None and not has_perm(actor.role, Perm.ADMIN):
        raise PermissionDenied("Only owners and admins handle privacy requests")


def _record(tenant, actor: Actor, action: str, request: PrivacyRequest, **changes) -> None:
    """Audit a step without the subject's identifiers (the request id links them)."""
    audit.record(tenant, actor, action, obj=request, changes={k: [None, v] for k, v in changes.items()})
    events.emit(tenant, action, {"request_id": str(request.pk), "kind": request.kind})


# --- intake --------------------------------------------------------------------------------


def _clean(tenant, kind: str, email: str, phone: str, contact_id: str, details: str, changes) -> dict:
    errors: dict[str, list[str]] = {}
    email, phone, contact_id = (email or "").strip().lower(), (phone or "").strip(), (contact_id or "").strip()
    if kind not in RequestKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(RequestKind.values)}"]
    if not (email or phone or contact_id):
        errors["email"] = ["Give an email address, a phone number or a contact id"]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address"]
    if phone and (len(phone) > 20 or not any(ch.isdigit() for ch in phone)):
        errors["phone"] = ["Enter a phone number"]
    if len(contact_id) > 64:
        errors["contact_id"] = ["Not a contact id"]
    details = (details or "").strip()
    if len(details) > REASON_MAX:
        errors["details"] = [f"At most {REASON_MAX} characters"]
    changes = changes or {}
    if kind == RequestKind.RECTIFICATION:
        if not isinstance(changes, dict) or not changes:
            errors["changes"] = ["Say which fields to correct and their right values"]
        else:
            unknown = sorted(set(changes) - RECTIFIABLE)
            if unknown:
                errors["changes"] = [f"These fields cannot be rectified here: {', '.join(unknown)}"]
    if errors:
        raise ValidationError(errors)
    return {"email": email, "phone": phone, "contact_ref": contact_id, "details": details,
            "changes": changes if kind == RequestKind.RECTIFICATION else {}}  # fmt: skip


@transaction.atomic
def receive(
    tenant, actor: Actor, *, kind: str, source: str, email: str = "", phone: str = "", contact_id: str = "",
    details: str = "", changes: dict | None = None,
) -> PrivacyRequest:  # fmt: skip
    """Record a request. From the form or the API, a verification link goes to the email given."""
    if source != RequestSource.FORM:
        _staff(actor)
    values = _clean(tenant, kind, email, phone, contact_id, details, changes)
    request = PrivacyRequest.objects.create(tenant=tenant, kind=kind, source=source, created_by=actor.user, **values)
    _record(tenant, actor, "privacy.received", request, kind=kind, source=source)
    # The name workflows listen to (Studio's "Privacy request received" trigger).
    events.emit(tenant, "privacy_request.created", {"request_id": str(request.pk), "kind": request.kind})
    if request.email:
        send_verification(tenant, request)
    return request


def send_verification(tenant, request: PrivacyRequest) -> str:
    """Email a fresh verification link (valid VERIFY_HOURS); returns the link."""
    token = secrets.token_urlsafe(32)
    request.verification_hash = _hash(token)
    request.verification_expires_at = timezone.now() + timedelta(hours=VERIFY_HOURS)
    request.save(update_fields=["verification_hash", "verification_expires_at", "updated_at"])
    link = links.absolute_url(f"/privacy/verify/?token={token}")
    body = (
        f"We received {REQUEST_PHRASES[request.kind]} about the data {tenant.name} holds about you.\n\n"
        f"If you made it, confirm it within {VERIFY_HOURS} hours: {link}\n\nIf not, ignore this email.\n"
    )
    # Sent at once: if the surrounding transaction rolled back, the link simply finds nothing.
    send_mail(f"Confirm your privacy request to {tenant.name}", body, tenant.from_email, [request.email])
    return link


def _start_clock(request: PrivacyRequest, now: datetime) -> None:
    request.state = RequestState.VERIFIED
    request.verified_at = now
    request.due_at = add_month(now)


@transaction.atomic
def verify_by_link(token: str) -> PrivacyRequest | None:
    """The subject followed the emailed link. A forged, used or expired token verifies nothing."""
    if not token:
        return None
    request = (
        PrivacyRequest.objects.select_for_update()
        .filter(verification_hash=_hash(token))
        .select_related("tenant")
        .first()
    )
    now = timezone.now()
    if request is None or request.state != RequestState.RECEIVED:
        return None
    if request.verification_expires_at is None or request.verification_expires_at < now:
        return None
    _start_clock(request, now)
    request.verification_method, request.verification_hash = "email", ""
    request.save()
    _record(
        request.tenant, Actor.system("data subject (verified by email)"), "privacy.verified", request, method="email"
    )
    return request


@transaction.atomic
def attest(tenant, actor: Actor, request: PrivacyRequest, reason: str) -> PrivacyRequest:
    """Staff confirm the requester's identity by other means, saying how."""
    _staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say how the identity was checked"]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"At most {REASON_MAX} characters"]})
    request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != RequestState.RECEIVED:
        raise ValidationError({"state": [f"The request is already {request.get_state_display().lower()}"]})
    _start_clock(request, timezone.now())
    request.verification_method, request.verification_reason, request.verification_hash = "staff", reason, ""
    request.save()
    _record(tenant, actor, "privacy.verified", request, method="staff", reason=reason)
    return request


@transaction.atomic
def extend(tenant, actor: Actor, request: PrivacyRequest, reason: str) -> PrivacyRequest:
    """Extend the due date by two further months (Article 12(3)), once, with a reason."""
    _staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why more time is needed"]})
    request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if request.due_at is None or not request.is_open:
        raise ValidationError({"state": ["Only a verified, open request can be extended"]})
    if request.extension_reason:
        raise ValidationError({"reason": ["The due date was already extended"]})
    old = request.due_at
    request.due_at = add_month(add_month(old))
    request.extension_reason = reason[:REASON_MAX]
    request.save(update_fields=["due_at", "extension_reason", "updated_at"])
    _record(tenant, actor, "privacy.extended", request, due_at=request.due_at.isoformat(), reason=reason)
    return request


@transaction.atomic
def reject(tenant, actor: Actor, request: PrivacyRequest, reason: str) -> PrivacyRequest:
    _staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the request is rejected"]})
    request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError({"state": ["The request is already closed"]})
    request.state, request.rejection_reason, request.completed_at = RequestState.REJECTED, reason, timezone.now()
    request.save()
    _record(tenant, actor, "privacy.rejected", request, reason=reason)
    return request


def is_overdue(request: PrivacyRequest, now=None) -> bool:
    return request.is_open and request.due_at is not None and request.due_at < (now or timezone.now())


OPEN_STATES = (RequestState.RECEIVED, RequestState.VERIFIED, RequestState.IN_PROGRESS)
# query parameter -> (lookup, label): the queue's filters, which a report's drill-down also uses
QUEUE_MOMENTS = {
    "due_after": ("due_at__gte", "Due from"),
    "due_before": ("due_at__lt", "Due before"),
    "received_after": ("created_at__gte", "Received from"),
    "received_before": ("created_at__lt", "Received before"),
    "completed_after": ("completed_at__gte", "Completed from"),
    "completed_before": ("completed_at__lt", "Completed before"),
}


@dataclass
class QueueFilter:
    states: list[str]
    kind: str = ""
    overdue: bool | None = None
    moments: dict | None = None  # parameter -> aware datetime
    errors: dict | None = None

    def chips(self) -> list[str]:
        """What the queue is narrowed to, in words (beside the state menu)."""
        shown = []
        if self.kind:
            shown.append(f"Kind: {RequestKind(self.kind).label}")
        if self.overdue is not None:
            shown.append("Overdue" if self.overdue else "Not overdue")
        for name, moment in (self.moments or {}).items():
            shown.append(f"{QUEUE_MOMENTS[name][1]} {timezone.localtime(moment):%-d %b %Y %H:%M}")
        return shown


def queue_filter(params) -> QueueFilter:
    """The privacy queue's filters from a query string: ``state`` (one or several, comma-separated; ``open``
    for every open state), ``kind``, ``overdue`` and the date bounds of ``QUEUE_MOMENTS`` (a date or an
    ISO date-time). Bad values are reported and left out."""

    errors: dict[str, list[str]] = {}
    raw_states = [s.strip() for s in (params.get("state") or "").split(",") if s.strip()]
    states: list[str] = []
    for state in raw_states:
        if state == "open":
            states += [str(s) for s in OPEN_STATES]
        elif state in RequestState.values:
            states.append(state)
        else:
            errors["state"] = [f"One of: open, {', '.join(RequestState.values)}"]
    kind = (params.get("kind") or "").strip()
    if kind and kind not in RequestKind.values:
        errors["kind"] = [f"One of: {', '.join(RequestKind.values)}"]
        kind = ""
    overdue = None
    raw = (params.get("overdue") or "").strip().lower()
    if raw in ("true", "1", "yes"):
        overdue = True
    elif raw in ("false", "0", "no"):
        overdue = False
    elif raw:
        errors["overdue"] = ["true or false"]
    moments = {}
    for name in QUEUE_MOMENTS:
        text = (params.get(name) or "").strip()
        if not text:
            continue
        moment = text_rules.moment(text)
        if moment is None:
            errors[name] = ["A date such as 2026-01-31"]
            continue
        moments[name] = moment
    return QueueFilter(sorted(set(states)), kind, overdue, moments, errors)


def filter_queue(qs, chosen: QueueFilter, now=None):
    """Apply a ``QueueFilter`` to a queryset of requests."""
    if chosen.states:
        qs = qs.filter(state__in=chosen.states)
    if chosen.kind:
        qs = qs.filter(kind=chosen.kind)
    if chosen.overdue is not None:
        late = {"state__in": OPEN_STATES, "due_at__lt": now or timezone.now()}
        qs = qs.filter(**late) if chosen.overdue else qs.exclude(**late)
    for name, moment in (chosen.moments or {}).items():
        qs = qs.filter(**{QUEUE_MOMENTS[name][0]: moment})
    return qs


# --- fulfilment ------------------------------------------------------------------------------


def identity_of(request: PrivacyRequest) -> subjects.Identity:
    return subjects.Identity(email=request.email, phone=request.phone, contact_id=request.contact_ref)


@transaction.atomic
def fulfil(
    tenant, actor: Actor, request: PrivacyRequest, *, confirmed: bool = False, preview_digest: str = ""
) -> PrivacyRequest:
    """Start fulfilment (a job). Erasure needs ``confirmed`` (staff saw the preview and agreed);
    with ``preview_digest`` it is refused when what it finds changed since that preview. Erasure of
    someone under legal hold is refused with the reason."""
    _staff(actor)
    request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != RequestState.VERIFIED:
        raise ValidationError({"state": ["Only a verified request can be fulfilled"]})
    if request.kind == RequestKind.ERASURE:
        reason = hold_blocking(tenant, request)
        if reason:
            raise ValidationError({"state": [f"Erasure is blocked by a legal hold: {reason}"]})
        if not confirmed:
            raise ValidationError(
                {"confirm": ["Erasure is permanent: check what will be erased, then confirm it explicitly"]}
            )
        if preview_digest and preview_digest != preview(tenant, request).digest:
            raise ValidationError(
                {"confirm": ["What this erasure would find changed since the preview: check the list again"]}
            )
    request.state = RequestState.IN_PROGRESS
    request.save(update_fields=["state", "updated_at"])
    label = actor.label
    jobs.submit(
        "shield.privacy_fulfil",
        tenant=tenant,
        payload={"request_id": str(request.pk), "actor": label},
        dedupe_key=f"privacy:{request.pk}",
    )
    _record(tenant, actor, "privacy.fulfilment_started", request)
    return request


def hold_blocking(tenant, request: PrivacyRequest) -> str | None:
    """The reason of a legal hold on the whole tenant or on any record the erasure would touch."""
    from octopushx.shield.retention import services as retention

    found = subjects.find(tenant, identity_of(request))
    for source in subjects.sources():
        if source.hold_scope:
            for object_id in found.items.get(source.key, []):
                reason = retention.hold_reason(tenant, source.hold_scope, object_id)
                if reason:
                    return reason
    return retention.hold_reason(tenant, "tenant")


# --- the preview staff check before fulfilling, and the summary afterwards ------------------


@dataclass
class PreviewRow:
    """One source's part of a request: how many records, in words, and the first few with links."""

    key: str
    label: str
    count: int
    counted: str  # "3 notes"
    outcome: str  # what erasure does to them: "erased", "pseudonymised", ...
    items: list[tuple[str, str]]  # (text, url)
    more: int  # records beyond the listed ones


@dataclass
class Preview:
    rows: list[PreviewRow]
    digest: str  # changes when what the request finds changes

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def _found_for(tenant, request: PrivacyRequest) -> subjects.Found:
    found = subjects.find(tenant, identity_of(request))
    # This request is pseudonymised by its own erasure, not counted with the earlier ones.
    others = [i for i in found.items.get("privacy_requests", []) if i != str(request.pk)]
    if others:
        found.items["privacy_requests"] = others
    else:
        found.items.pop("privacy_requests", None)
    return found


def _touched(source: subjects.Source, kind: str) -> bool:
    """Whether fulfilling a request of ``kind`` acts on this source's records."""
    if kind == RequestKind.RECTIFICATION:
        return source.rectify is not None
    if kind in (RequestKind.RESTRICTION, RequestKind.OBJECTION):
        return source.restrict is not None
    return True


def preview(tenant, request: PrivacyRequest) -> Preview:
    """Every record a request would erase, export or change, per source, with links (changes nothing)."""
    found = _found_for(tenant, request)
    rows = []
    digest = hashlib.sha256()
    for source in subjects.in_reading_order():
        ids = found.items.get(source.key, [])
        if not ids or not _touched(source, request.kind):
            continue
        digest.update(f"{source.key}:{','.join(sorted(ids))};".encode())
        listed = ids[: subjects.PREVIEW_ITEMS]
        items = source.describe(tenant, listed) if source.describe else [(i, "") for i in listed]
        rows.append(PreviewRow(source.key, source.label, len(ids), source.count(len(ids)), source.outcome, items,
                               len(ids) - len(listed)))  # fmt: skip
    return Preview(rows, digest.hexdigest()[:16])


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def erasure_summary(counts: dict[str, int]) -> str:
    """ "Erased 1 contact, 1 call with its recording and 3 notes; 12 audit entries pseudonymised"."""
    erased, other = [], []
    for source in subjects.in_reading_order():
        n = counts.get(source.key, 0)
        if n:
            (erased if source.outcome == "erased" else other).append((source, n))
    known = {source.key for source in subjects.sources()}
    # A source no longer installed still shows what its erasure did.
    erased += [(None, counts[k]) for k in counts if k not in known and counts[k]]
    parts = []
    if erased:
        parts.append("Erased " + _join([s.count(n) if s else f"{n} records" for s, n in erased]))
    parts += [f"{s.count(n)} {s.outcome}" for s, n in other]
    return "; ".join(parts) + "." if parts else "Nothing about this person was found, so nothing was erased."


def summary(request: PrivacyRequest) -> str:
    """What fulfilling the request did, in a sentence (empty until it is completed)."""
    result = request.result or {}
    if request.state != RequestState.COMPLETED:
        return ""
    if request.kind == RequestKind.ERASURE:
        return erasure_summary(result.get("erased", {}))
    if request.kind in (RequestKind.ACCESS, RequestKind.EXPORT):
        records, files = result.get("records", 0), len(result.get("files", []))
        if not records:
            return "Nothing about this person was found; the archive holds only its README."
        return (
            f"Archive built: {records} record{'s' if records != 1 else ''} in {files} file{'s' if files != 1 else ''}"
            f"{', download link emailed to the requester' if request.email else ''}."
        )
    if request.kind == RequestKind.RECTIFICATION:
        n = result.get("rectified", 0)
        fields = ", ".join(result.get("fields", []))
        return f"Corrected {fields} on {n} contact{'s' if n != 1 else ''}." if n else "No matching contact was found."
    n = result.get("restricted", 0)
    return f"Processing restricted for {n} contact{'s' if n != 1 else ''}." if n else "No matching contact was found."


@jobs.handler("shield.privacy_fulfil")
def fulfil_job(job) -> dict:
    request = PrivacyRequest.objects.select_related("tenant").get(pk=job.payload["request_id"])
    if request.state != RequestState.IN_PROGRESS:
        return {"skipped": request.state}  # a duplicate delivery after completion
    tenant = request.tenant
    actor = Actor.system(f"privacy request ({job.payload.get('actor', 'staff')})")
    handlers = {
        RequestKind.ACCESS: _build_archive,
        RequestKind.EXPORT: _build_archive,
        RequestKind.ERASURE: _erase,
        RequestKind.RECTIFICATION: _rectify,
        RequestKind.RESTRICTION: _restrict,
        RequestKind.OBJECTION: _restrict,
    }
    result = handlers[request.kind](tenant, actor, request)
    with transaction.atomic():
        request.refresh_from_db()
        request.state, request.completed_at = RequestState.COMPLETED, timezone.now()
        request.result = result
        request.save()
        _record(tenant, actor, "privacy.completed", request, result=result)
    return result


README = """This archive holds the personal data {tenant} keeps about you, as of {when}.

Each file covers one kind of record:
{files}
JSON files hold every field; CSV files repeat the main ones for spreadsheets.
"""


def _csv(rows: list[dict]) -> bytes:
    if not rows:
        return b""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=sorted({k for r in rows for k in r}))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: (v if isinstance(v, (str, int, float)) else subjects.as_json(v).decode()) for k, v in row.items()}
        )
    return buffer.getvalue().encode()


def _build_archive(tenant, actor: Actor, request: PrivacyRequest) -> dict:
    import json

    found = subjects.find(tenant, identity_of(request))
    files: dict[str, bytes] = {}
    for source in subjects.sources():
        ids = found.items.get(source.key)
        if ids:
            files.update(source.run_export(tenant, ids, found))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        notes = subjects.file_notes()
        listing = "".join(f"- {name}: {notes.get(name, 'records from ' + name)}\n" for name in sorted(files))
        archive.writestr(
            "README.txt",
            README.format(
                tenant=tenant.name, when=timezone.now().date(), files=listing or "- (no records were found)\n"
            ),
        )
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
            if name.endswith(".json"):
                try:
                    rows = json.loads(data)
                except ValueError:
                    rows = None
                if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                    archive.writestr(name[:-5] + ".csv", _csv(rows))
    blob = blobs.store(tenant, buffer.getvalue(), filename=f"privacy-{request.pk}.zip", content_type="application/zip",
                       purpose="privacy-export")  # fmt: skip
    token = secrets.token_urlsafe(32)
    request.result_blob = blob
    request.download_hash = _hash(token)
    request.download_expires_at = timezone.now() + timedelta(days=DOWNLOAD_DAYS)
    request.save(update_fields=["result_blob", "download_hash", "download_expires_at", "updated_at"])
    link = links.absolute_url(f"/privacy/download/?token={token}")
    if request.email:
        send_mail(f"Your data from {tenant.name}", f"Your archive is ready for {DOWNLOAD_DAYS} days and can be downloaded once: {link}\n",
                  tenant.from_email, [request.email])  # fmt: skip
    return {"records": found.total(), "files": sorted(files), "download_link": link}


def _erase(tenant, actor: Actor, request: PrivacyRequest) -> dict:
    identity = identity_of(request)
    found = _found_for(tenant, request)
    counts: dict[str, int] = {}
    with transaction.atomic():
        for source in subjects.sources():
            # Found again just before erasing: earlier deletions write audit entries too.
            ids = (
                [str(i) for i in source.find(tenant, identity, found)]
                if source.key == "audit"
                else found.items.get(source.key, [])
            )
            if ids:
                counts[source.key] = source.run_erase(tenant, actor, ids, found)
        request.email = f"erased:{_hash(request.email)[:12]}" if request.email else ""
        request.phone = f"erased:{_hash(request.phone)[:12]}" if request.phone else ""
        request.details, request.changes = "", {}
        request.save(update_fields=["email", "phone", "details", "changes", "updated_at"])
    return {"erased": counts}


def _rectify(tenant, actor: Actor, request: PrivacyRequest) -> dict:
    """Each source that can (the contacts) corrects its records, through its own services."""
    found = subjects.find(tenant, identity_of(request))
    count = 0
    for source in subjects.sources():
        ids = found.items.get(source.key)
        if ids and source.rectify is not None:
            count += source.rectify(tenant, actor, ids, dict(request.changes))
    return {"rectified": count, "fields": sorted(request.changes)}


def _set_restriction(tenant, actor: Actor, request: PrivacyRequest, restricted: bool) -> int:
    found = subjects.find(tenant, identity_of(request))
    withdraw = restricted and request.kind == RequestKind.OBJECTION
    count = 0
    for source in subjects.sources():
        ids = found.items.get(source.key)
        if ids and source.restrict is not None:
            count += source.restrict(tenant, actor, ids, restricted, withdraw)
    return count


def _restrict(tenant, actor: Actor, request: PrivacyRequest) -> dict:
    return {"restricted": _set_restriction(tenant, actor, request, True)}


@transaction.atomic
def lift_restriction(tenant, actor: Actor, request: PrivacyRequest) -> int:
    """Lift a restriction this request set (audited through the contact update and here)."""
    _staff(actor)
    if request.kind not in (RequestKind.RESTRICTION, RequestKind.OBJECTION) or request.state != RequestState.COMPLETED:
        raise ValidationError({"state": ["Only a completed restriction can be lifted"]})
    count = _set_restriction(tenant, actor, request, False)
    _record(tenant, actor, "privacy.restriction_lifted", request, contacts=count)
    return count


# --- the one-time download -------------------------------------------------------------------


@transaction.atomic
def claim_download(token: str) -> PrivacyRequest | None:
    """The archive for a valid, unexpired, unused link (marked used); None otherwise."""
    if not token:
        return None
    request = (
        PrivacyRequest.objects.select_for_update(of=("self",))
        .filter(download_hash=_hash(token))
        .select_related("tenant", "result_blob")
        .first()
    )
    if request is None or request.result_blob is None or request.downloaded_at is not None:
        return None
    if request.download_expires_at is None or request.download_expires_at < timezone.now():
        return None
    request.downloaded_at = timezone.now()
    request.save(update_fields=["downloaded_at", "updated_at"])
    _record(request.tenant, Actor.system("data subject (download link)"), "privacy.downloaded", request)
    return request


def staff_download_link(tenant, actor: Actor, request: PrivacyRequest) -> str:
    """A fresh one-time link for staff to hand over the archive (audited)."""
    _staff(actor)
    if request.result_blob is None:
        raise ValidationError({"state": ["There is no archive for this request"]})
    token = secrets.token_urlsafe(32)
    PrivacyRequest.objects.filter(pk=request.pk).update(
        download_hash=_hash(token),
        download_expires_at=timezone.now() + timedelta(days=DOWNLOAD_DAYS),
        downloaded_at=None,
    )
    _record(tenant, actor, "privacy.download_link_created", request)
    return links.absolute_url(f"/privacy/download/?token={token}")
