"""Steps whose effect leaves the workflow's transaction: HTTP requests, emails and AI.

Each gets the step execution's idempotency key, the same on every attempt: HTTP requests carry it
as ``webhook-id`` (Standard Webhooks: signed with the workflow's ``whsec_`` secret over
``id.timestamp.body``) and ``Idempotency-Key``; emails as their ``Message-ID``. A receiver that
keeps the ids it has seen drops a resumed run's second send.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import strip_tags
from standardwebhooks import Webhook

from octopushx.core import crypto, keys, outbound
from octopushx.studio.models import Run, Workflow

MAX_RESPONSE = 1_000_000
STORED_RESPONSE = 65_536
AI_LABEL = "Unreviewed AI output"


class StepSkipped(Exception):
    """The step must not act (restriction, withdrawn consent); the reason shows in the history."""


def _failed(message: str, *, permanent: bool = False, output: dict | None = None):
    from octopushx.studio.engine import StepFailed

    return StepFailed(message, permanent=permanent, output=output)


# --- the workflow's signing secret -----------------------------------------------------------


def new_secret() -> str:
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def seal_secret(workflow: Workflow, secret: str) -> str:
    sealed = crypto.seal(keys.data_key(workflow.tenant), secret.encode(), f"studio:{workflow.pk}".encode())
    return base64.b64encode(sealed).decode()


def open_secret(workflow: Workflow) -> str:
    sealed = base64.b64decode(workflow.secret)
    return crypto.open_sealed(keys.data_key(workflow.tenant), sealed, f"studio:{workflow.pk}".encode()).decode()


def sign(secret: str, message_id: str, timestamp: datetime, body: bytes) -> str:
    return Webhook(secret).sign(message_id, timestamp, body)


# --- HTTP ------------------------------------------------------------------------------------


def _policy() -> outbound.Policy:
    base = outbound.Policy.from_settings()
    if settings.STUDIO_ALLOW_PRIVATE_URLS:
        return outbound.Policy(allow_private=True, allow=base.allow)
    return base


def http_request(workflow: Workflow, key: str, params: dict, ai_label: str) -> dict:
    url = str(params.get("url", "")).strip()
    method = str(params.get("method") or "POST").upper()
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise _failed(f"The URL {url!r} is not an http(s) URL", permanent=True)
    body_value = params.get("body")
    if ai_label and isinstance(body_value, dict):
        body_value = {**body_value, "ai_output_review": "unreviewed"}
    body = b"" if body_value is None else json.dumps(body_value, ensure_ascii=False).encode()
    now = datetime.now(UTC)
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    headers.update(
        {
            "webhook-id": key,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(open_secret(workflow), key, now, body),
            "Idempotency-Key": key,
            "User-Agent": "Workflow-Studio/1",  # never the platform's name: receivers may be a brand's
        }
    )
    if body_value is not None:
        headers.setdefault("Content-Type", "application/json")
    if ai_label:
        headers["X-AI-Review"] = "unreviewed"
    try:
        with outbound.client(timeout=settings.STUDIO_HTTP_TIMEOUT, policy=_policy()) as client:
            with client.stream(method, url, headers=headers, content=body or None) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE:
                        raise _failed(f"The response is larger than {MAX_RESPONSE // 1_000_000} MB", permanent=True)
                    chunks.append(chunk)
                raw = b"".join(chunks)
    except outbound.Refused as exc:
        raise _failed(f"Refused: {exc}", permanent=True) from exc
    except httpx.UnsupportedProtocol as exc:
        raise _failed(f"Refused: {exc}", permanent=True) from exc
    except httpx.TimeoutException as exc:
        raise _failed(f"No answer within {settings.STUDIO_HTTP_TIMEOUT:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise _failed(f"The request failed: {exc}") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = text[:STORED_RESPONSE]
    output = {
        "status": response.status_code,
        "body": parsed,
        "headers": {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "location")},
        "webhook_id": key,
    }
    if response.status_code >= 400:
        permanent = response.status_code < 500 and response.status_code not in (408, 425, 429)
        raise _failed(f"The server answered HTTP {response.status_code}", permanent=permanent, output=output)
    return output


# --- email -----------------------------------------------------------------------------------


def _recipients(run: Run, params: dict, record: dict) -> list[str]:
    from octopushx.crm.automation import contact_email, resolve_or_owner
    from octopushx.tenancy.models import Membership
    from octopushx.tenancy.roles import Role

    to = params.get("to", "")
    if to == "admins":
        found = Membership.objects.filter(tenant=run.tenant, role__in=(Role.OWNER, Role.ADMIN))
        emails = sorted(found.values_list("user__email", flat=True))
        if not emails:
            raise _failed("The organisation has no owner or admin to write to", permanent=True)
        return emails
    if to == "contact":
        contact_id = (
            run.contact_id or record.get("contact_id") or (record.get("id") if run.record_type == "contact" else None)
        )
        email, reason = contact_email(run.tenant, contact_id) if contact_id else ("", "the record has no contact")
        if reason:
            raise StepSkipped(reason)
        return [email]
    spec = "record_owner" if to == "record_owner" else to.split(":", 1)[1] if to.startswith("member:") else to
    member, _note = resolve_or_owner(run.tenant, spec, record, lambda: 0)
    if member is None or not member.email:
        raise _failed(f"Nobody to send to ({to}: no such member)", permanent=True)
    return [member.email]


def send_email(run: Run, workflow: Workflow, key: str, params: dict, record: dict, ai_label: str) -> dict:
    to = _recipients(run, params, record)
    html = params.get("body", "")
    subject = " ".join(str(params.get("subject", "")).split())[:200]
    if ai_label:
        html = (
            f'<p style="background:#fff4e5;padding:8px"><strong>{AI_LABEL}</strong>: written by an AI model and '
            "not yet reviewed by a person.</p>" + html
        )
    sender = run.tenant.from_email  # in the organisation's brand
    message_id = f"<{key}@{parseaddr(sender)[1].rpartition('@')[2] or 'localhost'}>"
    message = EmailMultiAlternatives(
        subject=subject,
        body=strip_tags(html.replace("<br>", "\n").replace("</p>", "</p>\n")),
        from_email=sender,
        to=to,
        headers={"Message-ID": message_id, "X-Workflow": str(workflow.pk)},
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as exc:  # the mail server: try again later
        raise _failed(f"The email could not be sent: {exc}") from exc
    return {"to": ", ".join(to), "subject": subject, "message_id": message_id}


# --- AI --------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _offline_summary(text: str) -> str:
    from octopushx.intelligence.results import Utterance
    from octopushx.intelligence.summary import extractive

    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if len(sentences) <= 3:
        return " ".join(sentences)
    utterances = [
        Utterance(speaker="unknown", start=float(i), end=float(i + 1), text=s) for i, s in enumerate(sentences)
    ]
    return extractive(utterances, count=3) or " ".join(sentences[:3])


_NEGATIVE = ("negative", "complaint", "angry", "unhappy", "churn", "escalat")
_POSITIVE = ("positive", "happy", "praise", "satisfied", "upsell")


def _offline_label(text: str, labels: list[str]) -> tuple[str, float]:
    """The label whose words the text uses most; sentiment decides labels such as negative/positive."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    words = re.findall(r"[a-z']+", text.lower())
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    compound = SentimentIntensityAnalyzer().polarity_scores(text[:5000])["compound"]
    best, best_score = labels[0], float("-inf")
    for label in labels:
        parts = re.findall(r"[a-z']+", label.lower())
        score = float(
            sum(
                counts.get(p, 0) + sum(c for w, c in counts.items() if len(p) > 4 and w.startswith(p[:5]))
                for p in parts
            )
        )
        if any(p.startswith(n) for p in parts for n in _NEGATIVE):
            score += max(0.0, -compound) * 5
        if any(p.startswith(n) for p in parts for n in _POSITIVE):
            score += max(0.0, compound) * 5
        if score > best_score:
            best, best_score = label, score
    return best, best_score


def _llm_json(system: str, user: str, validate) -> tuple[Any, str]:
    """The LLM's JSON answer once it passes ``validate`` (bounded retries); raises LLMError."""
    from octopushx.intelligence import llm
    from octopushx.intelligence.errors import LLMError

    llm_settings = settings.CALLS_ANALYSIS.llm
    problem = ""
    for _attempt in range(settings.STUDIO_AI_ATTEMPTS):
        prompt = user if not problem else f"{user}\n\nYour previous answer was invalid: {problem}. Answer JSON only."
        text = llm.chat(system, prompt, llm_settings, max_tokens=400, json_mode=True)
        try:
            value = json.loads(text.strip().removeprefix("```json").removesuffix("```"))
            problem = validate(value)
        except ValueError as exc:
            problem = f"not JSON ({exc})"
        if not problem:
            return value, llm_settings.model
    raise LLMError(f"The model's answer did not match the schema: {problem}")


def ai_step(run: Run, params: dict) -> dict:
    text = str(params.get("text", "")).strip()
    if not text:
        raise _failed("There is no text to read", permanent=True)
    task = params.get("task")
    llm_settings = settings.CALLS_ANALYSIS.llm
    note = ""
    if task == "classify":
        labels = list(params.get("labels") or [])

        def valid(value) -> str:
            if not isinstance(value, dict) or value.get("label") not in labels:
                return f'expected {{"label": one of {labels}}}'
            return ""

        if llm_settings is not None:
            try:
                value, model = _llm_json(
                    'Classify the text into exactly one of the given labels. Answer JSON: {"label": "..."}.',
                    f"Labels: {json.dumps(labels)}\n\nText:\n{text}",
                    valid,
                )
                return _ai_output(task, value["label"], model, {"label": value["label"]})
            except Exception as exc:  # the offline method answers instead, and says so
                note = f"The language model failed ({exc}); the offline classifier answered."
        label, _score = _offline_label(text, labels)
        return _ai_output(task, label, "offline keyword and sentiment classifier", {"label": label}, note)

    def valid_summary(value) -> str:
        if not isinstance(value, dict) or not isinstance(value.get("summary"), str) or not value["summary"].strip():
            return 'expected {"summary": "..."}'
        if len(value["summary"]) > 2000:
            return "the summary is longer than 2000 characters"
        return ""

    if llm_settings is not None:
        try:
            value, model = _llm_json(
                'Summarise the text in 2 to 4 plain sentences. Do not invent details. Answer JSON: {"summary": "..."}.',
                text,
                valid_summary,
            )
            return _ai_output(task, value["summary"].strip(), model, {"summary": value["summary"].strip()})
        except Exception as exc:
            note = f"The language model failed ({exc}); the offline summary answered."
    summary = _offline_summary(text)
    return _ai_output(task, summary, "offline extractive summariser", {"summary": summary}, note)


def _ai_output(task: str, text: str, model: str, extra: dict, note: str = "") -> dict:
    out = {"text": text, **extra, "model": model, "review_state": "unreviewed", "label_note": AI_LABEL}
    if note:
        out["note"] = note
    return out
