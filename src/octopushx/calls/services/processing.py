"""Processing state of a call: queued, failed, retried, skipped (restricted) and the stored result of a run."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from octopushx import intelligence
from octopushx.calls.models import (
    Call,
    CallAnalysisResult,
    CallStatus,
    ReviewState,
    Utterance,
    headline_metrics,
)
from octopushx.calls.services import trackers
from octopushx.calls.services.intake import (
    _submit_processing,
)
from octopushx.core import audit, entitlements, events, jobs
from octopushx.core.context import Actor
from octopushx.crm.models import Contact


def mark(call: Call, status: str, *, failure_reason: str = "", skip_reason: str = "") -> None:
    call.status = status
    call.failure_reason = failure_reason[:500]
    call.skip_reason = skip_reason[:300]
    call.save(update_fields=["status", "failure_reason", "skip_reason", "updated_at"])


def fail(call: Call, reason: str) -> None:
    """The call failed for good: the reason is shown beside a retry action."""
    with transaction.atomic():
        mark(call, CallStatus.FAILED, failure_reason=reason)
        audit.record(
            call.tenant, Actor.system("calls"), "call.failed", obj=call, changes={"reason": [None, reason[:200]]}
        )
        events.emit(call.tenant, "call.failed", {"call_id": str(call.pk)})


# --- the transcription quota (the plan's included minutes; core.entitlements asks billing) ---------------

METRIC = "transcription_minutes"


def minutes_of(call: Call) -> Decimal:
    return (Decimal(str(call.duration or 0)) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quota_refusal(call: Call, before: Decimal = Decimal(0)) -> str | None:
    """Why analysing ``call`` (after ``before`` minutes already let through) must wait, or None."""
    return entitlements.usage_refusal(call.tenant, METRIC, before + minutes_of(call), key=str(call.pk))


def hold_over_quota(call: Call, message: str) -> None:
    """The call waits, visibly, with the way out; nothing is lost (``release_over_quota`` resumes it)."""
    with transaction.atomic():
        mark(call, CallStatus.OVER_QUOTA, skip_reason=message)
        audit.record(
            call.tenant, Actor.system("calls"), "call.over_quota", obj=call, changes={"status": [None, "over_quota"]}
        )


def release_over_quota() -> int:
    """Queue waiting calls again, oldest first, as far as each tenant's minutes now allow."""
    released = 0
    tenants = set(Call.objects.filter(status=CallStatus.OVER_QUOTA).values_list("tenant_id", flat=True))
    for tenant_id in tenants:
        let_through = Decimal(0)
        waiting = Call.objects.filter(tenant_id=tenant_id, status=CallStatus.OVER_QUOTA).select_related("tenant")
        for call in waiting.order_by("created_at"):
            if quota_refusal(call, let_through):
                break  # the oldest waits first: later calls do not jump the queue
            let_through += minutes_of(call)
            with transaction.atomic():
                mark(call, CallStatus.QUEUED)
                _submit_processing(call, next_run(call), nonce=uuid.uuid4().hex[:8])
            released += 1
    return released


def next_run(call: Call) -> int:
    return (call.results.aggregate(top=Max("run"))["top"] or 0) + 1


def retry(tenant, actor: Actor, call: Call) -> Call:
    """Queue a new analysis run: after a failure, or to reprocess (the old result is kept)."""
    if call.status in (CallStatus.QUEUED, CallStatus.PROCESSING, CallStatus.FETCHING):
        raise ValidationError({"status": ["The call is already being processed"]})
    if call.recording_id is None and call.redacted_id is None:
        if call.recording_url:
            with transaction.atomic():
                mark(call, CallStatus.FETCHING)
                audit.record(tenant, actor, "call.retried", obj=call, changes={"status": ["failed", "fetching"]})
                jobs.submit(
                    "calls.fetch",
                    tenant=tenant,
                    payload={"call_id": str(call.pk)},
                    dedupe_key=f"calls.fetch:{call.pk}:{uuid.uuid4().hex[:8]}",
                )
            return call
        raise ValidationError({"status": ["The recording of this call is not stored"]})
    old = call.status
    with transaction.atomic():
        mark(call, CallStatus.QUEUED)
        audit.record(tenant, actor, "call.retried", obj=call, changes={"status": [old, CallStatus.QUEUED]})
        _submit_processing(call, next_run(call), nonce=uuid.uuid4().hex[:8])
    return call


def save_result(
    call: Call, run: int, job_id, analysis: intelligence.CallAnalysis, peaks: list[float]
) -> CallAnalysisResult:
    """Write one run's result, its transcript lines and the call's headline values (one transaction)."""
    data = analysis.to_dict(words=False)
    original = data.pop("original_utterances", None)
    provenance = data.get("provenance", {})
    with transaction.atomic():
        result, created = CallAnalysisResult.objects.get_or_create(
            call=call,
            run=run,
            defaults=dict(
                tenant=call.tenant,
                job_id=job_id,
                pipeline_version=provenance.get("pipeline_version", ""),
                model=provenance.get("asr_model", ""),
                model_version=provenance.get("asr_model_version", ""),
                analysis_settings=provenance.get("settings", {}),
                provenance=provenance,
                data=data,
                original=original,
            ),
        )
        if not created:
            return result
        Utterance.objects.bulk_create(
            [
                Utterance(
                    tenant=call.tenant,
                    call=call,
                    result=result,
                    position=index,
                    speaker=u["speaker"],
                    start=u["start"],
                    end=u["end"],
                    text=u["text"],
                    sentiment=u.get("sentiment", 0.0),
                )
                for index, u in enumerate(data.get("utterances", []))
            ]
        )
        insights = data.get("insights", {})
        call.current = result
        call.summary = insights.get("summary", "")
        call.sentiment = (insights.get("sentiment") or {}).get("overall")
        call.review_state = ReviewState.UNREVIEWED
        call.metrics = headline_metrics(data)
        call.duration = round(data.get("audio", {}).get("duration") or call.duration, 2)
        call.peaks = peaks
        call.status = CallStatus.ANALYSED
        call.failure_reason = ""
        call.skip_reason = ""
        call.save()
        trackers.evaluate_call(call)
        audit.record(
            call.tenant,
            Actor.system("calls"),
            "call.analysed",
            obj=call,
            changes={"run": [None, run], "model": [None, result.model]},
        )
        events.emit(call.tenant, "call.analysed", {"call_id": str(call.pk), "result_id": str(result.pk), "run": run})
    return result


def restricted_reason(call: Call) -> str:
    if call.contact_id and Contact.objects.filter(pk=call.contact_id, restricted=True).exists():
        return "The contact has restricted processing (GDPR): the recording is kept but not analysed"
    return ""
