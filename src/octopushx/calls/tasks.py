"""Call jobs: fetch a provider's recording, then analyse it (decrypt, analyse, redact, store).

Both are idempotent: the ``(call, run)`` result row is written once, a redacted copy made for a
run is reused when the run is repeated, and a fetched recording is not fetched again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

import av
import numpy as np
from django.core.exceptions import ValidationError

from octopushx import intelligence
from octopushx.calls import fetch as fetching
from octopushx.calls import services
from octopushx.calls.models import Call, CallAnalysisResult, CallStatus, Provider
from octopushx.calls.services import scorecards, trackers
from octopushx.core import blobs, jobs

log = logging.getLogger(__name__)
PEAKS = 800
# Lossless sources keep their format. A lossy source (MP3, M4A, OGG…) is not re-encoded lossily:
# that took 3 to 6 s per minute of audio (up to a third of the analysis time) and would add a second
# generation of artefacts; FLAC is written as fast as WAV at about a quarter of its size.
REDACTED_FORMATS = (".wav", ".flac")
REDACTED_DEFAULT = ".flac"


def _call(job) -> Call | None:
    return (
        Call.objects.for_tenant(job.tenant)
        .select_related("tenant", "recording", "redacted", "contact")
        .filter(pk=job.payload.get("call_id"))
        .first()
    )


def _write_blob(blob, path: str) -> None:
    with open(path, "wb") as handle:
        for piece in blobs.read(blob):
            handle.write(piece)


def peaks(path: str, count: int = PEAKS) -> list[float]:
    """Loudest absolute sample per slice of the recording (0..1), for the waveform in the UI."""
    try:
        with av.open(path, metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=8000)
            blocks: list[float] = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    data = np.abs(out.to_ndarray().reshape(-1))
                    for start in range(0, data.size, 400):  # 50 ms slices at 8 kHz
                        blocks.append(float(data[start : start + 400].max(initial=0.0)))
    except (av.FFmpegError, IndexError, OSError):
        return []
    if not blocks:
        return []
    values = np.array(blocks, dtype=np.float32)
    edges = np.linspace(0, values.size, num=min(count, values.size) + 1).astype(int)
    result = [float(values[a:b].max(initial=0.0)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    top = max(result) or 1.0
    return [round(v / top, 3) for v in result]


def _local_call_time(call: Call):
    """When the call took place in its organisation's time zone: action items' "by Friday" is
    counted from this day."""
    from datetime import UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    moment = call.started_at or call.created_at
    try:
        zone = ZoneInfo(getattr(call.tenant, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


class _Heartbeat:
    """Extends the job lease at most every few seconds while the pipeline reports progress."""

    def __init__(self, job):
        self.job = job
        self.last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last > 5 or stage == "done":
            self.last = now
            jobs.heartbeat(self.job, 0.1 + 0.7 * fraction)


# Calls over the plan's included minutes wait in the "over quota" state (``services.quota_refusal``);
# every reaper round lets them through, oldest first, as far as the minutes now allow.
jobs.each_round(services.release_over_quota)


@jobs.handler("calls.process")
def process_call(job) -> dict[str, Any]:
    call = _call(job)
    if call is None:
        return {"skipped": "the call was deleted"}
    run = int(job.payload.get("run") or 1)
    if CallAnalysisResult.objects.filter(call=call, run=run).exists():
        return {"call_id": str(call.pk), "run": run, "already": True}
    reason = services.restricted_reason(call)
    if reason:
        services.mark(call, CallStatus.SKIPPED, skip_reason=reason)
        return {"call_id": str(call.pk), "skipped": "restricted"}
    source_blob = call.recording or call.redacted
    if source_blob is None:
        services.fail(call, "The recording is not stored")
        raise jobs.PermanentError("the call has no recording")
    refusal = services.quota_refusal(call)
    if refusal:
        services.hold_over_quota(call, refusal)
        return {"call_id": str(call.pk), "waiting": "over quota"}
    services.mark(call, CallStatus.PROCESSING)
    row = services.call_settings(call.tenant)
    try:
        with tempfile.TemporaryDirectory(prefix="octopushx-call-") as folder:
            suffix = os.path.splitext(call.filename or source_blob.filename)[1].lower()
            source = os.path.join(folder, "recording" + (suffix if suffix.isascii() and len(suffix) <= 6 else ""))
            _write_blob(source_blob, source)
            jobs.heartbeat(job, 0.05)
            analysis = intelligence.analyse(
                source,
                channel_roles=call.roles,
                settings=services.analysis_settings(row),
                progress=_Heartbeat(job),
                direction=call.direction,
                call_time=_local_call_time(call),
            )
            jobs.heartbeat(job, 0.85)
            redacted_name = f"{call.pk}-run{run}"
            if call.redacted is None or not call.redacted.filename.startswith(redacted_name):
                out_suffix = suffix if suffix in REDACTED_FORMATS else REDACTED_DEFAULT
                target = os.path.join(folder, "redacted" + out_suffix)
                intelligence.redact_audio(source, target, analysis.redaction)
                with open(target, "rb") as handle:
                    redacted = blobs.store(
                        call.tenant,
                        handle,
                        filename=redacted_name + out_suffix,
                        content_type=_content_type(out_suffix),
                        purpose="call.redacted",
                    )
                previous = call.redacted
                Call.objects.filter(pk=call.pk).update(redacted=redacted)
                call.redacted = redacted
                if previous is not None:
                    blobs.delete(previous)
            else:
                target = None
            jobs.heartbeat(job, 0.9)
            wave = peaks(target) if target else call.peaks
    except intelligence.AudioError as exc:
        services.fail(call, str(exc))
        raise jobs.PermanentError(str(exc))
    except Exception as exc:
        if job.attempts >= job.max_attempts:
            services.fail(call, f"{type(exc).__name__}: {exc}")
        else:
            services.mark(call, CallStatus.QUEUED, failure_reason=f"Attempt {job.attempts} failed ({exc}); retrying")
        raise
    services.save_result(call, run, job.pk, analysis, wave)
    try:  # questions left to the language model are asked in their own job; never fails the analysis
        scorecards.queue_model_suggestions(call)
    except Exception:
        log.warning("could not queue the language model's QA suggestions for call %s", call.pk, exc_info=True)
    if not row.keep_original and call.recording_id and call.redacted_id:
        original = call.recording
        Call.objects.filter(pk=call.pk).update(recording=None)
        blobs.delete(original)
    return {"call_id": str(call.pk), "run": run, "utterances": len(analysis.utterances)}


@jobs.handler(trackers.JOB_KIND)
def evaluate_tracker(job) -> dict[str, Any]:
    """A tracker was created or changed: re-evaluate past calls from their stored transcripts."""
    return trackers.run_evaluation(job)


@jobs.handler(scorecards.MODEL_JOB, on_failure=scorecards.model_job_failed)
def suggest_with_model(job) -> dict[str, Any]:
    """Ask the language model for a call's QA suggestions on one scorecard."""
    return scorecards.run_model_job(job)


def _content_type(suffix: str) -> str:
    return {".wav": "audio/wav", ".flac": "audio/flac"}[suffix]


def _recording_request(call: Call) -> tuple[str, Any, dict]:
    """The URL, auth and headers to fetch a provider's recording with the tenant's credentials."""
    url = call.recording_url
    if call.provider == Provider.TWILIO:
        row = services.call_settings(call.tenant)
        base = url[:-4] if url.endswith((".wav", ".mp3")) else url
        # RequestedChannels=2 asks Twilio for the dual-channel file (agent and customer apart).
        return (
            f"{base}.wav?RequestedChannels=2",
            (row.twilio_account_sid, services.credential(call.tenant, "twilio_auth_token")),
            {},
        )
    if call.provider == Provider.VONAGE:
        from octopushx.calls import webhooks

        token = webhooks.vonage_fetch_token(call.tenant)
        return url, None, ({"Authorization": f"Bearer {token}"} if token else {})
    return url, None, {}


@jobs.handler("calls.fetch")
def fetch_recording(job) -> dict[str, Any]:
    call = _call(job)
    if call is None:
        return {"skipped": "the call was deleted"}
    if call.recording_id:
        return {"call_id": str(call.pk), "already": True}
    row = services.call_settings(call.tenant)
    url, auth, headers = _recording_request(call)
    try:
        with tempfile.TemporaryDirectory(prefix="octopushx-fetch-") as folder:
            fetched = fetching.fetch(
                url,
                os.path.join(folder, "recording"),
                auth=auth,
                headers=headers,
                max_bytes=row.max_upload_mb * 1024 * 1024,
            )
            jobs.heartbeat(job, 0.5)
            services.attach_fetched_recording(call, fetched.path, fetched.content_type)
    except fetching.FetchError as exc:
        if exc.permanent or job.attempts >= job.max_attempts:
            services.fail(call, str(exc))
            raise jobs.PermanentError(str(exc))
        services.mark(call, CallStatus.FETCHING, failure_reason=f"{exc}; retrying")
        raise
    except ValidationError as exc:
        message = "; ".join(m for messages in exc.message_dict.values() for m in messages)
        services.fail(call, f"The fetched recording was refused: {message}")
        raise jobs.PermanentError(message)
    return {"call_id": str(call.pk), "bytes": fetched.size}
