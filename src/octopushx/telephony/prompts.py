"""Recorded greetings: audio an organisation uploads for its greeting and voicemail blocks.

An upload is decoded (any format the call intake reads: WAV, MP3, M4A, OGG, …), checked (sound in
it, five minutes at most) and stored as a 16 kHz 16-bit mono WAV sealed with the tenant's key, the
one format both Twilio's ``<Play>`` and Vonage's ``stream`` play. A block names its recording by id.

Providers fetch audio without credentials, so the URL a compiled flow carries is signed and
expires (``media_url``); ``/hooks/telephony/media/<flow>/<prompt>`` streams the decrypted WAV to a
request holding a valid one, and to no other.
"""

from __future__ import annotations

import io
import uuid
import wave
from typing import IO

import numpy as np
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from octopushx.core import audit, blobs, events
from octopushx.core.context import Actor
from octopushx.intelligence import audio
from octopushx.intelligence.errors import AudioError
from octopushx.telephony.models import AudioPrompt, CallFlow

MAX_SECONDS = 300
URL_LIFETIME_S = 3600  # a flow's document is fetched at once; its audio right after
_SALT = "octopushx.telephony.media"
_SILENCE = 1e-3  # peak amplitude below which a recording holds nothing a caller would hear


def rows(tenant):
    return AudioPrompt.objects.for_tenant(tenant).order_by("name")


def _wav(samples: np.ndarray) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(audio.SAMPLE_RATE)
        handle.writeframes(pcm.tobytes())
    return out.getvalue()


def upload(tenant, actor: Actor, *, name: str, source: IO[bytes], filename: str = "") -> AudioPrompt:
    """A new recorded greeting from an uploaded audio file; ``ValidationError`` names the field at fault."""
    name = (name or "").strip() or (filename.rsplit(".", 1)[0].strip() if filename else "")
    if not name:
        raise ValidationError({"name": ["Give the recording a name"]})
    if len(name) > 120:
        raise ValidationError({"name": ["At most 120 characters"]})
    if rows(tenant).filter(name=name).exists():
        raise ValidationError({"name": [f"A recording called {name!r} exists"]})
    try:
        decoded = audio.decode(source, max_duration=MAX_SECONDS, mono=True)
    except AudioError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    samples = decoded.samples[0]
    if not samples.size or float(np.abs(samples).max()) < _SILENCE:
        raise ValidationError({"file": ["The recording is silent"]})
    blob = None
    try:
        with transaction.atomic():
            blob = blobs.store(tenant, _wav(samples), filename=f"{name}.wav", content_type="audio/wav",
                               purpose="telephony.prompt")  # fmt: skip
            row = AudioPrompt.objects.create(tenant=tenant, name=name, blob=blob, duration_s=round(decoded.duration, 2),
                                             created_by=actor.user)  # fmt: skip
            audit.record(tenant, actor, "audio_prompt.created", obj=row,
                         changes={"name": [None, name], "duration_s": [None, row.duration_s]})  # fmt: skip
            events.emit(tenant, "audio_prompt.created", {"prompt_id": str(row.pk), "name": name})
    except IntegrityError:  # the same name uploaded at the same moment: no stray file either
        if blob is not None:
            blobs.delete(blob)
        raise ValidationError({"name": [f"A recording called {name!r} exists"]}) from None
    return row


def used_by(tenant) -> dict[str, list[str]]:
    """Recording id → the names of the flows whose blocks play it."""
    uses: dict[str, list[str]] = {}
    for flow in CallFlow.objects.for_tenant(tenant).order_by("name").only("name", "definition"):
        ids = {b.get("recording") for b in flow.definition.get("blocks", []) if isinstance(b, dict)}
        for prompt_id in ids - {None, ""}:
            uses.setdefault(str(prompt_id), []).append(flow.name)
    return uses


def delete(tenant, actor: Actor, row: AudioPrompt) -> None:
    """Remove a recording no flow plays (its sealed file with it)."""
    flows_using = used_by(tenant).get(str(row.pk))
    if flows_using:
        raise ValidationError({"prompt": [f"Played by {', '.join(flows_using)}: choose another greeting there first"]})
    with transaction.atomic():
        audit.record(tenant, actor, "audio_prompt.deleted", obj=row, changes={"name": [row.name, None]})
        events.emit(tenant, "audio_prompt.deleted", {"prompt_id": str(row.pk), "name": row.name})
        blobs.delete(row.blob)  # the row goes with its file (cascade)


def unknown_ids(tenant, ids: set[str]) -> set[str]:
    """The ids among ``ids`` that are not this organisation's recordings."""
    wanted = {i for i in ids if i and _uuid_like(i)}
    valid = {str(pk) for pk in rows(tenant).filter(pk__in=wanted).values_list("pk", flat=True)}
    return {i for i in ids if i} - valid


def _uuid_like(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- the URL providers fetch ---------------------------------------------------------------------


def media_url(base_url: str, flow_id, prompt_id: str) -> str:
    """``{base}/hooks/telephony/media/<flow>/<prompt>?t=…``, valid for ``URL_LIFETIME_S``."""
    token = signing.TimestampSigner(salt=_SALT).sign(f"{flow_id}/{prompt_id}").rsplit(":", 2)
    return f"{base_url}/hooks/telephony/media/{flow_id}/{prompt_id}?t={token[1]}:{token[2]}"


def url_valid(flow_id, prompt_id, token: str) -> bool:
    try:
        signing.TimestampSigner(salt=_SALT).unsign(f"{flow_id}/{prompt_id}:{token}", max_age=URL_LIFETIME_S)
    except signing.BadSignature:  # SignatureExpired is one
        return False
    return True
