"""How Shield's audit entries read: privacy requests, retention, legal documents, security."""

from __future__ import annotations

from typing import Any

from django.utils import dateformat

from octopushx.core.audit_labels import Change, Names, changes, labels, names
from octopushx.shield.legal.models import DocumentKind, LegalDocument
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.shield.privacy import services as privacy
from octopushx.shield.privacy.models import PrivacyRequest, RequestKind, RequestSource

labels(
    {
        "audit.exported": "Audit trail exported",
        "records.exported": "Records of processing exported",
        "legal.published": "Legal document published",
        "legal.accepted": "Legal document accepted",
        "security.alert_raised": "Security alert raised",
        "security.alert_acknowledged": "Security alert acknowledged",
        "security.policy_changed": "Security settings changed",
        "retention.policy_changed": "Retention policy changed",
        "retention.hold_placed": "Legal hold placed",
        "retention.hold_released": "Legal hold released",
        "retention.purged": "Expired data purged",
        "privacy.received": "Privacy request received",
        "privacy.verified": "Privacy request verified",
        "privacy.extended": "Privacy request deadline extended",
        "privacy.rejected": "Privacy request rejected",
        "privacy.fulfilment_started": "Privacy request fulfilment started",
        "privacy.completed": "Privacy request completed",
        "privacy.restriction_lifted": "Processing restriction lifted",
        "privacy.download_link_created": "Download link created",
        "privacy.downloaded": "Privacy archive downloaded",
    },
    object_types={
        "audit": "Audit trail",
        "records": "Records of processing",
        "legal": "Legal documents",
        "legaldocument": "Legal document",
        "acceptance": "Acceptance",
        "security": "Security",
        "securityalert": "Security alert",
        "securitypolicy": "Security settings",
        "retention": "Retention",
        "retentionpolicy": "Retention policy",
        "legalhold": "Legal hold",
        "retentionrun": "Retention run",
        "privacy": "Privacy request",
        "privacyrequest": "Privacy request",
    },
    fields={"document_id": "Document", "due_at": "Due", "data_class": "Data", "keep": "Keep forever"},
)


@names("privacyrequest")
def privacy_request_names(tenant, ids: set[str]) -> dict[str, str]:
    requests = PrivacyRequest.objects.filter(pk__in=ids, tenant=tenant).only("kind", "created_at")
    return {
        str(r.pk): f"{r.get_kind_display().split(' (')[0]} request of {dateformat.format(r.created_at, 'j M Y')}"
        for r in requests
    }


@names("legaldocument")
def legal_document_names(tenant, ids: set[str]) -> dict[str, str]:
    documents = LegalDocument.objects.filter(pk__in=ids, tenant=tenant).only("title", "version")
    return {str(d.pk): f"{d.title} (version {d.version})" for d in documents}


@names("securityalert")
def alert_names(tenant, ids: set[str]) -> dict[str, str]:
    return {str(a.pk): a.summary for a in SecurityAlert.objects.filter(pk__in=ids, tenant=tenant).only("summary")}


def result_sentence(result: dict[str, Any]) -> str:
    """What a fulfilled request did, from its stored result (the request's kind is not in the entry)."""
    if "erased" in result:
        return privacy.erasure_summary(result["erased"] or {})
    if "records" in result:
        records, files = result.get("records", 0), len(result.get("files", []))
        return (
            f"Archive built: {records} record{'s' if records != 1 else ''} in {files} file{'s' if files != 1 else ''}."
        )
    if "rectified" in result:
        n = result["rectified"]
        return f"Corrected {', '.join(result.get('fields', []))} on {n} contact{'s' if n != 1 else ''}." if n else ""
    if "restricted" in result:
        n = result["restricted"]
        return f"Processing restricted for {n} contact{'s' if n != 1 else ''}."
    return ""


@changes("privacy.completed")
def privacy_completed(stored: dict[str, Any], found: Names) -> list[Change] | None:
    value = stored.get("result")
    result = value[1] if isinstance(value, list) and len(value) == 2 else value
    sentence = result_sentence(result) if isinstance(result, dict) else ""
    return [Change("Result", sentence)] if sentence else None


@changes("legal.accepted")
def legal_accepted(stored: dict[str, Any], found: Names) -> list[Change] | None:
    # Stored as "terms v3" plus the document id (a platform document, not named in this trail).
    value = stored.get("document")
    text = value[1] if isinstance(value, list) and len(value) == 2 else value
    kind, _, version = str(text or "").partition(" v")
    if kind not in DocumentKind.values:
        return None
    return [
        Change("Document", f"{DocumentKind(kind).label}, version {version}" if version else DocumentKind(kind).label)
    ]


@changes("privacy.received")
def privacy_received(stored: dict[str, Any], found: Names) -> list[Change] | None:
    def new(name: str) -> str:
        value = stored.get(name)
        return str(value[1] if isinstance(value, list) and len(value) == 2 else value or "")

    kind, source = new("kind"), new("source")
    if kind not in RequestKind.values or source not in RequestSource.values:
        return None
    return [Change("Kind", RequestKind(kind).label), Change("Through", RequestSource(source).label.lower())]
