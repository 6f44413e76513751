"""Recorded greetings: the page that lists, uploads, plays and deletes them (owners and admins change
them; managers and auditors listen), and the audio the page plays."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from octopushx.core import blobs
from octopushx.telephony import prompts, services
from octopushx.telephony.views import editor, reader


def _page(request, *, errors: dict | None = None, name: str = "", status: int = 200):
    uses = prompts.used_by(request.tenant)
    items = [{"row": row, "flows": uses.get(str(row.pk), [])} for row in prompts.rows(request.tenant)]
    context = {
        "items": items,
        "can_edit": services.can_edit(request.membership),
        "errors": errors or {},
        "name": name,
        "max_minutes": prompts.MAX_SECONDS // 60,
    }
    return render(request, "telephony/recordings.html", context, status=status)


@reader
@require_http_methods(["GET", "POST"])
def recordings_page(request):
    if request.method == "GET":
        return _page(request)
    if not services.can_edit(request.membership):
        return _page(request, errors={"file": ["Only owners and admins upload recordings"]}, status=403)
    upload = request.FILES.get("file")
    name = request.POST.get("name", "").strip()
    if upload is None:
        return _page(request, errors={"file": ["Choose an audio file"]}, name=name, status=422)
    try:
        row = prompts.upload(request.tenant, request.actor, name=name, source=upload, filename=upload.name)
    except ValidationError as exc:
        return _page(request, errors=exc.message_dict, name=name, status=422)
    messages.success(
        request, f"“{row.name}” uploaded ({row.duration_s:.1f} s). Choose it in a greeting or voicemail block."
    )
    return redirect("telephony:recordings")


@editor
@require_POST
def recording_delete(request, prompt_id):
    row = get_object_or_404(prompts.rows(request.tenant), pk=prompt_id)
    try:
        prompts.delete(request.tenant, request.actor, row)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, f"“{row.name}” deleted.")
    return redirect("telephony:recordings")


@reader
def recording_audio(request, prompt_id):
    row = get_object_or_404(prompts.rows(request.tenant).select_related("blob"), pk=prompt_id)
    response = StreamingHttpResponse(blobs.read(row.blob), content_type="audio/wav")
    response["Content-Length"] = str(row.blob.size)
    response["Cache-Control"] = "private, no-store"
    return response
