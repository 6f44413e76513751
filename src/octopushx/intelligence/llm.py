"""Optional summary by a large language model behind any OpenAI-compatible HTTP endpoint.

Never required: the pipeline calls it only when ``AnalysisSettings.llm`` is set and sends the
already-redacted transcript. :func:`summarise_structured` asks for JSON validated by
:class:`LLMSummary`, retries an invalid answer a bounded number of times and passes the result
through the facts-only check (:mod:`.facts`); on any failure (unreachable, timeout, invalid JSON,
nothing left after the check) the pipeline keeps the offline summary and adds a warning.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError

from octopushx.intelligence import facts
from octopushx.intelligence.config import LLMSettings
from octopushx.intelligence.errors import LLMError

PROMPT = (
    "You summarise customer service phone calls for the agent's CRM. Write 2 to 4 plain sentences: "
    "why the customer called, what was done or agreed, and any follow-up with its owner and deadline. "
    "Do not invent details. Keep tags such as [CARD] or [EMAIL] as they are."
)


def summarise(transcript: str, settings: LLMSettings) -> str:
    """The model's summary of ``transcript`` (lines of "speaker: text"); raises :class:`LLMError`."""
    return chat(PROMPT, transcript[: settings.max_transcript_chars], settings, max_tokens=400)


def chat(system: str, user: str, settings: LLMSettings, *, max_tokens: int = 400, json_mode: bool = False) -> str:
    """One chat completion's text; raises :class:`LLMError` on any failure or an empty answer."""
    url = settings.url.rstrip("/")
    if not url.endswith("/chat/completions"):
        url += "/chat/completions"
    if urlsplit(url).scheme not in ("http", "https"):
        raise LLMError(f"The LLM URL must be http or https, not {settings.url!r}")
    body = {
        "model": settings.model,
        "temperature": 0.2,
        "max_tokens": max_tokens,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user[: settings.max_transcript_chars]},
        ],
    }
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # noqa: S310
            payload = json.loads(response.read(2_000_000))
    except urllib.error.HTTPError as exc:
        raise LLMError(f"The LLM endpoint answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise LLMError(f"The LLM endpoint could not be reached ({exc})") from exc
    except ValueError as exc:
        raise LLMError("The LLM endpoint did not answer JSON") from exc
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("The LLM answer has no choices[0].message.content") from exc
    if not isinstance(text, str) or not text.strip():
        raise LLMError("The LLM answered an empty text")
    return text.strip()


# --- Structured summary: JSON validated with a schema, facts-only check, bounded retries ----------

STRUCTURED_PROMPT = (
    "You summarise a customer service phone call for the agent's CRM. Answer with one JSON object "
    "and nothing else, of this shape:\n"
    '{"reason": "why the customer called, one sentence", '
    '"key_facts": ["up to 3 short sentences: the complaint, figures, dates, products that matter"], '
    '"agreed": ["up to 2 short sentences: what the agent and customer agreed"], '
    '"next_steps": [{"owner": "agent" or "customer", "action": "verb phrase, e.g. send the invoice", '
    '"due": "the deadline as said in the call, or null"}]}\n'
    "Write in the third person (the customer, the agent). Use only names, numbers, amounts and dates "
    "that appear in the transcript; never guess one. Keep tags such as [CARD] or [EMAIL] as they are."
)


class LLMStep(BaseModel):
    owner: Literal["agent", "customer"]
    action: str = Field(min_length=2, max_length=300)
    due: str | None = Field(default=None, max_length=80)


class LLMSummary(BaseModel):
    """The JSON an LLM must answer; anything else is an invalid answer (retried, then dropped)."""

    reason: str = Field(min_length=3, max_length=400)
    key_facts: list[str] = Field(default_factory=list, max_length=5)
    agreed: list[str] = Field(default_factory=list, max_length=4)
    next_steps: list[LLMStep] = Field(default_factory=list, max_length=8)

    def render(self) -> str:
        lines = [_sentence(self.reason)]
        lines += [_sentence(f) for f in self.key_facts[:3] if f.strip()]
        lines += [_sentence(a) for a in self.agreed[:2] if a.strip()]
        steps = [
            f"{step.owner.capitalize()} to {step.action.strip().rstrip('.')}"
            + (f" ({step.due.strip()})" if step.due and step.due.strip().lower() not in ("null", "none") else "")
            for step in self.next_steps[:4]
        ]
        if steps:
            lines.append("Next steps: " + "; ".join(steps) + ".")
        return "\n".join(line for line in lines if line)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]


@dataclass
class LLMResult:
    """An LLM summary that passed the schema and the facts-only check, with notes for the reader."""

    text: str  # after the facts-only check
    notes: list[str]
    attempts: int
    raw: str = ""  # the model's summary before the check


def _json_object(answer: str) -> Any:
    """The JSON object in an answer, also when wrapped in a ```json fence or prose."""
    text = answer.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    elif not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start >= 0 and end > start:
            text = text[start : end + 1]
    return json.loads(text)


def summarise_structured(transcript: str, settings: LLMSettings, *, allowed: Sequence[str] = ()) -> LLMResult:
    """A summary from the model as validated JSON, checked fact by fact against ``transcript``.

    Invalid JSON or an answer that breaks the schema is asked again with the error, at most
    ``settings.retries`` more times; an endpoint that fails or times out is not retried (the call's
    analysis must not wait). Raises :class:`LLMError` when no valid answer came or nothing of it
    survived the facts-only check; sentences with a name, number or date that the transcript does
    not hold are dropped and named in the notes.
    """
    deadline = time.monotonic() + settings.timeout * (settings.retries + 1)
    user = transcript[: settings.max_transcript_chars]
    messages_extra = ""
    problem = ""
    for attempt in range(1, settings.retries + 2):
        if time.monotonic() >= deadline:
            break
        answer = chat(STRUCTURED_PROMPT, user + messages_extra, settings, max_tokens=500, json_mode=True)
        try:
            parsed = LLMSummary.model_validate(_json_object(answer))
        except (ValueError, ValidationError) as exc:
            problem = _short_error(exc)
            messages_extra = (
                "\n\n(Your previous answer was not valid: " + problem + ". Answer with the JSON object only.)"
            )
            continue
        raw = parsed.render()
        checked = facts.check(raw, transcript, allowed=allowed)
        if not checked.text:
            raise LLMError("every sentence of the LLM summary stated facts that are not in the transcript")
        notes = []
        if checked.dropped:
            notes.append(
                f"{len(checked.dropped)} sentence(s) of the LLM summary were left out: they stated "
                f"{', '.join(sorted(set(checked.unsupported))[:5])}, which the transcript does not say"
            )
        return LLMResult(checked.text, notes, attempt, raw)
    raise LLMError(
        f"the LLM did not answer valid JSON after {settings.retries + 1} tries ({problem or 'no time left'})"
    )


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "answer"
        return f"{where}: {first.get('msg', 'invalid')}"
    return "not JSON"
