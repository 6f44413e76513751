"""API of cloud telephony: call flows (CRUD, validate, simulate, compiled TwiML/NCCO), the recorded
greetings they play, and presence.

Owners and admins change flows; managers and auditors read them, simulate calls and see the
compiled documents; agents have no flows (403). Each member reads and sets their own presence
(auditors, who take no calls, only read theirs).
Another organisation's flow is 404. A definition that does not hold together is 422 with one
message list per field, named by block id (``definition.blocks.menu.options.3``), and nothing is saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import WithJsonSchema

from octopushx.api.errors import ErrorOut
from octopushx.api.pagination import paginate
from octopushx.core import blobs
from octopushx.telephony import flows, prompts, services
from octopushx.telephony.compile import PROVIDERS
from octopushx.telephony.models import AudioPrompt, CallFlow, Presence

router = Router(tags=["telephony"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# A definition is read as JSON and checked by ``flows`` (so errors name blocks by id, not list
# positions); the OpenAPI document carries its full JSON Schema.
Definition = Annotated[dict[str, Any], WithJsonSchema(flows.json_schema())]


class FlowIn(Schema):
    definition: Definition = Field(description="The flow: name, timezone, start, blocks")
    is_active: bool = True


class FlowPatch(Schema):
    definition: Definition | None = None
    is_active: bool | None = None


class CheckIn(Schema):
    definition: Definition


class Person(Schema):
    id: str
    email: str


class FlowSummaryOut(Schema):
    id: str
    name: str
    is_active: bool
    revision: int
    blocks: int
    created_at: datetime
    updated_at: datetime
    created_by: Person | None


class FlowOut(FlowSummaryOut):
    definition: Definition
    warnings: dict[str, list[str]] = {}


class FlowList(Schema):
    items: list[FlowSummaryOut]
    next: str | None


class CheckOut(Schema):
    ok: bool
    errors: dict[str, list[str]]
    warnings: dict[str, list[str]]


class SimulateIn(Schema):
    from_: str = Field(alias="from", description="The caller's number, international (+447700900123)")
    at: datetime = Field(description="When the call comes in; without a zone, in the flow's time zone")
    digits: list[Annotated[str, Field(pattern=r"^[0-9*#]$")]] = Field(
        default_factory=list, max_length=20, description="Keys pressed at each menu, in order"
    )
    unanswered: bool = Field(False, description="Follow what happens when nobody answers a ring group or forward")


class StepOut(Schema):
    block: str
    type: str
    outcome: str
    detail: str


class SimulationOut(Schema):
    caller: str
    country: str
    local_time: str
    path: list[str]
    steps: list[StepOut]
    ends: str


class CompiledOut(Schema):
    provider: Literal["twilio", "vonage"]
    block: str
    content_type: str
    twiml: str | None = Field(None, description="Twilio: the TwiML document")
    ncco: list[dict[str, Any]] | None = Field(None, description="Vonage: the NCCO array")


class PresenceIn(Schema):
    status: Literal["available", "busy", "away", "offline"]


class PresenceOut(Schema):
    status: str
    set_by: str
    chosen: str = Field(description="The status the member chose (restored when a call ends)")
    in_call_since: datetime | None
    updated_at: datetime | None


# --- helpers --------------------------------------------------------------------------------------


def _read(request) -> None:
    if not services.can_read(getattr(request, "membership", None)):
        raise PermissionDenied("Call flows are for owners, admins, managers and auditors")


def _edit(request) -> None:
    if not services.can_edit(getattr(request, "membership", None)):
        raise PermissionDenied("Only owners and admins change call flows")


def _flow(request, flow_id: str) -> CallFlow:
    return CallFlow.objects.get_for_tenant(request.tenant, flow_id)


def _summary(row: CallFlow) -> dict:
    user = row.created_by
    return {
        "id": str(row.pk),
        "name": row.name,
        "is_active": row.is_active,
        "revision": row.revision,
        "blocks": len(row.definition.get("blocks", [])),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "created_by": {"id": str(user.pk), "email": user.email} if user else None,
    }


def _out(row: CallFlow, warnings: dict | None = None) -> dict:
    return {**_summary(row), "definition": row.definition, "warnings": warnings or {}}


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# --- flows ----------------------------------------------------------------------------------------


@router.get("/telephony/flows", summary="List call flows", response={200: FlowList, **ERRORS})
def list_flows(request, cursor: str | None = None, limit: int = 50):
    _read(request)
    rows, next_cursor = paginate(services.flow_rows(request.tenant), cursor=cursor, limit=limit)
    return {"items": [_summary(r) for r in rows], "next": next_cursor}


@router.post("/telephony/flows", summary="Create a call flow", response={201: FlowOut, **ERRORS})
def create_flow(request, payload: FlowIn):
    """Revision 1. The answer carries the definition's warnings (a schedule that never opens, …)."""
    _edit(request)
    row, warnings = services.create_flow(request.tenant, request.actor, payload.definition,
                                         is_active=payload.is_active)  # fmt: skip
    return 201, _out(row, warnings)


@router.post("/telephony/flows/validate", summary="Check a definition without saving it", response={200: CheckOut, **ERRORS})  # fmt: skip
def validate_flow(request, payload: CheckIn):
    """Always 200: ``errors`` and ``warnings`` by field, naming blocks by id (what the editor shows)."""
    _read(request)
    errors, warnings = services.validate_definition(request.tenant, payload.definition)
    return {"ok": not errors, "errors": errors, "warnings": warnings}


@router.get("/telephony/flows/{flow_id}", summary="Get a call flow", response={200: FlowOut, **ERRORS})
def get_flow(request, flow_id: str):
    _read(request)
    row = _flow(request, flow_id)
    return _out(row, flows.check(flows.parse(row.definition))[1])


@router.patch("/telephony/flows/{flow_id}", summary="Change a call flow", response={200: FlowOut, **ERRORS})
def update_flow(request, flow_id: str, payload: FlowPatch):
    """A changed definition raises the revision; ``is_active`` switches the flow on or off."""
    _edit(request)
    row, warnings = services.update_flow(request.tenant, request.actor, _flow(request, flow_id),
                                         definition=payload.definition, is_active=payload.is_active)  # fmt: skip
    return _out(row, warnings)


@router.delete("/telephony/flows/{flow_id}", summary="Delete a call flow", response={204: None, **ERRORS})
def delete_flow(request, flow_id: str):
    _edit(request)
    services.delete_flow(request.tenant, request.actor, _flow(request, flow_id))
    return 204, None


@router.post(
    "/telephony/flows/{flow_id}/simulate",
    summary="Simulate a call through a flow",
    response={200: SimulationOut, **ERRORS},
)
def simulate_flow(request, flow_id: str, payload: SimulateIn):
    """What happens to a call from ``from`` at ``at`` pressing ``digits``, with the members' presence
    now: the blocks it passes (``path``) and what happens at each (``steps``). Changes nothing."""
    _read(request)
    result = services.simulate_flow(request.tenant, _flow(request, flow_id), caller=payload.from_, at=payload.at,
                                    digits=payload.digits, unanswered=payload.unanswered)  # fmt: skip
    return result.as_dict()


@router.get(
    "/telephony/flows/{flow_id}/compiled",
    summary="The TwiML or NCCO a block answers with",
    response={200: CompiledOut, **ERRORS},
)
def compiled_block(request, flow_id: str, provider: str = Query(...), block: str = Query(...)):
    """The document ``block`` answers a call with now (members available now ring)."""
    _read(request)
    row = _flow(request, flow_id)  # another organisation's flow is a 404 before anything else
    if provider not in PROVIDERS:
        raise ValidationError({"provider": [f"One of {', '.join(PROVIDERS)}"]})
    document = services.compile_flow(request.tenant, row, block_id=block, provider=provider,
                                     base_url=_base_url(request))  # fmt: skip
    if provider == "twilio":
        return {"provider": provider, "block": block, "content_type": "application/xml", "twiml": document}
    return {"provider": provider, "block": block, "content_type": "application/json", "ncco": document}


# --- recorded greetings ---------------------------------------------------------------------------


class RecordingOut(Schema):
    id: str
    name: str
    duration_s: float
    size: int = Field(description="Bytes of the stored 16 kHz 16-bit mono WAV")
    played_by: list[str] = Field(description="Names of the flows whose blocks play it")
    created_at: datetime
    created_by: Person | None


class RecordingList(Schema):
    items: list[RecordingOut]


def _recording_out(row: AudioPrompt, uses: dict[str, list[str]]) -> dict:
    user = row.created_by
    return {"id": str(row.pk), "name": row.name, "duration_s": row.duration_s, "size": row.blob.size,
            "played_by": uses.get(str(row.pk), []), "created_at": row.created_at,
            "created_by": {"id": str(user.pk), "email": user.email} if user else None}  # fmt: skip


def _recording(request, recording_id: str) -> AudioPrompt:
    return AudioPrompt.objects.select_related("blob", "created_by").get_for_tenant(request.tenant, recording_id)


@router.get("/telephony/recordings", summary="List recorded greetings", response={200: RecordingList, **ERRORS})
def list_recordings(request):
    _read(request)
    uses = prompts.used_by(request.tenant)
    rows = prompts.rows(request.tenant).select_related("blob", "created_by")
    return {"items": [_recording_out(row, uses) for row in rows]}


@router.post("/telephony/recordings", summary="Upload a recorded greeting", response={201: RecordingOut, **ERRORS})
def upload_recording(request, file: File[UploadedFile], name: Form[str | None] = None):
    """Multipart: ``file`` (any audio the call intake reads, five minutes at most) and an optional ``name``
    (the file's name by default). Blocks play it by its ``id`` in their ``recording`` field."""
    _edit(request)
    row = prompts.upload(request.tenant, request.actor, name=name or "", source=file, filename=file.name or "")
    return 201, _recording_out(row, {})


@router.get("/telephony/recordings/{recording_id}/audio", summary="Listen to a recorded greeting (WAV)",
            response={200: None, **ERRORS})  # fmt: skip
def recording_audio(request, recording_id: str):
    _read(request)
    row = _recording(request, recording_id)
    response = StreamingHttpResponse(blobs.read(row.blob), content_type="audio/wav")
    response["Content-Length"] = str(row.blob.size)
    return response


@router.delete("/telephony/recordings/{recording_id}", summary="Delete a recorded greeting",
               response={204: None, **ERRORS})  # fmt: skip
def delete_recording(request, recording_id: str):
    """422 while a flow plays it (the message names the flows)."""
    _edit(request)
    prompts.delete(request.tenant, request.actor, _recording(request, recording_id))
    return 204, None


# --- presence -------------------------------------------------------------------------------------


def _presence_out(presence: Presence) -> dict:
    return {
        "status": presence.effective_status(),
        "set_by": presence.set_by,
        "chosen": presence.manual_status,
        "in_call_since": presence.in_call_since,
        "updated_at": None if presence._state.adding else presence.updated_at,
    }


def _member(request, *, setting: bool = False):
    membership = getattr(request, "membership", None)
    if membership is None:
        raise PermissionDenied("Only members have a presence")
    if setting and not services.takes_calls(membership):
        raise PermissionDenied("Auditors do not take calls: their presence stays offline")
    return membership.user


@router.get("/telephony/presence", summary="Your presence", response={200: PresenceOut, **ERRORS})
def get_presence(request):
    return _presence_out(services.presence_of(request.tenant, _member(request)))


@router.put("/telephony/presence", summary="Set your presence", response={200: PresenceOut, **ERRORS})
def set_presence(request, payload: PresenceIn):
    """Available, busy, away or offline. During a live call you stay busy; your choice applies at hang-up."""
    user = _member(request, setting=True)
    return _presence_out(services.set_presence(request.tenant, request.actor, user, payload.status))
