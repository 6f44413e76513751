"""Taking a call's AI summary out of the platform: a download (Markdown, PDF, JSON) or an email.

AI output is a draft until a person approves it: an unreviewed or only corrected summary goes
out only with the sender's explicit confirmation and carries a visible "unreviewed AI output"
label naming the model; an approved one names who approved it and when. A restricted
contact's call is never shared. Every export and email is audited as ``call.exported``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from octopushx.calls.models import Call, CallAnalysisResult, ReviewState
from octopushx.calls.services.processing import restricted_reason
from octopushx.calls.services.queries import flat_metrics, format_metric, metric_label, roles_known, speaker_name
from octopushx.core import audit
from octopushx.core.context import Actor
from octopushx.tenancy import branding

UNREVIEWED_LABEL = "Unreviewed AI output — not checked by a person"
ROLES_UNKNOWN_NOTE = "Agent and customer are not known with confidence in this call: its figures are per speaker"
FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
}
MESSAGE_MAX = 2000
CONFIRM_MESSAGE = (
    "This summary is AI output that no person has approved. Confirm that you want to share it "
    "unreviewed (it will carry an 'unreviewed AI output' label), or approve it first"
)


@dataclass
class SummaryDocument:
    """What leaves the platform: the call's headline facts, the AI summary and its review status."""

    title: str
    call_id: str
    link: str
    started_at: str
    duration_seconds: float
    agent: str
    contact: str
    review_state: str
    label: str | None  # the unreviewed label, None once approved
    approved_by: str | None
    approved_at: str | None
    model: dict[str, str]
    summary: str
    action_items: list[dict] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    sentiment: float | None = None
    roles_known: bool = True
    warnings: list[str] = field(default_factory=list)  # the analysis's, e.g. speakers not told apart
    product: str = "OctopushX"  # the brand the organisation works under (a reseller's, white-label)

    @property
    def notes(self) -> list[str]:
        """What the reader must know before trusting who said what: warnings, unknown roles."""
        notes = list(self.warnings)
        if not self.roles_known:
            notes.append(ROLES_UNKNOWN_NOTE)
        return notes

    @property
    def provenance_line(self) -> str:
        version = f" version {self.model['version']}" if self.model.get("version") else ""
        return f"Model: {self.model['name']}{version}, pipeline {self.model['pipeline']}"

    @property
    def status_line(self) -> str:
        if self.label:
            return f"{self.label}. {self.provenance_line}."
        return f"Reviewed and approved by {self.approved_by} on {self.approved_at}. {self.provenance_line}."


def shareable_result(call: Call) -> CallAnalysisResult:
    """The current analysis of a call that may leave the platform; refuses restricted or unanalysed calls."""
    reason = restricted_reason(call)
    if reason:
        raise ValidationError({"call": [f"{reason}; there is no AI output to share"]})
    if call.current_id is None:
        raise ValidationError({"call": ["The call has no analysis to share yet"]})
    return CallAnalysisResult.objects.select_related("reviewed_by").get(pk=call.current_id)


def needs_confirmation(result: CallAnalysisResult) -> bool:
    """Anything short of an approval (unreviewed, or corrected but not approved) is a draft."""
    return result.review_state != ReviewState.APPROVED


def build_document(call: Call, result: CallAnalysisResult, link: str) -> SummaryDocument:
    """The document for a call's current result (no checks, no audit: see ``export_summary``)."""
    insights = result.data.get("insights") or {}
    approved = not needs_confirmation(result)
    reviewer = result.reviewed_by
    started = timezone.localtime(call.started_at or call.created_at)
    return SummaryDocument(
        title=f"Call summary: {call.title}",
        call_id=str(call.pk),
        link=link,
        product=branding.for_organization(call.tenant).product_name,
        started_at=f"{started:%d %b %Y %H:%M %Z}",
        duration_seconds=round(call.duration, 1),
        agent=(getattr(call.agent, "email", "") if call.agent_id else "") or "unknown",
        contact=str(call.contact) if call.contact_id else (call.customer_number or "unknown"),
        review_state=result.review_state,
        label=None if approved else UNREVIEWED_LABEL,
        approved_by=(getattr(reviewer, "email", "") or "a former member") if approved else None,
        approved_at=f"{timezone.localtime(result.reviewed_at):%d %b %Y %H:%M %Z}"
        if approved and result.reviewed_at
        else None,
        model={"name": result.model, "version": result.model_version, "pipeline": result.pipeline_version},
        summary=insights.get("summary", "") or "(no summary)",
        action_items=[
            {
                "text": item.get("text", ""),
                "owner": speaker_name(item.get("owner", "unknown")),
                "due": _due_text(item),
            }
            for item in insights.get("action_items") or []
        ],
        metrics=flat_metrics(insights.get("metrics") or {}),
        sentiment=(insights.get("sentiment") or {}).get("overall"),
        roles_known=roles_known(result.data),
        warnings=[str(w) for w in result.data.get("warnings") or []],
    )


def _facts(doc: SummaryDocument) -> list[str]:
    minutes, seconds = divmod(int(round(doc.duration_seconds)), 60)
    return [
        f"Date: {doc.started_at}",
        f"Duration: {minutes} min {seconds:02d} s",
        f"Agent: {doc.agent}",
        f"Contact: {doc.contact}",
    ]


def _due_text(item: dict) -> str | None:
    """ "by Wednesday (Wed 9 Dec 2026)" when the analysis worked out the date, else the phrase."""
    import datetime

    due = item.get("due")
    try:
        day = datetime.date.fromisoformat(item["due_date"]) if isinstance(item.get("due_date"), str) else None
    except ValueError:
        day = None
    if day is None:
        return due
    return f"{due} ({day:%a %-d %b %Y})" if due else f"{day:%a %-d %b %Y}"


def _item_line(item: dict) -> str:
    due = f", due: {item['due']}" if item.get("due") else ""
    return f"{item['text']} (owner: {item['owner']}{due})"


def _metric_lines(doc: SummaryDocument) -> list[str]:
    lines = [f"{metric_label(name)}: {format_metric(name, value)}" for name, value in doc.metrics.items()]
    if doc.sentiment is not None:
        lines.append(f"Overall sentiment: {doc.sentiment:+.2f}")
    return lines


def render_markdown(doc: SummaryDocument) -> str:
    """The document as Markdown (also the plain-text email body)."""
    status = f"**{doc.label}.** {doc.provenance_line}." if doc.label else doc.status_line
    parts = [f"# {doc.title}", "", f"> {status}", ""]
    parts += [f"> **Warning:** {note}" for note in doc.notes] + ([""] if doc.notes else [])
    parts += [f"- {fact}" for fact in _facts(doc)]
    parts += ["", "## Summary", "", doc.summary, "", "## Action items", ""]
    parts += [f"- {_item_line(item)}" for item in doc.action_items] or ["None found."]
    parts += ["", "## Key metrics", ""]
    parts += [f"- {line}" for line in _metric_lines(doc)] or ["None."]
    parts += ["", f"Open the call in {doc.product}: {doc.link}", ""]
    return "\n".join(parts)


def render_pdf(doc: SummaryDocument) -> bytes:
    """The document as a one- or two-page PDF, the label (or the approval) right under the title."""
    from octopushx.shield.records import pdf

    lines: list[tuple[str, str]] = [("h2", doc.label.upper())] if doc.label else []
    lines += [("p", doc.status_line)]
    lines += [("p", f"Warning: {note}") for note in doc.notes]
    lines += [("p", "")]
    lines += [("p", fact) for fact in _facts(doc)]
    lines += [("h2", "Summary"), ("p", doc.summary), ("h2", "Action items")]
    lines += [("p", f"- {_item_line(item)}") for item in doc.action_items] or [("p", "None found.")]
    lines += [("h2", "Key metrics")] + [("p", line) for line in _metric_lines(doc)]
    lines += [("p", ""), ("p", f"Open the call in {doc.product}: {doc.link}")]
    return pdf.render(doc.title, lines, brand=doc.product)


def render_json(doc: SummaryDocument) -> bytes:
    data = asdict(doc)
    data["status"] = doc.status_line
    data["notes"] = doc.notes
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


RENDERERS = {
    "md": lambda doc: render_markdown(doc).encode(),
    "pdf": render_pdf,
    "json": render_json,
}


def _checked(call: Call, confirm_unreviewed: bool, link: str) -> tuple[CallAnalysisResult, SummaryDocument]:
    result = shareable_result(call)
    if needs_confirmation(result) and not confirm_unreviewed:
        raise ValidationError({"confirm_unreviewed": [CONFIRM_MESSAGE]}, code="confirmation_required")
    return result, build_document(call, result, link)


def _record(tenant, actor: Actor, call: Call, result: CallAnalysisResult, how: str, **extra: str) -> None:
    changes: dict = {
        "format": [None, how],
        "rows": [None, 1],
        "review_state": [None, result.review_state],
        "labelled": [None, needs_confirmation(result)],
        "result_run": [None, result.run],
    }
    changes.update({name: [None, value] for name, value in extra.items()})
    audit.record(tenant, actor, "call.exported", obj=call, changes=changes)


def export_summary(
    tenant, actor: Actor, call: Call, fmt: str, *, link: str, confirm_unreviewed: bool = False
) -> tuple[str, str, bytes]:
    """The summary file ``(filename, content type, bytes)`` in ``md``, ``pdf`` or ``json``; audited.

    A draft needs ``confirm_unreviewed`` (else ``ValidationError`` on that field) and is labelled.
    """
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"One of {', '.join(FORMATS)}"]})
    result, doc = _checked(call, confirm_unreviewed, link)
    body = RENDERERS[fmt](doc)
    content_type, extension = FORMATS[fmt]
    with transaction.atomic():
        _record(tenant, actor, call, result, fmt)
    suffix = "-unreviewed" if doc.label else ""
    return f"call-summary-{call.pk}{suffix}.{extension}", content_type, body


def email_summary(
    tenant, actor: Actor, call: Call, to: str, *, link: str, confirm_unreviewed: bool = False, message: str = ""
) -> SummaryDocument:
    """Send the summary to one address: the text in the message, the PDF attached; audited (with the address).

    Refused before anything is sent when the address is invalid, the call is restricted or has no
    analysis, or a draft is sent without ``confirm_unreviewed``.
    """
    to = (to or "").strip()
    message = (message or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(to)
    except ValidationError:
        errors["to"] = ["A valid email address, such as name@example.com"]
    if len(message) > MESSAGE_MAX:
        errors["message"] = [f"At most {MESSAGE_MAX} characters"]
    if errors:
        raise ValidationError(errors)
    result, doc = _checked(call, confirm_unreviewed, link)
    sender = actor.label or "A colleague"
    intro = f"{sender} shared this call summary from {tenant.name} with you."
    body = "\n\n".join(part for part in (intro, message, render_markdown(doc)) if part)
    subject = f"[{doc.label}] {doc.title}" if doc.label else doc.title
    with transaction.atomic():
        _record(tenant, actor, call, result, "email", recipient=to)
        email = EmailMessage(subject[:200], body, branding.for_organization(tenant).from_email, [to])
        suffix = "-unreviewed" if doc.label else ""
        email.attach(f"call-summary-{call.pk}{suffix}.pdf", render_pdf(doc), "application/pdf")
        email.send()  # a failed send rolls the audit entry back
    return doc
