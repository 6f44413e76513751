"""How call intelligence's audit entries read in Shield's trail; calls by their title."""

from __future__ import annotations

from octopushx.calls.models import Call
from octopushx.core.audit_labels import labels, names

labels(
    {
        "call.created": "Call added",
        "call.updated": "Call updated",
        "call.deleted": "Call deleted",
        "call.analysed": "Call analysed",
        "call.failed": "Call analysis failed",
        "call.retried": "Call analysis retried",
        "call.reviewed": "Call reviewed",
        "call.approved": "Call approved",
        "call.corrected": "Transcript corrected",
        "call.exported": "Calls exported",
        "call.original_viewed": "Original recording opened",
        "call.recording_purged": "Recording purged",
        "call.transcript_purged": "Transcript purged",
        "call_settings.updated": "Call settings changed",
        "calls.fetch": "Calls fetched from the phone system",
    },
    object_types={"call": "Call", "calls": "Calls", "call_settings": "Call settings", "callsettings": "Call settings"},
    fields={"from_number": "From", "to_number": "To", "external_id": "Reference"},
    system_actors={"calls": "Call processing"},
)


@names("call")
def call_names(tenant, ids: set[str]) -> dict[str, str]:
    calls = Call.objects.filter(tenant=tenant, pk__in=ids).select_related("contact")
    return {str(call.pk): call.title for call in calls}


# QA scorecards (calls.services.scorecards)
labels(
    {
        "scorecard.created": "Scorecard created",
        "scorecard.updated": "Scorecard changed",
        "scorecard.deleted": "Scorecard deleted",
        "call_score.saved": "Call score saved as a draft",
        "call_score.submitted": "Call score submitted",
        "call_score.acknowledged": "Call score acknowledged by the agent",
        "call_score.disputed": "Call score disputed by the agent",
        "call_score.resolved": "Call score dispute resolved",
        "call_score.model_requested": "Language model asked for QA suggestions",
    },
    object_types={"scorecard": "Scorecard", "callscore": "Call score"},
    fields={"applies_to": "Applies to", "is_active": "Active", "question_id": "Question", "percent": "Percentage"},
)


@names("scorecard")
def scorecard_names(tenant, ids: set[str]) -> dict[str, str]:
    from octopushx.calls.models import Scorecard

    return {str(pk): name for pk, name in Scorecard.objects.filter(tenant=tenant, pk__in=ids).values_list("pk", "name")}


@names("callscore")
def call_score_names(tenant, ids: set[str]) -> dict[str, str]:
    from octopushx.calls.models import CallScore

    scores = CallScore.objects.filter(tenant=tenant, pk__in=ids).select_related("scorecard", "call", "call__contact")
    return {str(s.pk): f"{s.scorecard.name}: {s.call.title}" for s in scores}
